# SPDX-License-Identifier: MIT
# Scenario bench: what passthrough costs, measured in L1 (docs/benchmarks.md).
# Every measurement is printed as one machine-readable line,
#     NOTE: BENCH vmm=V metric=M unit=U samples=a,b,c [key=value...]
# which bench/report.py turns into JSON, a table and plots. Cycle counts
# come from the L2 guest's TSC; L1's TSC frequency (metric tsc) converts them.
#
# The VMMs are interleaved: each metric runs in rounds, and every round runs
# each VMM once (vfio-vmm, QEMU, ...; the order rotated by one place per
# round). Sample i of a line with rounds=N comes from round i, so report.py
# can take the ratio peer / vfio-vmm round by round: a change of load on the
# host between rounds moves both sides of a ratio, not one.
#
# Quick by default (the testbed's CI run: about 85 s of L1 on a quiet host,
# most of it bench.disk's and bench.net's L2 boots); the full run
# (bench/run.sh) boots L1 with tb.bench=full. When bench/run.sh copied QEMU
# (and lkvm) into /testbed/bench, they are measured too; it copies them
# stripped, so their sizes are stripped sizes.

BENCH_DIR=$TB/bench
BENCH_TMP=$TB_OUT/bench
BENCH_UNCLAIMED_KINDS="exit cf8 ecam"
BENCH_DEVICE_KINDS="bar-direct bar-trap msix-table msix-pba bar-ram irq"

scenario_bench()
{
	local k
	mkdir -p "$BENCH_TMP"
	run_test bench.setup 20 bench_setup
	! bench_want start || run_test bench.start 600 bench_start
	for k in $BENCH_UNCLAIMED_KINDS $BENCH_DEVICE_KINDS; do
		! bench_want "$k" || run_test "bench.$k" 300 bench_kind "$k"
	done
	! bench_want dma || run_test bench.dma 300 bench_dma
	! bench_want rss || run_test bench.rss 300 bench_rss
	! bench_want disk || run_test bench.disk 1800 bench_disk
	! bench_want net || run_test bench.net 1800 bench_net
	if bench_full && bench_want linux; then
		run_test bench.linux 1500 bench_linux
	fi
}

# bench_want TEST: whether tb.bench_only=LIST (bench/run.sh --only) leaves
# bench.TEST in; without the switch every test runs (bench.setup always).
bench_want()
{
	local only
	only=$(sed -n 's/.*tb\.bench_only=\([^ ]*\).*/\1/p' /proc/cmdline)
	[ -z "$only" ] || case ",$only," in *",$1,"*) ;; *) return 1 ;; esac
}

bench_full()
{
	grep -q 'tb\.bench=full' /proc/cmdline
}

# Rounds per metric, and process starts per start metric (also in rounds).
bench_rounds() { if bench_full; then echo 7; else echo 3; fi; }
bench_starts() { if bench_full; then echo 9; else echo 3; fi; }
# Timed repetitions inside one bench-io boot: a round's value is their median.
bench_reps() { echo 3; }
# Runs of the DMA mapping (vfio-vmm only, nothing to interleave).
bench_dma_runs() { if bench_full; then echo 7; else echo 3; fi; }
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
	qemu|qemu-microvm) [ -x "$BENCH_DIR/qemu/qemu" ] ;;
	kvmtool) [ -x "$BENCH_DIR/lkvm" ] ;;
	esac
}

# bench_vmms VMM...: those of them that are in L1, in that order.
bench_vmms()
{
	local v
	for v in "$@"; do
		! bench_vmm_present "$v" || echo "$v"
	done
}

# One result line; the rest of the arguments are key=value extras.
bench_record()
{
	local vmm=$1 metric=$2 unit=$3 samples=$4
	shift 4
	[ -n "$samples" ] || die "no samples for $vmm $metric"
	echo "NOTE: BENCH vmm=$vmm metric=$metric unit=$unit samples=$samples${*:+ $*}"
}

