# SPDX-License-Identifier: MIT
# Scenario unpriv (issue 12): vfio-vmm run by an ordinary user, as VFIO
# intends, given only what docs/quickstart.md says to give: read-write
# /dev/kvm, its own /dev/vfio/N, and a memlock limit that covers guest RAM.
# tb-probe runas drops every privilege (uid, gid, no supplementary groups,
# and checks it cannot become root again) and sets the limit.
#
#   unpriv.edu         the user runs pt-edu with edu assigned: every check
#                      passes (MSI, INTx, DMA through the IOMMU, BAR move),
#                      and vfio-vmm prints nothing of its own (root's lock
#                      directory is not the user's: no warning for that)
#   unpriv.busy        a second VM of the user's on the same device while
#                      the first runs: one line, the group is in use, exit 1
#   unpriv.no-group    without /dev/vfio/N: one line naming the node and
#                      the fix, exit 1, nothing left behind
#   unpriv.memlock     a memlock limit below guest RAM: one line naming
#                      the limit and the fix, exit 1
#   unpriv.doctor      doctor --user: as root, says what the user lacks
#                      (/dev/kvm, /dev/vfio/N, the memlock limit of a login)
#                      and how to grant it, then passes once it is granted

# pt_bdf, PT_MEM.
. "$TB/scenarios/passthrough.sh"

UP_USER=tbuser
UP_UID=1000
UP_GID=1000
UP_MEMLOCK_KIB=$((128 * 1024))	# guest RAM is 64 MiB

scenario_unpriv()
{
	run_test unpriv.setup 20 up_setup
	run_test unpriv.doctor 30 up_doctor
	run_test unpriv.edu 60 up_edu
	run_test unpriv.busy 60 up_busy
	run_test unpriv.no-group 30 up_no_group
	run_test unpriv.memlock 30 up_memlock
	run_test unpriv.cleanup 20 up_cleanup
}

up_group_node()
{
	echo "/dev/vfio/$(basename "$(readlink "/sys/bus/pci/devices/$(pt_bdf edu)/iommu_group")")"
}

# up_run OUT CMD...: CMD as the user, with the memlock limit.
up_run()
{
	local out=$1
	shift
	(cd /tmp && tb-probe runas $UP_UID $UP_GID "${UP_MEMLOCK:-$UP_MEMLOCK_KIB}" "$@") \
		</dev/null >"$out" 2>&1
}

up_grant()
{
	chown $UP_UID "$(up_group_node)" || die "chown $(up_group_node)"
	chgrp kvm /dev/kvm && chmod 0660 /dev/kvm || die "/dev/kvm: chgrp/chmod"
	# The user's group is kvm's too (its only group: runas sets no others).
	UP_GID=$(awk -F: '$1 == "kvm" { print $3 }' /etc/group)
}

up_revoke()
{
	chown 0 "$(up_group_node)"
	chmod 0600 /dev/kvm
}

up_setup()
{
	need_vmm
	grep -q "^$UP_USER:" /etc/passwd ||
		echo "$UP_USER:x:$UP_UID:$UP_GID:testbed user:/tmp:/bin/sh" >>/etc/passwd
	grep -q "^$UP_USER:" /etc/group || echo "$UP_USER:x:$UP_GID:" >>/etc/group
	grep -q "^kvm:" /etc/group || echo "kvm:x:78:" >>/etc/group
	# tbuser in kvm's member list: that is what doctor --user reads.
	awk -F: -v OFS=: -v u=$UP_USER '$1 == "kvm" && index("," $4 ",", "," u ",") == 0 {
		$4 = $4 == "" ? u : $4 "," u } 1' /etc/group >/tmp/group.new &&
		cat /tmp/group.new >/etc/group
	mkdir -p /etc/security/limits.d
	rm -f /etc/security/limits.d/vfio-vmm.conf
	grep "^kvm:" /etc/group
	[ -f "$TB_OUT/unpriv.kvm-mode" ] || stat -c %a /dev/kvm >"$TB_OUT/unpriv.kvm-mode"
	ls -l /dev/kvm "$(up_group_node)" /dev/vfio/vfio
}

