# SPDX-License-Identifier: MIT
# The passthrough-against-bare-metal chart (docs/benchmarks.md): every
# metric of bench/overhead.sh's runs, nvme and edu, as how many times worse
# the guest's median is than the host's (1 = no overhead), vfio-vmm's guest
# and QEMU's side by side, on a log scale: the overheads run from 1 % (edu
# DMA) to several hundred times (an interrupt's p99), which a linear percent
# axis cannot show together.
# Input: dir/overhead-all.tsv, overhead.sh's TSV rows (header dropped) with
# the device put in front of the metric name ("nvme seq-read").
# Usage: gnuplot -e "dir='bench/out'" bench/overhead.gnuplot
if (!exists("dir")) dir = "bench/out"
f = dir."/overhead-all.tsv"

set terminal pngcairo size 1000,540 font "sans,10"
set output dir."/overhead.png"
set datafile separator "\t"
set datafile missing "-"
set title "Passthrough against bare metal, in the nested testbed: the guest's median against L1's own driver"
set ylabel "times worse than the host (1 = no overhead; log scale)"
set logscale y
set yrange [0.8:*]
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set xtics rotate by -30 nomirror noenhanced
set key top left noenhanced

# Columns: 1 metric, 3 better (higher|lower), 5 host median, 9 vfio-vmm
# guest median, 13 QEMU guest median ("-" when QEMU did not run).
worse(h, g, better) = better eq "higher" ? h / g : g / h
plot f using (worse($5, $9, strcol(3))):xtic(1) title "vfio-vmm guest", \
     f using (worse($5, $13, strcol(3))) title "QEMU guest"