# bench_order ROUND VMM...: the VMMs rotated left by ROUND-1 places, so that
# over the rounds each one runs first, second, ... as often as the others.
bench_order()
{
	local i=$(($1 - 1)) v
	shift
	[ $# -gt 0 ] || return 0
	i=$((i % $#))
	while [ "$i" -gt 0 ]; do
		v=$1
		shift
		set -- "$@" "$v"
		i=$((i - 1))
	done
	echo "$@"
}

# bench_interleave FUNC VMM...: $BENCH_NROUNDS rounds; in each, FUNC VMM ROUND
# once for every VMM, in bench_order. FUNC keeps its values with
# bench_sample; when it fails (bench_fail), that VMM sits out the later
# rounds and bench_emit leaves it out.
bench_interleave()
{
	local fn=$1 r v vmms
	shift
	vmms=" $* "
	for r in $(seq "$BENCH_NROUNDS"); do
		for v in $(bench_order "$r" $vmms); do
			echo "=== round $r/$BENCH_NROUNDS: $v"
			"$fn" "$v" "$r" || vmms=$(echo "$vmms" | sed "s/ $v / /")
		done
	done
}

# bench_fail VMM REASON: a VMM's run went wrong (returns 1 for the caller).
bench_fail()
{
	echo "bench: $1: $2"
	echo "$1: $2" >>"$BENCH_TMP/failed"
	return 1
}

bench_failed()
{
	grep -q "^$1: " "$BENCH_TMP/failed" 2>/dev/null
}

# bench_clear METRIC...: forget the samples of an earlier run.
bench_clear()
{
	local m
	for m in "$@"; do
		rm -f "$BENCH_TMP/$m".*.samples
	done
	rm -f "$BENCH_TMP/failed"
}

# bench_sample VMM METRIC VALUE: the value of the current round.
bench_sample()
{
	echo "$3" >>"$BENCH_TMP/$2.$1.samples"
}

# bench_emit VMM METRIC UNIT [key=value...]: the VMM's result line for
# METRIC, its samples in round order; nothing for a VMM that failed.
bench_emit()
{
	local vmm=$1 metric=$2 unit=$3 f=$BENCH_TMP/$2.$1.samples
	shift 3
	! bench_failed "$vmm" || return 0
	[ -s "$f" ] || die "no samples for $vmm $metric"
	bench_record "$vmm" "$metric" "$unit" "$(tr '\n' , <"$f" | sed 's/,$//')" \
		"rounds=$(wc -l <"$f" | tr -d ' ')" "$@"
}

# Fails the test when a VMM's run failed, once the others' lines are out.
bench_finish()
{
	[ -s "$BENCH_TMP/failed" ] || return 0
	die "$(tr '\n' ';' <"$BENCH_TMP/failed" | sed 's/;$//; s/;/; /g')"
}

# The median of a comma-separated list of numbers.
bench_median()
{
	echo "$1" | tr , '\n' | sort -n | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]
		      else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
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
	local mhz t0 t1 i s="" f v libs
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
	# Sizes: vfio-vmm as built (with symbols) and stripped (the testbed
	# stripped a copy on the host: VMM_STRIPPED_BYTES in config); the peers
	# are stripped as bench/run.sh copied them, so both of theirs are that.
	for f in "$TB/bin/vfio-vmm" "$BENCH_DIR/qemu/bin/qemu-system-x86_64" "$BENCH_DIR/lkvm"; do
		[ -f "$f" ] || continue
		v=$(bench_vmm_of "$f")
		libs=$(bench_libs_size "$f")
		bench_record "$v" binary bytes "$(stat -c %s "$f")" "libs=$libs"
		if [ "$v" != vfio-vmm ]; then
			bench_record "$v" binary-stripped bytes "$(stat -c %s "$f")" "libs=$libs"
		elif [ -n "${VMM_STRIPPED_BYTES:-}" ]; then
			bench_record "$v" binary-stripped bytes "$VMM_STRIPPED_BYTES" "libs=$libs"
		fi
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
	qemu-microvm)
		BENCH_QEMU_MACHINE=microvm bench_run qemu "$guest" "$mem" "$cmdline" "$@"
		;;
	esac
}

# The status a passing guest leaves: isa-debug-exit turns 0 into 1.
bench_ok_status()
{
	case "$1" in
	qemu*) echo 1 ;;
	*) echo 0 ;;
	esac
}

# Wall time of whole VMM processes running bench-nop: bare (vfio-vmm, QEMU
# q35 and microvm) and with edu assigned (vfio-vmm, QEMU q35), interleaved.
bench_start()
{
	local v vmms
	need_vmm
	BENCH_STAMP=$(cat "$BENCH_TMP/stamp_ns" 2>/dev/null || echo 0)
	BENCH_NROUNDS=$(bench_starts)
	bench_clear start start-edu
	vmms=$(bench_vmms vfio-vmm qemu qemu-microvm)
	BENCH_START_DEV=none
	bench_interleave bench_start_once $vmms
	vmms=$(bench_vmms vfio-vmm qemu)
	BENCH_START_DEV=edu
	bench_interleave bench_start_once $(for v in $vmms; do bench_failed "$v" || echo "$v"; done)
	for v in $(bench_vmms vfio-vmm qemu qemu-microvm); do
		bench_emit "$v" start ns memory=64M
		[ "$v" = qemu-microvm ] || bench_emit "$v" start-edu ns memory=256M
	done
	bench_finish
}

