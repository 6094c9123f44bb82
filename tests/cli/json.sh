#!/bin/sh
# SPDX-License-Identifier: MIT
# Every output path of the tools' --json, parsed: standard output is one
# JSON value in valid UTF-8 (jq, and iconv for the UTF-8), or nothing at
# all where the tool fails before it prints (it says why on stderr).
# Without a device: the list of a machine's namespaces, refusals, the
# checker's case list, nvmeta-pi-bench.  The device paths run on
# fake-ns.so, a namespace without a device preloaded under the tools:
# lists where a namespace fails to open, first or between others; reports
# of commands that succeed, fail with an NVMe status, or fail their PI
# check; checker runs that complete, lose their device mid-run, or are
# interrupted by SIGTERM.  The lab guest's awk checker (tests/vm/cli-
# errors.sh --json-check) must agree with jq on every output here and on
# broken samples.  Skips (77) without jq.
# Usage: json.sh EXAMPLES_DIR BENCH_DIR FAKE_NS_SO CLI_ERRORS_SH
X=${1:?usage: json.sh EXAMPLES_DIR BENCH_DIR FAKE_NS_SO CLI_ERRORS_SH}
BENCH=${2:?}
FAKE=${3:?}
GUEST_CHECK=${4:?}
INFO=$X/nvmeta-info
IO=$X/nvmeta-io
CHECK=$X/nvmeta-check
W=$(mktemp -d) || exit 1
trap 'rm -rf "$W"' EXIT
failed=0
n=0

if ! command -v jq >/dev/null; then
	echo "json: jq is not installed (tests/install-deps.sh installs it); skipped"
	exit 77
fi
# The preload goes in before an ASan runtime the tools may link.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

# valid FILE: one JSON value, UTF-8, and the guest's checker agrees.
valid() {
	if ! iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>"$W/why"; then
		echo "not UTF-8: $(cat "$W/why")"
		return 1
	fi
	if ! jq -e -s 'length == 1' "$1" >/dev/null 2>"$W/why"; then
		echo "jq: $(cat "$W/why")"
		return 1
	fi
	sh "$GUEST_CHECK" --json-check "$1" || return 1
}

# run STATUS CMD...: CMD exits STATUS within 60 s; stdout in $W/out.
run() {
	want=$1
	shift
	timeout 60 "$@" >"$W/out" 2>"$W/err" </dev/null
	rc=$?
	n=$((n + 1))
	cp "$W/out" "$W/out.$n"
	if [ "$rc" -ne "$want" ]; then
		fail "$* exited $rc, not $want; stderr:"
		sed 's/^/    /' "$W/err"
		return 1
	fi
}

# json STATUS JQ-FILTER CMD...: CMD exits STATUS and prints one JSON value
# for which the jq filter holds.
json() {
	want=$1 filter=$2
	shift 2
	run "$want" "$@" || return
	if ! why=$(valid "$W/out"); then
		fail "$*: --json output is not JSON: $why"
		sed 's/^/    /' "$W/out" | head -n 40
		return
	fi
	if ! jq -e "$filter" "$W/out" >/dev/null; then
		fail "$*: the JSON does not satisfy '$filter':"
		sed 's/^/    /' "$W/out" | head -n 40
		return
	fi
	echo "ok:   $* -> $rc, JSON with $(echo "$filter" | tr -s '\t\n' '  ')"
}

# none STATUS TEXT CMD...: CMD exits STATUS before any output, saying TEXT
# on stderr and nothing on stdout.
none() {
	want=$1 text=$2
	shift 2
	run "$want" "$@" || return
	if [ -s "$W/out" ]; then
		fail "$*: failed ($rc) and yet printed:"
		sed 's/^/    /' "$W/out" | head -n 20
	elif ! grep -qF -- "$text" "$W/err"; then
		fail "$*: no '$text' on stderr:"
		sed 's/^/    /' "$W/err"
	else
		echo "ok:   $* -> $rc, nothing on stdout: $(head -n 1 "$W/err")"
	fi
}

