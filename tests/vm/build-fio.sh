#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the fio that nvmeta-bench's fio baseline needs (issue 8): its
# io_uring_cmd engine with md_per_io_size, which fio has from 3.36 on;
# Debian 12 ships 3.33.  The source comes from Debian's archive, from the
# first suite in $NVMETA_FIO_SUITES (default: trixie sid) whose fio is at
# least 3.36, through the archive address in the machine's own apt sources
# and a private apt configuration, as tests/vm/lab fetches kernels.  The
# result is a static binary (it runs in the lab's busybox guests as it is):
#
#   $CACHE/fio/bin/fio     $CACHE/fio/stamp (what was built, and from what)
#
#   build-fio.sh [--refresh] [--force]
#     --refresh  re-read the archive's source lists (else the cached ones)
#     --force    rebuild even when the stamp matches
#
# Idempotent: when the stamp names the version the lists offer and the
# binary still has md_per_io_size, it does nothing.  On failure it exits 1
# with one line "build-fio: error: REASON" on stderr; the benchmark then
# skips the fio baseline and says so.  Needs root for apt-get (dpkg-dev,
# gcc, make when missing).  $NVMETA_LAB_CACHE as in tests/vm/lab.
set -eEuo pipefail

CACHE=${NVMETA_LAB_CACHE:-/var/cache/nvmeta-lab}
FIO_DIR=$CACHE/fio
read -ra SUITES <<<"${NVMETA_FIO_SUITES:-trixie sid}"
HOW="" # how the source was unpacked: dsc, or orig (the upstream tarball)
MIN_VERSION=3.36
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
BUILD_FORMAT=1 # bump when the configure options below change
BUILD_PKGS=(dpkg-dev gcc make libc6-dev)
# Everything fio would otherwise pick up from the build host: the
# io_uring_cmd engine needs none of it (fio carries its own io_uring code,
# os/linux/io_uring.h, and no liburing).  No -march=native: the binary runs
# on QEMU's "max" CPU, not on the build host's.
CONFIGURE_OPTS=(--build-static --disable-native --disable-numa --disable-rdma
    --disable-rados --disable-rbd --disable-http --disable-gfapi --disable-libnfs
    --disable-pmem --disable-xnvme --disable-isal --disable-libblkio
    --disable-libzbc --disable-tcmalloc --disable-dfs --disable-lex)

log() { printf 'build-fio: %s\n' "$*" >&2; }
fail() { printf 'build-fio: error: %s\n' "$*" >&2; exit 1; }
trap 'fail "line $LINENO: \"$BASH_COMMAND\" failed (exit $?)"' ERR

# ------------------------------------------------------------ apt plumbing
# The archive address, as tests/vm/lab's archive_uri() finds it: the deb
# entry of the machine's apt sources that serves its own codename.  (A copy:
# lab runs its main on being sourced.)

# shellcheck disable=SC1091
host_codename() { . /etc/os-release && echo "${VERSION_CODENAME:?}"; }

uri_from_deb822() { # CODENAME < FILE.sources
    awk -v want="$1" 'BEGIN { RS = "" }
        { types = suites = uri = ""; n = split($0, l, "\n")
          for (i = 1; i <= n; i++) {
              if (l[i] ~ /^Types:/) types = l[i] " "
              if (l[i] ~ /^Suites:/) suites = l[i] " "
              if (l[i] ~ /^URIs:/) { split(l[i], u, /[ \t]+/); uri = u[2] }
              if (l[i] ~ /^Enabled:[ \t]*no/) types = "" }
          if (types ~ /[ \t]deb[ \t]/ && suites ~ "[ \t]" want "[ \t]" && uri != "") {
              print uri; exit } }'
}

uri_from_one_line() { # CODENAME < sources.list
    sed -E 's/#.*//; s/\[[^]]*\]//' | awk -v want="$1" '$1 == "deb" && $3 == want { print $2; exit }'
}

archive_uri() {
    local want f uri=""
    want=$(host_codename)
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -z $uri && -f $f ]] && uri=$(uri_from_deb822 "$want" <"$f")
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -z $uri && -f $f ]] && uri=$(uri_from_one_line "$want" <"$f")
    done
    [[ -n $uri ]] || fail "no deb entry for '$want' in the machine's apt sources"
    printf '%s\n' "${uri%/}"
}

# A private apt configuration a suite, for source packages only: the
# machine's own apt state is left alone.
apt_home() { echo "$CACHE/apt/fio-src-$1"; }