# bench_start_once VMM ROUND: one process start, with edu when
# BENCH_START_DEV=edu.
bench_start_once()
{
	local vmm=$1 out=$BENCH_TMP/start-$1.out t0 t1 rc want metric=start mem=64 dev=""
	if [ "$BENCH_START_DEV" = edu ]; then
		metric=start-edu
		mem=256
		dev=edu
	fi
	want=$(bench_ok_status "$vmm")
	t0=$(ns_now)
	bench_run "$vmm" bench-nop "$mem" "" $dev >"$out" 2>&1
	rc=$?
	t1=$(ns_now)
	cat "$out"
	[ "$rc" = "$want" ] || { bench_fail "$vmm" "bench-nop ($metric) exited $rc, want $want"; return; }
	# QEMU's microvm has no serial port here: its exit status says it all.
	[ "$vmm" = qemu-microvm ] || grep -q '^PASS bench-nop' "$out" ||
		{ bench_fail "$vmm" "no PASS line from bench-nop ($metric)"; return; }
	echo "$vmm $metric: $((t1 - t0 - BENCH_STAMP)) ns"
	bench_sample "$vmm" "$metric" $((t1 - t0 - BENCH_STAMP))
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

# bench_kind KIND: bench-io's loop for KIND on every VMM, interleaved, and
# for vfio-vmm the exits per access (round 1's run against one more run
# with n=0, the baseline).
bench_kind()
{
	local kind=$1 n reps vmms v line e0 e1 epa out=$BENCH_TMP/vfio-vmm-$1.out
	need_vmm
	n=$(bench_n "$kind")
	reps=$(bench_reps)
	BENCH_KIND=$kind
	BENCH_VMM_EXTRA=--stats
	BENCH_NROUNDS=$(bench_rounds)
	bench_clear "$kind" irq-latency
	vmms=$(bench_vmms vfio-vmm qemu)
	bench_interleave bench_kind_once $vmms
	for v in $vmms; do
		epa=""
		if [ "$v" = vfio-vmm ] && ! bench_failed vfio-vmm; then
			if bench_run vfio-vmm bench-io 64 "bench=$kind n=0 reps=$reps" \
				$(bench_kind_devices "$kind") >"$out.0" 2>&1; then
				line=$(cat "$out.line")
				e1=$(bench_exits "$out.1")
				e0=$(bench_exits "$out.0")
				# The guest's untimed warm-up accesses took exits too.
				epa="exits=$(awk -v a="$e1" -v b="$e0" \
					-v n="$((n * reps + $(bench_field warmup "$line")))" \
					'BEGIN { printf "%.3f", (a - b) / n }')"
			else
				cat "$out.0"
				echo "vfio-vmm: the n=0 baseline run failed" >>"$BENCH_TMP/failed"
			fi
		fi
		bench_emit "$v" "$kind" cycles "n=$n" $epa
		[ "$kind" != irq ] || bench_emit "$v" irq-latency cycles n=1
	done
	bench_finish
}

# bench_kind_once VMM ROUND: one bench-io boot; the round's value is the
# median of its timed repetitions.
bench_kind_once()
{
	local vmm=$1 round=$2 kind=$BENCH_KIND out=$BENCH_TMP/$1-$BENCH_KIND.out rc want line
	want=$(bench_ok_status "$vmm")
	bench_run "$vmm" bench-io 64 "bench=$kind n=$(bench_n "$kind") reps=$(bench_reps)" \
		$(bench_kind_devices "$kind") >"$out" 2>&1
	rc=$?
	tr -d '\r' <"$out"
	[ "$rc" = "$want" ] || { bench_fail "$vmm" "bench-io $kind exited $rc, want $want"; return; }
	line=$(tr -d '\r' <"$out" | grep "^BENCH kind=$kind ")
	[ -n "$line" ] || { bench_fail "$vmm" "no BENCH line for $kind"; return; }
	if [ "$round" = 1 ]; then
		cp "$out" "$out.1"
		echo "$line" >"$out.line"
	fi
	bench_sample "$vmm" "$kind" "$(bench_median "$(bench_field cycles "$line")")"
	[ "$kind" != irq ] ||
		bench_sample "$vmm" irq-latency "$(bench_median "$(bench_field latency "$line")")"
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
		for i in $(seq "$(bench_dma_runs)"); do
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
# largest anonymous mapping (guest RAM), with a guest that halts for good;
# without devices and with edu, the VMMs interleaved.
bench_rss()
{
	local v vmms
	need_vmm
	BENCH_NROUNDS=$(bench_rounds)
	bench_clear rss-none rss-edu
	vmms=$(bench_vmms vfio-vmm qemu)
	BENCH_RSS_DEV=none
	bench_interleave bench_rss_once $vmms
	BENCH_RSS_DEV=edu
	bench_interleave bench_rss_once $(for v in $vmms; do bench_failed "$v" || echo "$v"; done)
	for v in $vmms; do
		bench_emit "$v" rss-none KiB memory=256M
		bench_emit "$v" rss-edu KiB memory=256M
	done
	bench_finish
}

# bench_rss_once VMM ROUND: one VMM's RSS, with edu when BENCH_RSS_DEV=edu.
bench_rss_once()
{
	local vmm=$1 dev=$BENCH_RSS_DEV out=$BENCH_TMP/rss-$1.out pid m
	if [ "$dev" = none ]; then
		bench_run "$vmm" bench-io 256 "hang=1 n=1 reps=1" >"$out" 2>&1 &
	else
		bench_run "$vmm" bench-io 256 "hang=1 n=1 reps=1" edu >"$out" 2>&1 &
	fi
	pid=$!
	if ! bench_wait_ready "$out"; then
		kill -KILL "$(bench_leaf_pid $pid)" $pid 2>/dev/null
		wait
		cat "$out"
		bench_fail "$vmm" "no BENCH-READY (rss-$dev)"
		return
	fi
	# The shell's child may be a wrapper (QEMU's loader): find the VMM.
	pid=$(bench_leaf_pid $pid)
	m=$(bench_smaps "$pid")
	kill -KILL "$pid" 2>/dev/null
	wait
	echo "$vmm rss-$dev: total_kib guest_kib guest_rss_kib = $m"
	bench_sample "$vmm" "rss-$dev" "$(echo "$m" | awk '{ print $1 - $3 }')"
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
# can boot it (kvmtool: the bzImage), 256 MiB, no devices; 3 rounds.
bench_linux()
{
	local v vmms
	need_vmm
	BENCH_NROUNDS=3
	bench_clear linux-boot
	vmms=$(bench_vmms vfio-vmm qemu kvmtool)
	bench_interleave bench_linux_round $vmms
	for v in $vmms; do
		if [ "$v" = kvmtool ]; then
			bench_emit "$v" linux-boot s kernel=bzImage
		else
			bench_emit "$v" linux-boot s kernel=vmlinux
		fi
	done
	bench_finish
}

bench_linux_round()
{
	local t
	t=$(bench_linux_once "$1") || { bench_fail "$1" "no L2 init marker within 120 s"; return; }
	echo "$1 linux-boot: ${t}s"
	bench_sample "$1" linux-boot "$t"
}

# root=none: lkvm appends root=/dev/vda unless the command line names a
# root, and l2/init would then wait for a disk that is not there.
bench_linux_once()
{
	local vmm=$1 out=$BENCH_TMP/linux-$1.out t0 i pid cmdline="console=ttyS0 panic=-1 root=none tb.checks=none"
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

# ---- bench.disk: L2 Linux on a virtio-blk disk (tb-diskbench) ----
#
# The disk is a RAM block device in L1 (brd, /dev/ram0), given to every VMM
# with O_DIRECT on the host side: vfio-vmm --disk path=/dev/ram0,direct=on;
# QEMU -drive ...,cache=none,aio=io_uring -device virtio-blk-pci; kvmtool
# -d /dev/ram0,direct. Not a file on L1's tmpfs: L1's kernel (6.1) refuses
# O_DIRECT on tmpfs (it came in 6.6). Not L1's own disk: that is emulated by
# the outer QEMU under TCG, whose cost would drown the VMMs' differences.
# brd is RAM behind the block layer, and takes O_DIRECT. It is filled once
# (so reads copy data, not zeroes), and removed at the end.
#
# Each round boots L2 Linux once per VMM (the PVH vmlinux; kvmtool the
# bzImage) with tb.checks=disk-bench: l2/init loads virtio_blk and runs
# tb-diskbench on /dev/vda, four tests of BENCH_DISK_SECS each, one request
# at a time; the guest's own clock times them. For vfio-vmm, exits per
# request: --stats of round 1's boot against one more boot whose
# tb-diskbench runs no test (the baseline), divided by the block requests
# L2 completed in between (all four tests with their warm-ups).

BENCH_DISK_DEV=/dev/ram0
BENCH_DISK_MIB=128
BENCH_DISK_TESTS="seq-read seq-write rand-read rand-write"

# Seconds per test, and rounds: 5 in full runs, 3 in quick ones; CI's form
# (vfio-vmm alone, no peer to pair rounds with) boots once, plus the baseline.
bench_disk_secs() { if bench_full; then echo 3; else echo 1; fi; }
bench_disk_rounds()
{
	if bench_full; then
		echo 5
	elif [ -n "$(bench_vmms qemu kvmtool)" ]; then
		echo 3
	else
		echo 1
	fi
}

bench_disk()
{
	local v t vmms epr
	need_vmm
	[ -f "$TB/l2/vmlinux" ] || die "no L2 kernel in $TB/l2"
	bench_disk_setup
	BENCH_NROUNDS=$(bench_disk_rounds)
	bench_clear $(for t in $BENCH_DISK_TESTS; do echo "disk-$t disk-$t-iops disk-$t-lat"; done)
	vmms=$(bench_vmms vfio-vmm qemu kvmtool)
	bench_interleave bench_disk_once $vmms
	rm -f "$BENCH_TMP/disk-exits"
	bench_failed vfio-vmm || bench_disk_exits
	for v in $vmms; do
		epr=""
		[ "$v" != vfio-vmm ] || [ ! -s "$BENCH_TMP/disk-exits" ] ||
			epr="exits=$(cat "$BENCH_TMP/disk-exits")"
		for t in $BENCH_DISK_TESTS; do
			bench_emit "$v" "disk-$t" MiB/s "secs=$(bench_disk_secs)" $epr
			bench_emit "$v" "disk-$t-iops" 1/s
			bench_emit "$v" "disk-$t-lat" us
		done
	done
	rmmod brd 2>/dev/null
	bench_finish
}

# A fresh RAM disk of BENCH_DISK_MIB, every page written once.
bench_disk_setup()
{
	if [ -b "$BENCH_DISK_DEV" ]; then
		rmmod brd || die "$BENCH_DISK_DEV exists and brd cannot be removed"
	fi
	modprobe brd rd_nr=1 rd_size=$((BENCH_DISK_MIB * 1024)) max_part=0 ||
		die "modprobe brd failed (L1_MODULES in host/initramfs.sh)"
	dd if=/dev/zero of="$BENCH_DISK_DEV" bs=1M count="$BENCH_DISK_MIB" 2>&1 ||
		die "cannot fill $BENCH_DISK_DEV"
	sync
	echo 1 >/proc/sys/vm/drop_caches
	echo "$BENCH_DISK_DEV: $BENCH_DISK_MIB MiB, filled"
}

# bench_disk_boot VMM OUT TESTS: one L2 boot running tb-diskbench (TESTS:
# its list, "" for all), output in OUT. Returns once the VMM has exited,
# or has been killed a few seconds after L2's done marker (kvmtool's guest
# cannot power off: lkvm gives it no ACPI) or after a time limit.
bench_disk_boot()
{
	local vmm=$1 out=$2 tests=$3 cmdline pid i limit
	# root=none: lkvm adds root=/dev/vda unless the command line has a
	# root=, and l2/init would then try to mount the scratch disk.
	cmdline="console=ttyS0 panic=-1 root=none tb.checks=disk-bench tb.dbsecs=$(bench_disk_secs)"
	cmdline="$cmdline${tests:+ tb.dbtests=$tests}"
	case "$vmm" in
	vfio-vmm)
		vfio-vmm run --kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
			--memory 256M --disk "path=$BENCH_DISK_DEV,direct=on" --stats \
			--cmdline "$cmdline" >"$out" 2>&1 </dev/null &
		;;
	qemu)
		"$BENCH_DIR/qemu/qemu" -machine q35 -accel kvm -cpu host -m 256 -nodefaults \
			-no-user-config -display none -no-reboot -serial stdio \
			-kernel "$TB/l2/vmlinux" -initrd "$TB/l2/initramfs.cpio.gz" \
			-drive "file=$BENCH_DISK_DEV,if=none,id=d0,format=raw,cache=none,aio=io_uring" \
			-device virtio-blk-pci,drive=d0 -append "$cmdline" >"$out" 2>&1 </dev/null &
		;;
	kvmtool)
		"$BENCH_DIR/lkvm" run -k "$TB/l2/bzImage" -i "$TB/l2/initramfs.cpio.gz" \
			-m 256 -c 1 -d "$BENCH_DISK_DEV,direct" -p "$cmdline" >"$out" 2>&1 </dev/null &
		;;
	esac
	pid=$!
	limit=$((1200 + 40 * $(bench_disk_secs)))	# tenths of a second
	i=0
	rm -f "$out.cpu0" "$out.cpu1"
	while kill -0 "$pid" 2>/dev/null && [ $i -lt $limit ]; do
		# The VMM's threads' CPU time from L2's init to the end of the
		# tests: the profile the report's "why" reads (no perf in L1).
		[ -f "$out.cpu0" ] || ! grep -q 'L2-TESTBED: init reached' "$out" ||
			bench_thread_cpu "$(bench_leaf_pid $pid)" >"$out.cpu0"
		[ -f "$out.cpu1" ] || ! grep -q '^DISKBENCH done' "$out" ||
			bench_thread_cpu "$(bench_leaf_pid $pid)" >"$out.cpu1"
		if grep -q 'L2-TESTBED: done' "$out"; then
			[ $limit -le $((i + 50)) ] || limit=$((i + 50))
		fi
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$(bench_leaf_pid $pid)" $pid 2>/dev/null
		grep -q 'L2-TESTBED: done' "$out" || echo "bench: $vmm killed after $((limit / 10)) s"
	fi
	wait "$pid" 2>/dev/null
	tr -d '\r' <"$out" >"$out.txt"
}

# bench_thread_cpu PID: "TID NAME TICKS" per thread of PID, TICKS its user
# plus system time in clock ticks (1/100 s); spaces in NAME become _.
bench_thread_cpu()
{
	local t
	for t in /proc/"$1"/task/*; do
		[ -r "$t/stat" ] || continue
		echo "${t##*/} $(tr ' ' _ <"$t/comm") $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$t/stat")"
	done
}

