#!/bin/sh
# SPDX-License-Identifier: MIT
# ctest bench_plot: bench/plot.sh on the checked-in sample of a lab run
# makes three non-empty PNG files, and refuses a CSV without a column it
# needs.  Exits 77 (skipped) where gnuplot is not installed.
#
#   check-plot.sh PLOT_SH DATA_DIR OUT_DIR
set -u

plot=$1
data=$2
out=$3

if ! command -v gnuplot >/dev/null 2>&1; then
	echo "bench_plot: gnuplot is not installed (Debian: gnuplot-nox): skipped"
	exit 77
fi
fail() {
	echo "bench_plot: FAIL: $*"
	exit 1
}

# No PNG of an earlier run may pass for this one's.
rm -rf "$out"
mkdir -p "$out" || fail "cannot create $out"
sh "$plot" "$data/sample.csv" "$data/sample-lat.csv" "$out" || fail "plot.sh exited $?"
for png in latency-cdf cpu-per-io iops-qd; do
	f=$out/$png.png
	[ -s "$f" ] || fail "$f is missing or empty"
	magic=$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')
	[ "$magic" = 89504e470d0a1a0a ] || fail "$f is not a PNG (starts with $magic)"
	echo "bench_plot: $f: PNG, $(wc -c <"$f") bytes"
done

# A CSV cut short of the CPU columns: a clear error, no plot.
cut -d, -f1-20 "$data/sample.csv" >"$out/short.csv"
msg=$(sh "$plot" "$out/short.csv" "$data/sample-lat.csv" "$out/short" 2>&1)
rc=$?
[ "$rc" -eq 2 ] || fail "plot.sh on a CSV without iops_max exited $rc, not 2"
case $msg in
*'no column "iops_max"'*) ;;
*) fail "plot.sh did not name the missing column: $msg" ;;
esac
[ ! -e "$out/short/cpu-per-io.png" ] || fail "plot.sh plotted a CSV it refused"
echo "bench_plot: ok"