apt_init() { # SUITE URI
    local home
    home=$(apt_home "$1")
    mkdir -p "$home/lists/partial" "$home/cache/archives/partial"
    echo "deb-src [signed-by=$KEYRING] $2 $1 main" >"$home/sources.list"
}

# Release files past their Valid-Until are accepted, as tests/vm/lab does;
# signatures are still checked.
papt() { # SUITE apt-get|apt-cache ARGS...
    local home tool=$2
    home=$(apt_home "$1")
    shift 2
    DEBIAN_FRONTEND=noninteractive "$tool" -o "Dir::Etc::SourceList=$home/sources.list" \
        -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$home/lists" \
        -o "Dir::Cache=$home/cache" -o Dir::Cache::pkgcache=pkgcache.bin \
        -o Dir::Cache::srcpkgcache=srcpkgcache.bin -o APT::Sandbox::User=root \
        -o Acquire::Languages=none -o Debug::NoLocking=1 \
        -o Acquire::Check-Valid-Until=false "$@" </dev/null
}

have_lists() { compgen -G "$(apt_home "$1")/lists/*_Sources*" >/dev/null; }

apt_update() { # SUITE
    local log
    log=$(apt_home "$1")/update.log
    log "apt: update source lists for $1"
    papt "$1" apt-get -q update >"$log" 2>&1 || fail "apt-get update for $1 failed (see $log)"
    ! grep -qE '^(W|E):' "$log" || fail "apt-get update for $1 reported problems (see $log)"
}

# The newest fio source version the suite's lists offer.
src_version() { # SUITE
    papt "$1" apt-cache showsrc --only-source fio 2>/dev/null |
        awk '/^Version:/ { print $2 }' | sort -V | tail -n1
}

# "SHA256 SIZE NAME" lines of the source package's files.
src_files() { # SUITE VERSION
    papt "$1" apt-cache showsrc --only-source fio 2>/dev/null | awk -v v="$2" '
        /^Package:/ { pkg = 1; ver = sums = 0 }
        /^Version:/ { ver = ($2 == v) }
        /^[A-Za-z0-9-]+:/ { sums = /^Checksums-Sha256:/; next }
        sums && ver && NF == 3 { print }'
}

# ------------------------------------------------------------------ steps

# The stamp matches when the suite it names still offers the version it
# names (a suite tried before it may have failed to serve its files: that
# is not retried on every call), the build options are the same, and the
# binary still has md_per_io_size.
stamp_ok() { # URI REFRESH
    local F_PKGVER="" F_FORMAT="" F_SUITE=""
    [[ -f $FIO_DIR/stamp && -x $FIO_DIR/bin/fio ]] || return 1
    # shellcheck disable=SC1091
    . "$FIO_DIR/stamp"
    [[ $F_FORMAT == "$BUILD_FORMAT" && " ${SUITES[*]} " == *" $F_SUITE "* ]] || return 1
    apt_init "$F_SUITE" "$1"
    if (($2)) || ! have_lists "$F_SUITE"; then apt_update "$F_SUITE"; fi
    [[ $(src_version "$F_SUITE") == "$F_PKGVER" ]] && has_md "$FIO_DIR/bin/fio"
}

has_md() { "$1" --enghelp=io_uring_cmd 2>/dev/null | grep -q md_per_io_size; }

host_tools() {
    local p missing=()
    for p in "${BUILD_PKGS[@]}"; do
        dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed ||
            missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    [[ $(id -u) == 0 ]] || fail "needs ${missing[*]}, and installing them needs root"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get -q update && apt-get -q install -y --no-install-recommends "${missing[@]}"; } \
        </dev/null >"$FIO_DIR/apt-install.log" 2>&1 ||
        fail "apt-get install ${missing[*]} failed (see $FIO_DIR/apt-install.log)"
}