# bench_disk_cpu OUT REQS: one line, each thread's CPU time between the two
# snapshots of bench_disk_boot, in microseconds per block request, as
# NAME/TID (a thread inherits its creator's name: vfio-vmm's disk thread,
# started from the vCPU at DRIVER_OK, is "vcpu0" too; a thread that started
# after the first snapshot counts in full; threads that used none left
# out; io_uring's workers summed as iou-wrk).
bench_disk_cpu()
{
	[ -s "$1.cpu0" ] && [ -s "$1.cpu1" ] && [ "${2:-0}" -gt 0 ] || { echo "no snapshot"; return; }
	awk -v n="$2" 'NR == FNR { t0[$1] = $3; next }
		{ d = $3 - t0[$1]; name = $2 "/" $1; sub(/^iou-wrk-.*/, "iou-wrk", name)
		  if (!(name in sum)) order[++k] = name; sum[name] += d; all += d }
		END { for (i = 1; i <= k; i++) if (sum[order[i]] > 0)
			printf "%s %.0f, ", order[i], sum[order[i]] * 10000 / n
		      printf "total %.0f us/request", all * 10000 / n }' "$1.cpu0" "$1.cpu1"
}

# bench_disk_once VMM ROUND: one boot; every test's MiB/s, IOPS and median
# latency are the round's samples.
bench_disk_once()
{
	local vmm=$1 round=$2 out=$BENCH_TMP/disk-$1.out t line
	bench_disk_boot "$vmm" "$out" ""
	grep -E 'DISKBENCH|L2-CHECK|tb-diskbench|vfio-vmm stats|exits|virtio-pci|error' "$out.txt"
	line=$(grep '^L2-CHECK fail' "$out.txt" | head -1)
	[ -z "$line" ] || { bench_fail "$vmm" "${line#L2-CHECK fail }"; return; }
	for t in $BENCH_DISK_TESTS; do
		line=$(grep "^DISKBENCH test=$t " "$out.txt")
		[ -n "$line" ] || { tail -20 "$out.txt"; bench_fail "$vmm" "no DISKBENCH line for $t"; return; }
	done
	for t in $BENCH_DISK_TESTS; do
		line=$(grep "^DISKBENCH test=$t " "$out.txt")
		bench_sample "$vmm" "disk-$t" "$(bench_field mib_s "$line")"
		bench_sample "$vmm" "disk-$t-iops" "$(bench_field iops "$line")"
		bench_sample "$vmm" "disk-$t-lat" "$(bench_field lat_us_p50 "$line")"
	done
	line=$(grep '^DISKBENCH done' "$out.txt")
	[ "$round" != 1 ] || cat "$out.cpu0" "$out.cpu1" 2>/dev/null
	echo "NOTE: disk: round $round, $vmm threads' CPU from L2 init to the tests' end, per request: $(bench_disk_cpu "$out" "$(bench_field reqs_all "$line")")"
	[ "$round" != 1 ] || cp "$out.txt" "$out.1"
}

