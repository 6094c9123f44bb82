#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside a lab guest (busybox sh): every in-guest test of the build
# tree $1 against /dev/ng0n1, one step at a time.  Each step's result is a
# "@@RESULT name status" line; the lab reads them.  nvmeta-check runs last
# because on a kernel that corrupts its zero page it ends the machine.
# --roads: also nvmeta-info --json (what the kernel reports, for the
# lab's table of where behaviour changes) and nvmeta-check on the
# attribute road (io_uring read/write with a PI attribute, Linux 6.14 on);
# a kernel without that road says so in an "@@ROAD rw closed: REASON" line.
# --roads-only: those and nvmeta-check alone (for a kernel whose guest
# dies in an earlier step: known-defects.tsv's kernel-log rows).
B=${1:?usage: guest-suite.sh BUILD_DIR [--roads|--roads-only]}
ROADS=${2:-}
DEV=${NVMETA_DEV:-/dev/ng0n1}
failed=0

step() {
	name=$1
	shift
	echo "@@STEP $name"
	"$@"
	rc=$?
	echo "@@RESULT $name $rc"
	[ "$rc" -eq 0 ] || failed=$((failed + 1))
}

# nvmeta-ring on its own ring, four ways, each on its own 512 blocks
# (64 commands of 8) at the end of the namespace (64 MiB: 16320 blocks of
# 4096+16 at least): the other guest tests stay below LBA 12288, and
# nvmeta-check places its cases from LBA 0 up.
# Every lab kernel (6.1 on) takes registered buffers and IOPOLL for
# passthrough, so a refusal fails; only a guest booted with
# nvme.poll_queues=0 on purpose (NVMETA_LAB_POLL_QUEUES=0) skips IOPOLL.
ring_modes() {
	r_nsze=$("$B/examples/nvmeta-info" --json "$DEV" |
		sed -n 's/^ *"blocks": *\([0-9]*\).*/\1/p' | head -n 1)
	[ -n "$r_nsze" ] || { echo "FAIL: nvmeta-info gave no namespace size"; return 1; }
	r_bad=0 r_k=0
	for r_mode in "" "--fixed-file --fixed-buf" "--iopoll --fixed-file --fixed-buf" \
		"--sqpoll --fixed-file --fixed-buf"; do
		r_k=$((r_k + 1))
		r_slba=$((r_nsze - r_k * 512))
		if [ "${r_mode#--iopoll}" != "$r_mode" ] &&
			grep -Eq '(^| )nvme\.poll_queues=0( |$)' /proc/cmdline; then
			echo "SKIP: nvmeta-ring $r_mode: the guest booted with nvme.poll_queues=0"
			continue
		fi
		# shellcheck disable=SC2086
		"$B/examples/nvmeta-ring" $r_mode --slba "$r_slba" --blocks 8 --count 64 \
			--json "$DEV" >/tmp/ring.out 2>/tmp/ring.err
		r_rc=$?
		cat /tmp/ring.out /tmp/ring.err
		if [ "$r_rc" -ne 0 ] || ! grep -q '"mismatches":0,"result":"pass"' /tmp/ring.out; then
			echo "FAIL: nvmeta-ring ${r_mode:-(plain)} at LBA $r_slba: exit $r_rc"
			r_bad=$((r_bad + 1))
		fi
	done
	[ "$r_bad" -eq 0 ]
}

# The application example (examples/nvmeta-blockstore.c): 64 blocks of 8
# LBAs from LBA 13568 (between guest_edges and nvmeta-ring) with PI on its
# own ring at QD 32.  Its two injected errors must be reported with the
# right block and field: the guard of LBA 13568 + 43 refused by the device
# (0x282), and the reference tag of LBA 13568 + 270 named by host
# verification.  Namespaces without PI skip it (exit 77).
blockstore() {
	b_out=$("$B/examples/nvmeta-blockstore" --slba 13568 "$DEV" 2>&1)
	b_rc=$?
	echo "$b_out"
	[ "$b_rc" -eq 77 ] && return 0
	[ "$b_rc" -eq 0 ] || { echo "FAIL: nvmeta-blockstore: exit $b_rc"; return 1; }
	echo "$b_out" | grep -q '^inject 1: guard of LBA 13611 .*NVMe status 0x282 .*guard check failed' ||
		{ echo "FAIL: the refused write is not reported as a guard error"; return 1; }
	echo "$b_out" | grep -q '^  bad block: LBA 13838, reference tag: expected 0x[0-9a-f]*, found 0x[0-9a-f]*$' ||
		{ echo "FAIL: the stored reference tag error is not reported at LBA 13838"; return 1; }
	[ "$(echo "$b_out" | grep -c '^  bad block:')" -eq 1 ] ||
		{ echo "FAIL: more bad blocks reported than injected"; return 1; }
}

