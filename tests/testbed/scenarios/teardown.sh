# SPDX-License-Identifier: MIT
# Scenario teardown (issue 12's teardown matrix, issue 10's exit paths):
# one VM with every kind of host resource vfio-vmm takes (edu assigned
# through VFIO with its DMA mappings, a --disk image opened read-write and
# locked, a tap it creates for --net over vhost-net, a vhost-vsock CID),
# ended each way a VM ends:
#
#   teardown.poweroff      the guest exits through the exit port: status 0
#   teardown.reboot        the guest asks for a reset (port 0xcf9): status 0
#   teardown.guest-fail    the guest reports a failure: status 1
#   teardown.triple-fault  the guest crashes (triple fault): status 120
#   teardown.kvm-error     KVM cannot go on (instruction fetch from unbacked
#                          MMIO space: an internal error): status 121
#   teardown.sigterm,      a signal to the VMM while the guest runs:
#   teardown.sigint,       128 + the signal, after an orderly stop
#   teardown.sighup
#   teardown.sigkill       SIGKILL: no teardown of ours at all, the kernel
#                          closes every fd: status 137
#   teardown.setup-error   a VMM error after every device is open, edu's
#                          DMA mapped and the tap made (an initrd larger than
#                          guest RAM, found when the kernel is loaded): one
#                          error line, status 1
#
# After each: the process is gone, the tap is gone from `ip link`, edu is
# still on vfio-pci and `vfio-vmm devices` does not show it in use, and the next run gets the same tap name, the same CID,
# the same image read-write and the same device (each case runs the same
# VM, so a leak fails the case after it). teardown.after then runs pt-edu
# on a fresh VM (the device still works: no stale DMA mapping, interrupt
# or lock) and checks L1's kernel log gained no WARNING or BUG.

# pt_bdf, PT_MEM.
. "$TB/scenarios/passthrough.sh"

TD_TAP=tbtd0
TD_CID=7
TD_IMG=/tmp/teardown.img

scenario_teardown()
{
	modprobe -a tun vhost_net vhost_vsock ||
		echo "TESTBED-L1: modprobe tun vhost_net vhost_vsock failed"
	run_test teardown.setup 30 td_setup
	run_test teardown.poweroff 40 td_end poweroff 0
	run_test teardown.reboot 40 td_end reboot 0
	run_test teardown.guest-fail 40 td_end guest-fail 1
	run_test teardown.triple-fault 40 td_end triple 120
	run_test teardown.kvm-error 40 td_end kvm-error 121
	run_test teardown.sigterm 40 td_end TERM 143
	run_test teardown.sigint 40 td_end INT 130
	run_test teardown.sighup 40 td_end HUP 129
	run_test teardown.sigkill 40 td_end KILL 137
	run_test teardown.setup-error 40 td_end setup-error 1
	run_test teardown.after 60 td_after
}

td_kernel_warnings()
{
	dmesg | grep -c -E 'WARNING|BUG|Oops' || true
}

td_setup()
{
	need_vmm
	[ -e /dev/vhost-net ] && [ -e /dev/vhost-vsock ] || die "no vhost modules in L1"
	[ -n "$(pt_bdf edu)" ] || die "no edu device in L1"
	! ip link show $TD_TAP >/dev/null 2>&1 || die "$TD_TAP exists before the first VM"
	dd if=/dev/zero of=$TD_IMG bs=1M count=8 2>/dev/null || die "cannot make $TD_IMG"
	td_kernel_warnings >"$TB_OUT/teardown.warnings"
	echo "edu at $(pt_bdf edu), tap $TD_TAP, cid $TD_CID, disk $TD_IMG"
}

# td_vmm OUT GUEST-ARGS...: the one VM, with every resource, in the
# background; its pid in TD_PID.
td_vmm()
{
	local out=$1
	shift
	vfio-vmm run --memory "$PT_MEM" --device "$(pt_bdf edu)" --disk path=$TD_IMG \
		--net tap=$TD_TAP --vsock cid=$TD_CID "$@" </dev/null >"$out" 2>&1 &
	TD_PID=$!
}

# td_wait_line OUT PATTERN: until the VM's output has PATTERN (20 s).
td_wait_line()
{
	local i=0
	while ! grep -q "$2" "$1"; do
		kill -0 "$TD_PID" 2>/dev/null || { cat "$1"; die "the VMM ended before '$2'"; }
		[ $i -lt 200 ] || { kill -KILL "$TD_PID"; cat "$1"; die "no '$2' within 20 s"; }
		sleep 0.1
		i=$((i + 1))
	done
}

