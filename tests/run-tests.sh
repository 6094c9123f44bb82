#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test command: install what is missing, build, run the unit tests
# plainly and under ASan+UBSan, build as packagers do (Release with GCC and
# clang, Debian's flags), then the lab's VM matrix (real kernels in QEMU
# with emulated NVMe namespaces that carry metadata), its matrix of
# controllers removed mid-run, a short soak under faults and one across a
# power cut of the guest.  Every build here treats a warning as an error
# (NVMETA_WERROR).
#
#   tests/run-tests.sh [--full] [--no-lab]
#     --full    every kernel series the archive serves x controller x preset
#               (tests/vm/matrix-full.tsv), nvmeta-check on both roads
#     --no-lab  stop after the unit tests
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MATRIX=$ROOT/tests/vm/matrix-default.tsv
ROADS=
LAB=1
passed=0
failed=0

for a in "$@"; do
	case $a in
	--full) MATRIX=$ROOT/tests/vm/matrix-full.tsv ROADS=--roads ;;
	--no-lab) LAB=0 ;;
	*) echo "usage: $0 [--full] [--no-lab]" >&2; exit 2 ;;
	esac
done

stage() {
	local name=$1 start=$SECONDS
	shift
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
		echo "=== $name: ok ($((SECONDS - start)) s)"
	else
		failed=$((failed + 1))
		echo "=== $name: FAILED ($((SECONDS - start)) s)"
	fi
}

# Quiet when it works; the whole log when it does not.  Options after the
# directory override the defaults (the last -D of a variable wins).
build() {
	local dir=$1
	shift
	mkdir -p "$dir"
	if cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNVMETA_WERROR=ON \
		"$@" >"$dir/build.log" 2>&1 &&
		cmake --build "$dir" -j "$(nproc)" >>"$dir/build.log" 2>&1; then
		return 0
	fi
	cat "$dir/build.log"
	return 1
}

unit() {
	ctest --test-dir "$1" --output-on-failure
}

# libFuzzer harnesses (tests/fuzz) built with clang, a minute in all from
# the committed seeds; a crash prints its reproducer.
fuzz() {
	local dir=$ROOT/build-fuzz
	mkdir -p "$dir"
	if ! { cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_C_COMPILER=clang -DNVMETA_FUZZ=ON -DNVMETA_BUILD_TESTS=OFF \
		-DNVMETA_WERROR=ON &&
		cmake --build "$dir" -j "$(nproc)" --target nvmeta_fuzz; } >"$dir/build.log" 2>&1; then
		cat "$dir/build.log"
		return 1
	fi
	"$ROOT/tests/fuzz/run.sh" "$dir" 60
}

# What packagers build, every target of it (tests too), so that their
# optimisation and hardening flags find warnings before they do: Release
# (-O3) with GCC and with clang, and Debian's flags (dpkg-buildflags:
# _FORTIFY_SOURCE, stack protector, relro) on RelWithDebInfo with GCC.
# CMake reads no CPPFLAGS, so they join CFLAGS, as debhelper does (from
# the source tree: -ffile-prefix-map names it).  Built only: the unit
# tests ran above.
packager_builds() {
	local cflags ldflags ret=0

	build "$ROOT/build-release-gcc" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc || ret=1
	build "$ROOT/build-release-clang" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang || ret=1
	cflags=$(cd "$ROOT" && echo "$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)") &&
		ldflags=$(cd "$ROOT" && dpkg-buildflags --get LDFLAGS) &&
		build "$ROOT/build-dpkg" -DCMAKE_C_COMPILER=gcc -DCMAKE_C_FLAGS="$cflags" \
			-DCMAKE_EXE_LINKER_FLAGS="$ldflags" -DCMAKE_SHARED_LINKER_FLAGS="$ldflags" ||
		ret=1
	return $ret
}

