#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside a lab guest (busybox sh, root): a killed nvmeta-check must not
# leave its kprobes enabled and counting machine-wide (issue 6, finding 10).
# SIGTERM and SIGHUP: the tool removes its own probes and dies of the
# signal.  SIGKILL and SIGSEGV: its probes stay, and the next run's
# nvmeta_kpath_open removes them.  (SIGINT takes the SIGTERM path in the
# tool, but a non-interactive shell starts background jobs with SIGINT
# ignored, and an ignored signal rightly stays ignored.)
B=${1:?usage: kill-cleanup.sh BUILD_DIR}
DEV=${NVMETA_DEV:-/dev/ng0n1}
CHECK=$B/examples/nvmeta-check
TRACE=/sys/kernel/tracing
[ -w "$TRACE/kprobe_events" ] || TRACE=/sys/kernel/debug/tracing
EVENTS=$TRACE/kprobe_events
# One case that does I/O on every kernel (the pinned ones skip before 6.8),
# repeated so that the run is still going when it is killed.
CASE=meta-page+0-8
ERR=/tmp/kill-cleanup.err
failures=0

fail() {
	echo "kill-cleanup: FAIL: $*"
	failures=$((failures + 1))
}

ok() { echo "kill-cleanup: ok: $*"; }

# Probes whose name contains $1, one line each.
probes() { grep "$1" "$EVENTS"; }
count() { probes "$1" | wc -l; }

show() {
	probes "$1" | sed 's/^/kill-cleanup:     /'
}

# Start a long run in the background; $pid once its 4 probes are in place.
start() {
	"$CHECK" -q -f "$CASE" -r 5000 "$DEV" >/dev/null 2>"$ERR" &
	pid=$!
	i=0
	while [ "$(count "nvmeta_${pid}_")" -lt 4 ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			fail "nvmeta-check (pid $pid) exited ($?) before its probes appeared:"
			sed 's/^/kill-cleanup:     /' "$ERR"
			return 1
		fi
		i=$((i + 1))
		if [ "$i" -gt 300 ]; then
			fail "no probes of pid $pid after 30 s"
			kill -KILL "$pid"
			wait "$pid"
			return 1
		fi
		usleep 100000
	done
	echo "kill-cleanup: pid $pid has $(count "nvmeta_${pid}_") probes in $EVENTS"
}

# $1 signal name, $2 its number: sent to a run; the run must exit of that
# signal with its own probes gone.
handled() {
	start || return
	kill -"$1" "$pid"
	wait "$pid"
	rc=$?
	n=$(count "nvmeta_${pid}_")
	if [ "$rc" -ne $((128 + $2)) ]; then
		fail "SIG$1: nvmeta-check exited $rc, not $((128 + $2)) (death by SIG$1)"
	fi
	if [ "$n" -eq 0 ]; then
		ok "SIG$1: pid $pid exited $rc and left no probe"
	else
		fail "SIG$1: pid $pid exited $rc and left $n probes:"
		show "nvmeta_${pid}_"
	fi
	if grep -q "interrupted by SIG$1 after [0-9]* of [0-9]* cases; probes removed" "$ERR"; then
		ok "SIG$1: $(grep interrupted "$ERR")"
	else
		fail "SIG$1: no 'interrupted by SIG$1 ... probes removed' on stderr:"
		sed 's/^/kill-cleanup:     /' "$ERR"
	fi
}

# $1 signal name, $2 its number: the run dies without cleaning up; the next
# run that opens kpath must remove what it left.
unhandled() {
	start || return
	kill -"$1" "$pid"
	wait "$pid"
	rc=$?
	killed=$pid
	n=$(count "nvmeta_${killed}_")
	[ "$rc" -eq $((128 + $2)) ] || fail "SIG$1: nvmeta-check exited $rc, not $((128 + $2))"
	if [ "$n" -eq 0 ]; then
		fail "SIG$1: pid $killed left no probe, so this test proves nothing about the next run"
		return
	fi
	en=""
	for e in $(probes "nvmeta_${killed}_" | sed 's/^[^:]*:[^/]*\///; s/ .*//'); do
		en="$en $(cat "$TRACE/events/kprobes/$e/enable" 2>/dev/null)"
	done
	echo "kill-cleanup: SIG$1: pid $killed exited $rc and left $n probes (enable:$en), as expected"
	"$CHECK" -q -f "$CASE" "$DEV" >/dev/null 2>"$ERR"
	rc=$?
	echo "kill-cleanup: SIG$1: the next run (nvmeta-check -f $CASE) exited $rc"
	[ "$rc" -le 1 ] || sed 's/^/kill-cleanup:     /' "$ERR"
	n=$(count "nvmeta_${killed}_")
	if [ "$n" -eq 0 ]; then
		ok "SIG$1: the next run removed the probes of dead pid $killed"
	else
		fail "SIG$1: $n probes of dead pid $killed remain after the next run:"
		show "nvmeta_${killed}_"
	fi
	n=$(count "nvmeta_")
	if [ "$n" -eq 0 ]; then
		ok "SIG$1: no nvmeta probe at all after the next run exited"
	else
		fail "SIG$1: $n nvmeta probes remain after the next run exited:"
		show "nvmeta_"
	fi
}

# Whatever a failure left, so that later steps start clean.
tidy() {
	for e in $(probes "nvmeta_" | sed 's/^[^:]*:[^/]*\///; s/ .*//'); do
		echo 0 >"$TRACE/events/kprobes/$e/enable"
		echo "-:$e" >>"$EVENTS"
		echo "kill-cleanup: removed leftover probe $e"
	done
}

if [ ! -w "$EVENTS" ]; then
	echo "kill-cleanup: FAIL: no writable kprobe_events"
	exit 1
fi
n=$(count "nvmeta_")
[ "$n" -eq 0 ] || { fail "$n nvmeta probes before the test:"; show "nvmeta_"; }

handled TERM 15
handled HUP 1
unhandled KILL 9
unhandled SEGV 11

tidy
if [ "$failures" -ne 0 ]; then
	echo "kill-cleanup: $failures failures"
	exit 1
fi
echo "kill-cleanup: all passed"
