#!/bin/sh
# SPDX-License-Identifier: MIT
# nvmeta-check --format ktap, read by TAP parsers: prove (Debian's perl)
# judges each output as kernel CI would, and TAP::Parser counts its
# points, which must match the table's counts of the same run.  The runs
# are on fake-ns.so (a namespace without a device, preloaded under the
# tool), whose NVMETA_FAKE_CHECK_VERDICTS gives each case its verdict:
# passes, skips and kernel defects (exit 0), failures and device errors
# (1), everything skipped (4), a device lost mid-run (Bail out!, 1), a
# device that does not open (1..0 # SKIP, 4), two runs of the matrix,
# and --ktap FILE beside --json (the same KTAP, one run).
# Skips (77) without prove.
# Usage: ktap.sh EXAMPLES_DIR FAKE_NS_SO
X=${1:?usage: ktap.sh EXAMPLES_DIR FAKE_NS_SO}
FAKE=${2:?}
CHECK=$X/nvmeta-check
W=$(mktemp -d) || exit 1
trap 'rm -rf "$W"' EXIT
failed=0

if ! command -v prove >/dev/null || ! perl -MTAP::Parser -e1 2>/dev/null; then
	echo "ktap: prove or TAP::Parser is not installed (Debian's perl has them); skipped"
	exit 77
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
DEV=/fake/ng0n1
CASES=meta-misaligned+1		# four cases

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

# counts FILE: "passed P failed F skipped S xfail X planned N tests T
# good-plan 0|1 bailed 0|1" as TAP::Parser reads FILE.
counts() {
	perl -MTAP::Parser -e '
		my $p = TAP::Parser->new({ source => $ARGV[0] });
		my ($x, $bail) = (0, 0);
		while (my $r = $p->next) {
			$x++ if $r->is_test && $r->is_ok && $r->description =~ /# XFAIL /;
			$bail = 1 if $r->is_bailout;
		}
		printf "passed %d failed %d skipped %d xfail %d planned %d tests %d good-plan %d bailed %d\n",
			scalar($p->passed) - scalar($p->skipped) - $x, scalar($p->failed),
			scalar($p->skipped), $x, $p->tests_planned // -1, $p->tests_run,
			$p->is_good_plan ? 1 : 0, $bail;
	' "$1"
}

# ktap STATUS PROVE-STATUS COUNTS [ENV...]: nvmeta-check --format ktap on
# the fake namespace, with ENV, exits STATUS; prove, reading the output,
# exits PROVE-STATUS (0 or 1); TAP::Parser counts COUNTS.
ktap() {
	want=$1 want_prove=$2 want_counts=$3
	shift 3
	env LD_PRELOAD="$FAKE" "$@" "$CHECK" --format ktap -q -K -f "$CASES" "$DEV" \
		>"$W/out.tap" 2>"$W/err" </dev/null
	rc=$?
	what="nvmeta-check --format ktap ($*)"
	[ "$rc" -eq "$want" ] || { fail "$what exited $rc, not $want"; sed 's/^/    /' "$W/err" "$W/out.tap"; return 1; }
	prove --exec cat "$W/out.tap" >"$W/prove" 2>&1
	prc=$?
	[ "$prc" -ne 0 ] && prc=1
	[ "$prc" -eq "$want_prove" ] || { fail "$what: prove exited $prc, not $want_prove"; sed 's/^/    /' "$W/prove" "$W/out.tap"; return 1; }
	got=$(counts "$W/out.tap")
	[ "$got" = "$want_counts" ] || { fail "$what: TAP::Parser: $got, not $want_counts"; sed 's/^/    /' "$W/out.tap"; return 1; }
	echo "ok:   $what -> $rc; prove $prc: $(grep -E '^Result|^Files=' "$W/prove" | tr '\n' ' ')"
}

# The same verdicts as a table: its passed and skipped must be KTAP's.
table_counts() {
	env LD_PRELOAD="$FAKE" "$@" "$CHECK" -q -K -f "$CASES" "$DEV" 2>/dev/null | tail -n 1
}

# Passes, skips and kernel defects: a good run (0).
ktap 0 0 "passed 2 failed 0 skipped 1 xfail 1 planned 4 tests 4 good-plan 1 bailed 0" \
	NVMETA_FAKE_CHECK_VERDICTS=PASS,SKIP,KERNEL-DEFECT
