# SPDX-License-Identifier: MIT
# Scenario passthrough: tiny L2 guests (guest-tests/pt-*.c) drive the
# test devices assigned with vfio-vmm run --device. Each guest run is one
# test (the VMM's exit status and the guest's PASS line); each check the
# guest made ("CHECK name: ok|FAIL ...") becomes a test of its own, and so
# do the checks on the VMM's --stats counters (mapped and trapped bytes and
# trapped accesses per BAR, compared with the accesses the guest says it
# made; host interrupts per VFIO vector). What each check proves:
# docs/passthrough.md.

PT_MEM=64M

# pt_iv_gib: ivshmem's BAR2 (--ivshmem-size) in GiB, at least 1.
pt_iv_gib()
{
	awk -v s="$IVSHMEM_SIZE" 'BEGIN {
		n = s + 0; u = substr(s, length(s))
		g = u == "T" ? n * 1024 : u == "G" ? n : u == "M" ? n / 1024 : n / 1073741824
		printf "%d\n", g < 1 ? 1 : g }'
}

# Limits grow with a big BAR2 (run.sh --ivshmem-size): L1's Linux 6.1 fills
# the page tables of the whole BAR mmap at the first touch and tears them
# down at exit (7 + 8 s at 256G on a busy host), and mapping BAR2 for P2P
# DMA costs about 1.3 s per GiB (329 s at 256G, docs/passthrough.md).
# Above 16G pt-p2p leaves BAR2 where the VMM put it (move=0): moved up by
# its size it would leave the testbed's 39-bit IOVA space, and be mapped a
# second time.
scenario_passthrough()
{
	local g p2p_limit iv_limit move=""
	g=$(pt_iv_gib)
	iv_limit=$((40 + g / 2))
	p2p_limit=$((40 + 3 * g))
	[ "$g" -le 16 ] || move=" move=0"
	run_test pt.edu 40 pt_guest edu pt-edu edu
	pt_checks edu edu.ident edu.liveness edu.msi edu.msi-retarget edu.intx edu.intx-disable edu.dma
	pt_checks edu edu.bar-move
	run_test pt.edu.stats 5 pt_stats_edu
	run_test pt.nvme 40 pt_guest nvme pt-nvme nvme
	pt_checks nvme nvme.msix nvme.identify nvme.msix-mask nvme.msix-function-mask
	pt_checks nvme nvme.msix-retarget nvme.flr nvme.intx-after-msix nvme.pba-mapped
	run_test pt.nvme.stats 5 pt_stats_nvme
	run_test pt.ivshmem "$iv_limit" pt_guest ivshmem pt-ivshmem ivshmem -- --cmdline seed=7
	pt_checks ivshmem ivshmem.bar2-high ivshmem.rw
	run_test pt.ivshmem.stats 5 pt_stats_ivshmem
	run_test pt.ivshmem-again "$iv_limit" pt_guest ivshmem2 pt-ivshmem ivshmem -- \
		--cmdline "seed=8 prev=7"
	pt_checks ivshmem2 ivshmem.persists
	run_test pt.virtio-net 40 pt_guest virtio-net pt-virtio-net virtio-net
	pt_checks virtio-net virtio-net.rom virtio-net.io-bar virtio-net.msix-table virtio-net.bar4
	run_test pt.virtio-net.stats 5 pt_stats_virtio_net
	run_test pt.p2p "$p2p_limit" pt_guest p2p pt-p2p edu ivshmem -- --p2p \
		--cmdline "p2p=1$move"
	pt_checks p2p p2p.two-devices p2p.edu-to-ivshmem
	if [ -z "$move" ]; then
		pt_checks p2p p2p.old-address-unmapped
	else
		echo "NOTE pt.p2p: BAR2 of ${g}G not moved (move=0): no p2p.old-address-unmapped"
	fi
	run_test pt.no-p2p "$iv_limit" pt_guest no-p2p pt-p2p edu ivshmem -- \
		--cmdline "p2p=0$move"
	pt_checks no-p2p p2p.blocked-without-p2p
	# A big BAR takes long enough to map for P2P that a stop must land in it.
	if [ "$g" -ge 16 ]; then
		run_test pt.p2p-sigterm $((iv_limit + 60)) pt_p2p_stop TERM
		run_test pt.p2p-sigkill $((iv_limit + 60)) pt_p2p_stop KILL
		run_test pt.p2p-after-stop "$iv_limit" pt_guest after-stop pt-p2p edu ivshmem -- \
			--cmdline "p2p=0$move"
		pt_checks after-stop p2p.blocked-without-p2p
	fi
	# All five in one VM: placement of every BAR kind together; nvme must still work.
	run_test pt.all-devices "$iv_limit" pt_guest all-devices pt-nvme edu nvme ivshmem virtio-net \
		virtio-net-modern
	run_test pt.group-not-viable 30 pt_group_not_viable
}