# --- Without a device ------------------------------------------------------
# The machine's own list: empty here, or whatever NVMe it has.
json 0 '.namespaces | type == "array"' "$INFO" --json
none 1 "/dev/null is a mem device, not an NVMe namespace" "$INFO" --json /dev/null
none 1 "/nonexistent/ng0n1: No such file or directory" "$INFO" -j /nonexistent/ng0n1
none 2 "usage: nvmeta-info" "$INFO" --json /dev/null /nonexistent/ng0n1
none 1 "/dev/null is a mem device" "$IO" /dev/null read -d "$W/d" --json
none 2 "-c/--nlb '0x'" "$IO" /dev/null read -d "$W/d" -c 0x --json
none 2 "/dev/null is a mem device" "$CHECK" --json -K /dev/null
none 2 "-r/--runs '0'" "$CHECK" --json -r 0 /dev/null
cases=$("$CHECK" --list | wc -l)
json 0 "(.cases | length) == $cases and all(.cases[]; .case and .subject and .dir and .layout)" \
	"$CHECK" --json --list
json 0 "(.cases | length) == $cases" "$CHECK" --list -j
json 0 '(.variants | length) > 0 and all(.variants[]; .gbps.min > 0)' \
	"$BENCH/nvmeta-pi-bench" --quick --quiet --json -
# --json FILE: the table on stdout, the JSON in FILE, or a failure (exit
# 1, the reason on stderr) when FILE cannot be written whole.
if run 0 "$BENCH/nvmeta-pi-bench" --quick --quiet --json "$W/pi.json"; then
	if valid "$W/pi.json" >"$W/why"; then
		echo "ok:   nvmeta-pi-bench --json FILE: JSON"
	else
		fail "nvmeta-pi-bench --json FILE: not JSON: $(cat "$W/why")"
	fi
fi
if run 1 "$BENCH/nvmeta-pi-bench" --quick --quiet --json /dev/full; then
	grep -q "writing /dev/full: No space left on device" "$W/err" ||
		fail "nvmeta-pi-bench --json /dev/full: failed without saying why"
fi
none 1 "/dev/null is a mem device" "$BENCH/nvmeta-bench" --json - /dev/null
none 1 "/dev/null is a mem device" "$BENCH/nvmeta-bench" --json "$W/b.json" /dev/null
[ -e "$W/b.json" ] && fail "nvmeta-bench left $W/b.json behind a run that did not start"
none 1 "/dev/null is a mem device" "$X/nvmeta-ring" --json /dev/null

# --- A namespace without a device (fake-ns.so) -----------------------------
PRE=LD_PRELOAD=$FAKE
MODEL='Fake \"NVMe\" C:\\ \t\u007f é ÿþ'
json 0 ".controller.model == \"$MODEL\" and .controller.serial == \"FAKE\\u0001\\u001f\" and
	(.metadata_paths_8_blocks | length) == 8" env "$PRE" "$INFO" --json /fake/ng0n1
json 0 '.namespace.extended_lba and (has("metadata_paths_8_blocks") | not)' \
	env "$PRE" "$INFO" --json /fake/ext0n1
# Lists where namespaces do not open: the first (before the fix, the JSON
# began "[,"), one between two that do, the last, all of them.
json 0 '[.namespaces[].device] == ["/fake/ng0n1", "/fake/ext0n1"]' \
	env "$PRE" NVMETA_FAKE_LIST=/dev/null:/fake/ng0n1:/nonexistent/ng9n9:/fake/ext0n1 \
	"$INFO" --json
json 0 '[.namespaces[].device] == ["/fake/ng0n1"]' \
	env "$PRE" NVMETA_FAKE_LIST=/fake/ng0n1:/dev/null "$INFO" --json
json 0 '.namespaces == []' env "$PRE" NVMETA_FAKE_LIST=/dev/null:/nonexistent/ng9n9 "$INFO" --json
json 0 '.namespaces == []' env "$PRE" NVMETA_FAKE_LIST= "$INFO" --json

# nvmeta-io: done, failed by the device, PI mismatch, refused once open.
json 0 '.completion.result == "success" and .protection.injected == "guard" and
	.protection.injected_lba == 3' \
	env "$PRE" "$IO" /fake/ng0n1 write -c 8 -d /dev/zero --pi-gen --inject guard:3 --json
json 0 '.data.bytes == 4096 and .metadata.bytes == 64 and .completion.result == "success"' \
	env "$PRE" "$IO" /fake/ng0n1 read -c 8 -d "$W/d" -M "$W/m" -L misaligned -o 1 --json
json 1 '.completion.status_name and .completion.dnr and
	(.completion.result | test("Unrecovered Read Error"))' \
	env "$PRE" NVMETA_FAKE_IO=fail "$IO" /fake/ng0n1 read -d "$W/d" --json
