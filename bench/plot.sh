#!/bin/sh
# SPDX-License-Identifier: MIT
# Plots of an nvmeta-bench run, with gnuplot:
#
#   bench/plot.sh CSV LATCSV OUTDIR
#
# CSV is nvmeta-bench --csv, LATCSV its --lat-csv.  Writes into OUTDIR:
#   latency-cdf.png  latency distribution (CDF, log time axis) of pinned
#                    against misaligned metadata at queue depths 1 and 32
#                    (groups qd1/qd32, else meta-layout-qd1/-qd32)
#   cpu-per-io.png   CPU time per I/O of each variant, median with min-max
#                    over rounds (groups meta-layout-qd*, api-qd*, options-qd*)
#   iops-qd.png      IOPS against queue depth, pinned and misaligned, median
#                    with min-max (groups qd1..qd128; a quick run has none,
#                    and meta-layout-qd* stand in)
# Skipped variants (no rounds) are left out.  Exits 2 on a missing tool, an
# unreadable file or a column the plots need that the CSV lacks.
# The awk programs are in single quotes on purpose: $c[...] is awk's.
# shellcheck disable=SC2016
set -eu

PROG=plot.sh

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 2
}

[ $# -eq 3 ] || die "usage: $PROG CSV LATCSV OUTDIR"
csv=$1
lat=$2
out=$3
[ -r "$csv" ] || die "$csv: cannot read"
[ -r "$lat" ] || die "$lat: cannot read"
command -v gnuplot >/dev/null 2>&1 ||
	die "gnuplot is not installed (Debian: apt-get install gnuplot-nox)"
mkdir -p "$out" || die "$out: cannot create"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvmeta-plot.XXXXXX") || die "cannot make a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# pngcairo draws antialiased text; plain png (libgd) is the fallback.
if gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then
	term="pngcairo size 1100,700 font 'sans,10'"
else
	term="png size 1100,700"
fi

# Column numbers by name, from FILE's header: "name=N" lines into
# $tmp/cols.KIND, or an error naming the first missing column.
need_columns() { # KIND FILE NAME...
	kind=$1
	file=$2
	shift 2
	head -n 1 "$file" | tr -d '\r' | awk -F, -v want="$*" -v file="$file" '
		{ for (i = 1; i <= NF; i++) col[$i] = i }
		END {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++) {
				if (!(w[i] in col)) {
					printf "%s: no column \"%s\" in the header\n", file, w[i] > "/dev/stderr"
					exit 1
				}
				printf "%s=%d\n", w[i], col[w[i]]
			}
		}' >"$tmp/cols.$kind" || die "$file is not nvmeta-bench output this script knows"
}

need_columns main "$csv" group variant qd rounds skipped \
	iops_med iops_min iops_max cpu_us_per_io_med cpu_us_per_io_min cpu_us_per_io_max
need_columns lat "$lat" group variant upper_ns cumulative_fraction

# awk over a CSV with its columns bound by name (c["group"] ...).
cut_csv() { # KIND FILE PROGRAM [awk -v ...]
	kind=$1
	file=$2
	prog=$3
	shift 3
	awk -F, "$@" '
		FNR == NR { split($0, kv, "="); c[kv[1]] = kv[2]; next }
		FNR == 1 { next }
		{ sub(/\r$/, "") }
		'"$prog" "$tmp/cols.$kind" "$file"
}

# Groups present with at least one variant that ran.
cut_csv main "$csv" '$c["rounds"] > 0 && $c["skipped"] == 0 { print $c["group"] }' |
	sort -u >"$tmp/groups"
has_group() { grep -qx "$1" "$tmp/groups"; }

gp() { # SCRIPT: run gnuplot on it, naming the plot on failure
	gnuplot "$1" 2>"$1.err" || {
		cat "$1.err" >&2
		die "gnuplot failed on $(basename "$1" .gp)"
	}
}

# ------------------------------------------------- latency distribution

latency_cdf() {
	script=$tmp/latency.gp
	panels=0
	for qd in 1 32; do
		g=""
		for cand in "qd$qd" "meta-layout-qd$qd"; do
			if has_group "$cand"; then
				g=$cand
				break
			fi
		done
		[ -n "$g" ] || continue
		plots=""
		for v in pinned misaligned; do
			f=$tmp/lat.$qd.$v
			cut_csv lat "$lat" '$c["group"] == g && $c["variant"] == v {
				print $c["upper_ns"] / 1000, $c["cumulative_fraction"] }' \
				-v g="$g" -v v="$v" >"$f"
			[ -s "$f" ] || continue
			plots="$plots${plots:+, }'$f' using 1:2 with steps lw 2 title '$v'"
		done
		[ -n "$plots" ] || continue
		panels=$((panels + 1))
		printf "set title 'Latency distribution, %s (queue depth %s)'\nplot %s\n" \
			"$g" "$qd" "$plots" >>"$tmp/latency.panels"
	done
	[ "$panels" -gt 0 ] ||
		die "$lat: no latency of pinned or misaligned metadata in groups qd1, qd32, meta-layout-qd1, meta-layout-qd32"
	cat >"$script" <<-EOF
		set terminal $term
		set output '$out/latency-cdf.png'
		set datafile separator whitespace
		set multiplot layout $panels,1
		set logscale x
		set xlabel 'latency (us, submission to completion)'
		set ylabel 'cumulative fraction'
		set yrange [0:1.02]
		set grid
		set key bottom right
	EOF
	cat "$tmp/latency.panels" >>"$script"
	echo "unset multiplot" >>"$script"
	gp "$script"
}

