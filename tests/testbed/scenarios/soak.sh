# SPDX-License-Identifier: MIT
# Scenario soak (issue 12's soak and load): short in CI (100,000 MSIs, 100
# VMs: about 80 s), long on request with tb.soak=full on L1's command line
# (1,000,000 MSIs, 1,000 VMs: about 12 minutes):
#   TESTBED_APPEND=tb.soak=full tests/testbed/run.sh --timeout 1800 l1 soak
#
#   soak.msi     pt-edu with soak=SOAK_MSI: that many interrupts raised
#                through edu's raise register, each an MSI through VFIO's
#                eventfd and KVM's irqfd, one at a time; all must arrive
#                (the guest's count = the device's) and vfio-vmm's --stats
#                must show VFIO signalled that many on edu's vector
#   soak.cycles  SOAK_CYCLES VMs in a row with edu assigned and 64 MiB of
#                RAM mapped for DMA, each booted, run and powered off: every
#                one passes, and L1 ends where it started: open files
#                (/proc/sys/fs/file-nr), MemAvailable and Slab within a
#                margin (a leaked DMA pin would cost 64 MiB a cycle), no
#                vfio-vmm process, edu on vfio-pci and not in use

# pt_bdf, PT_MEM, pt_guest, pt_check_line.
. "$TB/scenarios/passthrough.sh"

if grep -q 'tb\.soak=full' /proc/cmdline; then
	SOAK_MSI=1000000
	SOAK_CYCLES=1000
else
	SOAK_MSI=100000
	SOAK_CYCLES=100
fi

scenario_soak()
{
	run_test soak.msi 900 soak_msi
	run_test soak.cycles 1200 soak_cycles
}

soak_msi()
{
	local out=$TB_OUT/pt-soak.out line host
	local PT_LIMIT=880
	pt_guest soak pt-edu edu -- --cmdline "soak=$SOAK_MSI" || return 1
	pt_check_line soak edu.soak-msi || return 1
	# What VFIO signalled on edu's vector, from --stats
	# ("vfio-msi[0](BDF)  N interrupts": L1's /proc/interrupts).
	line=$(tr -d '\r' <"$out" | grep "vfio-msi\[0\]" | head -1)
	echo "stats: $line"
	host=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) interrupts.*/\1/p')
	[ -n "$host" ] || die "no interrupt count for edu's MSI vector in --stats"
	# The soak's interrupts plus the few of pt-edu's own checks.
	[ "$host" -ge "$SOAK_MSI" ] ||
		die "VFIO signalled $host interrupts, the guest counted $SOAK_MSI"
	echo "NOTE: $SOAK_MSI MSIs raised and delivered; VFIO signalled $host on the vector"
}

soak_l1_state()
{
	local files avail slab
	files=$(cut -f1 /proc/sys/fs/file-nr)
	avail=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
	slab=$(awk '/^Slab:/ { print $2 }' /proc/meminfo)
	echo "$files $avail $slab"
}

soak_cycles()
{
	local i out=$TB_OUT/soak-cycle.out before after t0 bdf
	need_vmm
	bdf=$(pt_bdf edu)
	# One VM first, so the caches the first run fills are not counted as a leak.
	vfio-vmm run --kernel "$TB/guests/hello" --memory "$PT_MEM" --device "$bdf" \
		</dev/null >"$out" 2>&1 || { cat "$out"; die "the warm-up VM failed"; }
	sync
	before=$(soak_l1_state)
	t0=$(uptime_s)
	for i in $(seq 1 "$SOAK_CYCLES"); do
		vfio-vmm run --kernel "$TB/guests/hello" --memory "$PT_MEM" --device "$bdf" \
			</dev/null >"$out" 2>&1
		if [ $? != 0 ] || ! grep -q '^PASS hello' "$out"; then
			cat "$out"
			die "cycle $i failed"
		fi
	done
	sync
	after=$(soak_l1_state)
	echo "L1 before: files $(echo $before | cut -d' ' -f1), MemAvailable $(echo $before | cut -d' ' -f2) kB, Slab $(echo $before | cut -d' ' -f3) kB"
	echo "L1 after:  files $(echo $after | cut -d' ' -f1), MemAvailable $(echo $after | cut -d' ' -f2) kB, Slab $(echo $after | cut -d' ' -f3) kB"
	set -- $before $after
	# Margins: a few files for the shell's own, 16 MiB of memory, 4 MiB of slab.
	[ $(($4 - $1)) -le 16 ] || die "L1 has $(($4 - $1)) more open files after $SOAK_CYCLES VMs"
	[ $(($2 - $5)) -le 16384 ] ||
		die "L1's MemAvailable fell by $((($2 - $5) / 1024)) MiB over $SOAK_CYCLES VMs"
	[ $(($6 - $3)) -le 4096 ] || die "L1's slab grew by $((($6 - $3) / 1024)) MiB"
	! pidof vfio-vmm >/dev/null || die "a vfio-vmm process is still there"
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")" = vfio-pci ] ||
		die "edu is no longer on vfio-pci"
	vfio-vmm devices 2>&1 | grep "$bdf" | grep -q "in use" && die "edu still shows in use"
	echo "NOTE: $SOAK_CYCLES VMs with edu in $(awk -v a="$(uptime_s)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s; L1's files $(($4 - $1)), MemAvailable $((($5 - $2) / 1024)) MiB, slab $((($6 - $3) / 1024)) MiB after vs before"
}
