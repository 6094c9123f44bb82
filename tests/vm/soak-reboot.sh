#!/bin/sh
# SPDX-License-Identifier: MIT
# The soak cut off by a power cut of its guest and verified after a
# reboot (issue 19): two boots of the lab on the same images.
#
#   tests/vm/soak-reboot.sh [--kernel NAME] [--qemu 7.2|10] [--build DIR]
#                           [--seconds N] [--dir DIR] [--damage LBA]
#
# Boot 1 writes with nvmeta-soak (3 writers, 2 readers, QD 8, no resets,
# no formats, preset 512+16-pi1) and its journal on a second namespace
# without metadata (nsid 2) that holds a minix file system (made on the
# host with mkfs.minix; minix.ko is the guest kernel's own, one module
# without dependencies); after N s (default 15) the guest asks the lab
# for a power cut (lab-monitor power-cut: QEMU is killed with SIGKILL)
# while the soak writes.  Boot 2 boots the same images (lab run
# --disk-dir) and runs nvmeta-soak --verify on the journal: every
# acknowledged write must be there, every unacknowledged one there or
# absent.  The host does not crash: what QEMU wrote to its image files is
# in the host's page cache, so this proves the guest's side (kernel,
# library, the soak's journal and its fdatasync) across a power cut of the
# guest, not the host's.
#
# DIR (default: a new directory under /var/tmp, removed when both boots
# pass) keeps nvm.img (nsid 1), nvm2.img (the journal's file system), the
# module, the two serial logs and the verify's JSON.  --damage LBA: a
# control, one byte of nsid 1's LBA changed in nvm.img between the boots,
# which the verify must name (the pair then fails, as it must).  In the guest the
# script runs as: sh soak-reboot.sh --guest write|verify BUILD MODULE SECS
set -u

guest_mount() {
	insmod "$1" 2>/dev/null || grep -qw minix /proc/filesystems ||
		{ echo "soak-reboot: insmod $1 failed"; exit 1; }
	blk=/dev/nvme${NVMETA_NOMETA_DEV#/dev/ng}
	mkdir -p /j
	mount -t minix ${2:+-o "$2"} "$blk" /j || { echo "soak-reboot: mount $blk failed"; exit 1; }
	echo "soak-reboot: journal file system: $blk (nsid 2) on /j"
}

if [ "${1:-}" = --guest ]; then
	what=$2 soak=$3/examples/nvmeta-soak mod=$4 secs=${5:-15}
	case $what in
	write)
		guest_mount "$mod"
		# Progress lines (each second: writes acknowledged so far, their
		# ACK records durable) straight to the console: the command's
		# own output is buffered on its way there and would die with
		# the guest.
		"$soak" --journal /j/journal --time 3600 --no-verify --writers 3 --readers 2 --qd 8 \
			"$NVMETA_DEV" >/dev/console 2>&1 &
		pid=$!
		sleep "$secs"
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			echo "soak-reboot: FAIL: the soak ended before the cut (exit $?)"
			exit 1
		fi
		# What dies with the guest: its dirty page cache (journal
		# records appended and not yet made durable among it).
		echo "soak-reboot: power cut after $secs s, the soak writing;" \
			"$(grep -E '^Dirty:' /proc/meminfo | tr -s ' ') in the guest's page cache" >/dev/console
		lab-monitor power-cut
		sleep 120
		echo "soak-reboot: FAIL: no power cut within 120 s"
		exit 1
		;;
	verify)
		guest_mount "$mod" ro
		echo "soak-reboot: journal $(wc -c </j/journal) bytes"
		"$soak" --journal /j/journal --verify --json "$NVMETA_DEV" >/tmp/verify.json
		rc=$?
		echo "soak-reboot: verify exit $rc"
		echo "soak-reboot: JSON follows"
		cat /tmp/verify.json
		exit $rc
		;;
	esac
	echo "soak-reboot: --guest write|verify"
	exit 2
fi

# ------------------------------------------------------------------ host
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LAB=$ROOT/tests/vm/lab
kernel=trixie qemu=10 build=$ROOT/build secs=15 dir="" keep=0 damage=""
die() { echo "soak-reboot: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--kernel | --qemu | --build | --seconds | --dir | --damage) [ $# -ge 2 ] || die "$1 needs a value" ;;
	esac
	case $1 in
	--kernel) kernel=$2 ;;
	--qemu) qemu=$2 ;;
	--build) build=$2 ;;
	--seconds) secs=$2 ;;
	--dir) dir=$2 keep=1 ;;
	--damage) damage=$2 ;;
	-h | --help) sed -n '3,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1 (--help)" ;;
	esac
	shift 2
done
case $secs in '' | *[!0-9]*) die "--seconds takes whole seconds: '$secs'" ;; esac
case $damage in *[!0-9]*) die "--damage takes an LBA: '$damage'" ;; esac
if ! build=$(cd "$build" 2>/dev/null && pwd) || [ ! -x "$build/examples/nvmeta-soak" ]; then
	die "no nvmeta-soak in the build directory (--build DIR)"
fi
command -v mkfs.minix >/dev/null || die "mkfs.minix missing (util-linux)"
if [ -z "$dir" ]; then
	dir=$(mktemp -d /var/tmp/nvmeta-soak-reboot.XXXXXX) || exit 2
fi
mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || exit 2