# pt_bdf NAME: the L1 address of a test device (init wrote them down).
pt_bdf()
{
	awk -v n="$1" '$1 == n { print $2 }' "$TB_OUT/devices"
}

# pt_guest RUN GUEST DEVICE... [-- VMM ARGS]: boots guests/GUEST with the
# devices assigned and --stats; output (guest and stats) in $TB_OUT/pt-RUN.out.
# The VMM is killed after PT_LIMIT seconds (30; times TESTBED_SLOW).
pt_guest()
{
	local run=$1 guest=$2 out=$TB_OUT/pt-$1.out rc devs="" limit
	shift 2
	rm -f "$out"	# checks must never read an earlier run's output
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		devs="$devs --device $(pt_bdf "$1")"
		shift
	done
	[ $# = 0 ] || shift
	need_vmm
	# $devs unquoted on purpose: BDFs have no spaces; the rest keeps its words.
	set -- run --kernel "$TB/guests/$guest" --memory "$PT_MEM" --stats $devs "$@"
	# A big ivshmem BAR2 needs longer (see scenario_passthrough).
	limit=${PT_LIMIT:-30}
	case "$devs $*" in
	*" --p2p "*"$(pt_bdf ivshmem)"*|*"$(pt_bdf ivshmem)"*" --p2p "*)
		limit=$((limit + 3 * $(pt_iv_gib))) ;;
	*"$(pt_bdf ivshmem)"*) limit=$((limit + $(pt_iv_gib) / 2)) ;;
	esac
	echo "+ vfio-vmm $*"
	limit=$((limit * ${SLOW:-1}))
	timeout -s KILL "$limit" vfio-vmm "$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	[ "$rc" != 137 ] || die "vfio-vmm did not exit within ${limit}s"
	[ "$rc" = 0 ] || die "vfio-vmm exited with status $rc"
	grep -q "^PASS $guest\$" "$out" || die "exit status 0 but no 'PASS $guest' line"
}

# pt_checks RUN CHECK...: one test per check line of that run's guest.
pt_checks()
{
	local run=$1 c
	shift
	for c in "$@"; do
		run_test "pt.$c" 5 pt_check_line "$run" "$c"
	done
}

pt_check_line()
{
	local out=$TB_OUT/pt-$1.out line
	[ -f "$out" ] || die "run $1 produced no output"
	line=$(tr -d '\r' <"$out" | grep "^CHECK $2: " | head -1)
	echo "$line"
	[ -n "$line" ] || die "the guest never reported check $2"
	case "$line" in
	"CHECK $2: ok "*) echo "NOTE: ${line#CHECK $2: ok }" ;;
	*) die "${line#CHECK $2: }" ;;
	esac
}

# pt_bar_stat RUN BDF BAR: that BAR's --stats line from the run's output,
# "BARn type at A size S: mapped M, trapped T; R trapped reads, W trapped
# writes", from the section of the device BDF.
pt_bar_stat()
{
	tr -d '\r' <"$TB_OUT/pt-$1.out" | awk -v dev="  $2: " -v bar="$3" '
		index($0, dev) == 1 { on = 1; next }
		on && /^  [^ ]/ { on = 0 }
		on && $1 == bar { sub(/^ +/, ""); print; exit }'
}

# pt_expect_bar RUN DEVICE BAR FIELD VALUE...: the BAR's stats line must
# have each pair: type io, size 0x4000, mapped 0x2000, trapped 0x0,
# reads 0, writes 0.
pt_expect_bar()
{
	local run=$1 name=$2 bar=$3 line want
	shift 3
	line=$(pt_bar_stat "$run" "$(pt_bdf "$name")" "$bar")
	echo "$name $line"
	[ -n "$line" ] || die "no --stats line for $name $bar"
	while [ $# -gt 1 ]; do
		case "$1" in
		type) want="$bar $2 " ;;
		size) want="size $2:" ;;
		mapped) want="mapped $2," ;;
		trapped) want="trapped $2;" ;;
		reads) want="; $2 trapped reads" ;;
		writes) want=", $2 trapped writes" ;;
		esac
		case "$line" in
		*"$want"*) ;;
		*) die "$name $bar: want '$1 $2' in: $line" ;;
		esac
		shift 2
	done
	echo "NOTE: $name $line"
}

# pt_count RUN DEVICE BAR: what the guest said it did to that BAR.
pt_count()
{
	tr -d '\r' <"$TB_OUT/pt-$1.out" |
		awk -v d="$2" -v b="$3" '$1 == "PT-COUNT" && $2 == d && $3 == b { print $NF }'
}

