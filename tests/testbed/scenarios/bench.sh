# SPDX-License-Identifier: MIT
# Scenario bench: what passthrough costs, measured in L1 (docs/benchmarks.md).
# Every measurement is printed as one machine-readable line,
#     NOTE: BENCH vmm=V metric=M unit=U samples=a,b,c [key=value...]
# which bench/report.py turns into JSON, a table and plots. Cycle counts
# come from the L2 guest's TSC; L1's TSC frequency (metric tsc) converts them.
#
# Quick by default (the testbed's CI run, well under a minute); the full run
# (bench/run.sh) boots L1 with tb.bench=full. When bench/run.sh copied QEMU
# (and with --kvmtool, lkvm) into /testbed/bench, they are measured too.

BENCH_DIR=$TB/bench
BENCH_TMP=$TB_OUT/bench
BENCH_UNCLAIMED_KINDS="exit cf8 ecam"
BENCH_DEVICE_KINDS="bar-direct bar-trap msix-table msix-pba bar-ram irq"

scenario_bench()
{
	local k v
	mkdir -p "$BENCH_TMP"
	run_test bench.setup 20 bench_setup
	run_test bench.start 300 bench_start vfio-vmm
	for k in $BENCH_UNCLAIMED_KINDS $BENCH_DEVICE_KINDS; do
		run_test "bench.$k" 120 bench_kind vfio-vmm "$k"
	done
	run_test bench.dma 300 bench_dma
	run_test bench.rss 120 bench_rss vfio-vmm
	if [ -x "$BENCH_DIR/qemu/qemu" ]; then
		run_test bench.qemu.start 400 bench_start qemu
		for k in $BENCH_UNCLAIMED_KINDS $BENCH_DEVICE_KINDS; do
			run_test "bench.qemu.$k" 120 bench_kind qemu "$k"
		done
		run_test bench.qemu.rss 180 bench_rss qemu
	fi
	if bench_full; then
		for v in vfio-vmm qemu kvmtool; do
			bench_vmm_present "$v" || continue
			run_test "bench.linux.$v" 400 bench_linux "$v"
		done
	fi
}

bench_full()
{
	grep -q 'tb\.bench=full' /proc/cmdline
}

# Repetitions and loop lengths: the quick run only has to prove the path.
bench_reps() { if bench_full; then echo 7; else echo 3; fi; }
bench_starts() { if bench_full; then echo 9; else echo 3; fi; }
bench_mem() { if bench_full; then echo 1024; else echo 256; fi; }

bench_n()
{
	case "$1" in
	bar-direct|bar-ram) echo 20000 ;;
	irq) if bench_full; then echo 500; else echo 100; fi ;;
	*) if bench_full; then echo 2000; else echo 300; fi ;;
	esac
}

bench_vmm_present()
{
	case "$1" in
	vfio-vmm) command -v vfio-vmm >/dev/null ;;
	qemu) [ -x "$BENCH_DIR/qemu/qemu" ] ;;
	kvmtool) [ -x "$BENCH_DIR/lkvm" ] ;;
	esac
}

# One result line; the rest of the arguments are key=value extras.
bench_record()
{
	local vmm=$1 metric=$2 unit=$3 samples=$4
	shift 4
	[ -n "$samples" ] || die "no samples for $vmm $metric"
	echo "NOTE: BENCH vmm=$vmm metric=$metric unit=$unit samples=$samples${*:+ $*}"
}

# Nanoseconds of CLOCK_MONOTONIC: busybox date has no %N, the timer list has.
ns_now()
{
	awk '/^now at/ { print $3; exit }' /proc/timer_list
}

bench_dev()
{
	awk -v n="$1" '$1 == n { print $2 }' "$TB_OUT/devices"
}

# L1's TSC rate, as its kernel calibrated it (the last, refined value wins).
bench_setup()
{
	local mhz t0 t1 i s="" f
	mhz=$(dmesg | sed -n -e 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' \
		-e 's/.*tsc: Detected \([0-9.]*\) MHz processor.*/\1/p' | tail -1)
	[ -n "$mhz" ] || die "L1's kernel logged no TSC frequency"
	bench_record l1 tsc MHz "$mhz"
	# What one pair of clock stamps costs: subtracted from process times.
	for i in 1 2 3 4 5; do
		t0=$(ns_now)
		t1=$(ns_now)
		s="$s${s:+,}$((t1 - t0))"
	done
	echo "$s" | tr , '\n' | sort -n | sed -n 3p >"$BENCH_TMP/stamp_ns"
	bench_record l1 stamp ns "$s"
	for f in "$TB/bin/vfio-vmm" "$BENCH_DIR/qemu/bin/qemu-system-x86_64" "$BENCH_DIR/lkvm"; do
		[ -f "$f" ] || continue
		bench_record "$(bench_vmm_of "$f")" binary bytes "$(stat -c %s "$f")" \
			"libs=$(bench_libs_size "$f")"
	done
}

bench_vmm_of()
{
	case "$1" in
	*vfio-vmm) echo vfio-vmm ;;
	*qemu*) echo qemu ;;
	*) echo kvmtool ;;
	esac
}

