# SPDX-License-Identifier: MIT
# Scenario sriov: an SR-IOV VF through real VFIO. The testbed's second nvme
# (host/qemu.sh sriov_args: QEMU 7.2's nvme in an NVM subsystem with
# sriov_max_vfs=2) is the PF; L1's init leaves it parked off vfio-pci.
#
#   sriov.enable    the PF on L1's nvme driver; its flexible resources
#                   released (Virtualization Management, primary flexible,
#                   0 queues and interrupts) and made effective by an FLR
#                   (sysfs reset): QEMU's documented steps, a no-op on QEMU
#                   7.2, whose primary starts with none; 2 VFs enabled with
#                   driver autoprobe off;
#                   VF 0 (NVMe VF number 1) given 2 queues and 1 interrupt
#                   and brought online (tb-nvmevirt, the nvme-cli virt-mgmt
#                   sequence of QEMU's docs/system/devices/nvme.rst). Its
#                   sysfs: physfn points at the PF, an IOMMU group of its
#                   own, raw config space IDs ffff:ffff (a VF's are), the
#                   kernel's IDs the PF's vendor and the SR-IOV VF device ID
#   sriov.host      vfio-vmm devices names it "VF 0 of PF ...", the PF
#                   "SR-IOV PF 2/2 VFs"; vfio-vmm bind puts it on vfio-pci;
#                   doctor passes it and says it is a VF
#   sriov.linux     L2 Linux with the VF assigned: pt-ids (the IDs VFIO
#                   presents), pt-nvme (the nvme driver binds, the 1 GiB
#                   namespace reads), pt-irqs (MSI-X vectors took
#                   interrupts), pt-vf (interrupt pin 0, 1 MiB written and
#                   read back); here L1 reads the same blocks through the PF
#                   and finds L2's data, and --trace shows no INTx route
#   sriov.teardown  the VF is still on vfio-pci after the VM; vfio-vmm
#                   unbind gives it back to no driver, as before; bound
#                   again and held by a VM, "echo 0 > sriov_numvfs" does
#                   not complete while the VM runs (the kernel waits for
#                   the device's release, VFIO asks the user for it) and
#                   the VMM survives; after SIGTERM (exit 143) the VFs go
#                   away; the PF goes back off the nvme driver

SRIOV_NUMVFS=2

. "$TB/scenarios/linux.sh"	# vmm_watch, L2_CMDLINE

scenario_sriov()
{
	modprobe nvme || echo "TESTBED-L1: modprobe nvme failed"
	run_test sriov.enable 90 sriov_enable
	run_test sriov.host 30 sriov_host
	run_test sriov.linux 150 sriov_linux
	run_test sriov.teardown 90 sriov_teardown
}

sriov_pf()
{
	awk '{ print $2; exit }' "$TB_OUT/sriov-pf" 2>/dev/null
}

sriov_vf()
{
	cat "$TB_OUT/sriov-vf" 2>/dev/null
}

sv_driver()
{
	basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null
}

# The PF's controller character device, /dev/nvmeN.
sriov_ctrl()
{
	local c
	c=$(ls "/sys/bus/pci/devices/$1/nvme" 2>/dev/null | head -1)
	[ -n "$c" ] && echo "/dev/$c"
}

