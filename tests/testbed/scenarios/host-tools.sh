# SPDX-License-Identifier: MIT
# Scenario host-tools: vfio-vmm doctor, devices, bind/unbind, flavors and
# device locks against L1's real sysfs and vfio-pci. The ICH9 functions
# (00:1f.0 lpc_ich, 00:1f.2 ahci, 00:1f.3 i801_smbus) share one IOMMU
# group: the natural "group not viable" case. Every test leaves the five
# test devices on vfio-pci and the ICH9 functions on their drivers.
#
# Interrupt remapping: with L1 booted with intremap=off (tests/testbed/
# run.sh --noremap host-tools) the same tests expect doctor's remapping
# FAIL, then its WARN once allow_unsafe_interrupts is set.

ICH9_SATA=0000:00:1f.2

scenario_host_tools()
{
	run_test host.ich9-drivers 20 host_ich9_drivers
	run_test host.doctor-pass 20 host_doctor_pass
	run_test host.devices 20 host_devices
	run_test host.doctor-unbound 20 host_doctor_unbound
	run_test host.doctor-group 30 host_doctor_group
	run_test host.bind-idempotent 20 host_bind_idempotent
	run_test host.intremap 20 host_intremap
	# These two start VMs: without remapping VFIO refuses the container
	# unless unsafe interrupts are allowed, so allow them for the two.
	local unsafe=/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
	ir_on || echo Y >"$unsafe"
	run_test host.flavor 30 host_flavor
	run_test host.lock 40 host_lock
	ir_on || echo N >"$unsafe"
}

# Is interrupt remapping on? The kernel's own boot message decides, not
# the heuristic doctor uses.
ir_on()
{
	dmesg | grep -qE 'Enabled IRQ remapping|Interrupt remapping enabled'
}

# The nvme's address: it moves with --iommu amd.
nvme_bdf()
{
	awk '$1 == "nvme" { print $2 }' "$TB_OUT/devices"
}

driver_of()
{
	basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null
}

# vv CMD...: runs vfio-vmm, output in $OUT (both streams), status in $RC.
vv()
{
	echo "+ vfio-vmm $*"
	OUT=$(vfio-vmm "$@" 2>&1)
	RC=$?
	echo "$OUT"
	echo "(exit status $RC)"
}

has()
{
	printf '%s\n' "$OUT" | grep -qF -- "$1" || die "no '$1' in the output of vfio-vmm"
}

host_ich9_drivers()
{
	local m
	need_vmm
	for m in ahci lpc_ich i2c_i801; do
		modprobe "$m" || die "modprobe $m failed (is it in L1_MODULES?)"
	done
	[ "$(driver_of 0000:00:1f.0)" = lpc_ich ] || die "1f.0 is on '$(driver_of 0000:00:1f.0)'"
	[ "$(driver_of $ICH9_SATA)" = ahci ] || die "1f.2 is on '$(driver_of $ICH9_SATA)'"
	[ "$(driver_of 0000:00:1f.3)" = i801_smbus ] || die "1f.3 is on '$(driver_of 0000:00:1f.3)'"
}

# The five test devices are on vfio-pci (init bound them): nothing fails
# but, without remapping, that one check.
host_doctor_pass()
{
	local name bdf id methods
	need_vmm
	vv doctor
	while read -r name bdf id; do
		has "PASS  $bdf: ${id%:*}:${id#*:} "
		has "PASS  $bdf: IOMMU group $(iommu_group "$bdf") is viable"
		has "PASS  $bdf: /dev/vfio/$(iommu_group "$bdf") usable"
		# What doctor says of resetting it follows sysfs reset_method.
		methods=$(cat "/sys/bus/pci/devices/$bdf/reset_method" 2>/dev/null)
		case "$methods" in
		*flr*) has "PASS  $bdf: reset: $methods (a guest FLR is passed on)" ;;
		"") has "WARN  $bdf: no reset method: a VM inherits" ;;
		*) has "PASS  $bdf: reset: $methods (between VMs" ;;
		esac
	done <"$TB_OUT/devices"
	printf '%s\n' "$OUT" | grep -q ': reset: flr' ||
		die "doctor found no device with FLR (QEMU's nvme has it)"
	has "PASS  kvm: /dev/kvm usable"
	has "PASS  iommu: on"
	has "PASS  vfio modules"
	has "PASS  vfio container"
	if ir_on; then
		[ "$RC" = 0 ] || die "doctor exited $RC with every device bound"
		[ "$(printf '%s\n' "$OUT" | grep -c '^FAIL')" = 0 ] || die "a FAIL line"
	else
		[ "$RC" = 1 ] || die "doctor exited $RC without interrupt remapping"
		[ "$(printf '%s\n' "$OUT" | grep '^FAIL' | grep -vc 'interrupt remapping')" = 0 ] ||
			die "a FAIL line other than interrupt remapping"
	fi
	echo "NOTE: $(printf '%s\n' "$OUT" | tail -1)"
}

