#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside a lab guest: the command-line errors of nvmeta-io and
# nvmeta-info that need a device (tests/cli/bad-args.sh has the others).
# Each refusal comes before any I/O, with the real reason.
# The --json of the paths that need a device is parsed too, by json_check
# below: the guest is busybox, without jq or python.
# Usage: cli-errors.sh BUILD_DIR
#        cli-errors.sh --json-check FILE...   (json_check alone, for the host)

# json_check FILE: FILE holds exactly one JSON value by RFC 8259's grammar,
# or json_check says where it does not and fails.  Busybox awk, a line at
# a time: the tools never break a JSON token across lines (a raw newline
# in a string is not JSON anyway).  Not checked: that strings are valid
# UTF-8 (tests/cli/json.sh checks that on the host, and holds this checker
# to jq's verdicts there).
json_check() {
	LC_ALL=C awk '
	BEGIN {
		hex = "[0-9a-fA-F]"
		str = "^\"([^\"\\\\\001-\037]|\\\\[\"\\\\/bfnrt]|\\\\u" hex hex hex hex ")*\""
		num = "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?"
		want = "value"
	}
	function bad(m) { if (!why) why = m " at line " NR; return 0 }
	function set(w) { want = w; return 1 }
	function pop() { depth--; return set(depth ? "next" : "end") }
	# One token: s a string, v another scalar, or the punctuation itself.
	function step(t,   top) {
		if (want == "end")
			return bad("more after the top-level value")
		if (want == "colon")
			return t == ":" ? set("value") : bad("expected :")
		if (want == "key" || want == "key}") {
			if (t == "}" && want == "key}")
				return pop()
			return t == "s" ? set("colon") : bad("expected a key")
		}
		if (want == "next") {
			top = stack[depth]
			if (t == ",")
				return set(top == "{" ? "key" : "value")
			if (t == "}" && top == "{" || t == "]" && top == "[")
				return pop()
			return bad("expected , or the end of the " (top == "{" ? "object" : "array"))
		}
		if (t == "]" && want == "value]")
			return pop()
		if (t == "{" || t == "[") {
			stack[++depth] = t
			return set(t == "{" ? "key}" : "value]")
		}
		if (t == "s" || t == "v")
			return set(depth ? "next" : "end")
		return bad("expected a value")
	}
	{
		line = $0
		for (;;) {
			sub(/^[ \t\r]+/, "", line)
			if (line == "")
				break
			if (match(line, str))
				t = "s"
			else if (match(line, num) || match(line, /^(true|false|null)/))
				t = "v"
			else if (match(line, /^[][{}:,]/))
				t = substr(line, 1, 1)
			else
				t = ""
			if (t == "") {
				bad("not a JSON token: " substr(line, 1, 20))
				exit 1
			}
			line = substr(line, RLENGTH + 1)
			if (!step(t))
				exit 1
		}
	}
	END {
		if (!why && want != "end")
			why = NR ? "the text ends inside a value, at line " NR : "no text"
		if (why)
			print "json_check: " FILENAME ": " why
		exit why ? 1 : 0
	}' "$1"
}

if [ "$1" = --json-check ]; then
	shift
	rc=0
	for f; do
		json_check "$f" || rc=1
	done
	exit "$rc"
fi

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

# --json of every tool on a device: whatever the outcome, standard output
# is one JSON value.  jexpect STATUSES WHAT CMD...: CMD exits with one of
# the space-separated STATUSES and prints JSON.
jexpect() {
	want=$1 what=$2
	shift 2
	timeout 600 "$@" >"$W/out" 2>"$W/err" </dev/null
	rc=$?
	case " $want " in
	*" $rc "*) ;;
	*)
		fail "$what: exit $rc, not $want: $*"
		sed 's/^/    /' "$W/err"
		return 1
		;;
	esac
	if ! json_check "$W/out" >"$W/why"; then
		fail "$what: --json is not JSON: $(cat "$W/why"): $*"
		sed 's/^/    /' "$W/out" | head -n 30
		return 1
	fi
	echo "ok:   $what: JSON, exit $rc: $*"
}

