# SPDX-License-Identifier: MIT
# Scenario overhead (on request; issue 13 parts 1-2): vfio-vmm bench
# overhead on L1's nvme. tb-diskbench --metrics (O_DIRECT QD1: seq 1 MiB
# and rand 4 KiB reads and writes on nvme0n1) runs OH_RUNS times in L1 with
# the nvme on L1's own nvme driver, then OH_RUNS times in a Linux L2 booted
# from the root disk of host/disk.sh (its init starts vfio-vmm-agent) with
# the nvme passed through by vfio-vmm and L2's nvme driver on it; when
# QEMU was copied into L1 ($TB/bench/qemu, as bench/run.sh and
# bench/overhead.sh stage it), then OH_RUNS times in the same L2 under QEMU
# (--qemu), the nvme still on vfio-pci.
#
#   overhead.nvme   the harness exits 0, its table has the eight metrics
#                   (seq-read, seq-write, rand-read, rand-write and their
#                   -lat) with a host and a guest median and an overhead
#                   (and a qemu median and overhead with QEMU in L1),
#                   PREFIX.tsv has them too, and afterwards the nvme is
#                   back on the nvme driver (then on vfio-pci again for the
#                   other scenarios); the summary goes out as NOTE lines
#   overhead.refuse the nvme on vfio-pci (as L1 leaves it): refused with
#                   one line, exit 2, the device untouched
#
# The quick form (the default, for CI): 1 run a side, 1 s per test. With
# tb.overhead=full on L1's command line: 3 runs a side, 2 s per test (the
# docs' table). OH_RUNS and OH_SECS override either.

if grep -q 'tb\.overhead=full' /proc/cmdline 2>/dev/null; then
	OH_RUNS=${OH_RUNS:-3}
	OH_SECS=${OH_SECS:-2}
else
	OH_RUNS=${OH_RUNS:-1}
	OH_SECS=${OH_SECS:-1}
fi
OH_QEMU=$TB/bench/qemu/qemu
OH_CMDLINE="console=ttyS0 earlyprintk=ttyS0 panic=-1 root=/dev/vda rw tb.agent=1 tb.checks=agent-hold"
OH_METRICS="seq-read seq-write rand-read rand-write seq-read-lat seq-write-lat rand-read-lat rand-write-lat"

scenario_overhead()
{
	modprobe -a vhost_vsock nvme || echo "TESTBED-L1: modprobe vhost_vsock nvme failed"
	run_test overhead.refuse 60 overhead_refuse
	run_test overhead.nvme 900 overhead_nvme
}

oh_nvme_bdf()
{
	awk '$1 == "nvme" { print $2 }' "$TB_OUT/devices"
}

oh_driver()
{
	basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null
}

# The command, the same in L1 and L2 (tb-diskbench is on both PATHs): the
# nvme driver loaded, nvme0n1 there, then the benchmark.
oh_cmd()
{
	echo "modprobe nvme 2>/dev/null; i=0; while [ ! -b /dev/nvme0n1 ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done; exec tb-diskbench --metrics /dev/nvme0n1 $OH_SECS"
}

overhead_refuse()
{
	local bdf rc
	need_vmm
	bdf=$(oh_nvme_bdf)
	[ "$(oh_driver "$bdf")" = vfio-pci ] || die "the nvme is on '$(oh_driver "$bdf")', not vfio-pci"
	cp "$TB/l2/root.img" /tmp/oh-root.img || die "cannot copy the root image"
	vfio-vmm bench overhead --device "$bdf" --kernel "$TB/l2/vmlinux" \
		--disk path=/tmp/oh-root.img --out /tmp/oh-refuse -- true >/tmp/oh-refuse.stdout \
		2>/tmp/oh-refuse.err
	rc=$?
	cat /tmp/oh-refuse.err
	[ "$rc" = 2 ] || die "exit $rc, expected 2"
	[ "$(wc -l </tmp/oh-refuse.err)" = 1 ] || die "$(wc -l </tmp/oh-refuse.err) lines, expected one"
	grep -q "vfio-vmm unbind $bdf" /tmp/oh-refuse.err || die "no 'vfio-vmm unbind' hint"
	[ "$(oh_driver "$bdf")" = vfio-pci ] || die "the nvme moved to '$(oh_driver "$bdf")'"
	[ ! -e /tmp/oh-refuse.out ] || die "files left behind for a refused command line"
	rm -f /tmp/oh-root.img
}

