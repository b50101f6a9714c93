# SPDX-License-Identifier: MIT
# Scenario l1: is L1 itself fit for passthrough work? KVM (nested SVM), the
# IOMMU, the five devices on vfio-pci with their group nodes, and our static
# vfio-vmm binary runs at all.

scenario_l1()
{
	run_test l1.kvm 30 l1_kvm
	run_test l1.iommu 10 l1_iommu
	run_test l1.vfio-bound 10 l1_vfio_bound
	run_test l1.vfio-container 30 l1_vfio_container
	run_test l1.vfio-vmm-runs 30 l1_vmm_runs
	run_test l1.ivshmem-size 10 l1_ivshmem_size
	[ "${KICK:-0}" = 0 ] || run_test l1.kick 15 l1_kick
}

# The host's once-a-second key event (host/qemu.sh, l1_kick) reaches L1 as
# an i8042 keyboard interrupt: without it, a stranded LAPIC interrupt in
# QEMU's TCG can stop L1 for good.
l1_kick()
{
	local a b
	a=$(awk '/i8042/ { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; t += s } END { print t + 0 }' /proc/interrupts)
	sleep 3.5
	b=$(awk '/i8042/ { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; t += s } END { print t + 0 }' /proc/interrupts)
	grep i8042 /proc/interrupts
	[ "$b" -gt "$a" ] || die "no i8042 interrupt in 3.5 s ($a -> $b): the host's kick does not reach L1"
	echo "NOTE: the host's key events raised $((b - a)) i8042 interrupts in 3.5 s"
}

l1_kvm()
{
	[ -c /dev/kvm ] || die "/dev/kvm is missing (kvm_amd not loaded?)"
	tb-probe kvm || die "tb-probe kvm failed"
	grep -q 1 /sys/module/kvm_amd/parameters/nested 2>/dev/null ||
		die "kvm_amd nested is off"
}

l1_iommu()
{
	local n
	n=$(ls /sys/class/iommu | wc -l)
	ls -l /sys/class/iommu
	[ "$n" -ge 1 ] || die "no IOMMU in /sys/class/iommu"
	ls /sys/kernel/iommu_groups | wc -l
}

# Every test device is on vfio-pci, alone in its group, with a group node.
l1_vfio_bound()
{
	local name bdf id drv grp n=0
	cat "$TB_OUT/devices"
	while read -r name bdf id; do
		drv=$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")
		[ "$drv" = vfio-pci ] || die "$name $bdf driver is '$drv', not vfio-pci"
		grp=$(iommu_group "$bdf")
		[ -n "$grp" ] || die "$name $bdf has no IOMMU group"
		[ -c "/dev/vfio/$grp" ] || die "$name $bdf: no /dev/vfio/$grp"
		[ "$(ls "/sys/kernel/iommu_groups/$grp/devices" | wc -l)" = 1 ] ||
			die "$name $bdf shares group $grp"
		echo "$name $bdf -> /dev/vfio/$grp"
		n=$((n + 1))
	done <"$TB_OUT/devices"
	[ "$n" = 5 ] || die "expected 5 test devices, found $n"
}

# All five groups are viable and one type1v2 container takes them.
l1_vfio_container()
{
	local groups="" name bdf id
	while read -r name bdf id; do
		groups="$groups $(iommu_group "$bdf")"
	done <"$TB_OUT/devices"
	tb-probe vfio $groups || die "VFIO container setup failed for groups$groups"
}

l1_vmm_runs()
{
	local out
	need_vmm
	out=$(vfio-vmm --version 2>&1)
	local rc=$?
	echo "$out"
	[ "$rc" = 0 ] || die "vfio-vmm --version exited $rc"
}

# Bytes in a QEMU-style size: 1G, 256M, 4096K or a plain byte count.
size_bytes()
{
	local n=${1%[KMGTkmgt]}
	case "$1" in
	*[Kk]) echo $((n << 10)) ;;
	*[Mm]) echo $((n << 20)) ;;
	*[Gg]) echo $((n << 30)) ;;
	*[Tt]) echo $((n << 40)) ;;
	*) echo "$n" ;;
	esac
}

# ivshmem's BAR2 (the VRAM-like aperture) is as large as run.sh asked.
l1_ivshmem_size()
{
	local bdf start end flags want got
	bdf=$(awk '$1 == "ivshmem" { print $2 }' "$TB_OUT/devices")
	[ -n "$bdf" ] || die "no ivshmem device"
	# resource: one "start end flags" line per BAR; BAR2 is the third.
	read -r start end flags <<EOR
$(sed -n 3p "/sys/bus/pci/devices/$bdf/resource")
EOR
	want=$(size_bytes "$IVSHMEM_SIZE")
	got=$((end - start + 1))
	echo "ivshmem $bdf BAR2 $start-$end flags $flags: $got bytes, want $want"
	[ "$got" = "$want" ] || die "ivshmem BAR2 is $got bytes, not $IVSHMEM_SIZE ($want)"
	# 64-bit prefetchable memory: IORESOURCE_MEM_64 and PREFETCH.
	[ $((flags & 0x100000)) != 0 ] && [ $((flags & 0x2000)) != 0 ] ||
		die "ivshmem BAR2 flags $flags are not 64-bit prefetchable"
}
