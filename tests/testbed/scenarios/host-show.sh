# SPDX-License-Identifier: MIT
# Scenario host-show (on request): prints the real output of the host
# commands as NOTE lines, for docs/quickstart.md, which quotes
#   tests/testbed/run.sh --noremap host-tools host-show
# It shares host-tools' helpers and leaves the devices as those tests do.
. "$TB/scenarios/host-tools.sh"

scenario_host_show()
{
	# As in host-tools: without remapping the VMs need unsafe interrupts
	# allowed, or the one holding nvme exits before the refusals.
	local unsafe=/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
	ir_on || echo Y >"$unsafe"
	run_test host.show 60 host_show
	ir_on || echo N >"$unsafe"
}

# show CMD...: one vfio-vmm command and its output (both streams), as NOTE
# lines; fails when it printed nothing.
show()
{
	local out
	echo "NOTE: \$ vfio-vmm $*"
	out=$(vfio-vmm "$@" 2>&1)
	[ -n "$out" ] || die "vfio-vmm $* printed nothing"
	printf '%s\n' "$out" | sed 's/^/NOTE: /'
}

# show_run ARGS...: a run of the hello guest with host-tools' config, shown
# as the docs write it.
show_run()
{
	local out
	echo "NOTE: \$ vfio-vmm run --kernel hello --config host.conf $*"
	out=$(vfio-vmm run --kernel "$TB/guests/hello" --config "$TB_OUT/host.conf" "$@" 2>&1)
	[ -n "$out" ] || die "vfio-vmm run $* printed nothing"
	printf '%s\n' "$out" | sed 's/^/NOTE: /'
}

host_show()
{
	local c nvme pid i=0
	host_ich9_drivers
	nvme=$(nvme_bdf)
	[ -n "$nvme" ] || die "no nvme in $TB_OUT/devices"
	for c in "devices" "doctor" "bind 00:1f.2" "doctor 00:1f.2" "bind --group 00:1f.2" \
		 "unbind --group 00:1f.2" "devices --json"; do
		show $c
	done
	write_conf
	show_run --flavor two-nvme
	# A VMM holding nvme, for the refusals below.
	vfio-vmm run --kernel "$TB/l2/bzImage" --cmdline "console=ttyS0 panic=0" \
		--memory 128M --device "$nvme" >"$TB_OUT/host-show-first.out" 2>&1 </dev/null &
	pid=$!
	while [ "$(cat /run/vfio-vmm/$nvme.lock 2>/dev/null)" != "$pid" ]; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || { kill $pid; die "the first VMM never locked $nvme"; }
		kill -0 $pid 2>/dev/null ||
			{ cat "$TB_OUT/host-show-first.out"; die "the first VMM exited"; }
		sleep 0.1
	done
	# The short address, as a user would type it.
	show_run --device "${nvme#0000:}"
	show_run --device alias:nvme:1
	# An unbind the VMM does not stop would take nvme off vfio-pci.
	kill -0 $pid 2>/dev/null || die "the first VMM ended before the refusals were shown"
	show unbind "${nvme#0000:}"
	kill -0 $pid 2>/dev/null || die "the first VMM ended before the refusals were shown"
	kill $pid
	wait $pid
	return 0
}