# Bytes of the shared libraries shipped with QEMU (0 for static binaries).
bench_libs_size()
{
	local d
	d=$(dirname "$(dirname "$1")")/lib
	case "$1" in
	*qemu*) [ -d "$d" ] && du -sb "$d" | cut -f1 || echo 0 ;;
	*) echo 0 ;;
	esac
}

# bench_run VMM GUEST MEM_MIB CMDLINE [DEVICE NAME...]: boots guests/GUEST
# on VMM with those test devices assigned, output on stdout.
bench_run()
{
	local vmm=$1 guest=$2 mem=$3 cmdline=$4 d
	shift 4
	case "$vmm" in
	vfio-vmm)
		set -- $(for d in "$@"; do echo "--device $(bench_dev "$d")"; done)
		vfio-vmm run --kernel "$TB/guests/$guest" --memory "${mem}M" \
			--cmdline "$cmdline" $BENCH_VMM_EXTRA "$@"
		;;
	qemu)
		set -- $(for d in "$@"; do echo "-device vfio-pci,host=$(bench_dev "$d")"; done)
		"$BENCH_DIR/qemu/qemu" -machine "${BENCH_QEMU_MACHINE:-q35}" -accel kvm \
			-cpu host -m "$mem" -nodefaults -no-user-config -display none \
			-no-reboot -serial stdio \
			-device isa-debug-exit,iobase=0xf4,iosize=4 \
			-kernel "$TB/guests/$guest" -append "$cmdline q35_ecam=1" "$@" </dev/null
		;;
	esac
}

# The status a passing guest leaves: isa-debug-exit turns 0 into 1.
bench_ok_status()
{
	case "$1" in
	qemu) echo 1 ;;
	*) echo 0 ;;
	esac
}

# Wall time of whole VMM processes running bench-nop, bare and with edu.
bench_start()
{
	local vmm=$1 stamp i t0 t1 rc s m want
	bench_vmm_present "$vmm" || die "$vmm is not in L1"
	stamp=$(cat "$BENCH_TMP/stamp_ns" 2>/dev/null || echo 0)
	want=$(bench_ok_status "$vmm")
	for m in bare edu; do
		s=""
		for i in $(seq "$(bench_starts)"); do
			t0=$(ns_now)
			if [ "$m" = bare ]; then
				bench_run "$vmm" bench-nop 64 "" >"$BENCH_TMP/start.out" 2>&1
			else
				bench_run "$vmm" bench-nop 256 "" edu >"$BENCH_TMP/start.out" 2>&1
			fi
			rc=$?
			t1=$(ns_now)
			cat "$BENCH_TMP/start.out"
			[ "$rc" = "$want" ] || die "$vmm with bench-nop ($m) exited $rc, want $want"
			grep -q '^PASS bench-nop' "$BENCH_TMP/start.out" || die "no PASS line ($m)"
			s="$s${s:+,}$((t1 - t0 - stamp))"
		done
		if [ "$m" = bare ]; then
			bench_record "$vmm" start ns "$s" "memory=64M"
		else
			bench_record "$vmm" start-edu ns "$s" "memory=256M"
		fi
	done
	if [ "$vmm" = qemu ]; then
		s=""
		for i in $(seq "$(bench_starts)"); do
			t0=$(ns_now)
			BENCH_QEMU_MACHINE=microvm bench_run qemu bench-nop 64 "" \
				>"$BENCH_TMP/start.out" 2>&1
			rc=$?
			t1=$(ns_now)
			[ "$rc" = 1 ] || { cat "$BENCH_TMP/start.out"; die "qemu microvm exited $rc"; }
			s="$s${s:+,}$((t1 - t0 - stamp))"
		done
		bench_record qemu-microvm start ns "$s" "memory=64M"
	fi
}