# vfio-vmm's exits per block request, into $BENCH_TMP/disk-exits: round
# 1's boot against a baseline boot that runs no test (the same kernel,
# probe and console output but the DISKBENCH lines; serial exits are not
# counted anyway).
bench_disk_exits()
{
	local out=$BENCH_TMP/disk-vfio-vmm.out e0 e1 r0 r1 notify epr
	[ -f "$out.1" ] || return 1
	bench_disk_boot vfio-vmm "$out.0" none
	r0=$(bench_field reqs_all "$(grep '^DISKBENCH done' "$out.0.txt")")
	r1=$(bench_field reqs_all "$(grep '^DISKBENCH done' "$out.1")")
	if [ -z "$r0" ] || [ -z "$r1" ] || [ "$r1" -le "$r0" ]; then
		tail -20 "$out.0.txt"
		echo "vfio-vmm: the baseline boot for the disk exits failed" >>"$BENCH_TMP/failed"
		return 1
	fi
	e0=$(bench_exits "$out.0.txt")
	e1=$(bench_exits "$out.1")
	notify=$(grep -m1 '(virtio-pci): notify exits' "$out.1" | awk '{ print $NF }')
	epr=$(awk -v a="$e1" -v b="$e0" -v n="$((r1 - r0))" 'BEGIN { printf "%.3f", (a - b) / n }')
	echo "$epr" >"$BENCH_TMP/disk-exits"
	echo "NOTE: disk: vfio-vmm exits to the process per block request: $epr ($e1 - $e0 exits over $((r1 - r0)) requests; the disk's notify exits: ${notify:-none counted})"
}

