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

# Each chart only when report.py wrote its data (an --only run has some).
have(f) = system("test -s ".f." && echo y") eq "y"

f = dir."/plot-access.dat"
if (have(f)) {
	set output dir."/plot-access.png"
	set title "Cost per guest access or interrupt, in the nested testbed (median; log scale)"
	set ylabel "ns"
	set logscale y
	ncol = words(system("head -1 ".f)) - 1
	plot for [i=2:ncol+1] f using i:xtic(1) title columnheader(i)
	unset logscale y
}

f = dir."/plot-start.dat"
if (have(f)) {
	set output dir."/plot-start.png"
	set title "VMM start to guest exit, tiny guest (median)"
	set ylabel "ms"
	ncol = words(system("head -1 ".f)) - 1
	plot for [i=2:ncol+1] f using i:xtic(1) title columnheader(i)
}

# The disk rows: L2 Linux on a virtio-blk disk, one request at a time;
# MiB/s and IOPS side by side (higher is better in both).
f = dir."/plot-disk-mib.dat"
g = dir."/plot-disk-iops.dat"
if (have(f) && have(g)) {
	set output dir."/plot-disk.png"
	set multiplot layout 1,2 title "L2 Linux on a virtio-blk disk (a RAM disk in L1, direct I/O in L2 and L1, one request at a time; median; higher is better)"
	set logscale y
	set title "throughput"
	set ylabel "MiB/s"
	ncol = words(system("head -1 ".f)) - 1
	plot for [i=2:ncol+1] f using i:xtic(1) title columnheader(i)
	set title "requests per second"
	set ylabel "IOPS"
	ncol = words(system("head -1 ".g)) - 1
	plot for [i=2:ncol+1] g using i:xtic(1) title columnheader(i)
	unset multiplot
	unset logscale y
}

# The network and vsock rows: L2 Linux <-> L1 over vhost-net and vhost-vsock;
# stream throughput (higher is better) and request/response round trips
# (lower is better) side by side.
f = dir."/plot-net-gbit.dat"
g = dir."/plot-net-lat.dat"
if (have(f) && have(g)) {
	set output dir."/plot-net.png"
	set multiplot layout 1,2 title "L2 Linux <-> L1: virtio-net over vhost-net and a tap, vsock over vhost-vsock (median)"
	set title "TCP stream (higher is better)"
	set ylabel "Gbit/s"
	ncol = words(system("head -1 ".f)) - 1
	plot for [i=2:ncol+1] f using i:xtic(1) title columnheader(i)
	set logscale y
	set title "1-byte request/response round trip (lower is better; log scale)"
	set ylabel "us"
	ncol = words(system("head -1 ".g)) - 1
	plot for [i=2:ncol+1] g using i:xtic(1) title columnheader(i)
	unset multiplot
	unset logscale y
}

# Peer / vfio-vmm, only when a peer (QEMU, kvmtool) was measured: per peer
# three columns (median of the per-round ratios, min, max) drawn as a bar
# with an error bar; "(?)" after a metric marks a spread that reaches 1.
f = dir."/plot-ratio.dat"
if (have(f)) {
	set output dir."/plot-ratio.png"
	set title "What the other VMMs pay for the same work, in multiples of vfio-vmm's cost (log scale; above 1: vfio-vmm is cheaper)\nbar: median of the per-round ratios; error bar: their min-max; (?): inconclusive, the error bar reaches 1"
	set ylabel "peer / vfio-vmm"
	set logscale y
	set yrange [1e-4:*]
	set style histogram errorbars gap 1 lw 1
	set rmargin 8
	set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lw 2 dt 2
	np = (words(system("head -1 ".f)) - 1) / 3
	plot for [i=0:np-1] f using (column(2+3*i)):(column(3+3*i)):(column(4+3*i)):xtic(1) \
		title columnheader(2+3*i)
}
