#!/bin/sh
# SPDX-License-Identifier: MIT
# In the lab's guest: run the module's tests with the Python that
# stage-guest.sh staged (this script is its STAGE/tests/guest-pytest.sh),
# on the library staged with it unless NVMETA_LIBRARY_PATH says otherwise,
# against the namespace $NVMETA_DEV (the lab sets it; /dev/ng0n1
# otherwise).  Arguments go to pytest.
T=$(cd "$(dirname "$0")" && pwd)
STAGE=$(dirname "$T")
export NVMETA_LIBRARY_PATH="${NVMETA_LIBRARY_PATH:-$STAGE/nvmeta-lib}"
export NVMETA_TEST_DEV="${NVMETA_DEV:-/dev/ng0n1}"
[ ! -x "$STAGE/bin/nvmeta-check" ] || export NVMETA_CHECK_TOOL="$STAGE/bin/nvmeta-check"
export PYTHONDONTWRITEBYTECODE=1 HOME=/tmp
cd /tmp || exit 1
exec "$STAGE/bin/python3" -m pytest -p no:cacheprovider -rs -v "$@" "$T/test_device.py" "$T/test_pi.py"
