#!/bin/bash
# SPDX-License-Identifier: MIT
# The blktests group (tests/blktests/nvmeta) on a machine without NVMe:
# bash -n and shellcheck (when installed) on its scripts, blktests' file
# conventions, and each test called the way blktests' ./check calls it
# (group_requires, group_device_requires, device_requires, test_device
# with TEST_DEV, TEST_DEV_SYSFS, TMPDIR, FULL and TEST_RUN; the output
# compared with NNN.out, then the exit status), on a fake sysfs and the
# real nvmeta-check and nvmeta-info over cli/fake-ns.c's namespace.
# Scenarios: every verdict the checker gives (pass, kernel defect logged
# or failed, failure, device error, a run that stops, everything
# skipped, a road that is closed, a checker that cannot run) and every
# reason a device is not run (no metadata, extended LBA, not NVMe, a
# partition, no generic char device, no checker).  The one function
# replaced is _nvmeta_dev_node, which maps ng0n1 to /dev/ng0n1.
# Usage: selftest.sh EXAMPLES_DIR FAKE_NS_SO
X=${1:?usage: selftest.sh EXAMPLES_DIR FAKE_NS_SO}
FAKE=${2:?usage: selftest.sh EXAMPLES_DIR FAKE_NS_SO}
HERE=$(cd "$(dirname "$0")" && pwd)
X=$(cd "$X" && pwd) || exit 1
FAKE=$(cd "$(dirname "$FAKE")" && pwd)/${FAKE##*/}
W=$(mktemp -d) || exit 1
trap 'rm -rf "$W"' EXIT
failed=0
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

# --- Static checks --------------------------------------------------------
for f in "$HERE"/nvmeta/rc "$HERE"/nvmeta/[0-9][0-9][0-9]; do
	bash -n "$f" || fail "bash -n $f"
done
sh -n "$HERE/lab-check.sh" || fail "sh -n lab-check.sh"
for t in "$HERE"/nvmeta/[0-9][0-9][0-9]; do
	n=${t##*/}
	[ -x "$t" ] || fail "nvmeta/$n is not executable"
	[ -f "$t.out" ] || { fail "nvmeta/$n has no $n.out"; continue; }
	[ -x "$t.out" ] && fail "nvmeta/$n.out is executable (blktests' make check refuses it)"
	printf 'Running nvmeta/%s\nTest complete\n' "$n" | cmp -s - "$t.out" ||
		fail "nvmeta/$n.out is not the two golden lines"
	grep -q '^DESCRIPTION="..*"$' "$t" || fail "nvmeta/$n has no DESCRIPTION"
	grep -q '^test_device()' "$t" || fail "nvmeta/$n defines no test_device()"
done
if command -v shellcheck >/dev/null; then
	# SC1091: common/rc is blktests'; SC2034/SC2154: the variables
	# blktests reads (DESCRIPTION, QUICK) and sets (TEST_DEV, FULL, ...).
	(cd "$HERE" && shellcheck -s bash -e SC1091,SC2034,SC2154 nvmeta/rc nvmeta/[0-9][0-9][0-9]) ||
		fail "shellcheck"
	(cd "$HERE" && shellcheck -s sh lab-check.sh) || fail "shellcheck lab-check.sh"
	(cd "$HERE" && shellcheck selftest.sh) || fail "shellcheck selftest.sh"
else
	echo "selftest: shellcheck is not installed; left out"
fi

# --- A blktests tree in miniature -----------------------------------------
# common/rc: the few helpers of blktests' that the group calls, with the
# meaning blktests gives them (a missing requirement appends a reason to
# SKIP_REASONS and returns 1).
T=$W/blktests
mkdir -p "$T/common" "$T/tests" "$W/bin" "$W/tmp"
cp -R "$HERE/nvmeta" "$T/tests/nvmeta"
cat >"$T/common/rc" <<'EOF'
_have_root() {
	((${SELFTEST_EUID:-$EUID} == 0)) && return 0
	SKIP_REASONS+=("not running as root")
	return 1
}
_have_program() {
	command -v "$1" >/dev/null 2>&1 && return 0
	SKIP_REASONS+=("command $1 is not available")
	return 1
}
_test_dev_is_partition() {
	[[ -n $TEST_DEV_PART_SYSFS ]]
}
EOF
# The tools over the fake namespace, as the group's settings name them.
for tool in nvmeta-check nvmeta-info; do
	printf '#!/bin/sh\nLD_PRELOAD=%s exec %s "$@"\n' "$FAKE" "$X/$tool" >"$W/bin/$tool"
	chmod +x "$W/bin/$tool"
done
printf '#!/bin/sh\necho "nvmeta-check: unrecognized option" >&2\nexit 2\n' >"$W/bin/broken-check"
chmod +x "$W/bin/broken-check"
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
export NVMETA_CHECK="$W/bin/nvmeta-check" NVMETA_INFO="$W/bin/nvmeta-info" SELFTEST_EUID=0

# A fake sysfs: namespace NAME (nvme0n1) under DIR (the controller or
# subsystem), with metadata_bytes MS (or none: "-") and its generic
# sibling ng0n1.
S=$W/sys
ns() {
	local dir=$S/$1 name=$2 ms=$3
	mkdir -p "$dir/$name" "$dir/ng${name#nvme}"
	ln -sfn .. "$dir/$name/device"
	echo 242:0 >"$dir/ng${name#nvme}/dev"
	[ "$ms" = - ] || echo "$ms" >"$dir/$name/metadata_bytes"
}
ns devices/virtual/nvme-subsystem/nvme-subsys0 nvme0n1 8
ns devices/pci0000:00/0000:00:02.0/nvme/nvme1 nvme1n1 -
ns devices/virtual/nvme-subsystem/nvme-subsys2 nvme2n1 0
ns devices/virtual/nvme-subsystem/nvme-subsys3 nvme3n1 16
mkdir -p "$S/devices/virtual/nvme-subsystem/nvme-subsys4/nvme4n1"
ln -sfn .. "$S/devices/virtual/nvme-subsystem/nvme-subsys4/nvme4n1/device"
mkdir -p "$S/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda"
ln -sfn ../../../0:0:0:0 "$S/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/device"
NS0=$S/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1
NS1=$S/devices/pci0000:00/0000:00:02.0/nvme/nvme1/nvme1n1
NS2=$S/devices/virtual/nvme-subsystem/nvme-subsys2/nvme2n1
NS3=$S/devices/virtual/nvme-subsystem/nvme-subsys3/nvme3n1
NS4=$S/devices/virtual/nvme-subsystem/nvme-subsys4/nvme4n1
SDA=$S/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda

# blkt TEST SYSFS [PART_SYSFS]: TEST run on one device as blktests' check
# runs it; prints "passed", "failed output", "failed exit N" or "not run:
# REASONS", then the TEST_RUN fields, one "key=value" a line.  The output
# and $FULL stay in $W/last.out and $W/last.full.
blkt() {
	(
		cd "$T" || exit 1
		unset SKIP_REASONS
		# shellcheck disable=SC1090
		. "tests/nvmeta/$1"
		# The one replacement: ng3n1 is an extended-LBA namespace.
		# shellcheck disable=SC2317
		_nvmeta_dev_node() {
			case $1 in
			ng3*) echo /fake/ext3n1 ;;
			*) echo "/fake/$1" ;;
			esac
		}
		# shellcheck disable=SC2034
		TEST_NAME=nvmeta/$1
		# shellcheck disable=SC2034
		TEST_DEV=/dev/${2##*/} TEST_DEV_SYSFS=$2 TEST_DEV_PART_SYSFS=${3:-}
		FULL=$W/last.full
		TMPDIR=$(mktemp -d -p "$W/tmp")
		rm -f "$FULL" "$W/last.out"
		declare -A TEST_RUN
		notrun() {
			printf 'not run:'
			printf ' %s;' "${SKIP_REASONS[@]}"
			echo
		}
		group_requires
		[[ -v SKIP_REASONS ]] && { notrun; exit; }
		group_device_requires
		[[ -v SKIP_REASONS ]] && { notrun; exit; }
		declare -fF device_requires >/dev/null && device_requires
		[[ -v SKIP_REASONS ]] && { notrun; exit; }
		test_device >"$W/last.out" 2>&1
		rc=$?
		if [[ -v SKIP_REASONS ]]; then
			notrun
		elif ! diff -q "tests/$TEST_NAME.out" "$W/last.out" >/dev/null; then
			echo "failed output"
		elif ((rc)); then
			echo "failed exit $rc"
		else
			echo passed
		fi
		for k in "${!TEST_RUN[@]}"; do
			echo "$k=${TEST_RUN[$k]}"
		done | sort
	)
}

# expect WHAT PATTERN TEST SYSFS [PART] [-- ENV...]: the first line of
# blkt's report matches the extended regular expression PATTERN.
expect() {
	local what=$1 pat=$2 got
	shift 2
	local args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	[ "${1:-}" = -- ] && shift
	# shellcheck disable=SC2163
	got=$([ $# -eq 0 ] || export "$@"; blkt "${args[@]}")
	REPORT=$got
	if ! head -n 1 <<<"$got" | grep -Eq "$pat"; then
		fail "$what: got '$(head -n 1 <<<"$got")', want /$pat/"
		sed 's/^/    /' "$W/last.out" 2>/dev/null
		return 1
	fi
	echo "ok: $what: $(head -n 1 <<<"$got")"
}
field() {
	sed -n "s/^$1=//p" <<<"$REPORT"
}

# Passes: all cases pass; the checker's KTAP is in $FULL, counts in TEST_RUN.
expect "002 every case passes" '^passed$' 002 "$NS0" -- NVMETA_FAKE_CHECK_VERDICTS=PASS &&
	{
		if ! [ "$(field passed)" -gt 0 ] || [ "$(field failed)" != 0 ] ||
			[ "$(field kernel_defects)" != 0 ]; then
			fail "002 pass: TEST_RUN $(tr '\n' ' ' <<<"$REPORT")"
		fi
		if ! grep -q '^# Totals: pass:' "$W/last.full" || ! grep -q '^exit status 0$' "$W/last.full"; then
			fail "002 pass: \$FULL lacks the KTAP totals or the exit status"
		fi
	}
# No metadata_bytes in sysfs (before Linux 6.10): nvmeta-info decides.
expect "002 on an older kernel's sysfs" '^passed$' 002 "$NS1" -- NVMETA_FAKE_CHECK_VERDICTS=PASS
# Kernel defects: logged and counted, not failed ...
expect "002 kernel defects logged" '^passed$' 002 "$NS0" -- \
	NVMETA_FAKE_CHECK_VERDICTS=PASS,KERNEL-DEFECT &&
	{
		[ "$(field kernel_defects)" -gt 0 ] || fail "002 kernel defects: not counted in TEST_RUN"
		grep -q '^ok [0-9]* .* # XFAIL ' "$W/last.full" || fail "002 kernel defects: not in \$FULL"
	}
# ... unless NVMETA_KERNEL_DEFECTS=fail.
expect "002 kernel defects failed on request" '^failed output$' 002 "$NS0" -- \
	NVMETA_FAKE_CHECK_VERDICTS=PASS,KERNEL-DEFECT NVMETA_KERNEL_DEFECTS=fail &&
	{ grep -q '# XFAIL ' "$W/last.out" || fail "002 strict: the defect is not in the output"; }
# Failures: the not-ok points break the golden output, and the exit status is 1.
expect "002 a case fails" '^failed output$' 002 "$NS0" -- NVMETA_FAKE_CHECK_VERDICTS=PASS,FAIL &&
	{ grep -q '^not ok [0-9]* ' "$W/last.out" || fail "002 fail: no not-ok point in the output"; }
expect "002 a device error" '^failed output$' 002 "$NS0" -- NVMETA_FAKE_CHECK_VERDICTS=DEVICE-ERROR
expect "002 the run stops (Bail out!)" '^failed output$' 002 "$NS0" -- \
	NVMETA_FAKE_CHECK_VERDICTS=PASS NVMETA_FAKE_CHECK_FAIL=3 &&
	{ grep -q '^Bail out!' "$W/last.out" || fail "002 bail: no Bail out! in the output"; }
expect "002 the checker cannot run" '^failed output$' 002 "$NS0" -- NVMETA_CHECK="$W/bin/broken-check" &&
	{ grep -q 'could not run (exit status 2): nvmeta-check: unrecognized option' "$W/last.out" ||
		fail "002 broken checker: no reason in the output"; }
# Nothing tested: not run, with the checker's reason.
expect "002 every case skipped" '^not run: nvmeta-check tested nothing on /fake/ng0n1: every case skipped' \
	002 "$NS0" -- NVMETA_FAKE_CHECK_VERDICTS=SKIP
expect "001 the attribute road is closed" \
	'^not run: nvmeta-check --road rw tested nothing on /fake/ng0n1: --road rw: .*No such file' 001 "$NS0"
# Devices the group does not run on, and why.
expect "no metadata" '^not run: /dev/nvme2n1 has no metadata \(metadata_bytes is 0\);$' 002 "$NS2"
expect "extended LBA" '^not run: /dev/nvme3n1 interleaves its metadata .*extended LBA 4096\+16' 002 "$NS3"
expect "not NVMe" '^not run: /dev/sda is not an NVMe namespace;$' 002 "$SDA"
expect "a partition" '^not run: /dev/nvme0n1 is a partition' 002 "$NS0" "$NS0/nvme0n1p1"
expect "no generic char device" '^not run: /dev/nvme4n1 has no NVMe generic char device' 002 "$NS4"
expect "no checker" '^not run: command /nonexistent/nvmeta-check is not available;$' 002 "$NS0" -- \
	NVMETA_CHECK=/nonexistent/nvmeta-check
expect "not root" '^not run: not running as root;$' 002 "$NS0" -- SELFTEST_EUID=1000

# The real node lookup: /dev/null is no generic char device of 242:0.
(
	# shellcheck disable=SC1091
	cd "$T" && . tests/nvmeta/rc &&
		! _nvmeta_dev_node null 242:0 >/dev/null && _nvmeta_dev_node null 1:3 >/dev/null
) || fail "_nvmeta_dev_node does not compare the device number"

if [ "$failed" -ne 0 ]; then
	echo "selftest: $failed failed"
	exit 1
fi
echo "selftest: all passed"