# The guest kernel's minix.ko, uncompressed (busybox insmod takes it so).
ko=$(python3 - "$ROOT/tests/vm" "$kernel" <<'EOF'
import glob, sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
from lablib.common import kdir, kernel_info
k = kernel_info(sys.argv[2])
print((glob.glob("%s/root/usr/lib/modules/%s/kernel/fs/minix/minix.ko*" % (
    kdir(k["K_SUITE"]), k["K_RELEASE"])) or [""])[0])
EOF
) || exit 2
[ -n "$ko" ] || die "kernel $kernel has no minix module"
mod=$dir/minix-$kernel.ko
case $ko in
*.xz) xz -dc "$ko" >"$mod" ;;
*.zst) zstd -qdc "$ko" >"$mod" ;;
*) cp "$ko" "$mod" ;;
esac || die "cannot unpack $ko"

# Fresh images for each pair: the journal's file system, nsid 1 of zeros
# (boot.py makes it when missing).
rm -f "$dir/nvm.img" "$dir/nvm2.img"
if ! truncate -s 64M "$dir/nvm2.img" || ! mkfs.minix -3 "$dir/nvm2.img" >/dev/null; then
	die "mkfs.minix failed"
fi

unset NVMETA_LAB_INJECT_SECTOR
export NVMETA_LAB_SUBSYS=0
run() {
	"$LAB" run --kernel "$kernel" --qemu "$qemu" --preset 512+16-pi1 --nometa-ns \
		--disk-dir "$dir" --timeout $((secs + 600)) --log "$dir/boot$1.log" \
		--file "$build" --file "$ROOT/tests/vm" --file "$mod" -- \
		sh "$ROOT/tests/vm/soak-reboot.sh" --guest "$2" "$build" "$mod" "$secs"
}
t0=$(date +%s)
echo "soak-reboot: boot 1: the soak writes for $secs s, then a power cut ($kernel, QEMU $qemu, $dir)"
run 1 write >"$dir/boot1.out"
rc1=$?
cat "$dir/boot1.out"
t1=$(date +%s)
if [ "$rc1" != 0 ] || ! grep -q "soak-reboot: power cut after" "$dir/boot1.log"; then
	echo "soak-reboot: FAIL: boot 1 (lab exit $rc1) did not end in the power cut; serial log $dir/boot1.log"
	exit 1
fi
last=$(tr -d '\r' <"$dir/boot1.log" | grep -E '^nvmeta-soak: +[0-9]+ s: [0-9]+ writes acknowledged' | tail -n 1)
echo "soak-reboot: last progress line before the cut: ${last:-none}"
if [ -n "$damage" ]; then
	# The preset's 512-byte blocks are the image's first part (QEMU keeps
	# the metadata after them): byte 100 of the block's data, inverted.
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2]) * 512 + 100); b = f.read(1)
f.seek(-1, 1); f.write(bytes([b[0] ^ 0xff])); f.close()' "$dir/nvm.img" "$damage" || exit 2
	echo "soak-reboot: control: byte 100 of LBA $damage changed in $dir/nvm.img; the verify must name it"
fi
echo "soak-reboot: boot 2: the same images, verify from the journal"
run 2 verify >"$dir/boot2.out"
rc2=$?
t2=$(date +%s)
cat "$dir/boot2.out"
python3 - "$dir/boot2.out" "$last" "$rc2" "$((t1 - t0))" "$((t2 - t1))" <<'EOF'
import json, re, sys
out, last, rc = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
_, sep, text = out.partition("soak-reboot: JSON follows\n")
try:
    v = json.loads(text)["verify"] if sep else None
except (ValueError, KeyError):
    v = None
if v is None:
    print("soak-reboot: FAIL: no verify JSON from boot 2 (lab exit %d)" % rc)
    sys.exit(1)
m = re.search(r": +([0-9]+) s: ([0-9]+) writes acknowledged", last)
before = int(m.group(2)) if m else 0
print("soak-reboot: acknowledged before the cut (last progress line, %s s): %d; in the journal: %d"
      % (m.group(1) if m else "?", before, v["acknowledged_writes"]))
print("soak-reboot: journal records %d (torn tail ignored: %s), unacknowledged writes %d: "
      "blocks present %d, absent %d" % (v["journal_records"], v["journal_torn_tail_ignored"],
                                        v["unacknowledged_writes"], v["unacknowledged_present"],
                                        v["unacknowledged_absent"]))
print("soak-reboot: blocks read %d, acknowledged %d, verified %d; lost %d, corrupted %d, "
      "unexpected %d, digest mismatches %d, journal errors %d, read errors %d" % (
          v["blocks_read"], v["blocks_acknowledged"], v["blocks_verified"], v["lost"],
          v["corrupted"], v["unexpected"], v["digest_mismatches"], v["journal_errors"],
          v["read_errors"]))
print("soak-reboot: boot 1 %s s, boot 2 %s s" % (sys.argv[4], sys.argv[5]))
bad = rc != 0 or v["acknowledged_writes"] < before
if v["acknowledged_writes"] < before:
    print("soak-reboot: FAIL: the journal holds fewer acknowledged writes than the soak "
          "counted before the cut: ACK records lost with the guest")
print("soak-reboot: %s" % ("FAIL (verify exit %d)" % rc if bad else "pass"))
sys.exit(1 if bad else 0)
EOF
rc=$?
if [ "$rc" = 0 ] && [ "$keep" = 0 ]; then
	rm -rf "$dir"
else
	echo "soak-reboot: images, logs and JSON kept in $dir"
fi
exit $rc
