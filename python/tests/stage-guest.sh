#!/bin/sh
# SPDX-License-Identifier: MIT
# Stage a Python for the lab's guest (a busybox initrd without one) in
# OUT: the host's python3 binary as OUT/bin/python3, its standard library
# (without the test suite, IDLE, Tk, lib2to3, ensurepip and the static
# library's config dir) in OUT/lib/python3.X, and in its dist-packages
# pytest with what it imports, cffi's backend and this module, installed
# with pip from PYTHON_DIR, built against the library of BUILD_DIR,
# whose two shared libraries go to OUT/nvmeta-lib.
# Python finds OUT/lib from its own path: no PYTHONHOME.  The lab copies
# OUT into the guest with --file (and, for every ELF file there, its
# shared libraries):
#   sh python/tests/stage-guest.sh build-py build-py/pyguest
#   tests/vm/lab run ... --file build-py/pyguest -- \
#     sh build-py/pyguest/tests/guest-pytest.sh
set -eu
B=$(realpath "${1:?usage: stage-guest.sh BUILD_DIR OUT [PYTHON_DIR]}")
OUT=${2:?usage: stage-guest.sh BUILD_DIR OUT [PYTHON_DIR]}
SRC=$(realpath "${3:-$(dirname "$0")/..}")
PY=/usr/bin/python3
ver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
stdlib=/usr/lib/python$ver
dist=/usr/lib/python3/dist-packages
rm -rf "$OUT"
mkdir -p "$OUT/bin" "$OUT/lib"
OUT=$(realpath "$OUT")
cp -L "$PY" "$OUT/bin/python3"
# The standard library with its compiled files (a guest under TCG would
# compile every module again at each start).
(cd "$stdlib" && tar -cf - --exclude=./test --exclude=./idlelib --exclude=./tkinter \
	--exclude=./turtledemo --exclude=./ensurepip --exclude=./lib2to3 \
	--exclude=./pydoc_data --exclude="./config-*" --exclude=./site-packages \
	--exclude=./dist-packages .) | (mkdir -p "$OUT/lib/python$ver" && cd "$OUT/lib/python$ver" && tar -xf -)
# Debian's site.py looks in PREFIX/lib/python3/dist-packages.
site=$OUT/lib/python3/dist-packages
mkdir -p "$site"
# pytest and what it imports (Debian 12: python3-pytest), cffi's backend.
for p in pytest _pytest pluggy iniconfig attr py.py py packaging exceptiongroup tomli \
	_cffi_backend.cpython-*.so; do
	for f in "$dist"/$p; do
		[ -e "$f" ] && cp -a "$f" "$site/"
	done
done
# The module, built against BUILD_DIR's library and installed with pip
# as anywhere else.
NVMETA_INCLUDE_DIR=$SRC/../include NVMETA_LIBRARY_PATH=$B/lib:$B/lib/check \
	"$PY" -m pip install -q --root-user-action=ignore --no-index --no-build-isolation --no-deps --target "$site" "$SRC"
"$PY" -m compileall -q "$site" >/dev/null
# BUILD_DIR's two libraries, for NVMETA_LIBRARY_PATH in the guest.
mkdir -p "$OUT/nvmeta-lib"
cp -L "$B/lib/libnvmeta.so" "$B/lib/check/libnvmeta-check.so" "$OUT/nvmeta-lib/"
# The tests and their runner, and BUILD_DIR's nvmeta-check, whose verdicts
# the module's must equal (test_device.py).
mkdir -p "$OUT/tests"
cp "$SRC"/tests/*.py "$SRC/tests/guest-pytest.sh" "$OUT/tests/"
[ ! -x "$B/examples/nvmeta-check" ] || cp "$B/examples/nvmeta-check" "$OUT/bin/"
du -sh "$OUT"