CHECK=$B/examples/nvmeta-check
jexpect 0 "nvmeta-info of $DEV" "$INFO" --json "$DEV"
jexpect 0 "nvmeta-info's list" "$INFO" --json
grep -qF "\"$DEV\"" "$W/out" || fail "nvmeta-info --json does not list $DEV"
# shellcheck disable=SC2046
jexpect 0 "nvmeta-io read" "$IO" "$DEV" read -c 8 -d "$W/d" $(meta "$W/m") --json
# shellcheck disable=SC2046
jexpect 0 "nvmeta-io write" "$IO" "$DEV" write -c 8 -d "$W/d" $(meta "$W/m") --json
# The read is done, storing it fails.
# shellcheck disable=SC2046
jexpect 1 "nvmeta-io read to a full file" "$IO" "$DEV" read -d /dev/full $(meta "$W/m") --json
# Refused once the device is open (the JSON names the device alone).
jexpect 2 "nvmeta-io refused" "$IO" "$DEV" read -c 65537 -d "$W/d" --json
if [ "${NVMETA_EXPECT_PI:-0}" -gt 0 ]; then
	# A guard corrupted on purpose: with PRCHK guard (-p 4) the device
	# should refuse the write; without, it stores it, and the host's
	# check of the read fails.
	jexpect "0 1" "nvmeta-io --inject, checked" "$IO" "$DEV" write -c 8 -d "$W/d" --pi-gen \
		--inject guard:2 -p 4 --json
	jexpect 0 "nvmeta-io --inject" "$IO" "$DEV" write -c 8 -d "$W/d" --pi-gen \
		--inject guard:2 --json
	jexpect 1 "nvmeta-io --pi-check of a bad guard" "$IO" "$DEV" read -c 8 -d "$W/d" \
		--pi-check --json
	grep -q '"verified": "fail"' "$W/out" || fail "--pi-check of a bad guard did not fail"
else
	jexpect 2 "nvmeta-io --pi-gen without PI" "$IO" "$DEV" write -d "$W/d" --pi-gen --json
fi
# The checker whole, and stopped by SIGTERM mid-run (the case in flight
# ends, the JSON is closed, the tool dies of the signal).
jexpect "0 1" "nvmeta-check" "$CHECK" --json -q -K -f meta-page+0-8 "$DEV"
"$CHECK" --json -q -K -f meta-page+0-8 -r 5000 "$DEV" >"$W/check.json" 2>"$W/err" &
pid=$!
i=0
while ! grep -q '"case"' "$W/check.json" && [ "$i" -lt 600 ]; do
	usleep 100000
	i=$((i + 1))
done
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ "$rc" -ne 143 ]; then
	fail "nvmeta-check --json: exit $rc after SIGTERM, not 143"
elif ! json_check "$W/check.json" >"$W/why"; then
	fail "nvmeta-check --json stopped by SIGTERM: not JSON: $(cat "$W/why")"
	tail -n 5 "$W/check.json" | sed 's/^/    /'
elif ! grep -q '"stopped": "interrupted by SIGTERM' "$W/check.json"; then
	fail "nvmeta-check --json stopped by SIGTERM does not say so"
else
	n=$(grep -c '"case"' "$W/check.json")
	echo "ok:   nvmeta-check --json stopped by SIGTERM: JSON, $n cases"
fi
jexpect 0 "nvmeta-ring" "$B/examples/nvmeta-ring" --blocks 8 --count 4 --json "$DEV"
# nvmeta-bench, briefly: reads only, its JSON alone on stdout.
jexpect 0 "nvmeta-bench" "$B/bench/nvmeta-bench" --rounds 1 --slice-ms 1 --no-observe --quiet \
	--json - "$DEV"

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
	su -s /bin/sh nvtest -c "'$INFO' --json" >"$W/json" 2>/dev/null
	jrc=$?
	su -s /bin/sh nvtest -c "'$INFO'" >"$W/out" 2>"$W/err"
	rc=$?
	chmod "$mode" "$DEV"
	chmod "$bmode" "$blk"
	sed 's/^/    /' "$W/out" "$W/err"
	if [ "$jrc" -ne 0 ] || ! json_check "$W/json" >"$W/why"; then
		fail "nvmeta-info --json as non-root: exit $jrc: $(cat "$W/why" 2>/dev/null)"
	fi
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
