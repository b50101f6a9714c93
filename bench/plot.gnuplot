# SPDX-License-Identifier: MIT
# Bar charts of bench/report.py's plot-*.dat (columns: metric, one per VMM).
# Usage: gnuplot -e "dir='bench/out'" bench/plot.gnuplot
if (!exists("dir")) dir = "bench/out"

set terminal pngcairo size 1000,560 font "sans,10"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key top left
set grid ytics
set xtics rotate by -25 nomirror
set boxwidth 0.9

f = dir."/plot-access.dat"
set output dir."/plot-access.png"
set title "Cost per guest access or interrupt, in the nested testbed (median; log scale)"
set ylabel "ns"
set logscale y
ncol = words(system("head -1 ".f)) - 1
plot for [i=2:ncol+1] f using i:xtic(1) title columnheader(i)

unset logscale y
f = dir."/plot-start.dat"
set output dir."/plot-start.png"
set title "VMM start to guest exit, tiny guest (median)"
set ylabel "ms"
ncol = words(system("head -1 ".f)) - 1
plot for [i=2:ncol+1] f using i:xtic(1) title columnheader(i)
