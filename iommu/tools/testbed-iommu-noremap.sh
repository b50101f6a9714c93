# SPDX-License-Identifier: MIT
# No interrupt remapping: VFIO_SET_IOMMU must fail with EPERM and our hint.
scenario_iommu_noremap()
{
	run_test iommu.noremap 30 iommu_noremap
}

iommu_noremap()
{
	iommu-probe --ram 16 00:01.0 >/tmp/probe.out 2>&1 && die "probe succeeded without interrupt remapping"
	sed 's/^/NOTE: /' /tmp/probe.out
	grep -q "allow_unsafe_interrupts=1 or enable interrupt remapping" /tmp/probe.out || die "no hint"
}
