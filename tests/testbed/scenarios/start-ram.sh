# SPDX-License-Identifier: MIT
# Scenario start-ram (on request; issue 13 part 4): how long a VMM takes to
# start a guest whose RAM is pinned for DMA, against the RAM's size, the
# page kind backing it and the threads that fault it in, vfio-vmm next to
# QEMU in the same L1 with the same device (edu) assigned.
#
# bench/start-ram.sh runs it (QEMU staged into L1, L1 with more memory and
# two CPUs) and turns its lines into docs/benchmarks.md's table and plot:
#   bench/start-ram.sh [--sizes 1,2,4,8,max] [--pages 4k,2m,1g] ...
#
# One test per page kind and size, start-ram.PAGES.SIZE; in it, every VMM
# configuration (vfio-vmm --prefault-threads T, QEMU prealloc=on with
# prealloc-threads=T, T = 0 meaning no prefault/prealloc) starts the tiny
# guest bench-nop once per round, the order rotated each round (bench.sh's
# interleaving), so a load change on the host moves all of them alike. Each
# configuration's result is one line
#   NOTE: STARTRAM vmm=V pages=P size=GiB threads=T start=s,s,... [prefault=s,...] [map=s,...]
# with the wall time from process start to its exit (L1's CLOCK_MONOTONIC
# from /proc/timer_list) and, for vfio-vmm, its own split of it: the
# "prefaulted ... in X s" and "mapped ... for DMA in Y s" lines.
#
# Knobs on L1's command line (bench/start-ram.sh sets them):
#   tb.sr_sizes=1,2,4,8,max   GiB of guest RAM; max = what L1 can hold
#   tb.sr_pages=1g,2m,4k,thp  page kinds: hugetlbfs 1 GiB and 2 MiB pages,
#                             anonymous memory with transparent huge pages
#                             off (4k) and in "madvise" mode (thp: QEMU and
#                             vfio-vmm madvise their RAM; 1g first, as its
#                             pages are best reserved at L1's boot)
#   tb.sr_threads=0,1,N       prefault threads; N = L1's CPUs
#   tb.sr_rounds=2            starts per configuration and point
#   tb.sr_vmms=vfio-vmm,qemu  which VMMs (QEMU only when staged into L1)

# ns_now, bench_order, bench_median, bench_dev.
. "$TB/scenarios/bench.sh"

SR_TMP=$TB_OUT/start-ram
SR_QEMU=$TB/bench/qemu/qemu

sr_opt()
{
	local v
	v=$(sed -n "s/.*tb\.sr_$1=\([^ ]*\).*/\1/p" /proc/cmdline)
	echo "${v:-$2}" | tr , ' '
}

sr_cpus()
{
	grep -c '^processor' /proc/cpuinfo
}

# GiB L1 can give one guest: MemAvailable less 2 GiB for the VMM itself
# and L1's kernel (with only 1.2 GiB left, a 12 GiB L1 with 10 GiB of
# 2 MiB pages in a guest stopped for good: both CPUs in soft lockups).
sr_max_gib()
{
	awk '/^MemAvailable:/ { g = int(($2 / 1024 - 2048) / 1024); print (g < 1 ? 1 : g) }' \
		/proc/meminfo
}

# The sizes asked for, "max" resolved, those above max dropped, sorted.
sr_sizes()
{
	local max s
	max=$(cat "$SR_TMP/max_gib")
	for s in $(sr_opt sizes "1 2 4 8 max"); do
		[ "$s" = max ] && s=$max
		[ "$s" -le "$max" ] && echo "$s"
	done | sort -n | uniq
}

sr_page_bytes()
{
	case "$1" in
	2m) echo 2097152 ;;
	1g) echo 1073741824 ;;
	*) echo 4096 ;;
	esac
}

sr_hugedir()
{
	echo "/sys/kernel/mm/hugepages/hugepages-$(($(sr_page_bytes "$1") / 1024))kB"
}

scenario_start_ram()
{
	local p s
	mkdir -p "$SR_TMP"
	run_test start-ram.setup 60 sr_setup || return 0
	for p in $(sr_opt pages "1g 2m 4k thp"); do
		run_test "start-ram.$p.reserve" 600 sr_reserve "$p" || continue
		# The first touch of L1's RAM costs the host a page fault per
		# page; one untimed run over the most this kind can have takes
		# that out of the timed ones.
		run_test "start-ram.$p.warm" 1800 sr_warm "$p"
		for s in $(sr_sizes); do
			run_test "start-ram.$p.${s}G" 3000 sr_point "$p" "$s"
		done
		run_test "start-ram.$p.release" 60 sr_release "$p"
	done
}