# ---- bench.net: L2 Linux <-> L1 over a tap (vhost-net) and vsock (vhost-vsock) ----
#
# Every VMM gets the same backends from the kernel: a virtio-net device
# whose data plane is vhost-net on one persistent tap that L1 made and
# addressed beforehand (vfio-vmm --net tap=T,mac=M; QEMU -netdev
# tap,ifname=T,script=no,downscript=no,vhost=on -device virtio-net-pci;
# kvmtool --network mode=tap,tapif=T,vhost=1), and a vsock device on
# vhost-vsock (--vsock cid=N; -device vhost-vsock-pci,guest-cid=N; --vsock N).
# So the VMMs differ only in how they set these up and route the kicks and
# interrupts (issue 10's target: >= 0.95x QEMU).
#
# Each round boots L2 Linux once per VMM (the PVH vmlinux; kvmtool the
# bzImage) with tb.checks=net-bench: l2/init runs tb-netbench against the
# server L1 runs for the whole test (TCP stream each way, TCP and vsock
# 1-byte request/response, BENCH_NET_SECS each), then waits; L1 then times
# BENCH_EXEC_RUNS runs of `vfio-vmm exec --cid N -- true` against the
# guest's agent (the exec start latency; the same host client for every VMM)
# and powers L2 off through it. For vfio-vmm, exits per packet: --stats of
# round 1's boot against a baseline boot that runs no test (the same boot,
# ping and execs), divided by the packets in between (the NIC's rx + tx, and
# two per vsock request/response).

BENCH_NET_TAP=tbbench0
BENCH_NET_L1=10.9.8.1
BENCH_NET_L2=10.9.8.2
BENCH_NET_MAC=02:00:00:00:08:02
BENCH_NET_CID=5
BENCH_NET_TESTS="tcp-tx tcp-rx tcp-rr vsock-rr"
BENCH_NET_METRICS="net-tcp-tx net-tcp-rx net-tcp-rr net-tcp-rr-lat net-tcp-rr-p99 vsock-rr vsock-rr-lat vsock-rr-p99 exec-start exec-start-p90"

bench_net_secs() { if bench_full; then echo 3; else echo 1; fi; }
bench_exec_runs() { if bench_full; then echo 30; else echo 10; fi; }

bench_net()
{
	local v vmms epp
	need_vmm
	[ -f "$TB/l2/vmlinux" ] || die "no L2 kernel in $TB/l2"
	bench_net_setup
	BENCH_STAMP=$(cat "$BENCH_TMP/stamp_ns" 2>/dev/null || echo 0)
	BENCH_NROUNDS=$(bench_disk_rounds)
	bench_clear $BENCH_NET_METRICS
	vmms=$(bench_vmms vfio-vmm qemu kvmtool)
	bench_interleave bench_net_once $vmms
	rm -f "$BENCH_TMP/net-exits"
	bench_failed vfio-vmm || bench_net_exits
	for v in $vmms; do
		epp=""
		[ "$v" != vfio-vmm ] || [ ! -s "$BENCH_TMP/net-exits" ] ||
			epp="exits=$(cat "$BENCH_TMP/net-exits")"
		bench_emit "$v" net-tcp-tx Gbit/s "secs=$(bench_net_secs)" $epp
		bench_emit "$v" net-tcp-rx Gbit/s
		bench_emit "$v" net-tcp-rr 1/s
		bench_emit "$v" net-tcp-rr-lat us
		bench_emit "$v" net-tcp-rr-p99 us
		bench_emit "$v" vsock-rr 1/s
		bench_emit "$v" vsock-rr-lat us
		bench_emit "$v" vsock-rr-p99 us
		bench_emit "$v" exec-start ms "n=$(bench_exec_runs)"
		bench_emit "$v" exec-start-p90 ms "n=$(bench_exec_runs)"
	done
	bench_net_teardown
	bench_finish
}

# The tap (persistent, so each VMM attaches to the same addressed
# interface), the vhost modules, and tb-netbench's server.
bench_net_setup()
{
	modprobe -a tun vhost_net vhost_vsock || die "modprobe tun vhost_net vhost_vsock failed"
	! ip link show "$BENCH_NET_TAP" >/dev/null 2>&1 || tunctl -d "$BENCH_NET_TAP" >/dev/null
	tunctl -t "$BENCH_NET_TAP" >/dev/null || die "tunctl -t $BENCH_NET_TAP failed"
	ip addr add "$BENCH_NET_L1/24" dev "$BENCH_NET_TAP" && ip link set "$BENCH_NET_TAP" up ||
		die "cannot address $BENCH_NET_TAP"
	tb-netbench serve 5201 5202 >"$BENCH_TMP/netbench-server.log" 2>&1 &
	echo $! >"$BENCH_TMP/netbench-server.pid"
	sleep 0.5
	kill -0 "$(cat "$BENCH_TMP/netbench-server.pid")" 2>/dev/null ||
		die "tb-netbench serve failed: $(cat "$BENCH_TMP/netbench-server.log")"
	echo "$BENCH_NET_TAP: $BENCH_NET_L1/24, tb-netbench serving TCP 5201, vsock 5202"
}

