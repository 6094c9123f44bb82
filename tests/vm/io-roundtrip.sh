#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside a lab guest: nvmeta-io writes data and metadata from files,
# reads them back through another metadata layout, and the files compare
# equal.  Usage: io-roundtrip.sh BUILD_DIR
B=${1:?usage: io-roundtrip.sh BUILD_DIR}
DEV=${NVMETA_DEV:-/dev/ng0n1}
IO=$B/examples/nvmeta-io
W=/tmp/io-roundtrip
NLB=8
mkdir -p "$W"

lba=$NVMETA_EXPECT_LBA
ms=$NVMETA_EXPECT_MS
[ "$NVMETA_EXPECT_EXT" = 1 ] && lba=$((lba + ms)) && ms=0

dd if=/dev/urandom of="$W/data" bs="$lba" count=$NLB 2>/dev/null || exit 1
meta_opt=
if [ "$ms" -gt 0 ]; then
	dd if=/dev/urandom of="$W/meta" bs="$ms" count=$NLB 2>/dev/null || exit 1
	meta_opt="-M $W/meta"
fi
# shellcheck disable=SC2086
"$IO" "$DEV" write -s 300 -c $NLB -d "$W/data" $meta_opt -L page || exit 1
for layout in misaligned fragmented malloc; do
	# Output files are opened without truncation (a failed read keeps
	# them) and cut to the result's length after a read that succeeded:
	# start from longer ones, the comparison below sees any tail left.
	head -c $((lba * NLB + 4096)) /dev/urandom >"$W/data.back"
	head -c $((ms * NLB + 512)) /dev/urandom >"$W/meta.back"
	set -- -s 300 -c $NLB -d "$W/data.back" -L $layout --fallback -D page
	[ "$ms" -gt 0 ] && set -- "$@" -M "$W/meta.back"
	"$IO" "$DEV" read "$@" --json >"$W/read.json" || { cat "$W/read.json"; exit 1; }
	cmp "$W/data" "$W/data.back" || exit 1
	if [ "$ms" -gt 0 ]; then cmp "$W/meta" "$W/meta.back" || exit 1; fi
	echo "nvmeta-io: read back through $layout metadata: data and metadata equal"
done
# A data file shorter than the command needs is an error, never padded.
head -c $((lba * NLB - 1)) "$W/data" >"$W/short"
# shellcheck disable=SC2086
if "$IO" "$DEV" write -s 300 -c $NLB -d "$W/short" $meta_opt 2>"$W/err"; then
	echo "nvmeta-io: a short data file was accepted"
	exit 1
fi
grep -q "bytes, the command needs" "$W/err" || { cat "$W/err"; exit 1; }
echo "nvmeta-io: short data file refused: $(cat "$W/err")"