# pt_trapped RUN DEVICE BAR: trapped reads + writes from --stats.
pt_trapped()
{
	pt_bar_stat "$1" "$(pt_bdf "$2")" "$3" |
		sed -n 's/.*; \([0-9]*\) trapped reads, \([0-9]*\) trapped writes.*/\1 \2/p' |
		awk '{ print $1 + $2 }'
}

# Host interrupt count of a VFIO vector of the device, e.g. vfio-intx.
pt_irqs()
{
	tr -d '\r' <"$TB_OUT/pt-$1.out" | grep "$3.*($(pt_bdf "$2"))" |
		awk '{ s += $(NF - 1) } END { print s + 0 }'
}

# Every edu register access of the guest went through the memslot.
pt_stats_edu()
{
	local n
	pt_expect_bar edu edu BAR0 size 0x100000 mapped 0x100000 trapped 0x0 reads 0 writes 0
	n=$(pt_irqs edu edu vfio-intx)
	[ "$n" -ge 2 ] || die "L1 counted $n INTx interrupts for edu, the guest saw 2"
	echo "NOTE: L1 counted $n edu INTx interrupts (host side of the irqfd)"
}

# The MSI-X table page is trapped and saw exactly the guest's table
# accesses; the register page stayed mapped though the guest polled it. The
# PBA's page was trapped while MSI-X was on with vectors masked and mapped
# back by the guest's first PBA read with MSI-X off: the hundred reads after
# it took no exit (the guest counts only that first one).
pt_stats_nvme()
{
	local want got n pba
	want=$(pt_count nvme nvme BAR0)
	[ -n "$want" ] || die "the guest did not report its table accesses"
	pt_expect_bar nvme nvme BAR0 size 0x4000 mapped 0x3000 trapped 0x1000
	got=$(pt_trapped nvme nvme BAR0)
	[ "$got" = "$want" ] || die "BAR0 took $got trapped accesses, the guest made $want to the table and PBA"
	pba=$(tr -d '\r' <"$TB_OUT/pt-nvme.out" | grep -m1 'PBA page ')
	case "$pba" in
	*"PBA page mapped: mapped 1 times, trapped "*) ;;
	*) die "the PBA's page should end mapped, mapped back once: '${pba:-no PBA page line}'" ;;
	esac
	echo "NOTE: ${pba# *}"
	# The guest ended on INTx (MSI-X vectors leave /proc/interrupts when disabled).
	n=$(pt_irqs nvme nvme vfio-intx)
	[ "$n" -ge 1 ] || die "L1 counted no INTx interrupt for nvme"
	echo "NOTE: $got trapped accesses = the guest's table accesses; L1 counted $n on vfio-intx"
}

pt_stats_ivshmem()
{
	local n addr
	n=$(pt_count ivshmem ivshmem BAR2)
	[ "${n:-0}" -gt 0 ] || die "the guest did not report its BAR2 accesses"
	pt_expect_bar ivshmem ivshmem BAR2 trapped 0x0 reads 0 writes 0
	addr=$(pt_bar_stat ivshmem "$(pt_bdf ivshmem)" BAR2 | awk '{ print $4 }')
	[ $((addr >= 0x100000000)) = 1 ] || die "BAR2 at $addr, below 4 GiB"
	echo "NOTE: the guest made $n BAR2 accesses, the VMM saw 0"
}

pt_stats_virtio_net()
{
	local bar want got
	for bar in BAR0 BAR1; do
		want=$(pt_count virtio-net virtio-net $bar)
		got=$(pt_trapped virtio-net virtio-net $bar)
		[ -n "$want" ] || die "the guest did not report its $bar accesses"
		[ "$got" = "$want" ] || die "$bar took $got trapped accesses, the guest made $want"
	done
	pt_expect_bar virtio-net virtio-net BAR0 type io mapped 0x0
	pt_expect_bar virtio-net virtio-net BAR1 mapped 0x0 trapped 0x1000
	pt_expect_bar virtio-net virtio-net BAR4 size 0x4000 mapped 0x4000 trapped 0x0 reads 0 writes 0
	got=$(pt_trapped virtio-net virtio-net ROM)
	[ "${got:-0}" -gt 0 ] || die "no trapped ROM reads"
	echo "NOTE: BAR0 (I/O) and BAR1 (MSI-X) trapped exactly the guest's accesses; BAR4 none; ROM $got reads"
}