# What L1 has: CPUs, memory, 1 GiB page support; which VMMs will run.
sr_setup()
{
	local v vmms=""
	need_vmm
	[ -n "$(bench_dev edu)" ] || die "no edu device in $TB_OUT/devices"
	grep -qw pdpe1gb /proc/cpuinfo ||
		echo "NOTE: L1's CPU has no pdpe1gb: no 1 GiB pages (add +pdpe1gb to TESTBED_CPU)"
	for v in $(sr_opt vmms "vfio-vmm qemu"); do
		case "$v" in
		vfio-vmm) vmms="$vmms $v" ;;
		qemu) if [ -x "$SR_QEMU" ]; then vmms="$vmms $v"
		      else echo "NOTE: no QEMU in L1 ($SR_QEMU): vfio-vmm only (bench/start-ram.sh stages it)"; fi ;;
		*) die "tb.sr_vmms: no VMM '$v' (vfio-vmm, qemu)" ;;
		esac
	done
	echo "$vmms" >"$SR_TMP/vmms"
	echo "NOTE: STARTRAM-L1 cpus=$(sr_cpus) mem_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) huge_1g=$(cat "$(sr_hugedir 1g)/nr_hugepages" 2>/dev/null || echo 0) pdpe1gb=$(grep -qw pdpe1gb /proc/cpuinfo && echo 1 || echo 0) vmms=$(echo $vmms | tr ' ' ,) rounds=$(sr_opt rounds 2) threads=$(sr_opt threads "0 1 N" | tr ' ' ,)"
}

sr_warm()
{
	local p=$1 max t0 t1 out=$SR_TMP/warm.out
	max=$(cat "$SR_TMP/max_gib")
	t0=$(ns_now)
	sr_run vfio-vmm "$p" "$max" "$(sr_cpus)" >"$out" 2>&1 ||
		{ cat "$out"; die "vfio-vmm with ${max} GiB of $p pages exited $?"; }
	t1=$(ns_now)
	cat "$out"
	echo "NOTE: untimed first start with ${max} GiB of $p pages: $(sr_secs "$t0" "$t1") s"
}

sr_secs()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}

# sr_reserve PAGES: the largest size this kind can have, in max_gib. For
# 4 KiB pages, what L1 has free, with transparent huge pages off (else the
# kernel backs aligned anonymous memory with 2 MiB pages); for huge pages, as
# many as L1 can reserve (1 GiB pages best on L1's command line,
# hugepagesz=1G hugepages=N, as bench/start-ram.sh does: at run time L1 finds
# few free 1 GiB ranges). 2 MiB and 1 GiB pages also get a hugetlbfs mount
# for QEMU's memory-backend-file.
sr_reserve()
{
	local p=$1 d want got
	sync
	echo 3 >/proc/sys/vm/drop_caches
	echo 1 >/proc/sys/vm/compact_memory
	# 1 GiB pages L1 reserved at boot are only for the 1g kind.
	[ "$p" = 1g ] || [ ! -d "$(sr_hugedir 1g)" ] || echo 0 >"$(sr_hugedir 1g)/nr_hugepages"
	case "$p" in
	4k|thp)
		if [ "$p" = 4k ]; then
			echo never >/sys/kernel/mm/transparent_hugepage/enabled
		else
			echo madvise >/sys/kernel/mm/transparent_hugepage/enabled
		fi
		sr_max_gib >"$SR_TMP/max_gib"
		echo "NOTE: $p: $(cat "$SR_TMP/max_gib") GiB free for a guest, transparent huge pages $(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled)"
		return 0
		;;
	esac
	d=$(sr_hugedir "$p")
	[ -d "$d" ] || die "L1's kernel has no $p huge pages ($d)"
	want=$((($(sr_max_gib) + $(cat "$d/nr_hugepages") * $(sr_page_bytes "$p") / 1073741824) * \
		1073741824 / $(sr_page_bytes "$p")))
	[ "$(cat "$d/nr_hugepages")" -ge "$want" ] || echo "$want" >"$d/nr_hugepages"
	got=$(cat "$d/nr_hugepages")
	echo $((got * $(sr_page_bytes "$p") / 1073741824)) >"$SR_TMP/max_gib"
	echo "NOTE: $p: $got huge pages reserved ($(cat "$SR_TMP/max_gib") GiB; $want asked)"
	[ "$(cat "$SR_TMP/max_gib")" -gt 0 ] || die "not 1 GiB of $p huge pages could be reserved"
	mkdir -p "/mnt/huge-$p"
	mountpoint -q "/mnt/huge-$p" ||
		mount -t hugetlbfs -o "pagesize=$(echo "$p" | tr mg MG)" none "/mnt/huge-$p" ||
		die "cannot mount hugetlbfs for $p pages"
}

sr_release()
{
	if [ "$1" = 4k ] || [ "$1" = thp ]; then
		echo always >/sys/kernel/mm/transparent_hugepage/enabled
	else
		echo 0 >"$(sr_hugedir "$1")/nr_hugepages"
	fi
}

