#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run every libFuzzer harness of BUILD_DIR (configured with CC=clang
# -DNVMETA_FUZZ=ON) for its share of SECONDS_TOTAL (default 60), each from
# a scratch copy of its seeds in tests/fuzz/corpus/NAME: the committed
# corpus does not grow.  Fails when a harness finds a crash, a sanitizer
# report, a timeout or a leak, and prints the reproducer's path:
#   BUILD_DIR/tests/fuzz/fuzz_NAME REPRODUCER
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_TOTAL]
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 BUILD_DIR [SECONDS_TOTAL]" >&2
	exit 2
fi
BIN=$(cd "$1" && pwd)/tests/fuzz
TOTAL=${2:-60}
# Reproducers stay here after a failure; scratch corpora do not.
OUT=$(cd "$1" && pwd)/fuzz-out
mkdir -p "$OUT"

harnesses=()
for exe in "$BIN"/fuzz_*; do
	[ -x "$exe" ] && harnesses+=("${exe##*/fuzz_}")
done
if [ ${#harnesses[@]} -eq 0 ]; then
	echo "fuzz: no harnesses in $BIN (build target nvmeta_fuzz with -DNVMETA_FUZZ=ON)" >&2
	exit 1
fi
share=$((TOTAL / ${#harnesses[@]}))
[ "$share" -ge 1 ] || share=1

failed=0
for name in "${harnesses[@]}"; do
	exe=$BIN/fuzz_$name
	if ! ls "$HERE/corpus/$name"/* >/dev/null 2>&1; then
		echo "fuzz $name: no seeds in $HERE/corpus/$name" >&2
		failed=1
		continue
	fi
	work=$(mktemp -d "$OUT/$name.XXXXXX")
	cp "$HERE/corpus/$name"/* "$work/"
	# Harnesses that write files (fuzz_sysfs's fake tree) want tmpfs:
	# on disk they run 20 times slower.
	tmp=$(mktemp -d -p /dev/shm nvmeta-fuzz.XXXXXX 2>/dev/null) ||
		{ tmp=$work/tmp && mkdir -p "$tmp"; }
	log=$OUT/$name.log
	# -timeout: a parser that spins on one input is a bug too.
	TMPDIR=$tmp ASAN_OPTIONS=detect_leaks=1 \
		"$exe" -max_total_time="$share" -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$OUT/$name-" -print_final_stats=1 "$work" >"$log" 2>&1
	rc=$?
	rm -rf "$tmp"
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" -ne 0 ]; then
		failed=1
		echo "fuzz $name: FAILED (exit $rc) after ${runs:-?} runs; log $log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: )|runtime error' "$log" | head -5
		sed -n 's/.*Test unit written to \(.*\)/reproducer: \1/p' "$log"
		echo "rerun: $exe <reproducer>"
	else
		echo "fuzz $name: ok, ${runs:-?} runs in ${share} s"
		rm -rf "$work"
	fi
done
exit "$failed"
