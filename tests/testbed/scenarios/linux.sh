# SPDX-License-Identifier: MIT
# Scenario linux: vfio-vmm boots the Debian kernel as L2, once as a bzImage
# and once as the PVH vmlinux, into a busybox init (l2/init) that checks the
# ECAM window and the host bridge's 4 KiB config space, then powers off.
# Each test reports the L2 boot time: VMM start to the init marker.

L2_CMDLINE="console=ttyS0 earlyprintk=ttyS0 panic=-1"

scenario_linux()
{
	run_test linux.bzimage 150 linux_boot bzImage
	# The PVH boot also runs two vCPUs: Linux starts the AP through
	# INIT/SIPI in KVM's LAPIC, and both must come online.
	export L2_APPEND="tb.checks=ecam,hostbridge,timer,cpus tb.cpus=2"
	run_test linux.pvh 150 linux_boot vmlinux --cpus 2
	unset L2_APPEND
}

# linux_boot FILE [EXTRA VMM ARGS]: boots $TB/l2/FILE and judges its output.
linux_boot()
{
	local kernel=$TB/l2/$1 out=$TB_OUT/linux-$1.out rc boot checks
	shift
	need_vmm
	set -- run --kernel "$kernel" --initrd "$TB/l2/initramfs.cpio.gz" \
		--cmdline "$L2_CMDLINE${L2_APPEND:+ $L2_APPEND}" --memory 256M "$@"
	echo "+ vfio-vmm $*"
	vmm_watch "$out" 120 10 "$@"
	tr -d '\r' <"$out"
	rc=$(sed -n 's/^VMM-EXIT //p' "$out")
	boot=$(sed -n 's/^BOOT-TIME //p' "$out")
	[ -n "$boot" ] || die "no L2 init marker (vfio-vmm exit status $rc)"
	echo "NOTE: L2 boot time ($(basename "$kernel")): ${boot}s (vfio-vmm start to L2 init)"
	checks=$(tr -d '\r' <"$out" | sed -n 's/^L2-CHECK fail //p' | head -1)
	[ -z "$checks" ] || die "L2 check failed: $checks"
	grep -q '^L2-CHECK ok ecam' "$out" || die "L2 did not report its ecam check"
	grep -q 'L2-TESTBED: done' "$out" || die "L2 init did not finish its checks"
	[ "$rc" != 137 ] || die "L2 did not power off: vfio-vmm still running ${POWEROFF_GRACE}s after L2 init finished"
	[ "$rc" = 0 ] || die "vfio-vmm exited with status $rc after L2 poweroff"
}

# vmm_watch OUT LIMIT GRACE ARGS...: runs vfio-vmm ARGS with its output in
# OUT, stamping "BOOT-TIME s" when the L2 init marker streams past and ending
# with "VMM-EXIT status". The VMM is killed after LIMIT seconds, or GRACE
# seconds after L2 printed its done marker (a poweroff that never lands).
vmm_watch()
{
	local out=$1 limit=$(($2 * ${SLOW:-1})) grace=$3 t0 pidf=$TB_OUT/vmm.pid deadline
	shift 3
	POWEROFF_GRACE=$grace
	t0=$(uptime_s)
	{
		timeout -s KILL "$limit" vfio-vmm "$@" 2>&1 &
		echo $! >"$pidf"
		wait $!
		echo "VMM-EXIT $?"
	} | awk -v t0="$t0" '
		/L2-TESTBED: init reached/ && !seen {
			getline up <"/proc/uptime"
			split(up, f, " ")
			printf "BOOT-TIME %.2f\n", f[1] - t0
			seen = 1
		}
		{ print; fflush() }' >"$out" &
	local pipe=$! killed=""
	deadline=""
	while kill -0 "$pipe" 2>/dev/null; do
		sleep 0.5
		[ -z "$killed" ] || continue
		if [ -z "$deadline" ]; then
			grep -q 'L2-TESTBED: done' "$out" &&
				deadline=$(awk -v a="$(uptime_s)" -v g="$grace" \
					'BEGIN { print a + g }')
			continue
		fi
		if awk -v a="$(uptime_s)" -v b="$deadline" 'BEGIN { exit !(a > b) }'; then
			kill -KILL "$(cat "$pidf")" 2>/dev/null
			killed=1
		fi
	done
	wait "$pipe"
}

# l2_sample_irqs FILE: keeps in FILE the highest total L1 has counted on
# vfio-msix vectors, twice a second. The total must be sampled while L2
# runs: its poweroff shuts the drivers down, MSI-X is disabled and VFIO
# frees the vectors with their counts before vfio-vmm can print --stats.
l2_sample_irqs()
{
	local max=0 n
	echo 0 >"$1"
	while sleep 0.5; do
		n=$(awk '/vfio-msix/ {
			for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i
		} END { print s + 0 }' /proc/interrupts)
		[ "$n" -le "$max" ] && continue
		max=$n
		echo "$max" >"$1"
	done
}