# td_end HOW STATUS: ends the VM that way; it must exit with STATUS and
# leave nothing behind.
td_end()
{
	local how=$1 want=$2 out=$TB_OUT/teardown-$1.out rc kernel=$TB/guests/fail
	need_vmm
	case "$how" in
	poweroff) td_vmm "$out" --kernel "$TB/guests/hello" ;;
	guest-fail) td_vmm "$out" --kernel "$kernel" ;;
	reboot) td_vmm "$out" --kernel "$kernel" --cmdline crash=reboot ;;
	triple) td_vmm "$out" --kernel "$kernel" --cmdline crash=triple ;;
	kvm-error) td_vmm "$out" --kernel "$kernel" --cmdline crash=kvm-error ;;
	setup-error)
		truncate -s 80M /tmp/teardown.initrd || die "cannot make /tmp/teardown.initrd"
		td_vmm "$out" --kernel "$TB/guests/hello" --initrd /tmp/teardown.initrd ;;
	*)
		td_vmm "$out" --kernel "$kernel" --cmdline crash=hang
		td_wait_line "$out" "halting until stopped"
		ip link show $TD_TAP >/dev/null 2>&1 || die "no $TD_TAP while the VM runs"
		kill -"$how" "$TD_PID"
		;;
	esac
	# Bounded: a VMM that hangs in its teardown fails here, not the run.
	( sleep 30; kill -KILL "$TD_PID" 2>/dev/null ) &
	local guard=$!
	wait "$TD_PID"
	rc=$?
	kill "$guard" 2>/dev/null
	tr -d '\r' <"$out" | tail -8
	[ "$rc" = "$want" ] || die "exit status $rc, expected $want"
	case "$how" in
	setup-error)
		rm -f /tmp/teardown.initrd
		grep -q "tap created" "$out" || die "the error came before the tap was made"
		grep -q "mapped .* of guest RAM for DMA" "$out" ||
			die "the error came before guest RAM was mapped for DMA"
		[ "$(grep -c '^vfio-vmm: error' "$out")" = 1 ] ||
			die "expected one error line, got: $(grep '^vfio-vmm' "$out")"
		grep -q "does not fit in guest RAM" "$out" || die "not the initrd error" ;;
	triple)
		grep -q "triple fault" "$out" || die "no 'triple fault' in the VMM's output" ;;
	esac
	td_left_behind
	echo "NOTE: $how: exit $rc; process, tap and locks gone, edu on vfio-pci"
}

td_left_behind()
{
	local bdf drv line
	bdf=$(pt_bdf edu)
	! kill -0 "$TD_PID" 2>/dev/null || die "the VMM process is still there"
	! ip link show $TD_TAP >/dev/null 2>&1 || die "$TD_TAP is still there"
	drv=$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")
	[ "$drv" = vfio-pci ] || die "edu is bound to '$drv', not vfio-pci"
	line=$(vfio-vmm devices 2>&1 | grep "$bdf")
	echo "devices: $line"
	case "$line" in
	*"in use"*) die "vfio-vmm devices still shows edu in use" ;;
	esac
}

td_after()
{
	local before now out=$TB_OUT/teardown-after.out
	need_vmm
	vfio-vmm run --kernel "$TB/guests/pt-edu" --memory "$PT_MEM" --device "$(pt_bdf edu)" \
		--disk path=$TD_IMG --net tap=$TD_TAP --vsock cid=$TD_CID </dev/null >"$out" 2>&1
	tr -d '\r' <"$out" | grep -E '^(PASS|FAIL|CHECK|vfio-vmm)' | head -20
	grep -q '^PASS pt-edu' "$out" || die "pt-edu failed on the VM after the matrix"
	! ip link show $TD_TAP >/dev/null 2>&1 || die "$TD_TAP is still there"
	before=$(cat "$TB_OUT/teardown.warnings")
	now=$(td_kernel_warnings)
	[ "$now" = "$before" ] ||
		die "L1's kernel log gained $((now - before)) WARNING/BUG lines: $(dmesg | grep -E 'WARNING|BUG|Oops' | tail -3)"
	rm -f $TD_IMG
}
