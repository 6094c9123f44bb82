#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside a lab guest (busybox sh): every in-guest test of the build
# tree $1 against /dev/ng0n1, one step at a time.  Each step's result is a
# "@@RESULT name status" line; the lab reads them.  nvmeta-check runs last
# because on a kernel that corrupts its zero page it ends the machine.
B=${1:?usage: guest-suite.sh BUILD_DIR}
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

step guest_dev "$B/tests/guest_dev"
step guest_roundtrip "$B/tests/guest_roundtrip"
step guest_quirks "$B/tests/guest_quirks"
step guest_io "$B/tests/guest_io"
# One test at a time: one of them reformats the namespace and one turns
# io_uring off machine-wide for a moment.
step guest_defects "$B/tests/guest_defects" --jobs 1
step nvmeta-io sh "$(dirname "$0")/io-roundtrip.sh" "$B"
step nvmeta-info-list "$B/examples/nvmeta-info"
step nvmeta-info "$B/examples/nvmeta-info" "$DEV"
step kill-cleanup sh "$(dirname "$0")/kill-cleanup.sh" "$B"
step cli-errors sh "$(dirname "$0")/cli-errors.sh" "$B"
# --reformat: the namespace formatted under an open handle and back.
# --kernel-weakness: the RAW short-metadata probes, which only a lab guest
# may run; the one that overruns the kernel heap skips itself unless the
# guest booted with red zones (lab: slub_debug=FZ).
step nvmeta-check "$B/examples/nvmeta-check" -q --reformat --kernel-weakness "$DEV"
echo "@@SUITE-END $failed"
[ "$failed" -eq 0 ]
