# SPDX-License-Identifier: MIT
# Sourced by the command-line tests (tests/cli/bad-args.sh on the host,
# tests/vm/cli-errors.sh in a lab guest).  The caller sets W (a scratch
# directory) and failed (a count).

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

# expect STATUS TEXT CMD ARGS...: CMD exits STATUS within 10 s, and its
# stderr contains TEXT.  `timeout` turns a command that blocks (a FIFO
# opened for reading) into status 124, a failure.
expect() {
	want=$1 text=$2
	shift 2
	timeout 10 "$@" >"$W/out" 2>"$W/err" </dev/null
	rc=$?
	if [ "$rc" -ne "$want" ] || ! grep -qF -- "$text" "$W/err"; then
		fail "$*"
		echo "  want status $want and '$text'; got status $rc, stderr:"
		sed 's/^/    /' "$W/err"
		return
	fi
	echo "ok:   $* -> $rc: $(head -n1 "$W/err")"
}