OUT=$W/out.tap
[ "$(head -n 1 "$OUT")" = "KTAP version 1" ] || fail "the first line is not 'KTAP version 1': $(head -n 1 "$OUT")"
case $(sed -n 2p "$OUT") in
"# nvmeta-check: kernel $(uname -r), device $DEV (nvme0, Fake \"NVMe\" C:\\ \\x09\\x7f \\xc3\\xa9 \\xff\\xfe, firmware 1.0), format 512+8 pi 1, road passthrough") ;;
*) fail "no kernel, device and format header line: $(sed -n 2p "$OUT")" ;;
esac
LC_ALL=C grep -q "$(printf '[\001-\010\011\013-\037\177-\377]')" "$OUT" &&
	fail "control characters or bytes past ASCII in the KTAP output"
grep -q '^# probes: fake_probe_0 EFAULT' "$OUT" || fail "no probes line"
[ "$(grep -n '^1\.\.4$' "$OUT" | cut -d: -f1)" -lt "$(grep -n '^ok 1 ' "$OUT" | cut -d: -f1)" ] ||
	fail "the plan is not before the first test point"
grep -q '^ok 2 meta-misaligned+1-[^ ]* # SKIP fake run 1:\\x09tab "quote" \\ \\xff$' "$OUT" || fail "no SKIP point with its detail"
grep -q '^ok 3 meta-misaligned+1-[^ ]* # XFAIL kernel defect: fake run 1' "$OUT" || fail "no XFAIL point for the kernel defect"
grep -q '^# Totals: pass:2 fail:0 xfail:1 xpass:0 skip:1 error:0$' "$OUT" || fail "no kselftest totals line"
table=$(table_counts NVMETA_FAKE_CHECK_VERDICTS=PASS,SKIP,KERNEL-DEFECT)
[ "$table" = "2 passed, 1 failed, 1 skipped, 1 kernel defects, 0 device errors" ] ||
	fail "the table counts '$table', not KTAP's 2 passed and 1 skipped"
sed 's/^/    | /' "$OUT"

# Failures and device errors: not ok with diagnostics first (1).
ktap 1 1 "passed 2 failed 2 skipped 0 xfail 0 planned 4 tests 4 good-plan 1 bailed 0" \
	NVMETA_FAKE_CHECK_VERDICTS=PASS,FAIL,DEVICE-ERROR
grep -q '^# meta-misaligned+1-[^ ]*: metadata LBA [0-9]* byte 0: expected 0xa5, found 0x5a$' "$OUT" ||
	fail "no diagnostic of the bad byte"
grep -B3 '^not ok 2 ' "$OUT" | grep -q '^# meta-misaligned+1-[^ ]*: FAIL fake run 1' ||
	fail "the failure's detail is not before its test point"
grep -q '^not ok 3 .*' "$OUT" || fail "the device error is not 'not ok'"
# The fake's own default, every third case failing, agrees with the table.
ktap 1 1 "passed 3 failed 1 skipped 0 xfail 0 planned 4 tests 4 good-plan 1 bailed 0"
[ "$(table_counts)" = "3 passed, 1 failed, 0 skipped, 0 kernel defects, 0 device errors" ] ||
	fail "the table counts '$(table_counts)'"

# Nothing tested: every case skipped (KSFT_SKIP, 4).
ktap 4 0 "passed 0 failed 0 skipped 4 xfail 0 planned 4 tests 4 good-plan 1 bailed 0" \
	NVMETA_FAKE_CHECK_VERDICTS=SKIP
# Only kernel defects: expected failures, a passing run (0).
ktap 0 0 "passed 0 failed 0 skipped 0 xfail 4 planned 4 tests 4 good-plan 1 bailed 0" \
	NVMETA_FAKE_CHECK_VERDICTS=KERNEL-DEFECT
# The device went away before the third case: Bail out!, short of the plan.
ktap 1 1 "passed 2 failed 0 skipped 0 xfail 0 planned 4 tests 2 good-plan 0 bailed 1" \
	NVMETA_FAKE_CHECK_VERDICTS=PASS NVMETA_FAKE_CHECK_FAIL=3
