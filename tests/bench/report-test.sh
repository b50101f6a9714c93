#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/report.py on a made-up serial log holding results from all three
# VMMs (the NOTE: BENCH lines the testbed's bench scenario prints): the
# table gets a column per VMM; peer / vfio-vmm is taken round by round for
# interleaved results (rounds=N), reported as the median of the per-round
# ratios with their min-max, and flagged inconclusive when that spread
# reaches 1.0, in the table, the JSON and the ratio plot's data; results
# without rounds (older logs) are compared unpaired; kvmtool (stripped) is
# compared with vfio-vmm stripped; a missing required metric fails the
# report.
#   report-test.sh REPORT_PY
set -u
report=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

check()
{
	if ! eval "$2"; then
		echo "FAIL: $1"
		fail=1
	fi
}

# jcheck DESCRIPTION PYTHON_EXPR: a check on results.json, whose ratio for
# (metric, peer) the expression reaches as r("metric", "peer").
jcheck()
{
	check "$1" "python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
def r(m, p):
    return next(x for x in d[\"ratios\"] if x[\"metric\"] == m and x[\"peer\"] == p)
sys.exit(0 if ($2) else 1)' \"\$tmp/out/results.json\""
}

# Per-round ratios, by design:
#   exit     qemu: 1.2 in every round while the load triples from round to
#            round (only pairing by round sees that: unpaired, the samples
#            would spread from 0.4 to 3.6)            -> 1.2 [1.2-1.2]
#   irq-latency qemu: 0.9, 1.1, 1.05                  -> 1.05 [0.9-1.1], flagged
#            (the median of the ratios: the ratio of the medians is 1.1)
#   cf8      qemu: 1.0, 1.2, 1.3 (reaches 1.0)        -> 1.2 [1-1.3], flagged
#   msix-pba qemu: all ~0.001 (below 1, far)          -> not flagged
#   linux-boot qemu 1.4, 1.36, 1.33; kvmtool 0.8, 0.82, 0.83
#   ecam     no rounds=: unpaired, 130-140 against 100-110 -> 1.29 [1.18-1.4]
#            (the ratio of the medians; the spread over every pair)
cat >"$tmp/serial.clean" <<'LOG'
NOTE bench.setup: BENCH vmm=l1 metric=tsc unit=MHz samples=2000
NOTE bench.start: BENCH vmm=vfio-vmm metric=start unit=ns samples=100000000,120000000,110000000 rounds=3 memory=64M
NOTE bench.start: BENCH vmm=qemu metric=start unit=ns samples=800000000,900000000,850000000 rounds=3 memory=64M
NOTE bench.exit: BENCH vmm=vfio-vmm metric=exit unit=cycles samples=100000,200000,300000 rounds=3 n=1 exits=1.00
NOTE bench.exit: BENCH vmm=qemu metric=exit unit=cycles samples=120000,240000,360000 rounds=3 n=1
NOTE bench.cf8: BENCH vmm=vfio-vmm metric=cf8 unit=cycles samples=100000,100000,100000 rounds=3 n=1 exits=2.00
NOTE bench.cf8: BENCH vmm=qemu metric=cf8 unit=cycles samples=100000,120000,130000 rounds=3 n=1
NOTE bench.ecam: BENCH vmm=vfio-vmm metric=ecam unit=cycles samples=100000,110000 n=1
NOTE bench.ecam: BENCH vmm=qemu metric=ecam unit=cycles samples=130000,140000 n=1
NOTE bench.msix-pba: BENCH vmm=vfio-vmm metric=msix-pba unit=cycles samples=85000,86000,84000 rounds=3 n=1
NOTE bench.msix-pba: BENCH vmm=qemu metric=msix-pba unit=cycles samples=90,92,91 rounds=3 n=1
NOTE bench.irq: BENCH vmm=vfio-vmm metric=irq-latency unit=cycles samples=1000,1000,1200 rounds=3 n=1
NOTE bench.irq: BENCH vmm=qemu metric=irq-latency unit=cycles samples=900,1100,1260 rounds=3 n=1
NOTE bench.linux: BENCH vmm=vfio-vmm metric=linux-boot unit=s samples=10,11,12 rounds=3 kernel=vmlinux
NOTE bench.linux: BENCH vmm=qemu metric=linux-boot unit=s samples=14,15,16 rounds=3 kernel=vmlinux
NOTE bench.linux: BENCH vmm=kvmtool metric=linux-boot unit=s samples=8,9,10 rounds=3 kernel=bzImage
NOTE bench.setup: BENCH vmm=vfio-vmm metric=binary unit=bytes samples=1600000 libs=0
NOTE bench.setup: BENCH vmm=vfio-vmm metric=binary-stripped unit=bytes samples=1000000 libs=0
NOTE bench.setup: BENCH vmm=kvmtool metric=binary unit=bytes samples=1100000 libs=0
NOTE bench.setup: BENCH vmm=kvmtool metric=binary-stripped unit=bytes samples=1100000 libs=0
LOG

python3 "$report" "$tmp/serial.clean" "$tmp/out" --mode full \
	--require start,exit,linux-boot,binary,binary-stripped >"$tmp/table.txt" 2>&1
rc=$?
cat "$tmp/table.txt"
check "report exits 0 when every required metric is there (got $rc)" '[ "$rc" = 0 ]'
check "the table has a kvmtool column" 'grep -q "kvmtool" "$tmp/table.txt"'

# The ratio table: one row per metric, "median [min-max]" per peer, "?" flags.
row()
{
	grep -E "^$1 " "$tmp/table.txt" | tail -1
}
check "bare exit: 1.2 [1.2-1.2] over 3 rounds, not flagged" \
	'row "bare exit: out to an unclaimed port" | grep -Eq " 1\.2 \[1\.2-1\.2\] +- +3$"'
check "interrupt latency: 1.05 [0.9-1.1], flagged" \
	'row "interrupt latency, edu MSI -> handler" | grep -Eq " 1\.05 \[0\.9-1\.1\] \? +- +3$"'
check "CF8: a spread that reaches 1.0 is flagged" \
	'row "config read through CF8/CFC" | grep -Eq " 1\.2 \[1-1\.3\] \? +- +3$"'
check "MSI-X PBA: far below 1, not flagged" \
	'row "MSI-X PBA read \(nvme\)" | grep -Eq " 0\.00107 \[0\.00106-0\.00108\] +- +3$"'
check "ECAM (no rounds) is compared unpaired" \
	'row "config read through ECAM" | grep -Eq " 1\.29 \[1\.18-1\.4\] +- +unpaired$"'
check "Linux boot: QEMU 1.36, kvmtool 0.818" \
	'row "VMM start to L2 Linux init" | grep -Eq "1\.36 \[1\.33-1\.4\] +0\.818 \[0\.8-0\.833\] +3$"'
check "stripped binaries: kvmtool 1.1x vfio-vmm" \
	'row "binary size stripped \(with its libraries\)" | grep -Eq " 1\.1 \[1\.1-1\.1\] +1$"'
check "the table names the inconclusive ratios, and only those" \
	'grep -qx "inconclusive: cf8 (qemu), irq-latency (qemu)" "$tmp/table.txt"'
check "the exit floor ratio is not made up for kvmtool (it has no exit result)" \
	'! grep -q "kvmtool .*exit floor" "$tmp/table.txt"'

jcheck "results.json lists kvmtool's samples" \
	'any(x["vmm"] == "kvmtool" and x["metric"] == "linux-boot" and x["samples"] == [8, 9, 10] for x in d["results"])'
jcheck "JSON: exit is paired by round, 1.2 in each, not inconclusive" \
	'r("exit", "qemu")["basis"] == "rounds" and r("exit", "qemu")["round_ratios"] == [1.2, 1.2, 1.2] and r("exit", "qemu")["inconclusive"] is False'
jcheck "JSON: irq-latency is inconclusive, median 1.05, min 0.9, max 1.1" \
	'r("irq-latency", "qemu")["inconclusive"] is True and abs(r("irq-latency", "qemu")["peer_over_vfio_vmm"] - 1.05) < 1e-9 and abs(r("irq-latency", "qemu")["min"] - 0.9) < 1e-9 and abs(r("irq-latency", "qemu")["max"] - 1.1) < 1e-9'
jcheck "JSON: cf8 (min exactly 1.0) is inconclusive" 'r("cf8", "qemu")["inconclusive"] is True'
jcheck "JSON: msix-pba is not inconclusive" 'r("msix-pba", "qemu")["inconclusive"] is False'
jcheck "JSON: linux-boot kvmtool's per-round ratios and quartiles" \
	'[round(v, 4) for v in r("linux-boot", "kvmtool")["round_ratios"]] == [0.8, 0.8182, 0.8333] and r("linux-boot", "kvmtool")["q1"] <= r("linux-boot", "kvmtool")["peer_over_vfio_vmm"] <= r("linux-boot", "kvmtool")["q3"]'
jcheck "JSON: ecam is unpaired, its spread over every pair of samples" \
	'r("ecam", "qemu")["basis"] == "unpaired" and "round_ratios" not in r("ecam", "qemu") and abs(r("ecam", "qemu")["min"] - 13 / 11) < 1e-9 and abs(r("ecam", "qemu")["max"] - 1.4) < 1e-9'

dat=$tmp/out/plot-ratio.dat
cat "$dat"
check "the ratio plot data has median, min and max columns for qemu and kvmtool" \
	'head -1 "$dat" | grep -qx "metric qemu qemu-min qemu-max kvmtool kvmtool-min kvmtool-max"'
check "the ratio plot data row for linux-boot" \
	'grep -qx "\"linux-boot\" 1.364 1.333 1.4 0.8182 0.8 0.8333" "$dat"'
check "the ratio plot marks irq-latency inconclusive" \
	'grep -qx "\"irq-latency (?)\" 1.05 0.9 1.1 NaN NaN NaN" "$dat"'
check "the ratio plot does not mark exit" \
	'grep -qx "\"exit\" 1.2 1.2 1.2 NaN NaN NaN" "$dat"'
check "the ratio plot compares stripped binaries" \
	'grep -qx "\"binary-stripped\" NaN NaN NaN 1.1 1.1 1.1" "$dat"'
if command -v gnuplot >/dev/null; then
	gnuplot -e "dir='$tmp/out'" "$(dirname "$report")/plot.gnuplot" 2>"$tmp/gnuplot.err"
	check "gnuplot draws the ratio plot with error bars" \
		'[ -s "$tmp/out/plot-ratio.png" ] && [ ! -s "$tmp/gnuplot.err" ] || { cat "$tmp/gnuplot.err"; false; }'
fi

# Without a peer there is no ratio plot, and a missing metric is an error.
grep -E 'vmm=(vfio-vmm|l1) ' "$tmp/serial.clean" >"$tmp/ours.clean"
python3 "$report" "$tmp/ours.clean" "$tmp/out2" --require start,exit,dma-4k >"$tmp/t2" 2>&1
rc=$?
check "a missing required metric fails the report (got $rc)" '[ "$rc" = 1 ]'
check "and names it" 'grep -q "missing vfio-vmm results: dma-4k" "$tmp/t2"'
check "no ratio plot data without a peer" '[ ! -e "$tmp/out2/plot-ratio.dat" ]'
check "no ratio table without a peer" '! grep -q "inconclusive" "$tmp/t2"'
# The network and vsock rows: their own table of turned ratios (above 1:
# vfio-vmm did better) against issue 10's target of 0.95:
#   net-tcp-tx   vfio-vmm 2 Gbit/s, QEMU 2.2, each round -> 0.909, below in every round
#   net-tcp-rr-lat vfio-vmm 100 us, QEMU 96, 100, 110  -> 1 [0.96-1.1], flagged
#   vsock-rr     vfio-vmm 900, 900, 1000/s, QEMU 1000   -> 0.9 [0.9-1]: median below, one round not
cat >"$tmp/net.clean" <<'LOG'
NOTE bench.net: BENCH vmm=vfio-vmm metric=net-tcp-tx unit=Gbit/s samples=2,2,2 rounds=3 secs=1 exits=0.0000
NOTE bench.net: BENCH vmm=qemu metric=net-tcp-tx unit=Gbit/s samples=2.2,2.2,2.2 rounds=3
NOTE bench.net: BENCH vmm=vfio-vmm metric=net-tcp-rr-lat unit=us samples=100,100,100 rounds=3
NOTE bench.net: BENCH vmm=qemu metric=net-tcp-rr-lat unit=us samples=96,100,110 rounds=3
NOTE bench.net: BENCH vmm=vfio-vmm metric=vsock-rr unit=1/s samples=900,900,1000 rounds=3
NOTE bench.net: BENCH vmm=qemu metric=vsock-rr unit=1/s samples=1000,1000,1000 rounds=3
LOG
python3 "$report" "$tmp/net.clean" "$tmp/out3" --require net-tcp-tx >"$tmp/table.txt" 2>&1
rc=$?
cat "$tmp/table.txt"
check "the network report exits 0 (got $rc)" '[ "$rc" = 0 ]'
check "the network table names its target" \
	'grep -q "^network and vsock, vfio-vmm against each peer, above 1: vfio-vmm did better (target >= 0.95)" "$tmp/table.txt"'
check "TCP stream: vfio-vmm / QEMU 0.909 in each of 3 rounds" \
	'row "network: TCP stream L2 -> L1" | grep -Eq "vfio-vmm / peer +0\.909 \[0\.909-0\.909\] +3$"'
check "TCP RR latency: QEMU / vfio-vmm 1 [0.96-1.1], flagged" \
	'row "network: TCP RR, median round trip" | grep -Eq "peer / vfio-vmm +1 \[0\.96-1\.1\] \? +3$"'
check "below the target in every round: the TCP stream only" \
	'grep -qx "vfio-vmm below the target in every round: net-tcp-tx (qemu)" "$tmp/table.txt"'
check "median below the target with a round above: vsock RR" \
	'grep -qx "median below the target, some round above: vsock-rr (qemu)" "$tmp/table.txt"'
check "the network plot data: Gbit/s per VMM" \
	'grep -qx "tcp-tx 2 2.2" "$tmp/out3/plot-net-gbit.dat"'
exit "$fail"
