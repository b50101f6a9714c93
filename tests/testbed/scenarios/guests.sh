# SPDX-License-Identifier: MIT
# Scenario guests: vfio-vmm boots each tiny guest (guest-tests/) as L2 on
# L1's nested KVM. Same contract as on the host: the exit status is what the
# guest wrote to the test port, and a passing guest prints "PASS <name>".

scenario_guests()
{
	local g n=0
	for g in "$TB"/guests/*; do
		[ -f "$g" ] || continue
		# pt-* drive assigned devices (scenario passthrough), virtio-* need
		# --disk (scenario virtio).
		case "$(basename "$g")" in pt-*|virtio-*) continue ;; esac
		run_test "guests.$(basename "$g")" 60 guest_boot "$(basename "$g")"
		n=$((n + 1))
	done
	[ "$n" != 0 ] || run_test guests.present 5 die "no guest binaries in the initramfs"
}

# The "fail" guest is the negative case: it must fail its assertion.
guest_expect_status()
{
	case "$1" in
	fail) echo 1 ;;
	*) echo 0 ;;
	esac
}

guest_boot()
{
	local name=$1 want rc
	need_vmm
	want=$(guest_expect_status "$name")
	echo "+ vfio-vmm run --kernel $TB/guests/$name"
	timeout -s KILL 50 vfio-vmm run --kernel "$TB/guests/$name" \
		>"$TB_OUT/guest-$name.out" 2>&1
	rc=$?
	cat "$TB_OUT/guest-$name.out"
	[ "$rc" != 137 ] || die "vfio-vmm did not exit within 50s"
	[ "$rc" = "$want" ] || die "exit status $rc, want $want"
	if [ "$want" = 0 ]; then
		grep -q "^PASS $name" "$TB_OUT/guest-$name.out" ||
			die "exit status 0 but no 'PASS $name' line"
	else
		! grep -q "^PASS" "$TB_OUT/guest-$name.out" ||
			die "a failing guest printed a PASS line"
	fi
	# L1's CPU has the address bits for it: the check must have run here.
	[ "$name" != memory ] ||
		grep -q '^memory: map_phys(uncached) over the boot map: .*ok' "$TB_OUT/guest-$name.out" ||
		die "memory skipped its map_phys(uncached) check"
}
