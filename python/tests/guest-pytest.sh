#!/bin/sh
# SPDX-License-Identifier: MIT
# In the lab's guest: run the module's tests with the Python staged by
# stage-guest.sh in STAGE, against the library of BUILD_DIR and the
# namespace $NVMETA_DEV (the lab sets it; /dev/ng0n1 otherwise).
STAGE=${1:?usage: guest-pytest.sh STAGE BUILD_DIR [PYTEST-ARGS...]}
B=${2:?usage: guest-pytest.sh STAGE BUILD_DIR [PYTEST-ARGS...]}
shift 2
T=$(cd "$(dirname "$0")" && pwd)
export NVMETA_LIBRARY_PATH="$B/lib:$B/lib/check" NVMETA_TEST_DEV="${NVMETA_DEV:-/dev/ng0n1}"
export PYTHONDONTWRITEBYTECODE=1 HOME=/tmp
cd /tmp || exit 1
exec "$STAGE/bin/python3" -m pytest -p no:cacheprovider -rs -v "$@" "$T/test_device.py" "$T/test_pi.py"