# The devices a kind needs assigned.
bench_kind_devices()
{
	case "$1" in
	bar-direct|irq) echo edu ;;
	bar-trap) echo virtio-net ;;
	msix-table|msix-pba) echo nvme ;;
	bar-ram) echo ivshmem ;;
	esac
}

# Exits that are not the serial console's, from vfio-vmm --stats.
bench_exits()
{
	awk '/vCPU [0-9]+: [0-9]+ exits/ { t += $3 }
	     $1 == "pio" && $2 == "serial" { s += $(NF - 1) }
	     END { print t - s }' "$1"
}

# bench_kind VMM KIND: bench-io's loop for KIND, and for vfio-vmm the exits
# per access (the same run with n=0 is the baseline).
bench_kind()
{
	local vmm=$1 kind=$2 n reps out=$BENCH_TMP/$1-$2.out rc want line e0 e1 epa=""
	bench_vmm_present "$vmm" || die "$vmm is not in L1"
	n=$(bench_n "$kind")
	reps=$(bench_reps)
	want=$(bench_ok_status "$vmm")
	[ "$vmm" != vfio-vmm ] || BENCH_VMM_EXTRA=--stats
	bench_run "$vmm" bench-io 64 "bench=$kind n=$n reps=$reps" \
		$(bench_kind_devices "$kind") >"$out" 2>&1
	rc=$?
	tr -d '\r' <"$out"
	[ "$rc" = "$want" ] || die "$vmm: bench-io $kind exited $rc, want $want"
	line=$(tr -d '\r' <"$out" | grep "^BENCH kind=$kind ")
	[ -n "$line" ] || die "no BENCH line for $kind"
	if [ "$vmm" = vfio-vmm ]; then
		bench_run "$vmm" bench-io 64 "bench=$kind n=0 reps=$reps" \
			$(bench_kind_devices "$kind") >"$out.0" 2>&1 ||
			die "the n=0 baseline run failed"
		e1=$(bench_exits "$out")
		e0=$(bench_exits "$out.0")
		# The guest's untimed warm-up accesses took exits too.
		epa="exits=$(awk -v a="$e1" -v b="$e0" \
			-v n="$((n * reps + $(bench_field warmup "$line")))" \
			'BEGIN { printf "%.3f", (a - b) / n }')"
	fi
	bench_record "$vmm" "$kind" cycles "$(bench_field cycles "$line")" "n=$n" $epa
	if [ "$kind" = irq ]; then
		bench_record "$vmm" irq-latency cycles "$(bench_field latency "$line")" n=1
	fi
}