# Download the source package into DIR and unpack it to DIR/src.  Every
# file is checked against the SHA-256 in the signed lists.  When the
# archive serves the upstream tarball but not the .dsc or the Debian diff
# (this lab's mirror does that for fio), the tarball alone is built:
# Debian's patches are about packaging, not the engine.  Sets HOW to "dsc"
# or "orig"; returns 1 when not even the tarball came.
fetch_unpack() { # SUITE VERSION DIR
    local suite=$1 ver=$2 dir=$3 sum name dsc="" orig="" got=0 want=0
    mkdir -p "$dir"
    (cd "$dir" && papt "$suite" apt-get -q source --download-only "fio=$ver") \
        >"$dir/download.log" 2>&1 || true
    while read -r sum _ name; do
        want=$((want + 1))
        [[ -f $dir/$name ]] || continue
        echo "$sum  $dir/$name" | sha256sum --quiet -c - >/dev/null 2>&1 ||
            fail "$name from $suite does not match the SHA-256 in the signed lists"
        got=$((got + 1))
        case $name in
        *.dsc) dsc=$name ;;
        *.asc) ;; # the upstream signature
        *.orig.tar.*) orig=$name ;;
        esac
    done < <(src_files "$suite" "$ver")
    ((want)) || fail "no file list for fio $ver in $suite's source lists"
    if [[ -n $dsc && $got == "$want" ]]; then
        log "unpack $dsc (dpkg-source -x)"
        (cd "$dir" && dpkg-source -x "$dsc" src) >"$dir/unpack.log" 2>&1 ||
            fail "dpkg-source -x $dsc failed (see $dir/unpack.log)"
        HOW=dsc
    elif [[ -n $orig ]]; then
        log "the archive served $got of $want files of fio $ver ($suite); building the verified upstream tarball $orig"
        mkdir -p "$dir/src"
        tar -xf "$dir/$orig" -C "$dir/src" --strip-components=1 ||
            fail "unpacking $orig failed"
        HOW=orig
    else
        log "the archive served $got of $want files of fio $ver ($suite), not the tarball"
        return 1
    fi
}

build() { # SRCDIR -> SRCDIR/fio
    local src=$1
    log "configure ${CONFIGURE_OPTS[*]}"
    (cd "$src" && env -u CFLAGS -u LDFLAGS ./configure "${CONFIGURE_OPTS[@]}") \
        >"$src/../configure.log" 2>&1 || fail "fio's configure failed (see $src/../configure.log)"
    grep -q '^LDFLAGS.*-static' "$src/config-host.mak" ||
        fail "fio's configure did not take --build-static (see $src/config-host.mak)"
    log "make fio (-j$(nproc))"
    make -C "$src" -j"$(nproc)" fio >"$src/../make.log" 2>&1 ||
        fail "make fio failed: $(grep -m1 -E 'error|Error' "$src/../make.log" || echo "see $src/../make.log")"
}

main() {
    local refresh=0 force=0 uri s ver="" suite="" work t0 F_VERSION
    while (($#)); do
        case $1 in
        --refresh) refresh=1 ;;
        --force) force=1 ;;
        -h | --help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; return 0 ;;
        *) fail "unknown option $1" ;;
        esac
        shift
    done
    t0=$SECONDS
    mkdir -p "$FIO_DIR"
    exec 9>"$FIO_DIR/.lock"
    flock 9 # one build at a time
    uri=$(archive_uri)
    if ((!force)) && stamp_ok "$uri" "$refresh"; then
        log "up to date: $(paste -sd' ' "$FIO_DIR/stamp")"
        return 0
    fi
    for s in "${SUITES[@]}"; do
        apt_init "$s" "$uri"
        if ((refresh)) || ! have_lists "$s"; then apt_update "$s"; fi
        ver=$(src_version "$s")
        if [[ -z $ver ]]; then
            log "$s: no fio source package"
        elif dpkg --compare-versions "$ver" ge "$MIN_VERSION"; then
            log "$s: fio $ver"
            host_tools
            work=$FIO_DIR/work-$s
            rm -rf "$work"
            if fetch_unpack "$s" "$ver" "$work"; then
                suite=$s
                break
            fi
        else
            log "$s: fio $ver is older than $MIN_VERSION"
        fi
    done
    [[ -n $suite ]] || fail "no suite of ${SUITES[*]} at $uri gave a fio source >= $MIN_VERSION"
    build "$work/src"
    has_md "$work/src/fio" || fail "the fio built from $ver has no io_uring_cmd engine with md_per_io_size"
    F_VERSION=$("$work/src/fio" --version)
    mkdir -p "$FIO_DIR/bin"
    # Stripped: it rides in every guest's initramfs.
    strip -o "$FIO_DIR/bin/fio.new" "$work/src/fio" 2>/dev/null || cp "$work/src/fio" "$FIO_DIR/bin/fio.new"
    mv "$FIO_DIR/bin/fio.new" "$FIO_DIR/bin/fio"
    printf 'F_VERSION=%q\nF_PKGVER=%q\nF_SUITE=%q\nF_SOURCE=%q\nF_FORMAT=%q\nF_BUILD_S=%q\n' \
        "$F_VERSION" "$ver" "$suite" "$HOW" "$BUILD_FORMAT" "$((SECONDS - t0))" >"$FIO_DIR/stamp"
    rm -rf "$work"
    log "ready $F_VERSION (Debian $ver from $suite, $HOW) in $((SECONDS - t0)) s: $FIO_DIR/bin/fio"
}

main "$@"
