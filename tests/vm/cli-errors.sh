#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside a lab guest: the command-line errors of nvmeta-io and
# nvmeta-info that need a device (tests/cli/bad-args.sh has the others).
# Each refusal comes before any I/O, with the real reason.
# Usage: cli-errors.sh BUILD_DIR
B=${1:?usage: cli-errors.sh BUILD_DIR}
DEV=${NVMETA_DEV:-/dev/ng0n1}
IO=$B/examples/nvmeta-io
INFO=$B/examples/nvmeta-info
W=/tmp/cli-errors
failed=0
rm -rf "$W"
mkdir -p "$W" || exit 1

lba=$NVMETA_EXPECT_LBA
ms=$NVMETA_EXPECT_MS
ext=${NVMETA_EXPECT_EXT:-0}
fmt="$lba+$ms"
# Separate metadata: the only case where -M applies.
sep=0
[ "$ms" -gt 0 ] && [ "$ext" != 1 ] && sep=1

. "$(dirname "$0")/expect.sh"

meta() { [ "$sep" = 1 ] && echo "-M $1"; }

# nlb beyond the command's field: the library's EDOM, before any buffer
# is allocated (before the fix: a message about pinning 65537 blocks).
# shellcheck disable=SC2046
expect 2 "nlb 65537: must be 1 to 65536 blocks" "$IO" "$DEV" read -c 65537 -d "$W/d" $(meta "$W/m")
[ -e "$W/d" ] && fail "a refused read left $W/d behind"

# -M where no metadata can move.
: >"$W/m"
expect 2 "-M/--metadata: write-zeroes moves no data" "$IO" "$DEV" write-zeroes -M "$W/m"
if [ "$ext" = 1 ]; then
	expect 2 "$DEV is formatted $fmt with extended LBAs" "$IO" "$DEV" read -d "$W/d" -M "$W/m"
	expect 2 "$DEV is formatted $fmt with extended LBAs" "$IO" "$DEV" write -d /dev/zero -M "$W/m"
elif [ "$ms" -eq 0 ]; then
	expect 2 "$DEV is formatted $fmt: no metadata" "$IO" "$DEV" read -d "$W/d" -M "$W/m"
fi
[ -e "$W/d" ] && fail "a refused read left $W/d behind"

# Files: a directory, a FIFO (which must not block), a full device.
mkdir "$W/dir"
mkfifo "$W/fifo"
# shellcheck disable=SC2046
expect 2 "$W/dir: is a directory" "$IO" "$DEV" write -d "$W/dir" $(meta /dev/zero)
expect 2 "$W/fifo: is a FIFO" "$IO" "$DEV" write -d "$W/fifo"
expect 2 "$W/fifo: is a FIFO" "$IO" "$DEV" read -d "$W/fifo"
# shellcheck disable=SC2046
expect 1 "/dev/full: No space left on device" "$IO" "$DEV" read -d /dev/full $(meta "$W/m")
if [ "$sep" = 1 ]; then
	expect 1 "/dev/full: No space left on device" "$IO" "$DEV" read -d "$W/d" -M /dev/full
fi

# As a user who cannot open the block devices libnvme's scan opens, list
# mode says so instead of "no NVMe namespaces found" alone.
blk=/dev/nvme${DEV#/dev/ng}
if command -v su >/dev/null && [ -b "$blk" ]; then
	grep -q '^root:' /etc/passwd 2>/dev/null || echo "root:x:0:0:root:/root:/bin/sh" >>/etc/passwd
	grep -q '^nvtest:' /etc/passwd || echo "nvtest:x:4242:4242:nvtest:/tmp:/bin/sh" >>/etc/passwd
	mode=$(stat -c %a "$DEV")
	bmode=$(stat -c %a "$blk")
	chmod 0666 "$DEV"
	chmod 0600 "$blk"
	su -s /bin/sh nvtest -c "'$INFO'" >"$W/out" 2>"$W/err"
	rc=$?
	chmod "$mode" "$DEV"
	chmod "$bmode" "$blk"
	sed 's/^/    /' "$W/out" "$W/err"
	if [ "$rc" -ne 0 ]; then
		fail "nvmeta-info as non-root exited $rc"
	elif grep -q "^$DEV " "$W/out"; then
		echo "ok:   nvmeta-info as non-root lists $DEV (the scan could open it)"
	elif grep -qF "$blk: Permission denied" "$W/err" &&
	     grep -qF "nvmeta-info $DEV" "$W/err"; then
		echo "ok:   nvmeta-info as non-root names the permission it lacks and $DEV"
	else
		fail "nvmeta-info as non-root found nothing and did not say why"
	fi
else
	echo "skip: no su or no $blk: nvmeta-info as non-root not tried"
fi

echo "cli-errors: $failed failed"
[ "$failed" -eq 0 ]
