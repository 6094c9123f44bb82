#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build tests/consumer/consumer.c (an application: libnvmeta alone) and
# consumer-check.c (a tester: libnvmeta-check) against an installed nvmeta
# under PREFIX, once through pkg-config and once through
# find_package(nvmeta), and run them.  Also checks that each shared
# library exports only its own nvmeta_ symbols, each in a version node of
# its own; that libnvmeta imports nothing that starts a thread, a timer or
# a signal handler; that the application links no libnvmeta-check; and
# that every installed tool starts without LD_LIBRARY_PATH (its RPATH,
# relative to where it lies, finds PREFIX's libraries), wherever PREFIX is.
set -euo pipefail

PREFIX=${1:?usage: check-install.sh PREFIX}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LIBDIR=$(dirname "$(find "$PREFIX" -name 'libnvmeta.so' | head -n1)")

SONAME=libnvmeta.so.2
CHECK_SONAME=libnvmeta-check.so.1
fail() { echo "check-install: $*" >&2; exit 1; }

export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -Werror -o "$WORK/by-pkg-config" "$HERE/consumer.c" $(pkg-config --cflags --libs nvmeta)
LD_LIBRARY_PATH=$LIBDIR "$WORK/by-pkg-config"
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -Werror -o "$WORK/check-by-pkg-config" "$HERE/consumer-check.c" \
	$(pkg-config --cflags --libs nvmeta-check)
LD_LIBRARY_PATH=$LIBDIR "$WORK/check-by-pkg-config"

cmake -S "$HERE" -B "$WORK/cmake" -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build "$WORK/cmake" >/dev/null
LD_LIBRARY_PATH=$LIBDIR "$WORK/cmake/consumer"
LD_LIBRARY_PATH=$LIBDIR "$WORK/cmake/consumer-check"

# The application carries nothing of the checker.
for app in "$WORK/by-pkg-config" "$WORK/cmake/consumer"; do
	needed=$(readelf -d "$app" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	echo "$needed" | grep -qx "$SONAME" || fail "$app does not need $SONAME: $needed"
	! echo "$needed" | grep -q nvmeta-check || fail "$app needs the checker: $needed"
done
readelf -d "$WORK/cmake/consumer-check" | grep -q "\[$CHECK_SONAME\]" ||
	fail "consumer-check does not need $CHECK_SONAME"

# The headers are C++-clean too (extern "C", no C-only constructs inline).
# shellcheck disable=SC2046
echo '#include <nvmeta.h>' | c++ -x c++ -Wall -Werror -fsyntax-only $(pkg-config --cflags nvmeta) -
# shellcheck disable=SC2046
echo '#include <nvmeta-check.h>' | c++ -x c++ -Wall -Werror -fsyntax-only $(pkg-config --cflags nvmeta-check) -

# Exports: nvmeta_ names only, each in a version node of its library.
exports() { # LIB NODE-REGEX
	bad=$(nm -D --defined-only "$LIBDIR/$1" | awk '$2 == "T" && $3 !~ /^nvmeta_/')
	[ -z "$bad" ] || fail "$1 exports beyond the public API: $bad"
	bad=$(nm -D --defined-only "$LIBDIR/$1" | awk -v re="$2" '$2 == "T" && $3 !~ re')
	[ -z "$bad" ] || fail "$1 exports without a version node: $bad"
}
exports libnvmeta.so '@@NVMETA_[0-9]+\.[0-9]+$'
exports libnvmeta-check.so '@@NVMETA_CHECK_[0-9]+\.[0-9]+$'
# The application library holds none of the checker's symbols, and
# imports nothing that would start a thread, a timer or a signal handler.
bad=$(nm -D --defined-only "$LIBDIR/libnvmeta.so" |
	awk '$3 ~ /^nvmeta_(check_|kpath_|verdict_)|^nvmeta_dev_watch/ { print $3 }')
[ -z "$bad" ] || fail "libnvmeta exports the checker's symbols: $bad"
bad=$(nm -D --undefined-only "$LIBDIR/libnvmeta.so" |
	awk '$2 ~ /^(pthread_create|timer_create|timerfd_create|signal|sigaction|signalfd|alarm|setitimer)(@|$)/ { print $2 }')
[ -z "$bad" ] || fail "libnvmeta imports $bad"
# The installed tools start from PREFIX/bin on their own, and load the
# libnvmeta under PREFIX, not one of a build tree or of the system.
tools=$(find "$PREFIX" -path '*/bin/nvmeta-*' -type f -perm -u+x | sort)
if [ -z "$tools" ]; then
	echo "check-install: no tools installed under $PREFIX" >&2
	exit 1
fi
for t in $tools; do
	if ! out=$(env -u LD_LIBRARY_PATH "$t" --help 2>&1 >/dev/null); then
		echo "check-install: $t --help does not start without LD_LIBRARY_PATH: $out" >&2
		exit 1
	fi
	for so in $SONAME $CHECK_SONAME; do
		lib=$(env -u LD_LIBRARY_PATH ldd "$t" | awk -v so="$so" '$1 == so { print $3 }')
		[ -n "$lib" ] || continue	# a tool without the checker
		[ "$(realpath "$lib")" = "$(realpath "$LIBDIR/$so")" ] ||
			fail "$t loads $so from '$lib', not from $LIBDIR"
	done
done
echo "check-install: pkg-config and find_package link both libraries; exports are nvmeta_* only, each in its library's version nodes; the application needs no checker"
echo "check-install: $(echo "$tools" | wc -l) tools start from $PREFIX/bin with $LIBDIR's libnvmeta"
