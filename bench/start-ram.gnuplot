# SPDX-License-Identifier: MIT
# Start time against guest RAM, one panel per page kind, a line per VMM and
# prefault thread count (bench/start_ram.py's start-ram-{4k,2m,1g}.dat).
# Usage: gnuplot -e "dir='bench/out'" bench/start-ram.gnuplot
if (!exists("dir")) dir = "bench/out"
if (!exists("outfile")) outfile = dir."/plot-start-ram.png"

set terminal pngcairo size 1500,460 font "sans,10" noenhanced
set output outfile
set datafile missing "-"
set key top left
set grid
set xlabel "guest RAM (GiB)"
set ylabel "start to guest exit (s)"
set yrange [0:*]
set xrange [0:*]

have(f) = system("test -s ".f." && echo y") eq "y"
n = 0
do for [p in "4k thp 2m 1g"] { if (have(dir."/start-ram-".p.".dat")) { n = n + 1 } }
set multiplot layout 1,n title "VMM start with edu assigned (RAM prefaulted on T threads, pinned and mapped for DMA), nested testbed, median"
do for [p in "4k thp 2m 1g"] {
	f = dir."/start-ram-".p.".dat"
	if (have(f)) {
		set title (p eq "4k" ? "4 KiB pages (no THP)" : p eq "thp" ? "anonymous, THP (madvise)" : p eq "2m" ? "2 MiB pages" : "1 GiB pages")
		h = system("head -1 ".f)
		plot for [i=2:words(h)] f using 1:i with linespoints lw 2 \
			dt 1 + (strstrt(word(h, i), "qemu") > 0) title word(h, i)
	}
}
unset multiplot
