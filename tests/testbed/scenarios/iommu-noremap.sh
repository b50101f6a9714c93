# SPDX-License-Identifier: MIT
# Scenario iommu-noremap (on request: tests/testbed/run.sh --noremap
# iommu-noremap): without interrupt remapping VFIO_SET_IOMMU must fail with
# EPERM, and iommu-probe must print our hint.
. "$TB/scenarios/iommu.sh"

scenario_iommu_noremap()
{
	run_test iommu.noremap 30 iommu_noremap
}

iommu_noremap()
{
	local edu
	need_probe
	dmesg | grep -qE 'Enabled IRQ remapping|Interrupt remapping enabled' &&
		die "L1 has interrupt remapping: run it with run.sh --noremap"
	edu=$(bdf_of edu)
	[ -n "$edu" ] || die "no edu in $TB_OUT/devices"
	iommu-probe --ram 16 "$edu" >/tmp/probe.out 2>&1 &&
		die "probe succeeded without interrupt remapping"
	sed 's/^/NOTE: /' /tmp/probe.out
	grep -q "allow_unsafe_interrupts=1 or enable interrupt remapping" /tmp/probe.out ||
		die "no hint"
}
