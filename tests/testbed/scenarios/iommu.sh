# SPDX-License-Identifier: MIT
# Scenario iommu (on request: tests/testbed/run.sh [--iommu amd] iommu):
# iommu-probe, iommu/ without a VM, against real type1 VFIO. Needs
# interrupt remapping (the default boot); iommu-noremap covers its absence.
# The ICH9 functions (00:1f.0 lpc_ich, 00:1f.2 ahci, 00:1f.3 i801_smbus)
# share one IOMMU group: the natural "group not viable" case. Every test
# leaves the five test devices on vfio-pci and the ICH9 functions on their
# drivers, as host-tools does.

scenario_iommu()
{
	run_test iommu.edu-dma 90 iommu_probe --trace --ram 256 --edu-dma edu
	run_test iommu.four-groups 90 iommu_four_groups
	run_test iommu.hugepages 90 iommu_huge
	run_test iommu.big 120 iommu_probe --ram 1024 edu
	run_test iommu.not-vfio 20 iommu_expect_fail "not bound\|is bound to" 00:1f.2
	run_test iommu.ich9-group 30 iommu_ich9
	# A function q35 never has: the probe must name it, not crash.
	run_test iommu.no-device 20 iommu_expect_fail "no such PCI device" 00:1f.7
}

need_probe()
{
	command -v iommu-probe >/dev/null ||
		die "iommu-probe was not built (see build.log on the host)"
}

# A test device's BDF by its name in $TB_OUT/devices (the slots move with
# --iommu amd); nothing if there is no such device.
bdf_of()
{
	awk -v n="$1" '$1 == n { print $2 }' "$TB_OUT/devices"
}

# iommu_probe [OPTIONS] NAME...: iommu-probe on the named test devices
# (edu, nvme, ...), which must succeed; its output becomes NOTE lines.
iommu_probe()
{
	local a b args=""
	need_probe
	for a in "$@"; do
		case "$a" in
		-*|[0-9]*|/*) b=$a ;;
		*) b=$(bdf_of "$a") ;;
		esac
		[ -n "$b" ] || die "no $a in $TB_OUT/devices"
		args="$args $b"
	done
	iommu-probe $args >/tmp/probe.out 2>&1
	rc=$?
	sed 's/^/NOTE: /' /tmp/probe.out
	[ "$rc" = 0 ] || die "iommu-probe$args exited $rc"
}

# Four groups in one container, one of them given as a sysfs path.
iommu_four_groups()
{
	local vnet
	vnet=$(bdf_of virtio-net)
	[ -n "$vnet" ] || die "no virtio-net in $TB_OUT/devices"
	iommu_probe --ram 64 edu nvme ivshmem "/sys/bus/pci/devices/$vnet"
}

iommu_huge()
{
	local rc
	echo 96 >/proc/sys/vm/nr_hugepages
	echo "NOTE: hugepages: $(cat /proc/sys/vm/nr_hugepages)"
	(iommu_probe --ram 128 --hugepages --edu-dma edu)
	rc=$?
	# Later scenarios (doctor's hugepages check) expect none reserved.
	echo 0 >/proc/sys/vm/nr_hugepages
	[ "$rc" = 0 ] || exit 1
}

iommu_expect_fail()
{
	local pat=$1
	shift
	need_probe
	iommu-probe "$@" >/tmp/probe.out 2>&1 && die "iommu-probe $* succeeded"
	sed 's/^/NOTE: /' /tmp/probe.out
	grep -q "$pat" /tmp/probe.out || die "no '$pat' in the message"
}

iommu_ich9()
{
	local m d dev=/sys/bus/pci/devices/0000:00:1f.2 grp rc
	need_probe
	# Host drivers for the whole group (L1_MODULES in host/initramfs.sh).
	for m in ahci lpc_ich i2c_i801; do
		modprobe "$m" || die "modprobe $m failed (is it in L1_MODULES?)"
	done
	for d in /sys/kernel/iommu_groups/*/devices/0000:00:1f.*; do
		echo "NOTE: $d driver=$(basename "$(readlink "$d/driver")" 2>/dev/null)"
	done
	iommu-probe --ram 16 00:1f.2 >/tmp/probe.out 2>&1
	echo "NOTE: on ahci: exit $?"
	sed 's/^/NOTE: /' /tmp/probe.out
	[ -e "$dev/driver" ] && echo 0000:00:1f.2 >"$dev/driver/unbind"
	echo vfio-pci >"$dev/driver_override"
	echo 0000:00:1f.2 >/sys/bus/pci/drivers_probe
	echo "NOTE: 1f.2 now on $(basename "$(readlink "$dev/driver")")"
	iommu-probe --ram 16 00:1f.2 >/tmp/probe.out 2>&1
	rc=$?
	echo "NOTE: on vfio-pci: exit $rc"
	sed 's/^/NOTE: /' /tmp/probe.out
	grp=$(basename "$(readlink $dev/iommu_group)")
	iommu-probe --group-status "$grp" | sed 's/^/NOTE: kernel: /'
	# Back to ahci before judging, so that a failure leaves the group as
	# the next scenario expects it.
	echo 0000:00:1f.2 >"$dev/driver/unbind"
	echo >"$dev/driver_override"
	echo 0000:00:1f.2 >/sys/bus/pci/drivers_probe
	[ "$rc" != 0 ] || die "a non-viable group was accepted"
	grep -q "is not viable: 0000:00:1f.0 is bound to lpc_ich" /tmp/probe.out || die "wrong message"
	[ "$(basename "$(readlink "$dev/driver")")" = ahci ] || die "1f.2 did not go back to ahci"
}