# The Debian packages (debian/, docs/packaging.md): dpkg-buildpackage on
# a copy of the tree (nocheck: the unit tests ran above), the symbols
# files against the version scripts, lintian where it is installed
# (an error fails), and the autopkgtest's consumers built against the
# .debs unpacked into a throwaway root (dpkg -x: nothing is installed on
# this machine).
debian_packages() {
	local work ret=0 deb
	work=$(mktemp -d /tmp/nvmeta-deb.XXXXXX) || return 1
	mkdir -p "$work/src/nvmeta" "$work/root"
	(cd "$ROOT" && git ls-files -z -co --exclude-standard |
		tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$work/src/nvmeta" &&
		"$work/src/nvmeta/debian/gen-symbols" --check || ret=1
	if [ "$ret" = 0 ] && ! (cd "$work/src/nvmeta" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
		dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
		cat "$work/build.log"
		ret=1
	fi
	if [ "$ret" = 0 ]; then
		ls "$work/src"/*.deb | sed 's|.*/|debs: |'
		if command -v lintian >/dev/null; then
			lintian --fail-on error "$work/src"/*.changes || ret=1
		else
			echo "debs: lintian is not installed; not run"
		fi
		for deb in "$work/src"/*.deb; do
			case $deb in *-dbgsym_*) ;; *) dpkg -x "$deb" "$work/root" || ret=1 ;; esac
		done
		NVMETA_TEST_ROOT=$work/root AUTOPKGTEST_TMP=$work \
			sh "$work/src/nvmeta/debian/tests/consumers" || ret=1
	fi
	rm -rf "$work"
	return $ret
}

# Installed under two prefixes, neither in the loader's search path: the
# installed tools must find libnvmeta by their RPATH, relative to where
# they lie, wherever the tree lands.
install_check() {
	local dest=$ROOT/build/install-check prefix
	rm -rf "$dest"
	for prefix in "$dest/usr" "$dest/opt/nvmeta"; do
		cmake --install "$ROOT/build" --prefix "$prefix" >/dev/null &&
			"$ROOT/tests/consumer/check-install.sh" "$prefix" || return 1
	done
}

# The short soak (tests/vm/soak.sh, about a minute of nvmeta-soak a boot
# with one fault of each kind), with two CPU-bound processes beside the
# guests; the long one is tests/vm/lab soak --duration.
soak_short() {
	local hogs="" ret
	yes >/dev/null &
	hogs="$hogs $!"
	yes >/dev/null &
	hogs="$hogs $!"
	NVMETA_LAB_SUBSYS=1 NVMETA_LAB_INJECT_SECTOR=24576 "$ROOT/tests/vm/lab" matrix --matrix "$ROOT/tests/vm/matrix-soak.tsv" \
		--timeout 900 --file "$ROOT/build" --file "$ROOT/tests/vm" -- \
		sh "$ROOT/tests/vm/soak.sh" "$ROOT/build" 30
	ret=$?
	# shellcheck disable=SC2086
	kill $hogs
	wait $hogs 2>/dev/null
	return $ret
}

stage "dependencies" "$ROOT/tests/install-deps.sh" || exit 1
stage "build" build "$ROOT/build"
stage "unit tests" unit "$ROOT/build"
stage "build with ASan+UBSan" build "$ROOT/build-asan" -DNVMETA_SANITIZE=ON
stage "unit tests under ASan+UBSan" unit "$ROOT/build-asan"
stage "fuzzing" fuzz
stage "packager builds" packager_builds
stage "install, pkg-config and find_package" install_check
stage "Debian packages, lintian, consumers" debian_packages
if [ "$LAB" = 1 ]; then
	stage "lab setup" "$ROOT/tests/vm/lab" setup
	stage "lab matrix $(basename "$MATRIX")" "$ROOT/tests/vm/lab" matrix --matrix "$MATRIX" \
		--file "$ROOT/build" --file "$ROOT/tests/vm" -- \
		sh "$ROOT/tests/vm/guest-suite.sh" "$ROOT/build" ${ROADS:+"$ROADS"}
	# The controller removed mid-run, on guests of their own: the device
	# is gone afterwards, so no suite step can follow it.
	stage "lab matrix matrix-unplug.tsv" "$ROOT/tests/vm/lab" matrix \
		--matrix "$ROOT/tests/vm/matrix-unplug.tsv" --file "$ROOT/build" -- \
		"$ROOT/build/tests/guest_unplug" --verbose
	stage "lab matrix matrix-soak.tsv" soak_short
	# A power cut of the guest mid-write, then a second boot on the same
	# images verifies the soak's journal (about half a minute).
	stage "lab soak across a power cut" "$ROOT/tests/vm/soak-reboot.sh" \
		--kernel trixie --qemu 7.2 --build "$ROOT/build" --seconds 8
fi
echo
echo "nvmeta: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
