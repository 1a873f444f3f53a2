#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The end of `make bench`: one table of the ratios the benchmarks added to
# BENCH_OUT/summary.tsv (figure, value, target such as ">= 1.3" or "-"),
# with whether each target was met, and the vchan throughput by ring size
# plotted from BENCH_OUT/vchan.dat into BENCH_OUT/vchan-throughput.svg.
# Usage: tests/bench/summary.sh [BENCH_OUT]
set -euo pipefail
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${1:-${BENCH_OUT:-$top_builddir/tests/bench/out}}

echo "== summary ($(uname -m), $(nproc) CPUs, $(date -u +%Y-%m-%d))"
if [ -s "$out/summary.tsv" ]; then
	awk -F '\t' '
	function met(v, t,   op, x) {
		if (t == "-" || t == "") return "";
		split(t, p, " "); op = p[1]; x = p[2] + 0;
		if (v !~ /^-?[0-9.]+$/) return "?";
		if (op == ">=") return v + 0 >= x ? "yes" : "NO";
		if (op == "<=") return v + 0 <= x ? "yes" : "NO";
		return "?";
	}
	{ rows[NR] = $0; if (length($1) > w) w = length($1) }
	END {
		printf "%-" w "s  %10s  %8s  %s\n", "figure", "value", "target", "met";
		for (i = 1; i <= NR; i++) {
			split(rows[i], f, "\t");
			printf "%-" w "s  %10s  %8s  %s\n", f[1], f[2], f[3], met(f[2], f[3]);
		}
	}' "$out/summary.tsv"
else
	echo "no figures in $out/summary.tsv"
fi

if [ -s "$out/vchan.dat" ]; then
	if command -v gnuplot >/dev/null; then
		gnuplot <<-PLOT
		set terminal svg size 720,420 dynamic font "sans,12"
		set output "$out/vchan-throughput.svg"
		set title "vchan, one way, stdin to ring to stdout (emulator, $(nproc) CPUs)"
		set xlabel "ring size (KiB)"
		set ylabel "MiB/s"
		set logscale x 2
		set xtics (64, 256, 1024)
		set yrange [0:*]
		set key left top
		set grid ytics
		plot "$out/vchan.dat" using 1:2 with linespoints lw 2 title "xenchan-cat to xenchan-cat", \
		     "" using 1:3 with linespoints lw 2 title "plain libxenvchan loop", \
		     "" using 1:4 with lines dt 2 lw 2 title "head | cat | wc (the pipes alone)"
		PLOT
		echo "plot: $out/vchan-throughput.svg"
	else
		echo "plot: skipped, gnuplot is not installed (scripts/install-deps.sh installs it)"
	fi
fi