# wait_live PF: the PF's controller is live again (after an FLR).
wait_live()
{
	local i=0 c
	while [ $i -lt 200 ]; do
		c=$(ls "/sys/bus/pci/devices/$1/nvme" 2>/dev/null | head -1)
		[ -n "$c" ] && [ "$(cat "/sys/class/nvme/$c/state" 2>/dev/null)" = live ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

sriov_enable()
{
	local pf d vf ctrl g gpf out
	pf=$(sriov_pf)
	[ -n "$pf" ] || die "no SR-IOV PF in L1 (QEMU's second nvme; see host/qemu.sh sriov_args)"
	d=/sys/bus/pci/devices/$pf
	echo "PF $pf: sriov_totalvfs $(cat "$d/sriov_totalvfs"), sriov_numvfs $(cat "$d/sriov_numvfs")"
	[ "$(cat "$d/sriov_totalvfs")" = "$SRIOV_NUMVFS" ] || die "PF $pf offers $(cat "$d/sriov_totalvfs") VFs, want $SRIOV_NUMVFS"
	echo >"$d/driver_override"
	echo "$pf" >/sys/bus/pci/drivers/nvme/bind 2>/dev/null
	[ "$(sv_driver "$pf")" = nvme ] || die "the PF $pf did not bind to nvme (driver '$(sv_driver "$pf")')"
	wait_live "$pf" || die "the PF's controller never became live"
	ctrl=$(sriov_ctrl "$pf")
	[ -c "$ctrl" ] || die "no controller node for the PF ($ctrl)"
	tb-nvmevirt "$ctrl" show || die "tb-nvmevirt show failed"
	tb-nvmevirt "$ctrl" release || die "releasing the primary's flexible resources failed"
	# The release takes effect at the PF's next FLR (QEMU applies it in a
	# function reset, not a controller reset); the nvme driver quiesces
	# and restarts around it.
	echo 1 >"$d/reset" || die "the PF's FLR (sysfs reset) failed"
	wait_live "$pf" || die "the PF's controller did not come back after its FLR"
	ctrl=$(sriov_ctrl "$pf")
	out=$(tb-nvmevirt "$ctrl" show) || die "tb-nvmevirt show failed after the FLR"
	echo "$out"
	echo "$out" | grep -q "vq flexible total 4, allocated to primary 0" ||
		die "the PF still holds its flexible queues after the FLR"
	echo 0 >"$d/sriov_drivers_autoprobe"
	echo "$SRIOV_NUMVFS" >"$d/sriov_numvfs" || die "echo $SRIOV_NUMVFS > sriov_numvfs failed: $(dmesg | tail -3)"
	[ "$(cat "$d/sriov_numvfs")" = "$SRIOV_NUMVFS" ] || die "sriov_numvfs reads $(cat "$d/sriov_numvfs")"
	vf=$(basename "$(readlink "$d/virtfn0")")
	[ -n "$vf" ] && [ -d "/sys/bus/pci/devices/$vf" ] || die "no virtfn0 link under the PF"
	echo "$vf" >"$TB_OUT/sriov-vf"
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$vf/physfn")")" = "$pf" ] ||
		die "VF $vf: physfn does not point at $pf"
	g=$(iommu_group "$vf")
	gpf=$(iommu_group "$pf")
	[ -n "$g" ] && [ "$g" != "$gpf" ] || die "VF $vf is in IOMMU group '$g', the PF in '$gpf'"
	[ "$(ls "/sys/kernel/iommu_groups/$g/devices")" = "$vf" ] ||
		die "VF $vf shares IOMMU group $g with: $(ls "/sys/kernel/iommu_groups/$g/devices")"
	[ -z "$(sv_driver "$vf")" ] || die "VF $vf was probed by $(sv_driver "$vf") with autoprobe off"
	tb-nvmevirt "$ctrl" online 1 2 1 || die "bringing VF number 1's controller online failed"
	out=$(tb-nvmevirt "$ctrl" show)
	echo "$out"
	echo "$out" | grep -q "vfn 1 online nvq 2 nvi 1" || die "VF number 1 is not online with 2 queues and 1 interrupt"
	echo "NOTE: PF $pf (IOMMU group $gpf) on nvme, $SRIOV_NUMVFS VFs: $(ls -d "$d"/virtfn* | while read -r l; do basename "$(readlink "$l")"; done | tr '\n' ' ')"
	echo "NOTE: VF $vf: IOMMU group $g alone, kernel IDs $(cat "/sys/bus/pci/devices/$vf/vendor"):$(cat "/sys/bus/pci/devices/$vf/device"), raw config IDs $(od -An -tx2 -N4 "/sys/bus/pci/devices/$vf/config" | tr -s ' '), controller online with 2 queues and 1 interrupt"
	case "$(od -An -tx2 -N4 "/sys/bus/pci/devices/$vf/config" | tr -s ' ')" in
	" ffff ffff") ;;
	*) die "the VF's raw config space IDs are not ffff:ffff (a VF's are)" ;;
	esac
}