json 1 '.protection.verified == "fail" and .protection.mismatch_field' \
	env "$PRE" NVMETA_FAKE_IO=pi "$IO" /fake/ng0n1 read -c 2 -d "$W/d" --pi-check --json
json 2 '. == {"device": "/fake/ext0n1"}' \
	env "$PRE" "$IO" /fake/ext0n1 read -d "$W/d" -M "$W/m" --json
json 2 '. == {"device": "/fake/ext0n1"}' \
	env "$PRE" "$IO" /fake/ext0n1 write -d /dev/zero --pi-gen --json
json 0 '.iovecs.count == 3 and .iovecs.first_bytes == 1366 and .iovecs.predicted_path and
	.completion.result == "success"' \
	env "$PRE" "$IO" /fake/ng0n1 write -c 8 -d /dev/zero --pi-gen --iovecs 3 --json
json 2 '.data.bytes == 512 and (has("iovecs") | not) and (has("completion") | not)' \
	env "$PRE" "$IO" /fake/ng0n1 read -d "$W/d" --iovecs 513 --json
json 0 '.completion.result == "success" and (has("data") | not)' \
	env "$PRE" "$IO" /fake/ng0n1 write-zeroes -c 8 --json

# nvmeta-check: a whole run, a run that loses its device after two cases,
# a run stopped by SIGTERM during its second case (it finishes the case,
# then dies of the signal: 143).
json 1 '(.cases | length) == 4 and .summary.pass == 3 and .summary.fail == 1 and
	(.cases[2] | .where == "metadata" and .verdict == "FAIL") and (has("stopped") | not) and
	(.probes | length) > 0 and .probes.fake_probe_0.value == "EFAULT" and
	(.probes.fake_probe_0.how | test("\"read-only\""))' \
	env "$PRE" "$CHECK" --json -q -K -f meta-misaligned+1 /fake/ng0n1
json 2 '(.cases | length) == 2 and (.stopped | test("the device went away"))' \
	env "$PRE" NVMETA_FAKE_CHECK_FAIL=3 "$CHECK" --json -q -K -f meta-misaligned+1 /fake/ng0n1
json 143 '(.cases | length) == 2 and .stopped == "interrupted by SIGTERM after 2 of 4 cases"' \
	env "$PRE" NVMETA_FAKE_CHECK_SIGNAL=2 "$CHECK" --json -q -K -f meta-misaligned+1 /fake/ng0n1
json 2 '(.cases | length) == 0 and (.stopped | test("the device went away"))' \
	env "$PRE" NVMETA_FAKE_CHECK_FAIL=1 "$CHECK" --json -q -K /fake/ng0n1
none 2 "--road rw: /dev/nvme0n1" env "$PRE" "$CHECK" --json -q -K --road rw /fake/ng0n1

# --- The guest's checker against jq ----------------------------------------
# valid() above ran it on every output jq took.  Broken JSON that both
# must refuse, among it what the tools printed before issue 16: a list
# after a namespace that did not open, a checker run cut short.
bad() {
	# shellcheck disable=SC2059 # the samples are printf formats on purpose
	printf "$1" >"$W/bad"
	if jq -e -s 'length == 1' "$W/bad" >/dev/null 2>&1; then
		fail "jq took broken JSON: $1"
	elif sh "$GUEST_CHECK" --json-check "$W/bad" >/dev/null; then
		fail "cli-errors.sh --json-check took broken JSON: $1"
	fi
}
bad '{\n  "namespaces": [,\n    {"device": "/dev/ng0n1"}\n  ]\n}\n'
bad '{\n  "cases": [\n    {"case": "meta-pinned-1"},\n    {"case": "meta-pinned-8"}'
bad ''
bad '{"a": 1,}'
bad '[1 2]'
bad '{"a" 1}'
bad '{1: 2}'
bad '{"a": nan}'
bad '{"a": "tab\there"}'
bad '{"a": "\\x"}'
bad '{"a": "\\u12g4"}'
bad '{"a": 1} {"b": 2}'
bad '{"a": [}'
bad '[truex]'
bad '{"a": "open'
echo "ok:   jq and the guest's checker refuse the 15 broken samples"

echo "json: $failed failed"
[ "$failed" -eq 0 ]
