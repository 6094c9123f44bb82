#!/bin/sh
# SPDX-License-Identifier: MIT
# The soak in a lab guest (busybox sh): nvmeta-soak under one fault of
# each kind, every phase verified from its journal.
#
#   sh tests/vm/soak.sh BUILD [SECONDS]
#
# SECONDS (default 30) is the length of the main phase, which writes and
# reads with controller resets (reset_controller every 8 s) and reformats
# to another LBA format under the open handles (every 12 s, or every 60 s
# when SECONDS is 300 or more); the test command's short soak takes the
# default, a long soak passes its duration.  Then: the tool's self-test
# (a corrupted block and a dropped journal record must fail it), SIGKILL
# mid-run and a verify from the journal, the kernel's fault injection
# (Debian's kernels have none: said so) and QEMU's (a write error from
# blkdebug when the lab sets NVMETA_LAB_INJECT_SECTOR), a full journal
# (ENOSPC), and last the controller removed
# (device_del through the lab's monitor): the tool must end by itself,
# exit 3 and say why; where the lab booted the controller in an NVMe
# subsystem (NVMETA_LAB_SUBSYS=1) it is added back (device_add) and the
# journal verified on the namespace that comes back.
set -u
B=${1:?usage: soak.sh BUILD [SECONDS]}
SECS=${2:-30}
SOAK=$B/examples/nvmeta-soak
DEV=${NVMETA_DEV:-/dev/ng0n1}
J=/tmp/soak
failed=0
FMT=12
[ "$SECS" -ge 300 ] && FMT=60

step() { echo "=== soak: $*"; }
bad() { echo "=== soak: FAIL: $*"; failed=$((failed + 1)); }

# A step's exit status against the one it must have.
expect() {
	want=$1 what=$2
	shift 2
	"$@"
	rc=$?
	if [ "$rc" = "$want" ]; then
		step "$what: exit $rc, as it must"
	else
		bad "$what: exit $rc, not $want"
	fi
}

step "kernel $(uname -r), QEMU $NVMETA_LAB_QEMU, preset $NVMETA_PRESET, $DEV"
case $NVMETA_PRESET in
*-ext*|4096+0|512+8|512+64) echo "soak: skipped: preset $NVMETA_PRESET (needs separate metadata with PI)"; exit 77 ;;
esac

step "self-test: a corrupted block and a dropped journal record must fail"
expect 0 "self-test" "$SOAK" --journal $J.self --self-test --count 300 --quiet "$DEV"

step "an I/O error from the device (QEMU's blkdebug fails the first write to sector ${NVMETA_LAB_INJECT_SECTOR:-none})"
if [ -n "${NVMETA_LAB_INJECT_SECTOR:-}" ]; then
	# Its own region of 16 MiB: the other phases keep to the first 8.  It
	# comes before the main phase: a Format NVM that met the error would
	# take it (and QEMU 10 then fails all I/O: known-defects.tsv).
	"$SOAK" --journal $J.eio --time 15 --region-mb 16 --quiet --json \
		--injected-sector "$NVMETA_LAB_INJECT_SECTOR" "$DEV" >/tmp/soak-eio.json
	rc=$?
	cat /tmp/soak-eio.json
	if [ "$rc" = 0 ] && grep -q '"errors_injected_by_the_device": [1-9]' /tmp/soak-eio.json; then
		step "injected I/O error: seen, explained, the failed write verified as allowed"
	else
		bad "injected I/O error: exit $rc, or the error was not seen"
	fi
else
	echo "soak: no device error injected (the lab sets NVMETA_LAB_INJECT_SECTOR)"
fi