bench_net_teardown()
{
	kill "$(cat "$BENCH_TMP/netbench-server.pid")" 2>/dev/null
	wait "$(cat "$BENCH_TMP/netbench-server.pid")" 2>/dev/null
	tunctl -d "$BENCH_NET_TAP" >/dev/null 2>&1
}

# bench_net_boot VMM OUT TESTS: one L2 boot running tb-netbench (TESTS: its
# list, "" for all), output in OUT; once L2 holds, the exec runs (times in
# ms, one a line, in OUT.exec) and a poweroff through the agent. Returns once
# the VMM has exited, or has been killed (kvmtool's guest cannot power off;
# or a time limit).
bench_net_boot()
{
	local vmm=$1 out=$2 tests=$3 cmdline pid i limit held=0 t0 t1 r
	cmdline="console=ttyS0 panic=-1 root=none tb.agent=1 tb.checks=net-bench"
	cmdline="$cmdline tb.nbsecs=$(bench_net_secs) tb.mac=$BENCH_NET_MAC"
	cmdline="$cmdline tb.addr=$BENCH_NET_L2/24 tb.peer=$BENCH_NET_L1${tests:+ tb.nbtests=$tests}"
	case "$vmm" in
	vfio-vmm)
		vfio-vmm run --kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
			--memory 256M --net "tap=$BENCH_NET_TAP,mac=$BENCH_NET_MAC" \
			--vsock "cid=$BENCH_NET_CID" --stats --cmdline "$cmdline" >"$out" 2>&1 </dev/null &
		;;
	qemu)
		"$BENCH_DIR/qemu/qemu" -machine q35 -accel kvm -cpu host -m 256 -nodefaults \
			-no-user-config -display none -no-reboot -serial stdio \
			-kernel "$TB/l2/vmlinux" -initrd "$TB/l2/initramfs.cpio.gz" \
			-netdev "tap,id=n0,ifname=$BENCH_NET_TAP,script=no,downscript=no,vhost=on" \
			-device "virtio-net-pci,netdev=n0,mac=$BENCH_NET_MAC,romfile=" \
			-device "vhost-vsock-pci,guest-cid=$BENCH_NET_CID" \
			-append "$cmdline" >"$out" 2>&1 </dev/null &
		;;
	kvmtool)
		"$BENCH_DIR/lkvm" run -k "$TB/l2/bzImage" -i "$TB/l2/initramfs.cpio.gz" \
			-m 256 -c 1 --network "mode=tap,tapif=$BENCH_NET_TAP,vhost=1,guest_mac=$BENCH_NET_MAC" \
			--vsock "$BENCH_NET_CID" -p "$cmdline" >"$out" 2>&1 </dev/null &
		;;
	esac
	pid=$!
	limit=$((1200 + 60 * $(bench_net_secs)))	# tenths of a second
	i=0
	rm -f "$out.exec" "$out.cpu0" "$out.cpu1"
	while kill -0 "$pid" 2>/dev/null && [ $i -lt $limit ]; do
		# CPU of the VMM's threads and of the vhost workers they own, from
		# the guest's init to the end of its tests (the profile for the why).
		[ -f "$out.cpu0" ] || ! grep -q 'L2-TESTBED: init reached' "$out" ||
			bench_net_threads "$(bench_leaf_pid $pid)" >"$out.cpu0"
		if [ $held = 0 ] && grep -q 'L2-NETBENCH-HOLD' "$out"; then
			held=1
			bench_net_threads "$(bench_leaf_pid $pid)" >"$out.cpu1"
			# One untimed run: the agent answers at all.
			vfio-vmm exec --cid "$BENCH_NET_CID" --timeout 20 -- true </dev/null ||
				echo "bench: $vmm: the first exec failed"
			for r in $(seq "$(bench_exec_runs)"); do
				t0=$(ns_now)
				vfio-vmm exec --cid "$BENCH_NET_CID" --timeout 20 -- true </dev/null || break
				t1=$(ns_now)
				awk -v n=$((t1 - t0 - BENCH_STAMP)) 'BEGIN { printf "%.2f\n", n / 1e6 }' >>"$out.exec"
			done
			# kvmtool's guest halts instead (no ACPI), and the connection
			# stays open: --timeout bounds the wait, the kill below ends it.
			vfio-vmm exec --cid "$BENCH_NET_CID" --timeout 5 -- poweroff -f </dev/null >/dev/null 2>&1
			[ $limit -le $((i + 50)) ] || limit=$((i + 50))
		fi
		grep -q 'L2-CHECK fail' "$out" && { [ $limit -le $((i + 20)) ] || limit=$((i + 20)); }
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$(bench_leaf_pid $pid)" $pid 2>/dev/null
		[ $held = 1 ] || echo "bench: $vmm killed after $((limit / 10)) s"
	fi
	wait "$pid" 2>/dev/null
	tr -d '\r' <"$out" >"$out.txt"
}

# bench_net_threads PID: bench_thread_cpu's lines for PID's threads, then
# the same for each vhost worker one of them owns (Linux 6.1 names the
# worker kthread vhost-TID after the thread that did VHOST_SET_OWNER).
bench_net_threads()
{
	local tids f c
	bench_thread_cpu "$1"
	tids=" $(ls "/proc/$1/task" 2>/dev/null | tr '\n' ' ')"
	grep -H '^vhost-' /proc/[0-9]*/comm 2>/dev/null | while IFS=: read -r f c; do
		case "$tids" in *" ${c#vhost-} "*) ;; *) continue ;; esac
		f=${f%/comm}
		echo "${f#/proc/} $c $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$f/stat" 2>/dev/null)"
	done
}