# pt_p2p_stop TERM|KILL: the signal to a VMM that is mapping a big BAR2 for
# P2P DMA (its progress line says so; the vCPU does it when the guest turns
# BAR2's decode on). SIGTERM: the mapping stops between two GiB chunks and
# unmaps what it mapped, the VM stops, the devices are released, exit 143;
# SIGKILL: the process ends once the chunk in the kernel returns, and the
# kernel drops the rest. Either way within a bound (the longest chunk
# measured on 6.1 is 7.2 s, then the teardown), edu and ivshmem free after.
pt_p2p_stop()
{
	local sig=$1 out=$TB_OUT/pt-p2p-stop-$1.out pid t0 t1 rc n=0 grp
	need_vmm
	echo "+ vfio-vmm run --kernel $TB/guests/pt-p2p --device edu --device ivshmem --p2p (SIG$sig once mapping)"
	vfio-vmm run --kernel "$TB/guests/pt-p2p" --memory "$PT_MEM" --device "$(pt_bdf edu)" \
		--device "$(pt_bdf ivshmem)" --p2p --cmdline "p2p=1 move=0" >"$out" 2>&1 &
	pid=$!
	while ! grep -q 'mapping a BAR for peer DMA at IOVA' "$out" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || { cat "$out"; die "vfio-vmm ended before mapping BAR2"; }
		n=$((n + 1))
		[ "$n" -lt 240 ] || { cat "$out"; die "no P2P mapping progress within 120 s"; }
		sleep 0.5
	done
	sleep 2
	t0=$(uptime_s)
	kill -"$sig" "$pid"
	wait "$pid"
	rc=$?
	t1=$(uptime_s)
	cat "$out"
	echo "exit status $rc, $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s after SIG$sig"
	if [ "$sig" = TERM ]; then
		[ "$rc" = 143 ] || die "exit status $rc after SIGTERM, want 143"
		grep -q 'stopped mapping a .* BAR for peer DMA at IOVA .*; unmapped again' "$out" ||
			die "no 'stopped mapping' line: the mapping was not stopped between chunks"
	else
		[ "$rc" = 137 ] || die "exit status $rc after SIGKILL, want 137"
	fi
	for n in edu ivshmem; do
		grp=$(iommu_group "$(pt_bdf $n)")
		vfio-vmm devices 2>/dev/null | grep "^$(pt_bdf $n) " | grep -q 'in use' &&
			die "$n (group $grp) still in use after SIG$sig"
	done
	echo "NOTE: SIG$sig while mapping BAR2 ($(pt_iv_gib) GiB) for P2P: exit status $rc $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s after the signal ($(sed -n 's/.*mapping a BAR for peer DMA at IOVA [^:]*: \([0-9.]*\) of.*/\1/p' "$out" | tail -1) GiB mapped by then)"
}

ICH9_SATA=0000:00:1f.2

driver_name()
{
	basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null
}

# One ICH9 function on vfio-pci, the other two on their host drivers: the
# group is not viable. vfio-vmm must refuse it in one line, before making
# anything, and leave every driver, lock and group as it found them.
pt_group_not_viable()
{
	local out=$TB_OUT/pt-refused.out rc grp lines before after msg m
	need_vmm
	for m in ahci lpc_ich i2c_i801; do
		modprobe "$m" || die "modprobe $m failed"
	done
	grp=$(iommu_group $ICH9_SATA)
	vfio-vmm bind $ICH9_SATA || die "vfio-vmm bind $ICH9_SATA failed"
	before=$(for d in 0000:00:1f.0 $ICH9_SATA 0000:00:1f.3; do driver_name $d; done | tr '\n' ' ')
	echo "+ vfio-vmm run --kernel $TB/guests/hello --device 00:1f.2 --device $(pt_bdf edu)"
	timeout -s KILL 20 vfio-vmm run --kernel "$TB/guests/hello" --memory "$PT_MEM" \
		--device 00:1f.2 --device "$(pt_bdf edu)" >"$out" 2>&1
	rc=$?
	msg=$(head -1 "$out")
	after=$(for d in 0000:00:1f.0 $ICH9_SATA 0000:00:1f.3; do driver_name $d; done | tr '\n' ' ')
	vfio-vmm unbind $ICH9_SATA
	cat "$out"
	echo "(exit status $rc; drivers before: $before, after: $after)"
	[ "$rc" != 0 ] && [ "$rc" != 137 ] || die "exit status $rc"
	lines=$(grep -c . "$out")
	[ "$lines" = 1 ] || die "$lines lines of output, want one"
	grep -q "group $grp is not viable: 0000:00:1f.0 is bound to lpc_ich, 0000:00:1f.3 is bound to i801_smbus; bind them to vfio-pci too" "$out" ||
		die "the message does not name the group and its offenders"
	! grep -q '^Hello\|^PASS' "$out" || die "the guest ran"
	[ "$before" = "$after" ] || die "drivers changed: $before -> $after"
	# The viable device named with it was not kept either: it is free now.
	timeout -s KILL 20 vfio-vmm run --kernel "$TB/guests/hello" --memory "$PT_MEM" \
		--device "$(pt_bdf edu)" >"$out" 2>&1 || { cat "$out"; die "edu is not free afterwards"; }
	echo "NOTE: $msg"
}