host_devices()
{
	local name bdf id
	need_vmm
	vv devices
	[ "$RC" = 0 ] || die "devices exited $RC"
	while read -r name bdf id; do
		printf '%s\n' "$OUT" | grep "^$bdf  $id " | grep -q " vfio-pci .* yes" ||
			die "$name $bdf is not listed as assignable"
	done <"$TB_OUT/devices"
	printf '%s\n' "$OUT" | grep "^$ICH9_SATA " | grep -q "SATA controller .* ahci .* no: 0000:00:1f.0 in its group is on lpc_ich" ||
		die "1f.2 is not listed as blocked by its group"
	printf '%s\n' "$OUT" | grep "^$(awk '$1 == "ivshmem" { print $2 }' "$TB_OUT/devices") " |
		grep -q " 2:$IVSHMEM_SIZE " ||
		die "ivshmem's BAR2 is not listed as $IVSHMEM_SIZE"
	vv devices --json
	[ "$RC" = 0 ] || die "devices --json exited $RC"
	has "\"address\": \"$(nvme_bdf)\", \"vendor\": \"1b36\", \"device\": \"0010\", \"class\": \"0x010802\""
	has '"driver": "ahci"'
	echo "NOTE: $(printf '%s\n' "$OUT" | grep -c '"address"') PCI functions listed"
}

# edu taken off vfio-pci: doctor names the fix; running the fix heals it.
host_doctor_unbound()
{
	local edu
	need_vmm
	edu=$(awk '$1 == "edu" { print $2 }' "$TB_OUT/devices")
	echo "$edu" >"/sys/bus/pci/devices/$edu/driver/unbind" || die "cannot unbind edu"
	vv doctor "$edu"
	[ "$RC" = 1 ] || die "doctor exited $RC for an unbound device"
	has "FAIL  $edu: bound to no driver, not vfio-pci. Fix: vfio-vmm bind $edu"
	vv bind "$edu"
	[ "$RC" = 0 ] || die "bind exited $RC"
	[ "$(driver_of "$edu")" = vfio-pci ] || die "edu is on '$(driver_of "$edu")' after bind"
	vv doctor "$edu"
	has "PASS  $edu: 1234:11e8"
	vv doctor $ICH9_SATA
	[ "$RC" = 1 ] || die "doctor exited $RC for a device on ahci"
	has "FAIL  $ICH9_SATA: bound to ahci, not vfio-pci. Fix: vfio-vmm bind $ICH9_SATA"
}

# One ICH9 function on vfio-pci leaves its group not viable; --group fixes
# it, and unbind --group gives all three their drivers back.
host_doctor_group()
{
	local grp
	need_vmm
	grp=$(iommu_group $ICH9_SATA)
	vv bind 00:1f.2
	[ "$RC" = 0 ] || die "bind exited $RC"
	has "$ICH9_SATA: ahci -> vfio-pci"
	vv doctor $ICH9_SATA
	[ "$RC" = 1 ] || die "doctor exited $RC for a non-viable group"
	has "FAIL  $ICH9_SATA: group $grp is not viable: 0000:00:1f.0 is bound to lpc_ich, 0000:00:1f.3 is bound to i801_smbus; bind them to vfio-pci too. Fix: vfio-vmm bind --group $ICH9_SATA"
	vv bind --group 00:1f.2
	[ "$RC" = 0 ] || die "bind --group exited $RC"
	has "0000:00:1f.0: lpc_ich -> vfio-pci"
	has "$ICH9_SATA: already bound to vfio-pci"
	vv doctor $ICH9_SATA
	has "PASS  $ICH9_SATA: IOMMU group $grp is viable"
	vv unbind --group $ICH9_SATA
	[ "$RC" = 0 ] || die "unbind --group exited $RC"
	has "0000:00:1f.0: vfio-pci -> lpc_ich (restored)"
	has "$ICH9_SATA: vfio-pci -> ahci (restored)"
	has "0000:00:1f.3: vfio-pci -> i801_smbus (restored)"
	[ "$(driver_of $ICH9_SATA)" = ahci ] || die "1f.2 is on '$(driver_of $ICH9_SATA)'"
	[ "$(driver_of 0000:00:1f.0)" = lpc_ich ] || die "1f.0 is on '$(driver_of 0000:00:1f.0)'"
}

