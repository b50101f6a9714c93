# SPDX-License-Identifier: MIT
# Scenario overhead (in run.sh's default order, after mdev; issue 13 parts
# 1-2): vfio-vmm bench overhead on L1's nvme and on edu. tb-diskbench
# --metrics (O_DIRECT QD1: seq 1 MiB and rand 4 KiB reads and writes on
# nvme0n1) runs OH_RUNS times in L1 with the nvme on L1's own nvme
# driver, then OH_RUNS times in a Linux L2 booted
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
#   overhead.edu    the same harness on edu: tb-edubench --metrics (interrupt
#                   rate and latency, raise at 0x60 to the MSI handler, and
#                   DMA throughput, through edu_bench.ko: tests/testbed/edu/)
#                   in L1 with edu on edu_bench, then in the same L2 with edu
#                   passed through and the same edu_bench.ko loaded there (one
#                   kernel build for both: each run says its uname -r, and
#                   both must agree); the table and PREFIX.tsv have irq-rate,
#                   irq-lat, irq-lat-p99 and dma with both medians; edu is
#                   back on edu_bench after the harness and then on vfio-pci
#                   as L1's init left it (no bind record, edu_bench unloaded)
#
# tb.oh_exits=1 on L1's command line (TESTBED_APPEND): overhead.edu also
# counts L2's exits to L1's KVM by VMM thread and SVM exit code, and its port
# I/O by port (histogram triggers on kvm:kvm_exit and kvm:kvm_pio), printed
# as NOTE KVMEXITS lines: where a guest's interrupt time goes.
#
# The quick form (the default, for CI): 1 run a side, 1 s per test. With
# tb.overhead=full on L1's command line: 3 rounds (--rounds: host, guest,
# QEMU, host, ...) of 1 run a side, 2 s per test (the docs' table), and the
# harness's log must show the sides interleaved. OH_RUNS, OH_ROUNDS and
# OH_SECS override either.

if grep -q 'tb\.overhead=full' /proc/cmdline 2>/dev/null; then
	OH_RUNS=${OH_RUNS:-1}
	OH_ROUNDS=${OH_ROUNDS:-3}
	OH_SECS=${OH_SECS:-2}
else
	OH_RUNS=${OH_RUNS:-1}
	OH_ROUNDS=${OH_ROUNDS:-1}
	OH_SECS=${OH_SECS:-1}
fi
OH_N=$((OH_RUNS * OH_ROUNDS))
OH_EXITS=0
if grep -q 'tb\.oh_exits=1' /proc/cmdline 2>/dev/null; then
	OH_EXITS=1
fi
OH_QEMU=$TB/bench/qemu/qemu
OH_CMDLINE="console=ttyS0 earlyprintk=ttyS0 panic=-1 root=/dev/vda rw tb.agent=1 tb.checks=agent-hold"
OH_METRICS="seq-read seq-write rand-read rand-write seq-read-lat seq-write-lat rand-read-lat rand-write-lat"
OH_EDU_METRICS="irq-rate irq-lat irq-lat-p99 dma"

scenario_overhead()
{
	modprobe -a vhost_vsock nvme || echo "TESTBED-L1: modprobe vhost_vsock nvme failed"
	run_test overhead.refuse 60 overhead_refuse
	run_test overhead.nvme 900 overhead_nvme
	run_test overhead.edu 600 overhead_edu
}

oh_nvme_bdf()
{
	awk '$1 == "nvme" { print $2 }' "$TB_OUT/devices"
}