overhead_nvme()
{
	local bdf rc m out=$TB_OUT/overhead qemu=""
	need_vmm
	[ ! -x "$OH_QEMU" ] || qemu="--qemu $OH_QEMU"
	bdf=$(oh_nvme_bdf)
	[ -n "$bdf" ] || die "no nvme in $TB_OUT/devices"
	cp "$TB/l2/root.img" /tmp/oh-root.img || die "cannot copy the root image"
	# L1 gave the nvme to vfio-pci at boot: to its own driver for the host side.
	vfio-vmm unbind "$bdf" || die "vfio-vmm unbind $bdf failed"
	[ "$(oh_driver "$bdf")" = nvme ] || die "after unbind the nvme is on '$(oh_driver "$bdf")', not nvme"
	set -- bench overhead --device "$bdf" --runs "$OH_RUNS" --out "$out" \
		--boot-timeout $((300 * ${SLOW:-1})) --run-timeout $((120 * ${SLOW:-1})) \
		--kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
		--cmdline "$OH_CMDLINE" --memory 256M --disk path=/tmp/oh-root.img $qemu \
		-- sh -c "$(oh_cmd)"
	echo "+ vfio-vmm $*"
	vfio-vmm "$@" >"$out.report" 2>"$out.err"
	rc=$?
	cat "$out.err" "$out.report"
	echo "driver after: $(oh_driver "$bdf")"
	[ "$rc" = 0 ] || { tr -d '\r' <"$out.vm.log" | tail -30
		[ -z "$qemu" ] || tr -d '\r' <"$out.qemu.log" | tail -30
		die "bench overhead: exit $rc"; }
	[ "$(oh_driver "$bdf")" = nvme ] || die "after the harness the nvme is on '$(oh_driver "$bdf")', not nvme"
	grep -q "is back on nvme" "$out.err" || die "the harness did not report the restore"
	for m in $OH_METRICS; do
		grep -qE "^$m +[^ ]+ +[0-9.]+ +[0-9.]+ +[-+][0-9.]+ %" "$out.report" ||
			die "no host median, guest median and overhead for $m in the table"
		awk -F'\t' -v m="$m" '$1 == m && $5 != "-" && $9 != "-" && $16 != "-" { ok = 1 } END { exit !ok }' \
			"$out.tsv" || die "no row with both medians and the overhead for $m in $out.tsv"
		[ -z "$qemu" ] ||
			awk -F'\t' -v m="$m" '$1 == m && $13 != "-" && $18 != "-" { ok = 1 } END { exit !ok }' \
				"$out.tsv" || die "no QEMU median and overhead for $m in $out.tsv"
	done
	[ -z "$qemu" ] || [ "$(awk -F'\t' '$1 == "qemu" { n++ } END { print n }' "$out.runs.tsv")" = $((OH_RUNS * 8)) ] ||
		die "$out.runs.tsv: not $OH_RUNS QEMU runs of 8 metrics"
	[ -n "$qemu" ] || echo "NOTE: no QEMU in L1 (bench/overhead.sh stages it): no QEMU column"
	[ "$(awk -F'\t' '$1 == "host" { n++ } END { print n }' "$out.runs.tsv")" = $((OH_RUNS * 8)) ] ||
		die "$out.runs.tsv: not $OH_RUNS host runs of 8 metrics"
	# The whole report, and the TSV (for docs/benchmarks.md's plot: the host
	# rebuilds overhead.tsv from the OHTSV lines), as NOTE lines.
	sed 's/^/NOTE: /' "$out.report"
	sed 's/^/NOTE: OHTSV /' "$out.tsv"
	# Back to vfio-pci, as L1 keeps it for the other scenarios.
	vfio-vmm bind "$bdf" || die "vfio-vmm bind $bdf failed"
	rm -f /tmp/oh-root.img
}