step "main phase: $SECS s, resets every 8 s, a reformat every $FMT s"
# --poison-sqes: every SQE the kernel consumed gets a namespace ID no
# namespace has.  Linux 6.12 re-reads a passthrough command's SQE from the
# SQ ring when it reissues it from io-wq after -EAGAIN (the queue frozen by
# the rescan after a reset): the poisoned slot makes it refuse the command
# (EINVAL) and log the marker, where it would otherwise execute whatever
# command the slot holds by then (known-defects.tsv:
# linux-6.12-uring-cmd-sqe-reread).
POISON_RX='nsid \(1353470124\) in cmd does not match'
before=$(dmesg | grep -cE "$POISON_RX")
expect 0 "soak with resets and reformats" "$SOAK" --journal $J.main --time "$SECS" \
	--writers 3 --readers 2 --qd 8 --reset-every 8 --format-every "$FMT" --poison-sqes --json "$DEV"
reread=$(($(dmesg | grep -cE "$POISON_RX") - before))
if [ "$reread" -gt 0 ]; then
	step "known defect linux-6.12-uring-cmd-sqe-reread: $reread commands read again from their SQ slot after submission, refused by the poison (kernel $(uname -r))"
	dmesg | grep -E "$POISON_RX" | head -3
else
	step "no command read again from its SQ slot after submission"
fi

step "SIGKILL mid-run, then verify from the journal and go on"
"$SOAK" --journal $J.kill --time 600 --no-verify --quiet "$DEV" &
pid=$!
sleep 8
kill -KILL $pid
wait $pid
echo "soak: killed (status $?)"
expect 0 "verify after SIGKILL" "$SOAK" --journal $J.kill --verify "$DEV"
expect 0 "resume after SIGKILL" "$SOAK" --journal $J.kill --resume --time 5 --quiet "$DEV"

step "journal on a full file system (ENOSPC): the tool stops, what it acknowledged verifies"
mkdir -p /tmp/small && mount -t tmpfs -o size=48k tmpfs /tmp/small
expect 1 "soak with a full journal" "$SOAK" --journal /tmp/small/j --time 60 --quiet "$DEV"
expect 0 "verify of the full journal" "$SOAK" --journal /tmp/small/j --verify "$DEV"
umount /tmp/small

step "kernel fault injection (fail_make_request, fail_io_timeout)"
if [ -d /sys/kernel/debug/fail_make_request ]; then
	echo "soak: fail_make_request present: not used yet"
else
	echo "soak: this kernel has no fault injection (CONFIG_FAULT_INJECTION not set): I/O errors only from the device"
fi

step "controller removed under the running soak (device_del)"
if [ ! -x /bin/lab-monitor ]; then
	echo "soak: no /bin/lab-monitor: not a lab guest, removal skipped"
else
	"$SOAK" --journal $J.gone --time 600 --no-verify --quiet "$DEV" &
	pid=$!
	sleep 6
	lab-monitor device_del nvme0
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 120 ]; do
		sleep 1
		i=$((i + 1))
	done
	if kill -0 $pid 2>/dev/null; then
		bad "the soak still runs 120 s after the removal"
		kill -KILL $pid
	fi
	wait $pid
	rc=$?
	[ "$rc" = 3 ] && step "removal: the soak ended by itself with exit 3, as it must" ||
		bad "removal: exit $rc, not 3"
	if [ "${NVMETA_LAB_SUBSYS:-0}" = 1 ]; then
		lab-monitor device_add nvme0
		i=0
		new=""
		# A live controller again, and the namespace's node.
		while [ -z "$new" ] && [ $i -lt 60 ]; do
			sleep 1
			i=$((i + 1))
			grep -qx live /sys/class/nvme/nvme*/state 2>/dev/null || continue
			for d in /dev/ng*n1; do [ -e "$d" ] && new=$d; done
		done
		if [ -z "$new" ]; then
			bad "no namespace came back within 60 s of device_add"
		else
			step "controller added back: $new after $i s"
			expect 0 "verify after removal and hot-add" "$SOAK" --journal $J.gone --verify "$new"
		fi
	else
		echo "soak: hot-add skipped: QEMU cannot hot-add a namespace (nvme-bus takes no hotplug); boot with NVMETA_LAB_SUBSYS=1"
	fi
fi

step "$failed failed"
[ "$failed" = 0 ]