oh_edu_bdf()
{
	awk '$1 == "edu" { print $2 }' "$TB_OUT/devices"
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

# oh_restore BDF: after a failure, gives BDF back to vfio-pci as L1 keeps
# it, so that one failed overhead test does not fail every later scenario
# that assigns the device too; edu_bench, when loaded, goes with its record.
oh_restore()
{
	echo "overhead: giving $1 back to vfio-pci after the failure"
	vfio-vmm bind "$1" || echo "overhead: vfio-vmm bind $1 failed too"
	if grep -q '^edu_bench ' /proc/modules; then
		rm -f "/run/vfio-vmm/$1.driver"
		rmmod edu_bench
	fi
}

overhead_nvme()
{
	local bdf out=$TB_OUT/overhead qemu=""
	need_vmm
	[ ! -x "$OH_QEMU" ] || qemu="--qemu $OH_QEMU"
	bdf=$(oh_nvme_bdf)
	[ -n "$bdf" ] || die "no nvme in $TB_OUT/devices"
	cp "$TB/l2/root.img" /tmp/oh-root.img || die "cannot copy the root image"
	# L1 gave the nvme to vfio-pci at boot: to its own driver for the host side.
	trap 'oh_restore "$bdf"' EXIT
	vfio-vmm unbind "$bdf" || die "vfio-vmm unbind $bdf failed"
	[ "$(oh_driver "$bdf")" = nvme ] || die "after unbind the nvme is on '$(oh_driver "$bdf")', not nvme"
	oh_run_harness "$out" "$bdf" /tmp/oh-root.img "" "$qemu" "$(oh_cmd)"
	[ "$(oh_driver "$bdf")" = nvme ] || die "after the harness the nvme is on '$(oh_driver "$bdf")', not nvme"
	grep -q "is back on nvme" "$out.err" || die "the harness did not report the restore"
	oh_check_table "$out" "$qemu" $OH_METRICS
	[ -z "$qemu" ] || [ "$(awk -F'\t' '$1 == "qemu" { n++ } END { print n }' "$out.runs.tsv")" = $((OH_N * 8)) ] ||
		die "$out.runs.tsv: not $OH_N QEMU runs of 8 metrics"
	[ -n "$qemu" ] || echo "NOTE: no QEMU in L1 (bench/overhead.sh stages it): no QEMU column"
	[ "$(awk -F'\t' '$1 == "host" { n++ } END { print n }' "$out.runs.tsv")" = $((OH_N * 8)) ] ||
		die "$out.runs.tsv: not $OH_N host runs of 8 metrics"
	oh_check_order "$out.out" "host guest${qemu:+ qemu}"
	# The whole report, and the TSV (for docs/benchmarks.md's plot: the host
	# rebuilds overhead.tsv from the OHTSV lines), as NOTE lines.
	sed 's/^/NOTE: /' "$out.report"
	sed 's/^/NOTE: OHTSV /' "$out.tsv"
	# Back to vfio-pci, as L1 keeps it for the other scenarios.
	vfio-vmm bind "$bdf" || die "vfio-vmm bind $bdf failed"
	trap - EXIT
	rm -f /tmp/oh-root.img
}

# oh_run_harness OUT BDF ROOT-IMAGE TOOL QEMU CMD: vfio-vmm bench overhead
# on BDF, L2 booted from a copy ROOT-IMAGE of the root disk, running CMD on
# each side, QEMU's guest too when QEMU is "--qemu PATH"; prints its
# stderr, its report, where BDF is afterwards and, when TOOL is given, the
# harness log's "=== SIDE run N" lines with TOOL's lines under them. Dies
# with the tails of the VM logs when the harness fails.
oh_run_harness()
{
	local out=$1 bdf=$2 root=$3 tool=$4 qemu=$5 cmd=$6 rc
	set -- bench overhead --device "$bdf" --runs "$OH_RUNS" --rounds "$OH_ROUNDS" --out "$out" \
		--boot-timeout $((300 * ${SLOW:-1})) --run-timeout $((120 * ${SLOW:-1})) \
		--kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
		--cmdline "$OH_CMDLINE" --memory 256M --disk path="$root" $qemu \
		-- sh -c "$cmd"
	echo "+ vfio-vmm $*"
	vfio-vmm "$@" >"$out.report" 2>"$out.err"
	rc=$?
	cat "$out.err" "$out.report"
	echo "driver after: $(oh_driver "$bdf")"
	if [ -n "$tool" ]; then
		echo "--- $tool lines (host, then guest${qemu:+, then QEMU's guest}):"
		tr -d '\r' <"$out.out" | grep -E "^(=== |$tool )"
	fi
	[ "$rc" = 0 ] || { [ ! -f "$out.vm.log" ] || tr -d '\r' <"$out.vm.log" | tail -30
		[ -z "$qemu" ] || [ ! -f "$out.qemu.log" ] || tr -d '\r' <"$out.qemu.log" | tail -30
		die "bench overhead: exit $rc"; }
}

# oh_check_table OUT QEMU METRIC...: OUT.report's summary and OUT.tsv have a
# host median, a guest median and the overhead for every METRIC, and when
# QEMU (the --qemu option, or empty) ran, QEMU's median and overhead too.
oh_check_table()
{
	local out=$1 qemu=$2 m
	shift 2
	for m in "$@"; do
		grep -qE "^$m +[^ ]+ +[0-9.]+ +[0-9.]+ +[-+][0-9.]+ %" "$out.report" ||
			die "no host median, guest median and overhead for $m in the table"
		awk -F'\t' -v m="$m" '$1 == m && $5 != "-" && $9 != "-" && $16 != "-" { ok = 1 } END { exit !ok }' \
			"$out.tsv" || die "no row with both medians and the overhead for $m in $out.tsv"
		[ -z "$qemu" ] ||
			awk -F'\t' -v m="$m" '$1 == m && $13 != "-" && $18 != "-" { ok = 1 } END { exit !ok }' \
				"$out.tsv" || die "no QEMU median and overhead for $m in $out.tsv"
	done
}

# oh_check_order OUT "host guest [qemu]": the harness's log of every run
# (its "=== SIDE run N" lines) goes side by side in rounds: each round is
# OH_RUNS runs of each side in that order, numbered on across the rounds.
oh_check_order()
{
	local want="" r i side
	for r in $(seq 1 "$OH_ROUNDS"); do
		for side in $2; do
			for i in $(seq 1 "$OH_RUNS"); do
				want="$want$side $(( (r - 1) * OH_RUNS + i ));"
			done
		done
	done
	local have
	have=$(tr -d '\r' <"$1" | sed -n 's/^=== \([a-z]*\) run \([0-9]*\)$/\1 \2;/p' | tr -d '\n')
	[ "$have" = "$want" ] || die "the runs in $1 are not in rounds of '$2': $have (want $want)"
	echo "NOTE: runs in order: $have"
}

# Histograms of tb.oh_exits=1: exits by SVM exit code, port I/O by port.
OH_HISTS="kvm_exit:hist:keys=common_pid.execname,exit_reason.hex:sort=common_pid,hitcount.descending:size=4096
kvm_pio:hist:keys=common_pid.execname,port.hex,rw:sort=common_pid,hitcount.descending:size=4096"

# oh_exits_on / oh_exits_off: the histograms, with tb.oh_exits=1 (OH_EXITS).
oh_exits_on()
{
	local h
	[ "$OH_EXITS" = 1 ] || return 0
	[ -d /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing ||
		{ echo "TESTBED-L1: cannot mount tracefs; no exit counts"; return 0; }
	echo "$OH_HISTS" | while IFS= read -r h; do
		echo "${h#*:}" >"/sys/kernel/tracing/events/kvm/${h%%:*}/trigger" ||
			echo "TESTBED-L1: no hist trigger on ${h%%:*}"
	done
}

# oh_exits_off FILE: the histograms' lines go to FILE, "EVENT { keys } hitcount".
oh_exits_off()
{
	local h ev
	: >"$1"
	[ "$OH_EXITS" = 1 ] || return 0
	echo "$OH_HISTS" | while IFS= read -r h; do
		ev=/sys/kernel/tracing/events/kvm/${h%%:*}
		[ -r "$ev/hist" ] || continue
		grep -v '^#' "$ev/hist" | grep -v '^$' | sed "s/^/${h%%:*} /" >>"$1"
		echo "!${h#*:}" >"$ev/trigger"
	done
}

# edu's command, the same in L1 and L2: edu_bench.ko loaded (L1's scenario
# loads it from $TB before the host side; L2's root disk has it at /), its
# device node there, then the benchmark.
oh_edu_cmd()
{
	echo "grep -q '^edu_bench ' /proc/modules || insmod /edu_bench.ko || exit 2; i=0; while [ ! -c /dev/edu_bench ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done; exec tb-edubench --metrics $OH_SECS"
}

overhead_edu()
{
	local bdf out=$TB_OUT/overhead-edu qemu="" legs=2 kver
	need_vmm
	[ -f "$TB/edu_bench.ko" ] || die "edu_bench.ko was not built (see edu-build.log on the host)"
	[ ! -x "$OH_QEMU" ] || { qemu="--qemu $OH_QEMU"; legs=3; }
	bdf=$(oh_edu_bdf)
	[ -n "$bdf" ] || die "no edu in $TB_OUT/devices"
	[ "$(oh_driver "$bdf")" = vfio-pci ] || die "edu is on '$(oh_driver "$bdf")', not vfio-pci"
	cp "$TB/l2/root.img" /tmp/oh-edu-root.img || die "cannot copy the root image"
	# L1's init put edu on vfio-pci with driver_override, so there is no
	# record of an earlier driver: unbind lets the kernel probe, and the
	# loaded edu_bench takes it.
	trap 'oh_restore "$bdf"' EXIT
	insmod "$TB/edu_bench.ko" || die "insmod edu_bench.ko failed"
	vfio-vmm unbind "$bdf" || die "vfio-vmm unbind $bdf failed"
	[ "$(oh_driver "$bdf")" = edu_bench ] ||
		die "after unbind edu is on '$(oh_driver "$bdf")', not edu_bench"
	dmesg | grep 'edu_bench: ident' | tail -1
	oh_exits_on
	oh_run_harness "$out" "$bdf" /tmp/oh-edu-root.img EDUBENCH "$qemu" "$(oh_edu_cmd)"
	oh_exits_off "$out.exits"
	[ "$(oh_driver "$bdf")" = edu_bench ] ||
		die "after the harness edu is on '$(oh_driver "$bdf")', not edu_bench"
	grep -q "is back on edu_bench" "$out.err" || die "the harness did not report the restore"
	oh_check_table "$out" "$qemu" $OH_EDU_METRICS
	[ "$(awk -F'\t' '$1 == "host" { n++ } END { print n }' "$out.runs.tsv")" = $((OH_N * 4)) ] ||
		die "$out.runs.tsv: not $OH_N host runs of 4 metrics"
	oh_check_order "$out.out" "host guest${qemu:+ qemu}"
	# One module for both: every run, host and guest, ran the same kernel release.
	kver=$(uname -r)
	[ "$(tr -d '\r' <"$out.out" | grep -c "^EDUBENCH device=.* kernel=$kver\$")" = $((OH_N * legs)) ] ||
		die "not $((OH_N * legs)) runs of tb-edubench on kernel $kver in $out.out"
	grep -q "^EDUBENCH test=dma .* kib_s=" "$out.out" || die "no DMA result in $out.out"
	sed 's/^/NOTE: /' "$out.report"
	sed 's/^/NOTE: OHTSV /' "$out.tsv"
	# tb-edubench's own lines per run (raises, DMA rounds, min/max, kernel).
	tr -d '\r' <"$out.out" | grep -E '^(=== |EDUBENCH )' | sed 's/^/NOTE: /'
	sed 's/^/NOTE: KVMEXITS /' "$out.exits"
	# Back to vfio-pci as L1's init left it: through driver_override, with
	# no record of edu_bench (a later unbind must not look for it), and
	# edu_bench gone so that no probe takes edu again.
	vfio-vmm bind "$bdf" || die "vfio-vmm bind $bdf failed"
	rm -f "/run/vfio-vmm/$bdf.driver"
	rmmod edu_bench || die "rmmod edu_bench failed"
	[ "$(oh_driver "$bdf")" = vfio-pci ] || die "edu is on '$(oh_driver "$bdf")' at the end, not vfio-pci"
	trap - EXIT
	rm -f /tmp/oh-edu-root.img
}