sriov_host()
{
	local pf vf out
	need_vmm
	pf=$(sriov_pf)
	vf=$(sriov_vf)
	[ -n "$vf" ] || die "no VF (sriov.enable failed)"
	out=$(vfio-vmm devices 2>&1)
	echo "$out"
	echo "$out" | grep "^$vf " | grep -q "VF 0 of PF $pf" || die "vfio-vmm devices does not name $vf a VF of $pf"
	echo "$out" | grep "^$pf " | grep -q "SR-IOV PF $SRIOV_NUMVFS/$SRIOV_NUMVFS VFs" || die "vfio-vmm devices does not show $pf as a PF with $SRIOV_NUMVFS VFs"
	vfio-vmm devices --json | grep "\"address\": \"$vf\"" | grep -q "\"physfn\": \"$pf\"" ||
		die "vfio-vmm devices --json has no physfn for $vf"
	vfio-vmm bind "$vf" || die "vfio-vmm bind $vf failed"
	[ "$(sv_driver "$vf")" = vfio-pci ] || die "VF $vf is on '$(sv_driver "$vf")' after bind"
	out=$(vfio-vmm doctor "$vf" 2>&1)
	echo "$out"
	echo "$out" | grep -q "^FAIL" && die "doctor failed the bound VF: $(echo "$out" | grep -m1 '^FAIL')"
	echo "$out" | grep -q "VF 0 of PF $pf" || die "doctor does not say $vf is a VF of $pf"
	echo "NOTE: $(echo "$out" | grep "VF 0 of PF" | head -1)"
}

