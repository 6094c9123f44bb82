#!/bin/sh
# SPDX-License-Identifier: MIT
# The module's host tests as the ctest python_unit runs them: a venv in
# WORK made with --system-site-packages (Debian's python3-cffi,
# python3-setuptools, python3-pytest), the module installed into it with
# pip from a copy of PYTHON_DIR (no package index, no build isolation),
# built against the headers of INCLUDE_DIR and the libraries in LIB_DIRS
# (colon-separated, a build tree's), then pytest on the copy's tests.
# Exit 77 (skip) when Debian's cffi or pytest is missing.
set -eu
SRC=${1:?usage: host-pytest.sh PYTHON_DIR INCLUDE_DIR LIB_DIRS WORK}
INC=${2:?}
LIBS=${3:?}
WORK=${4:?}
PY=/usr/bin/python3
if ! "$PY" -c 'import cffi, pytest, setuptools, pip' 2>/dev/null; then
	echo "python_unit: needs python3-cffi, python3-pytest, python3-setuptools, python3-pip"
	exit 77
fi
rm -rf "$WORK"
mkdir -p "$WORK"
# A copy: pip builds in the source directory, which other build trees share.
cp -r "$SRC" "$WORK/src"
rm -rf "$WORK/src/build" "$WORK/src"/*.egg-info "$WORK/src/nvmeta"/_nvmeta_cffi.*
"$PY" -m venv --system-site-packages --without-pip "$WORK/venv"
NVMETA_INCLUDE_DIR=$INC NVMETA_LIBRARY_PATH=$LIBS \
	"$WORK/venv/bin/python" -m pip install -q --root-user-action=ignore --disable-pip-version-check \
	--no-index --no-build-isolation --no-deps "$WORK/src"
cd "$WORK"
export NVMETA_LIBRARY_PATH="$LIBS" NVMETA_INCLUDE_DIR="$INC"
"$WORK/venv/bin/python" -c 'import nvmeta, sys; assert nvmeta.__file__.startswith(sys.prefix), nvmeta.__file__'
exec "$WORK/venv/bin/python" -m pytest -q -p no:cacheprovider "$WORK/src/tests"
