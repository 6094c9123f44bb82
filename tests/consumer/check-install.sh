#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build tests/consumer/consumer.c against an installed nvmeta under PREFIX,
# once through pkg-config and once through find_package(nvmeta), and run
# both.  Also checks that the shared library exports only nvmeta_ symbols,
# and that every installed tool starts without LD_LIBRARY_PATH (its RPATH,
# relative to where it lies, finds PREFIX's libnvmeta), wherever PREFIX is.
set -euo pipefail

PREFIX=${1:?usage: check-install.sh PREFIX}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LIBDIR=$(dirname "$(find "$PREFIX" -name 'libnvmeta.so' | head -n1)")

export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -Werror -o "$WORK/by-pkg-config" "$HERE/consumer.c" $(pkg-config --cflags --libs nvmeta)
LD_LIBRARY_PATH=$LIBDIR "$WORK/by-pkg-config"

cmake -S "$HERE" -B "$WORK/cmake" -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build "$WORK/cmake" >/dev/null
LD_LIBRARY_PATH=$LIBDIR "$WORK/cmake/consumer"

# The headers are C++-clean too (extern "C", no C-only constructs inline).
# shellcheck disable=SC2046
echo '#include <nvmeta.h>' | c++ -x c++ -Wall -Werror -fsyntax-only $(pkg-config --cflags nvmeta) -

bad=$(nm -D --defined-only "$LIBDIR/libnvmeta.so" | awk '$2 == "T" && $3 !~ /^nvmeta_/')
if [ -n "$bad" ]; then
	echo "check-install: exported beyond the public API: $bad" >&2
	exit 1
fi
# Every export belongs to a release's version node.
bad=$(nm -D --defined-only "$LIBDIR/libnvmeta.so" | awk '$2 == "T" && $3 !~ /@@NVMETA_[0-9]+\.[0-9]+$/')
if [ -n "$bad" ]; then
	echo "check-install: exported without a version node: $bad" >&2
	exit 1
fi
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
	lib=$(env -u LD_LIBRARY_PATH ldd "$t" | awk '$1 == "libnvmeta.so.1" { print $3 }')
	if [ "$(realpath "$lib")" != "$(realpath "$LIBDIR/libnvmeta.so.1")" ]; then
		echo "check-install: $t loads libnvmeta.so.1 from '$lib', not from $LIBDIR" >&2
		exit 1
	fi
done
echo "check-install: pkg-config and find_package both link; exports are nvmeta_* only, each in a version node"
echo "check-install: $(echo "$tools" | wc -l) tools start from $PREFIX/bin with $LIBDIR's libnvmeta"
