#!/bin/sh
# SPDX-License-Identifier: MIT
# nvmeta-info without a device argument on a machine without NVMe: exit 0
# and say so, plainly and in JSON (an empty list).  Skips (77) where NVMe
# namespaces or generic devices exist.
# Usage: info-no-nvme.sh EXAMPLES_DIR
X=${1:?usage: info-no-nvme.sh EXAMPLES_DIR}
W=$(mktemp -d) || exit 1
trap 'rm -rf "$W"' EXIT

if ls /sys/class/nvme-generic/* /dev/ng* >/dev/null 2>&1; then
	echo "info-no-nvme: this machine has NVMe devices; skipped"
	exit 77
fi
"$X/nvmeta-info" >"$W/out" 2>"$W/err"
rc=$?
cat "$W/out" "$W/err"
[ "$rc" -eq 0 ] || { echo "FAIL: nvmeta-info exited $rc"; exit 1; }
grep -q "no NVMe namespaces found" "$W/out" || { echo "FAIL: no 'no NVMe namespaces found'"; exit 1; }
[ -s "$W/err" ] && { echo "FAIL: unexpected stderr"; exit 1; }

"$X/nvmeta-info" --json >"$W/out" 2>"$W/err"
rc=$?
cat "$W/out" "$W/err"
[ "$rc" -eq 0 ] || { echo "FAIL: nvmeta-info --json exited $rc"; exit 1; }
tr -d ' \n' <"$W/out" | grep -qx '{"namespaces":\[\]}' || { echo "FAIL: JSON is not an empty list"; exit 1; }
echo "info-no-nvme: ok"