bench_field()
{
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# Seconds per GiB to map guest RAM for DMA, 4 KiB pages and 2 MiB hugepages.
bench_dma()
{
	local mem pages out=$BENCH_TMP/dma.out s line bytes secs i
	need_vmm
	mem=$(bench_mem)
	for pages in 4k 2m; do
		s=""
		if [ "$pages" = 2m ]; then
			echo $((mem / 2 + 8)) >/proc/sys/vm/nr_hugepages
			[ "$(cat /proc/sys/vm/nr_hugepages)" -ge $((mem / 2)) ] ||
				die "L1 could reserve only $(cat /proc/sys/vm/nr_hugepages) hugepages"
		fi
		for i in $(seq "$(bench_reps)"); do
			set -- run --kernel "$TB/guests/bench-nop" --memory "${mem}M" \
				--device "$(bench_dev edu)" --trace iommu
			[ "$pages" = 4k ] || set -- "$@" --hugepages 2M
			vfio-vmm "$@" >"$out" 2>&1 || { cat "$out"; die "vfio-vmm $* failed"; }
			line=$(grep -o 'mapped [0-9]* bytes in [0-9]* MAP_DMA calls, [0-9.]* s' "$out" | head -1)
			echo "$pages run $i: $line"
			[ -n "$line" ] || { cat "$out"; die "no DMA mapping time in the trace"; }
			bytes=$(echo "$line" | awk '{ print $2 }')
			secs=$(echo "$line" | awk '{ print $(NF - 1) }')
			s="$s${s:+,}$(awk -v b="$bytes" -v t="$secs" 'BEGIN { printf "%.4f", t / (b / 1073741824) }')"
		done
		[ "$pages" = 4k ] || echo 0 >/proc/sys/vm/nr_hugepages
		bench_record vfio-vmm "dma-$pages" s/GiB "$s" "memory=${mem}M" \
			"calls=$(echo "$line" | awk '{ print $5 }')"
	done
}

# Resident memory of a VMM beyond guest RAM: all of its Rss except the
# largest anonymous mapping (guest RAM), with a guest that halts for good.
bench_rss()
{
	local vmm=$1 out=$BENCH_TMP/rss-$1.out pid i s="" m mem=256 dev
	bench_vmm_present "$vmm" || die "$vmm is not in L1"
	for dev in none edu; do
		s=""
		for i in $(seq "$(bench_reps)"); do
			if [ "$dev" = none ]; then
				bench_run "$vmm" bench-io $mem "hang=1 n=1 reps=1" >"$out" 2>&1 &
			else
				bench_run "$vmm" bench-io $mem "hang=1 n=1 reps=1" edu >"$out" 2>&1 &
			fi
			pid=$!
			bench_wait_ready "$out" || { kill -KILL $pid; cat "$out"; die "no BENCH-READY"; }
			# The shell's child may be a wrapper (QEMU's loader): find the VMM.
			pid=$(bench_leaf_pid $pid)
			m=$(bench_smaps "$pid")
			kill -KILL "$pid" 2>/dev/null
			wait
			echo "run $i ($dev): total_kib guest_kib guest_rss_kib = $m"
			s="$s${s:+,}$(echo "$m" | awk '{ print $1 - $3 }')"
		done
		bench_record "$vmm" "rss-$dev" KiB "$s" "memory=${mem}M"
	done
}

bench_wait_ready()
{
	local i
	for i in $(seq 200); do
		grep -q BENCH-READY "$1" && return 0
		sleep 0.1
	done
	return 1
}

# The deepest first descendant of a pid: the VMM under the shell that ran it.
bench_leaf_pid()
{
	local p=$1 c
	while c=$(awk -v p="$p" '$4 == p { print $1; exit }' /proc/[0-9]*/stat 2>/dev/null) &&
		[ -n "$c" ]; do
		p=$c
	done
	echo "$p"
}

# "total guest_size guest_rss" in KiB from /proc/PID/smaps.
bench_smaps()
{
	awk '/^[0-9a-f]+-[0-9a-f]+ / { anon = ($6 == "" || $6 ~ /^\[anon/) }
	     /^Size:/ { size = $2 }
	     /^Rss:/ { total += $2; if (anon && size > big) { big = size; brss = $2 } }
	     END { print total + 0, big + 0, brss + 0 }' "/proc/$1/smaps"
}

# VMM start to the L2 Linux init marker, the PVH vmlinux on every VMM that
# can boot it (kvmtool: the bzImage), 256 MiB, no devices.
bench_linux()
{
	local vmm=$1 i s="" t kernel=$TB/l2/vmlinux
	for i in $(seq 3); do
		t=$(bench_linux_once "$vmm") || die "$vmm: no L2 init marker within 120 s"
		echo "run $i: ${t}s"
		s="$s${s:+,}$t"
	done
	[ "$vmm" != kvmtool ] || kernel=$TB/l2/bzImage
	bench_record "$vmm" linux-boot s "$s" "kernel=$(basename "$kernel")"
}

bench_linux_once()
{
	local vmm=$1 out=$BENCH_TMP/linux-$1.out t0 i pid cmdline="console=ttyS0 panic=-1 tb.checks=none"
	t0=$(ns_now)
	case "$vmm" in
	vfio-vmm)
		vfio-vmm run --kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
			--memory 256M --cmdline "$cmdline" >"$out" 2>&1 </dev/null &
		;;
	qemu)
		"$BENCH_DIR/qemu/qemu" -machine q35 -accel kvm -cpu host -m 256 -nodefaults \
			-no-user-config -display none -no-reboot -serial stdio \
			-kernel "$TB/l2/vmlinux" -initrd "$TB/l2/initramfs.cpio.gz" \
			-append "$cmdline" >"$out" 2>&1 </dev/null &
		;;
	kvmtool)
		"$BENCH_DIR/lkvm" run -k "$TB/l2/bzImage" -i "$TB/l2/initramfs.cpio.gz" \
			-m 256 -c 1 -p "$cmdline" >"$out" 2>&1 </dev/null &
		;;
	esac
	pid=$!
	for i in $(seq 1200); do
		if grep -q 'L2-TESTBED: init reached' "$out"; then
			awk -v a="$t0" -v b="$(ns_now)" 'BEGIN { printf "%.2f\n", (b - a) / 1e9 }'
			kill -KILL "$(bench_leaf_pid $pid)" $pid 2>/dev/null
			wait
			return 0
		fi
		sleep 0.1
	done
	kill -KILL "$(bench_leaf_pid $pid)" $pid 2>/dev/null
	tail -20 "$out" >&2
	return 1
}