host_bind_idempotent()
{
	need_vmm
	vv bind $ICH9_SATA
	vv bind $ICH9_SATA
	[ "$RC" = 0 ] || die "a second bind exited $RC"
	has "already bound to vfio-pci"
	[ "$(cat /run/vfio-vmm/$ICH9_SATA.driver)" = ahci ] || die "bind did not record ahci"
	vv unbind $ICH9_SATA
	vv unbind $ICH9_SATA
	[ "$RC" = 0 ] || die "a second unbind exited $RC"
	has "not bound to vfio-pci (driver: ahci); nothing to do"
	[ ! -e /run/vfio-vmm/$ICH9_SATA.driver ] || die "unbind left its record"
	vv bind 00:1f.7
	[ "$RC" = 1 ] || die "bind of a missing device exited $RC"
	has "0000:00:1f.7: no such PCI device"
}

host_intremap()
{
	local p=/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
	need_vmm
	vv doctor
	if ir_on; then
		has "PASS  interrupt remapping: on"
		echo "NOTE: interrupt remapping on; doctor agrees"
		return 0
	fi
	has "FAIL  interrupt remapping: off: VFIO refuses to set up the IOMMU"
	has "allow_unsafe_interrupts=1"
	echo Y >"$p" || die "cannot set $p"
	vv doctor
	echo N >"$p"
	has "WARN  interrupt remapping: off, allowed by vfio_iommu_type1.allow_unsafe_interrupts=1"
	[ "$RC" = 0 ] || die "doctor exited $RC with only a WARN for remapping"
	echo "NOTE: interrupt remapping off; doctor FAILs, and WARNs with allow_unsafe_interrupts"
}

write_conf()
{
	cat >"$TB_OUT/host.conf" <<EOF
; test config: one QEMU nvme in the testbed
[alias nvme]
vendor = 0x1b36
device = 0x0010
description = QEMU NVMe controller

[flavor two-nvme]
cpus = 1
memory = 64M
devices = nvme:2

[flavor one-nvme]
memory = 64M
devices = nvme:1
EOF
}

# Two nvme wanted, one exists: refused before any VM is made.
host_flavor()
{
	need_vmm
	write_conf
	vv run --kernel "$TB/guests/hello" --config "$TB_OUT/host.conf" --flavor two-nvme
	[ "$RC" = 1 ] || die "run --flavor two-nvme exited $RC"
	# Only 1: the sriov scenario's PF (1b36:0010 too) is parked off vfio-pci.
	has "alias nvme (1b36:0010): 2 wanted but only 1 free"
	has "free some or ask for fewer"
	vv run --kernel "$TB/guests/hello" --config "$TB_OUT/host.conf" --device alias:nvme:3
	[ "$RC" = 1 ] || die "run --device alias:nvme:3 exited $RC"
	has "3 wanted but only 1 free"
	vv run --kernel "$TB/guests/hello" --config "$TB_OUT/host.conf" --flavor one-nvme
	has "alias nvme: picked $(nvme_bdf)"
	[ "$RC" = 0 ] || die "run --flavor one-nvme exited $RC"
}

# A VMM holding nvme: a second one, an alias pick and unbind are refused.
host_lock()
{
	local pid holder i=0 nvme
	nvme=$(nvme_bdf)
	need_vmm
	write_conf
	vfio-vmm run --kernel "$TB/l2/bzImage" --cmdline "console=ttyS0 panic=0" --memory 128M \
		--device $nvme >"$TB_OUT/host-lock-first.out" 2>&1 </dev/null &
	pid=$!
	while [ "$(cat /run/vfio-vmm/$nvme.lock 2>/dev/null)" != "$pid" ]; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || { kill $pid; cat "$TB_OUT/host-lock-first.out"; die "the first VMM never locked $nvme"; }
		kill -0 $pid 2>/dev/null || { cat "$TB_OUT/host-lock-first.out"; die "the first VMM exited"; }
		sleep 0.1
	done
	vv run --kernel "$TB/guests/hello" --device "$nvme"
	holder=$RC
	has "$nvme is in use by another vfio-vmm (pid $pid)"
	vv run --kernel "$TB/guests/hello" --config "$TB_OUT/host.conf" --device alias:nvme:1
	has "$nvme is in use by vfio-vmm pid $pid"
	vv unbind $nvme
	has "$nvme is in use by vfio-vmm (pid $pid): stop that VM first"
	vv devices
	printf '%s\n' "$OUT" | grep "^$nvme " | grep -q "in use: vfio-vmm pid $pid" ||
		die "devices does not show the holder"
	kill $pid
	wait $pid
	[ "$holder" = 1 ] || die "the second VMM exited $holder, want 1"
	[ "$(driver_of $nvme)" = vfio-pci ] || die "nvme left vfio-pci"
	vv run --kernel "$TB/guests/hello" --device "$nvme"
	[ "$RC" = 0 ] || die "nvme still refused after the first VMM ended (exit $RC)"
}