# bench_net_cpu OUT: each thread's CPU between the two snapshots of
# bench_net_boot, in ms, as NAME/TID (threads that used none left out).
bench_net_cpu()
{
	[ -s "$1.cpu0" ] && [ -s "$1.cpu1" ] || { echo "no snapshot"; return; }
	awk 'NR == FNR { t0[$1] = $3; next }
		{ d = $3 - t0[$1]; if (d > 0) printf "%s/%s %d ms, ", $2, $1, d * 10; all += d }
		END { printf "total %d ms", all * 10 }' "$1.cpu0" "$1.cpu1"
}

# bench_pct FILE P: the P-th percentile (nearest rank) of FILE's numbers.
bench_pct()
{
	sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 }
		END { i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; print v[i] }'
}

# bench_net_once VMM ROUND: one boot; each test's figures and the exec
# times' median and p90 are the round's samples.
bench_net_once()
{
	local vmm=$1 round=$2 out=$BENCH_TMP/net-$1.out t line t0
	t0=$(ns_now)
	bench_net_boot "$vmm" "$out" ""
	echo "NOTE: net: round $round, $vmm: VMM start to its end $(awk -v a="$t0" -v b="$(ns_now)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s"
	grep -E 'NETBENCH|L2-CHECK|tb-netbench|vfio-vmm stats|exits|virtio-pci|error' "$out.txt"
	line=$(grep '^L2-CHECK fail' "$out.txt" | head -1)
	[ -z "$line" ] || { tail -20 "$out.txt"; bench_fail "$vmm" "${line#L2-CHECK fail }"; return; }
	for t in $BENCH_NET_TESTS; do
		grep -q "^NETBENCH test=$t " "$out.txt" ||
			{ tail -20 "$out.txt"; bench_fail "$vmm" "no NETBENCH line for $t"; return; }
	done
	[ "$(wc -l <"$out.exec" 2>/dev/null || echo 0)" = "$(bench_exec_runs)" ] ||
		{ bench_fail "$vmm" "only $(wc -l <"$out.exec" 2>/dev/null || echo 0) of $(bench_exec_runs) exec runs worked"; return; }
	for t in tcp-tx tcp-rx; do
		bench_sample "$vmm" "net-$t" "$(bench_field gbit_s "$(grep "^NETBENCH test=$t " "$out.txt")")"
	done
	line=$(grep '^NETBENCH test=tcp-rr ' "$out.txt")
	bench_sample "$vmm" net-tcp-rr "$(bench_field tps "$line")"
	bench_sample "$vmm" net-tcp-rr-lat "$(bench_field lat_us_p50 "$line")"
	bench_sample "$vmm" net-tcp-rr-p99 "$(bench_field lat_us_p99 "$line")"
	line=$(grep '^NETBENCH test=vsock-rr ' "$out.txt")
	bench_sample "$vmm" vsock-rr "$(bench_field tps "$line")"
	bench_sample "$vmm" vsock-rr-lat "$(bench_field lat_us_p50 "$line")"
	bench_sample "$vmm" vsock-rr-p99 "$(bench_field lat_us_p99 "$line")"
	bench_sample "$vmm" exec-start "$(bench_pct "$out.exec" 50)"
	bench_sample "$vmm" exec-start-p90 "$(bench_pct "$out.exec" 90)"
	echo "NOTE: net: round $round, $vmm: exec start (ms): $(tr '\n' ' ' <"$out.exec")"
	echo "NOTE: net: round $round, $vmm threads' and vhost workers' CPU from L2 init to the tests' end: $(bench_net_cpu "$out")"
	[ "$round" != 1 ] || cp "$out.txt" "$out.1"
}

# vfio-vmm's exits per packet, into $BENCH_TMP/net-exits: round 1's boot
# against a baseline boot whose tb-netbench runs no test.
bench_net_exits()
{
	local out=$BENCH_TMP/net-vfio-vmm.out e0 e1 p0 p1 v1 epp n t0
	[ -f "$out.1" ] || return 1
	t0=$(ns_now)
	bench_net_boot vfio-vmm "$out.0" none
	echo "NOTE: net: the baseline boot, VMM start to its end $(awk -v a="$t0" -v b="$(ns_now)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s"
	p0=$(grep '^NETBENCH packets' "$out.0.txt" | awk -F'[= ]' '{ print $4 + $6 }')
	p1=$(grep '^NETBENCH packets' "$out.1" | awk -F'[= ]' '{ print $4 + $6 }')
	v1=$(bench_field trans "$(grep '^NETBENCH test=vsock-rr ' "$out.1")")
	if [ -z "$p0" ] || [ -z "$p1" ] || [ -z "$v1" ] || [ "$p1" -le "$p0" ]; then
		tail -20 "$out.0.txt"
		echo "vfio-vmm: the baseline boot for the network exits failed" >>"$BENCH_TMP/failed"
		return 1
	fi
	e0=$(bench_exits "$out.0.txt")
	e1=$(bench_exits "$out.1")
	n=$((p1 - p0 + 2 * v1))
	epp=$(awk -v a="$e1" -v b="$e0" -v n="$n" 'BEGIN { printf "%.4f", (a - b) / n }')
	echo "$epp" >"$BENCH_TMP/net-exits"
	echo "NOTE: net: vfio-vmm exits to the process per packet: $epp ($e1 - $e0 exits over $n packets: $((p1 - p0)) on the NIC, $((2 * v1)) vsock); $(grep -h 'notify exits' "$out.1" | sed 's/^ *//' | tr '\n' ';')"
}