sriov_linux()
{
	local vf pf ids out=$TB_OUT/sriov-linux.out rc md5 l1md5 blk sampler c b
	need_vmm
	vf=$(sriov_vf)
	pf=$(sriov_pf)
	[ -n "$vf" ] || die "no VF (sriov.enable failed)"
	ids=$(printf '%04x:%04x' "$(cat "/sys/bus/pci/devices/$vf/vendor")" "$(cat "/sys/bus/pci/devices/$vf/device")")
	set -- run --kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
		--cmdline "$L2_CMDLINE tb.checks=pt-ids,pt-nvme,pt-irqs,pt-vf tb.devs=$ids${L2_APPEND:+ $L2_APPEND}" \
		--memory 256M --trace vfio,irq --stats --device "$vf"
	echo "+ vfio-vmm $*"
	l2_sample_irqs "$TB_OUT/sriov-irqs" &
	sampler=$!
	vmm_watch "$out" 120 10 "$@"
	kill "$sampler" 2>/dev/null
	wait "$sampler" 2>/dev/null
	tr -d '\r' <"$out" | tail -150
	rc=$(sed -n 's/^VMM-EXIT //p' "$out")
	sed -n 's/^L2-CHECK ok \([^:]*\): \(.*\)/NOTE: \1: \2/p' "$out" | tr -d '\r' | cut -c1-300
	c=$(tr -d '\r' <"$out" | sed -n 's/^L2-CHECK fail //p' | head -1)
	[ -z "$c" ] || die "L2 check failed: $c"
	for c in pt-ids pt-nvme pt-irqs pt-vf; do
		grep -q "^L2-CHECK ok $c:" "$out" || die "L2 did not report its $c check"
	done
	grep -q 'L2-TESTBED: done' "$out" || die "L2 init did not finish its checks"
	[ "$rc" = 0 ] || die "vfio-vmm exited with status $rc after L2 poweroff"
	! grep -q "INTx pin" "$out" || die "vfio-vmm set up INTx for a VF (VFIO offers it none)"
	echo "NOTE: L1 saw at least $(cat "$TB_OUT/sriov-irqs") interrupts on the VF's vfio-msix vectors"
	[ "$(cat "$TB_OUT/sriov-irqs")" -gt 0 ] || die "no vfio-msix interrupt in L1 while L2 used the VF"
	# What L2 wrote through the VF, read through the PF's controller here.
	md5=$(tr -d '\r' <"$out" | sed -n 's/^L2-CHECK ok pt-vf:.* md5 \([0-9a-f]*\).*/\1/p')
	# The namespace's node (nvme0n1); with native multipath the
	# per-controller path (nvme0c0n1) is in /sys/block too but has none.
	blk=""
	for b in /sys/block/nvme*; do
		[ -b "/dev/${b##*/}" ] && { blk=${b##*/}; break; }
	done
	[ -n "$blk" ] || die "no nvme namespace node of the PF in L1: $(ls /sys/block)"
	echo 3 >/proc/sys/vm/drop_caches
	l1md5=$(dd if="/dev/$blk" bs=65536 skip=16 count=16 2>/dev/null | md5sum | cut -d' ' -f1)
	echo "NOTE: L2 wrote 1 MiB at 1 MiB through VF $vf (md5 $md5); L1 reads it through PF $pf's /dev/$blk: md5 $l1md5"
	[ -n "$md5" ] && [ "$md5" = "$l1md5" ] || die "L1 reads other data through the PF than L2 wrote through the VF"
	[ "$(sv_driver "$vf")" = vfio-pci ] || die "VF $vf is on '$(sv_driver "$vf")' after the VM"
}

sriov_teardown()
{
	local pf vf d pid epid i=0 rc klines
	need_vmm
	pf=$(sriov_pf)
	vf=$(sriov_vf)
	[ -n "$vf" ] || die "no VF (sriov.enable failed)"
	d=/sys/bus/pci/devices/$pf
	vfio-vmm unbind "$vf" || die "vfio-vmm unbind $vf failed"
	[ -z "$(sv_driver "$vf")" ] || die "VF $vf is on '$(sv_driver "$vf")' after unbind, it had no driver before"
	echo "NOTE: after unbind VF $vf has no driver again, as before bind"
	vfio-vmm bind "$vf" || die "vfio-vmm bind $vf failed the second time"
	# A VM holding the VF while L1 disables the VFs.
	vfio-vmm run --kernel "$TB/l2/bzImage" --cmdline "console=ttyS0 panic=0" --memory 128M \
		--device "$vf" >"$TB_OUT/sriov-hold.out" 2>&1 </dev/null &
	pid=$!
	while [ "$(cat "/run/vfio-vmm/$vf.lock" 2>/dev/null)" != "$pid" ]; do
		i=$((i + 1))
		[ "$i" -lt 150 ] || { kill "$pid"; cat "$TB_OUT/sriov-hold.out"; die "the VMM never locked $vf"; }
		kill -0 "$pid" 2>/dev/null || { cat "$TB_OUT/sriov-hold.out"; die "the VMM exited early"; }
		sleep 0.1
	done
	sleep 1
	# Kernel lines from here on (not dmesg -c: later scenarios grep the
	# boot messages, e.g. host-tools for interrupt remapping).
	klines=$(dmesg | wc -l)
	(echo 0 >"$d/sriov_numvfs"; echo "numvfs-write-status $?" >"$TB_OUT/sriov-disable.rc") &
	epid=$!
	sleep 4
	kill -0 "$pid" 2>/dev/null || { cat "$TB_OUT/sriov-hold.out"; die "the VMM holding $vf died when L1 disabled the VFs"; }
	if [ -s "$TB_OUT/sriov-disable.rc" ]; then
		kill "$pid"
		die "disabling the VFs completed while a VM held VF $vf ($(cat "$TB_OUT/sriov-disable.rc"))"
	fi
	echo "NOTE: echo 0 > sriov_numvfs with VF $vf held: still waiting after 4 s, the VMM alive; kernel: $(dmesg | tail -n +$((klines + 1)) | grep -i -m1 'vfio\|blocked' | cut -c1-160)"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	tail -5 "$TB_OUT/sriov-hold.out"
	[ "$rc" = 143 ] || die "the VMM holding the VF exited $rc on SIGTERM, want 143"
	i=0
	while [ ! -s "$TB_OUT/sriov-disable.rc" ] && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$TB_OUT/sriov-disable.rc" ] || die "disabling the VFs did not finish after the VMM exited"
	wait "$epid"
	grep -q "status 0" "$TB_OUT/sriov-disable.rc" || die "echo 0 > sriov_numvfs failed: $(cat "$TB_OUT/sriov-disable.rc")"
	[ "$(cat "$d/sriov_numvfs")" = 0 ] || die "sriov_numvfs reads $(cat "$d/sriov_numvfs") after disabling"
	[ ! -e "/sys/bus/pci/devices/$vf" ] || die "VF $vf still exists after disabling the VFs"
	echo "NOTE: after SIGTERM (exit 143) the VFs went away: sriov_numvfs 0, $vf gone"
	# The PF back off the nvme driver, parked as init left it.
	echo "$pf" >/sys/bus/pci/drivers/nvme/unbind
	echo tb-parked >"$d/driver_override"
	[ -z "$(sv_driver "$pf")" ] || die "the PF is still on $(sv_driver "$pf")"
}
