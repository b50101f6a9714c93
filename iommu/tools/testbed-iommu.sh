# SPDX-License-Identifier: MIT
# Testbed scenario "iommu", run by iommu/tools/run-in-testbed.sh until the
# testbed itself ships iommu-probe:
# iommu-probe against real type1 VFIO.
scenario_iommu()
{
	EDU=$(awk '$1 == "edu" { print $2 }' "$TB_OUT/devices")
	NVME=$(awk '$1 == "nvme" { print $2 }' "$TB_OUT/devices")
	run_test iommu.edu-dma 90 iommu_probe --trace --ram 256 --edu-dma $EDU
	run_test iommu.four-groups 90 iommu_probe --ram 64 $EDU $NVME 00:03.0 /sys/bus/pci/devices/0000:00:04.0
	run_test iommu.hugepages 90 iommu_huge
	run_test iommu.big 120 iommu_probe --ram 1024 $EDU
	run_test iommu.not-vfio 20 iommu_expect_fail "not bound\|is bound to" 00:1f.2
	run_test iommu.ich9-group 20 iommu_ich9
	run_test iommu.no-device 20 iommu_expect_fail "no such PCI device" 00:09.0
}

iommu_probe()
{
	iommu-probe "$@" >/tmp/probe.out 2>&1
	rc=$?
	sed 's/^/NOTE: /' /tmp/probe.out
	[ "$rc" = 0 ] || die "iommu-probe $* exited $rc"
}

iommu_huge()
{
	echo 96 >/proc/sys/vm/nr_hugepages
	echo "NOTE: hugepages: $(cat /proc/sys/vm/nr_hugepages)"
	iommu_probe --ram 128 --hugepages --edu-dma "$(awk '$1 == "edu" { print $2 }' "$TB_OUT/devices")"
}

iommu_expect_fail()
{
	pat=$1
	shift
	iommu-probe "$@" >/tmp/probe.out 2>&1 && die "iommu-probe $* succeeded"
	sed 's/^/NOTE: /' /tmp/probe.out
	grep -q "$pat" /tmp/probe.out || die "no '$pat' in the message"
}

iommu_ich9()
{
	modprobe ahci; modprobe lpc_ich; modprobe i2c_i801
	for d in /sys/kernel/iommu_groups/*/devices/0000:00:1f.*; do
		echo "NOTE: $d driver=$(basename "$(readlink "$d/driver")" 2>/dev/null)"
	done
	iommu-probe --ram 16 00:1f.2 >/tmp/probe.out 2>&1
	echo "NOTE: on ahci: exit $?"
	sed 's/^/NOTE: /' /tmp/probe.out
	dev=/sys/bus/pci/devices/0000:00:1f.2
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
	[ "$rc" != 0 ] || die "a non-viable group was accepted"
	grep -q "is not viable: 0000:00:1f.0 is bound to lpc_ich" /tmp/probe.out || die "wrong message"
}