up_doctor()
{
	local out=$TB_OUT/unpriv-doctor.out node
	need_vmm
	node=$(up_group_node)
	up_revoke
	rm -f /etc/security/limits.d/vfio-vmm.conf
	vfio-vmm doctor --user $UP_USER --memory 64M "$(pt_bdf edu)" >"$out" 2>&1
	cat "$out"
	grep -q "^FAIL  kvm: $UP_USER cannot open /dev/kvm" "$out" || die "doctor --user did not name /dev/kvm"
	grep -q "FAIL  $(pt_bdf edu): $UP_USER cannot open $node .*Fix: chown $UP_USER $node" "$out" ||
		die "doctor --user did not name $node and its fix"
	grep -q "^FAIL  memlock: a login of $UP_USER may pin 8M" "$out" ||
		die "doctor --user did not find the memlock limit short"
	# The grants it named.
	up_grant
	echo "$UP_USER hard memlock $UP_MEMLOCK_KIB" >/etc/security/limits.d/vfio-vmm.conf
	vfio-vmm doctor --user $UP_USER --memory 64M "$(pt_bdf edu)" >"$out.2" 2>&1
	cat "$out.2"
	! grep -q "$UP_USER cannot" "$out.2" || die "doctor --user still fails after the grant"
	grep -q "^PASS  memlock: a login of $UP_USER may pin 128M" "$out.2" ||
		die "doctor --user did not read limits.d"
}

up_edu()
{
	local out=$TB_OUT/unpriv-edu.out
	need_vmm
	up_grant
	up_run "$out" vfio-vmm run --kernel "$TB/guests/pt-edu" --memory "$PT_MEM" \
		--device "$(pt_bdf edu)"
	echo "exit $?"
	cat "$out"
	grep -q '^PASS pt-edu' "$out" || die "pt-edu did not pass as $UP_USER"
	! grep -q '^CHECK .*: FAIL' "$out" || die "a check failed as $UP_USER"
	! grep -q '^vfio-vmm: warning' "$out" || die "vfio-vmm warned as $UP_USER"
}

up_busy()
{
	local out=$TB_OUT/unpriv-busy.out pid rc i=0
	need_vmm
	up_grant
	up_run "$out.1" vfio-vmm run --kernel "$TB/guests/fail" --cmdline crash=hang \
		--memory "$PT_MEM" --device "$(pt_bdf edu)" &
	pid=$!
	while ! grep -q "halting until stopped" "$out.1" 2>/dev/null; do
		[ $i -lt 200 ] || { kill -KILL $pid; cat "$out.1"; die "the first VM never ran"; }
		sleep 0.1
		i=$((i + 1))
	done
	up_run "$out" vfio-vmm run --kernel "$TB/guests/hello" --memory "$PT_MEM" \
		--device "$(pt_bdf edu)"
	rc=$?
	kill -TERM $pid
	wait $pid
	cat "$out"
	[ "$rc" = 1 ] || die "the second VM: exit status $rc, expected 1"
	[ "$(wc -l <"$out")" = 1 ] || die "expected one line"
	grep -q "already in use" "$out" || die "the line does not say the group is in use"
}

up_no_group()
{
	local out=$TB_OUT/unpriv-nogroup.out rc
	need_vmm
	up_grant
	chown 0 "$(up_group_node)"
	up_run "$out" vfio-vmm run --kernel "$TB/guests/hello" --memory "$PT_MEM" \
		--device "$(pt_bdf edu)"
	rc=$?
	cat "$out"
	[ "$rc" = 1 ] || die "exit status $rc, expected 1"
	[ "$(wc -l <"$out")" = 1 ] || die "expected one line"
	grep -q "$(up_group_node)" "$out" || die "the line does not name $(up_group_node)"
}

up_memlock()
{
	local out=$TB_OUT/unpriv-memlock.out rc
	need_vmm
	up_grant
	UP_MEMLOCK=$((16 * 1024)) up_run "$out" vfio-vmm run --kernel "$TB/guests/hello" \
		--memory "$PT_MEM" --device "$(pt_bdf edu)"
	rc=$?
	cat "$out"
	[ "$rc" = 1 ] || die "exit status $rc, expected 1"
	[ "$(grep -c 'vfio-vmm: error' "$out")" = 1 ] || die "expected one error line"
	grep -qi "memlock" "$out" || die "the line does not name the memlock limit"
}

up_cleanup()
{
	up_revoke
	chgrp 0 /dev/kvm
	chmod "$(cat "$TB_OUT/unpriv.kvm-mode")" /dev/kvm
	ls -l /dev/kvm "$(up_group_node)"
}