# ---------------------------------------------------------- CPU per I/O

cpu_per_io() {
	script=$tmp/cpu.gp
	data=$tmp/cpu.dat
	# x position, median, min, max, variant, group colour; a gap between
	# groups and the group's name above its middle (gnuplot labels).
	cut_csv main "$csv" '
		$c["rounds"] > 0 && $c["skipped"] == 0 &&
		$c["group"] ~ /^(meta-layout-qd[0-9]+|api-qd[0-9]+|options-qd[0-9]+)$/ {
			g = $c["group"]
			if (g != last) {
				if (last != "")
					label(last, first, x)
				x += (last != "")
				ng++
				first = x + 1
				last = g
			}
			x++
			printf "%d %s %s %s %s %d\n", x, $c["cpu_us_per_io_med"],
				$c["cpu_us_per_io_min"], $c["cpu_us_per_io_max"], $c["variant"], ng > data
		}
		function label(g, a, b) {
			printf "set label \"%s\" at %g, graph 1.03 center\n", g, (a + b) / 2
		}
		END { if (last != "") label(last, first, x) }' -v data="$data" >"$tmp/cpu.labels"
	[ -s "$data" ] ||
		die "$csv: no variant that ran in groups meta-layout-qd*, api-qd*, options-qd*"
	cat >"$script" <<-EOF
		set terminal $term
		set output '$out/cpu-per-io.png'
		set datafile separator whitespace
		set title 'CPU time per I/O by variant and queue depth (median, min-max over rounds)' offset 0,1.5
		set ylabel 'CPU us per I/O (user + system)'
		set yrange [0:*]
		set xrange [0:*]
		set xtics rotate by -50 nomirror
		set grid ytics
		set style fill solid 0.6 border -1
		set boxwidth 0.8
		set bmargin 8
		set tmargin 5
		unset key
	EOF
	cat "$tmp/cpu.labels" >>"$script"
	printf "plot '%s' using 1:2:(0.8):6:xtic(5) with boxes lc variable, '' using 1:2:3:4 with yerrorbars lc black pt 0 lw 1.5\n" \
		"$data" >>"$script"
	gp "$script"
}

# ---------------------------------------------------- IOPS against depth

iops_qd() {
	script=$tmp/iops.gp
	# qd1..qd128 when the run had them; a quick run's meta-layout groups
	# hold the same pinned and misaligned pair at its two depths.
	if grep -q '^qd[0-9][0-9]*$' "$tmp/groups"; then
		re='^qd[0-9]+$'
		src='groups qd1..qd128'
	else
		re='^meta-layout-qd[0-9]+$'
		src='groups meta-layout-qd* (no qdN groups in this run)'
	fi
	plots=""
	# Misaligned a little to the right, so that the two error bars at one
	# depth do not hide each other.
	xoff=1
	for v in pinned misaligned; do
		f=$tmp/iops.$v
		cut_csv main "$csv" '$c["rounds"] > 0 && $c["skipped"] == 0 &&
			$c["group"] ~ re && $c["variant"] == v {
			print $c["qd"], $c["iops_med"], $c["iops_min"], $c["iops_max"] }' \
			-v re="$re" -v v="$v" | sort -n >"$f"
		[ -s "$f" ] || continue
		plots="$plots${plots:+, }'$f' using (\$1 * $xoff):2:3:4 with yerrorlines lw 2 pt 7 title '$v'"
		xoff=1.04
	done
	[ -n "$plots" ] ||
		die "$csv: no pinned or misaligned variant that ran in groups qdN or meta-layout-qdN"
	# A log axis needs a range wider than one point.
	xr=$(cat "$tmp/iops.pinned" "$tmp/iops.misaligned" 2>/dev/null |
		awk 'NR == 1 || $1 < lo { lo = $1 } NR == 1 || $1 > hi { hi = $1 }
		     END { printf "[%g:%g]", lo / 1.5, hi * 1.5 }')
	cat >"$script" <<-EOF
		set terminal $term
		set output '$out/iops-qd.png'
		set datafile separator whitespace
		set title 'IOPS against queue depth (median, min-max over rounds; $src)'
		set logscale x 2
		set xrange $xr
		set xlabel 'queue depth'
		set ylabel 'IOPS'
		set yrange [0:*]
		set grid
		set key top left
		plot $plots
	EOF
	gp "$script"
}

latency_cdf
cpu_per_io
iops_qd
printf '%s\n' "$out/latency-cdf.png" "$out/cpu-per-io.png" "$out/iops-qd.png"
