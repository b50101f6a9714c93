#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/report.py on a made-up serial log holding results from all three
# VMMs (the NOTE: BENCH lines the testbed's bench scenario prints): the
# table gets a column per VMM, the ratios and the ratio plot's data include
# kvmtool (which no machine here can run, docs/benchmarks.md), and a missing
# required metric fails the report.
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

cat >"$tmp/serial.clean" <<'LOG'
NOTE bench.setup: BENCH vmm=l1 metric=tsc unit=MHz samples=2000
NOTE bench.start: BENCH vmm=vfio-vmm metric=start unit=ns samples=100000000,120000000,110000000
NOTE bench.exit: BENCH vmm=vfio-vmm metric=exit unit=cycles samples=100000,110000,105000 exits=1.00
NOTE bench.linux.vfio-vmm: BENCH vmm=vfio-vmm metric=linux-boot unit=s samples=10,11,12 kernel=vmlinux
NOTE bench.qemu.start: BENCH vmm=qemu metric=start unit=ns samples=800000000,900000000,850000000
NOTE bench.qemu.exit: BENCH vmm=qemu metric=exit unit=cycles samples=130000,140000,135000
NOTE bench.linux.qemu: BENCH vmm=qemu metric=linux-boot unit=s samples=14,15,16 kernel=vmlinux
NOTE bench.linux.kvmtool: BENCH vmm=kvmtool metric=linux-boot unit=s samples=8,9,10 kernel=bzImage
NOTE bench.setup: BENCH vmm=kvmtool metric=binary unit=bytes samples=2000000 libs=0
NOTE bench.setup: BENCH vmm=vfio-vmm metric=binary unit=bytes samples=1600000 libs=0
LOG

python3 "$report" "$tmp/serial.clean" "$tmp/out" --mode full --require start,exit,linux-boot \
	>"$tmp/table.txt" 2>&1
rc=$?
cat "$tmp/table.txt"
check "report exits 0 when every required metric is there (got $rc)" '[ "$rc" = 0 ]'
check "the table has a kvmtool column" 'grep -q "kvmtool" "$tmp/table.txt"'
check "kvmtool's Linux boot ratio is 9/11" \
	'grep -Eq "ratio linux-boot +kvmtool +/ vfio-vmm = 0.818" "$tmp/table.txt"'
check "QEMU's Linux boot ratio is 15/11" \
	'grep -Eq "ratio linux-boot +qemu +/ vfio-vmm = 1.36" "$tmp/table.txt"'
check "the exit floor ratio is not made up for kvmtool (it has no exit result)" \
	'! grep -q "kvmtool .*exit floor" "$tmp/table.txt"'
check "results.json lists kvmtool's samples" \
	'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(r[\"vmm\"]==\"kvmtool\" and r[\"metric\"]==\"linux-boot\" and r[\"samples\"]==[8,9,10] for r in d[\"results\"]) else 1)" "$tmp/out/results.json"'
check "the ratio plot data has qemu and kvmtool columns" \
	'head -1 "$tmp/out/plot-ratio.dat" | grep -qx "metric qemu kvmtool"'
check "the ratio plot data row for linux-boot" \
	'grep -qx "linux-boot 1.364 0.8182" "$tmp/out/plot-ratio.dat"'

# Without a peer there is no ratio plot, and a missing metric is an error.
grep -E 'vmm=(vfio-vmm|l1) ' "$tmp/serial.clean" >"$tmp/ours.clean"
python3 "$report" "$tmp/ours.clean" "$tmp/out2" --require start,exit,dma-4k >"$tmp/t2" 2>&1
rc=$?
check "a missing required metric fails the report (got $rc)" '[ "$rc" = 1 ]'
check "and names it" 'grep -q "missing vfio-vmm results: dma-4k" "$tmp/t2"'
check "no ratio plot data without a peer" '[ ! -e "$tmp/out2/plot-ratio.dat" ]'
exit "$fail"