grep -q '^Bail out! fake-ns: case .*: "the device went away"$' "$OUT" || fail "no Bail out! with the reason"

# Two runs: eight points, named by run.
env LD_PRELOAD="$FAKE" NVMETA_FAKE_CHECK_VERDICTS=PASS "$CHECK" --format ktap -q -K -r 2 \
	-f "$CASES" "$DEV" >"$OUT" 2>/dev/null
rc=$?
got=$(counts "$OUT")
if [ "$rc" -ne 0 ] || [ "$got" != "passed 8 failed 0 skipped 0 xfail 0 planned 8 tests 8 good-plan 1 bailed 0" ] ||
	! grep -q '^ok 8 meta-misaligned+1-[^ ]* run 2$' "$OUT"; then
	fail "two runs: exit $rc, $got"
else
	echo "ok:   nvmeta-check --format ktap -r 2 -> 0; 8 points, 'run 2' in their names"
fi

# --ktap FILE beside --json, one run: the same KTAP as --format ktap, and
# the exit status of the JSON run (1: a failure among the verdicts).
V=NVMETA_FAKE_CHECK_VERDICTS=PASS,FAIL,KERNEL-DEFECT
env LD_PRELOAD="$FAKE" $V "$CHECK" --format ktap -q -K -f "$CASES" "$DEV" >"$W/alone.tap" 2>/dev/null
env LD_PRELOAD="$FAKE" $V "$CHECK" --json --ktap "$W/beside.tap" -q -K -f "$CASES" "$DEV" \
	>"$W/beside.json" 2>/dev/null
rc=$?
if [ "$rc" -ne 1 ] || ! cmp -s "$W/alone.tap" "$W/beside.tap" || ! grep -q '"summary": {"pass": 2, "skip": 0, "fail": 1, "kernel_defect": 1' "$W/beside.json"; then
	fail "--json --ktap FILE: exit $rc, or its KTAP differs from --format ktap's:"
	diff "$W/alone.tap" "$W/beside.tap" | sed 's/^/    /'
else
	echo "ok:   nvmeta-check --json --ktap FILE -> 1; the KTAP is --format ktap's, byte for byte"
fi
# --ktap - : whole KTAP lines among the JSON's, the same points.
env LD_PRELOAD="$FAKE" $V "$CHECK" --json --ktap - -q -K -f "$CASES" "$DEV" >"$W/mixed" 2>/dev/null
grep -E '^(KTAP version 1|1\.\.4|ok |not ok |# Totals)' "$W/mixed" >"$W/mixed.tap"
grep -E '^(KTAP version 1|1\.\.4|ok |not ok |# Totals)' "$W/alone.tap" | cmp -s - "$W/mixed.tap" ||
	fail "--ktap -: its points differ from --format ktap's"
# Both forms at once: a usage error.
"$CHECK" --format ktap --ktap "$W/x" /dev/null >/dev/null 2>"$W/err"
rc=$?
[ "$rc" -eq 2 ] || fail "--format ktap --ktap FILE: exit $rc, not 2: $(cat "$W/err")"

# A device that does not open: nothing to test (1..0 # SKIP, 4).
"$CHECK" --format ktap -q -K /dev/null >"$OUT" 2>/dev/null
rc=$?
prove --exec cat "$OUT" >"$W/prove" 2>&1
prc=$?
if [ "$rc" -ne 4 ] || [ "$prc" -ne 0 ] || ! grep -q '^1\.\.0 # SKIP /dev/null is a mem device' "$OUT"; then
	fail "/dev/null: exit $rc, prove $prc:"
	sed 's/^/    /' "$OUT" "$W/prove"
else
	echo "ok:   nvmeta-check --format ktap /dev/null -> 4: $(grep '^1\.\.0' "$OUT")"
fi
# A format it does not know: usage (2), as every usage error.
"$CHECK" --format tap /dev/null >/dev/null 2>"$W/err"
rc=$?
[ "$rc" -eq 2 ] && grep -q "format 'tap': table, json or ktap" "$W/err" ||
	fail "--format tap: exit $rc, $(cat "$W/err")"

echo "ktap: $failed failed"
[ "$failed" -eq 0 ]