# sr_run VMM PAGES GIB THREADS: one start of bench-nop with edu assigned.
sr_run()
{
	local vmm=$1 p=$2 g=$3 t=$4 edu mem
	edu=$(bench_dev edu)
	case "$vmm" in
	vfio-vmm)
		set -- run --kernel "$TB/guests/bench-nop" --memory "${g}G" --device "$edu" \
			--prefault-threads "$t"
		case "$p" in 2m|1g) set -- "$@" --hugepages "$(echo "$p" | tr mg MG)" ;; esac
		vfio-vmm "$@"
		;;
	qemu)
		case "$p" in
		4k|thp) mem="memory-backend-ram,id=ram0,size=${g}G" ;;
		*) mem="memory-backend-file,id=ram0,size=${g}G,mem-path=/mnt/huge-$p" ;;
		esac
		if [ "$t" = 0 ]; then
			mem="$mem,prealloc=off"
		else
			mem="$mem,prealloc=on,prealloc-threads=$t"
		fi
		# Three trace events stamp QEMU's own DMA mapping of guest RAM
		# (vfio_connect_container's listener, between the first RAM
		# section and vfio_get_device), like vfio-vmm's "mapped" line.
		"$SR_QEMU" -machine q35,memory-backend=ram0 -accel kvm -cpu host -m "${g}G" \
			-msg timestamp=on -trace vfio_realize -trace vfio_listener_region_add_ram \
			-trace vfio_get_device \
			-object "$mem" -nodefaults -no-user-config -display none -no-reboot \
			-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 \
			-kernel "$TB/guests/bench-nop" -device "vfio-pci,host=$edu" </dev/null
		;;
	esac
}

# sr_point PAGES GIB: every configuration, interleaved over the rounds.
sr_point()
{
	local p=$1 g=$2 r c vmm t cfgs="" want rc t0 t1 out line n
	n=$(sr_cpus)
	for vmm in $(cat "$SR_TMP/vmms"); do
		for t in $(sr_opt threads "0 1 N"); do
			[ "$t" = N ] && t=$n
			case " $cfgs " in *" $vmm:$t "*) continue ;; esac
			cfgs="$cfgs $vmm:$t"
		done
	done
	rm -f "$SR_TMP"/pt.*
	for r in $(seq "$(sr_opt rounds 2)"); do
		for c in $(bench_order "$r" $cfgs); do
			vmm=${c%:*}
			t=${c#*:}
			out=$SR_TMP/run.out
			want=0
			[ "$vmm" = qemu ] && want=1	# isa-debug-exit: 0 becomes 1
			t0=$(ns_now)
			sr_run "$vmm" "$p" "$g" "$t" >"$out" 2>&1
			rc=$?
			t1=$(ns_now)
			tr -d '\r' <"$out" | grep -v '^$'
			[ "$rc" = "$want" ] || die "$vmm threads=$t ${g}G $p exited $rc, want $want"
			grep -q '^PASS bench-nop' "$out" || die "$vmm threads=$t: no PASS line"
			echo "round $r $vmm threads=$t: $(sr_secs "$t0" "$t1") s"
			echo "$(sr_secs "$t0" "$t1")" >>"$SR_TMP/pt.$c.start"
			if [ "$vmm" = qemu ]; then
				line=$(sr_qemu_map "$out")
				[ -n "$line" ] || die "QEMU printed no vfio trace stamps (-trace)"
				echo "$line" >>"$SR_TMP/pt.$c.map"
				continue
			fi
			line=$(sed -n 's/.*prefaulted [0-9]* MiB of guest RAM on [0-9]* threads\{0,1\} in \([0-9.]*\) s.*/\1/p' "$out")
			[ "$t" = 0 ] || [ -n "$line" ] || die "vfio-vmm printed no prefault time"
			echo "${line:-0}" >>"$SR_TMP/pt.$c.prefault"
			line=$(sed -n 's/.*mapped .* of guest RAM for DMA in \([0-9.]*\) s.*/\1/p' "$out")
			[ -n "$line" ] || die "vfio-vmm printed no DMA mapping time"
			echo "$line" >>"$SR_TMP/pt.$c.map"
		done
	done
	for c in $cfgs; do
		line="NOTE: STARTRAM vmm=${c%:*} pages=$p size=$g threads=${c#*:}"
		line="$line start=$(sr_list "$SR_TMP/pt.$c.start")"
		[ ! -f "$SR_TMP/pt.$c.prefault" ] || line="$line prefault=$(sr_list "$SR_TMP/pt.$c.prefault")"
		[ ! -f "$SR_TMP/pt.$c.map" ] || line="$line map=$(sr_list "$SR_TMP/pt.$c.map")"
		echo "$line"
	done
}

# Seconds from QEMU's first RAM section handed to VFIO to vfio_get_device:
# its MAP_DMA of guest RAM (trace lines "PID@SEC.USEC:event ...").
sr_qemu_map()
{
	tr -d '\r' <"$1" | awk -F'[@:]' '
		$3 ~ /^vfio_listener_region_add_ram/ && !a { a = $2 }
		$3 ~ /^vfio_get_device/ && a && !b { b = $2 }
		END { if (a && b) printf "%.2f\n", b - a }'
}

sr_list()
{
	tr '\n' , <"$1" | sed 's/,$//'
}
