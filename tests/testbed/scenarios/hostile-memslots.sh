# SPDX-License-Identifier: MIT
# Scenario hostile-memslots (on request): finding 1 of the hostile-guest
# run the long way. pt-hostile turns edu's BAR decode off and on 33,000
# times, more often than KVM has memslots (32764 on Linux 6.1), then uses
# edu through the BAR; before memslot numbers were reused, the BAR stayed
# unmapped from about cycle 32,760 on. Scenario hostile checks the same
# cheaply, from the numbers in --trace kvm.
# A cycle costs 1.6 ms in L2 on an idle host and up to 6.5 ms on a busy
# one: the scenario takes 1 to 4 minutes, so give run.sh a longer timeout:
#   tests/testbed/run.sh --timeout 900 l1 hostile-memslots

# hostile_run, hostile_memslot_numbers, hostile_l1_kernel and the helpers of
# scenario passthrough.
. "$TB/scenarios/hostile.sh"

scenario_hostile_memslots()
{
	local c
	run_test hostile-memslots.run 600 hostile_run hostile-memslots 590 \
		"only=memslot cycles=33000"
	for c in memslot.reuse edu.works nvme.works; do
		run_test "hostile-memslots.$c" 5 pt_check_line hostile-memslots "$c"
	done
	run_test hostile-memslots.memslot-numbers 60 hostile_memslot_numbers hostile-memslots 33000
	run_test hostile-memslots.l1-kernel 5 hostile_l1_kernel hostile-memslots
}