# A checker step's KTAP: its own run's (nvmeta-check --json --ktap -:
# one run, both reports, KTAP's lines among the JSON's as each case is
# judged), which the lab validates with prove against the JSON's counts
# (lablib/results.py: ktap_judge).  Streamed, not a file shown after the
# step: on a kernel the checker damaged, nothing may run after it (a cat
# there died of a segmentation fault, 6.12).  "@@KTAP STEP" before the
# step says it has KTAP; a build from before --ktap says so instead.
KTAP=--ktap
"$B/examples/nvmeta-check" --help 2>/dev/null | grep -q -- '--ktap FILE' || KTAP=
ktap_on() {
	if [ -n "$KTAP" ]; then
		echo "@@KTAP $1"
	else
		echo "@@KTAP-NONE $1 this build's nvmeta-check has no --ktap"
	fi
}

# The copy-back matrix on the attribute road, where the kernel has it.
road_rw() {
	"$B/examples/nvmeta-check" -q --json ${KTAP:+"$KTAP" -} --road rw "$DEV" 2>/tmp/road.err
	w_rc=$?
	if [ "$w_rc" -eq 2 ] && grep -q 'attribute road is closed here' /tmp/road.err; then
		echo "@@ROAD rw closed: $(head -n 1 /tmp/road.err)"
		return 0
	fi
	cat /tmp/road.err
	return "$w_rc"
}

# The checker's steps, the suite's last (on 6.12 its known defects damage
# the guest's zero page, so nothing may run after them), each with its
# KTAP: the attribute road first when $1 is "rw", then passthrough.
# --reformat: the namespace formatted under an open handle and back.
# --kernel-weakness: the RAW short-metadata probes, which only a lab guest
# may run; the one that overruns the kernel heap skips itself unless the
# guest booted with red zones (lab: slub_debug=FZ).
# --json: the lab reads the cases from it, one a line.  The tool ends a
# case's line when it prints the next, so a guest that dies mid-case loses
# the case before it too (the text table lost none).
checker_steps() {
	if [ "$1" = rw ]; then
		step nvmeta-info-json "$B/examples/nvmeta-info" --json "$DEV"
		ktap_on nvmeta-check-rw
		step nvmeta-check-rw road_rw
	fi
	ktap_on nvmeta-check
	step nvmeta-check "$B/examples/nvmeta-check" -q --json ${KTAP:+"$KTAP" -} \
		--reformat --kernel-weakness "$DEV"
}

if [ "$ROADS" = --roads-only ]; then
	checker_steps rw
	echo "@@SUITE-END $failed"
	[ "$failed" -eq 0 ]
	exit
fi

step guest_dev "$B/tests/guest_dev"
# An application on libnvmeta alone: no thread appears when it opens and
# checks the namespace (tests/consumer/consumer.c).
step consumer "$B/tests/consumer_app" "$DEV"
step guest_roundtrip "$B/tests/guest_roundtrip"
step guest_quirks "$B/tests/guest_quirks"
step guest_io "$B/tests/guest_io"
# PI judged by the device and by the kernel's block device (LBA 9000 up);
# skips itself on namespaces without PI.
step guest_pi "$B/tests/guest_pi"
# The attribute road on the block device (LBA 10000 up): round trips and
# semantics on 6.14+, the refusal before; one test at a time, since its
# kprobe counts are machine-wide.
step guest_rw "$B/tests/guest_rw" --jobs 1
# One test at a time: one of them reformats the namespace and one turns
# io_uring off machine-wide for a moment.
step guest_defects "$B/tests/guest_defects" --jobs 1
# Eight threads, each on its own ring and layouts, on one device (LBA
# 12288 up); the case on two namespaces at once skips itself unless the
# guest booted with --nometa-ns (NVMETA_LAB_NAMESPACES=2).  One at a time:
# each case is its own crowd.
step guest_threads "$B/tests/guest_threads" --jobs 1
# Unmapped buffers and buffers unmapped while in flight (LBA 13312 up).
step guest_edges "$B/tests/guest_edges" --jobs 1
step nvmeta-io sh "$(dirname "$0")/io-roundtrip.sh" "$B"
step nvmeta-info-list "$B/examples/nvmeta-info"
step nvmeta-info "$B/examples/nvmeta-info" "$DEV"
step kill-cleanup sh "$(dirname "$0")/kill-cleanup.sh" "$B"
step cli-errors sh "$(dirname "$0")/cli-errors.sh" "$B"
step nvmeta-ring ring_modes
step nvmeta-blockstore blockstore
# The Python module's tests (python/tests/test_device.py, LBA 14096 up,
# and checker cases), only when a Python was staged into the build tree:
# the guest has none (sh python/tests/stage-guest.sh B B/pyguest;
# docs/python.md).
if [ -x "$B/pyguest/bin/python3" ]; then
	step python sh "$B/pyguest/tests/guest-pytest.sh"
fi
road=passthrough
[ "$ROADS" = --roads ] && road=rw
checker_steps "$road"
echo "@@SUITE-END $failed"
[ "$failed" -eq 0 ]
