#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs blktests' own ./check on the nvmeta group inside a lab guest
# (busybox sh; tests/vm/lab, docs/lab.md), on every whole NVMe namespace
# the guest has, and prints check's report and each test's $FULL.
# Usage: lab-check.sh BLKTESTS_DIR BIN_DIR BUILD_DIR
#   BLKTESTS_DIR  a blktests tree (git archive of osandov/blktests)
#   BIN_DIR       what busybox lacks for check: bash, GNU mktemp, column
#   BUILD_DIR     an nvmeta build tree (nvmeta-check, nvmeta-info)
# The group is copied from beside this script into the tree first.  The
# exit status is check's: 0 when nothing failed (a skip is not a failure).
BT=${1:?usage: lab-check.sh BLKTESTS_DIR BIN_DIR BUILD_DIR}
BIN=${2:?}
B=${3:?}
HERE=$(cd "$(dirname "$0")" && pwd)
PATH=$BIN:$B/examples:$PATH
export PATH

# bash's process substitution, which check uses, needs /dev/fd; the
# guest's devtmpfs has no such link (udev makes it elsewhere).
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd

devs=
for d in /sys/block/nvme*n*; do
	case ${d##*/} in *c*) continue ;; esac # a path under native multipath
	devs="$devs /dev/${d##*/}"
done
rm -rf "$BT/tests/nvmeta" "$BT/results"
cp -R "$HERE/nvmeta" "$BT/tests/nvmeta" || exit 1
echo "TEST_DEVS=($devs )" >"$BT/config"
echo "lab-check: kernel $(uname -r), TEST_DEVS=($devs )"
cd "$BT" || exit 1
start=$(date +%s)
bash ./check nvmeta >/tmp/blktests-check.out 2>&1
rc=$?
end=$(date +%s)
cat /tmp/blktests-check.out
for f in results/*/nvmeta/*; do
	case $f in *.full | *.out.bad | *.dmesg) ;; *) continue ;; esac
	echo "==> $f <=="
	cat "$f"
done
echo "lab-check: check exited $rc in $((end - start)) s"
exit "$rc"
