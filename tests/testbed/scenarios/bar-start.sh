# SPDX-License-Identifier: MIT
# Scenario bar-start (on request): how vfio-vmm's start and stop grow with
# ivshmem's BAR2 (run.sh --ivshmem-size), without and with --p2p. The tiny
# guest pt-p2p (edu + ivshmem, BAR2 left in place, move=0) runs twice; each
# line the VMM and the guest print is stamped with L1's uptime, and the
# NOTE gives, from the VMM's start: the guest's first output, its first
# line after BAR2's decode is on (CHECK p2p.two-devices: with --p2p that is
# after BAR2 was mapped for DMA, which the vCPU does when the guest turns
# decode on), and the VMM's exit (its teardown: unmapping, the BAR mmap's
# page tables). The table built from it is in docs/passthrough.md.

scenario_bar_start()
{
	local g
	g=$(pt_iv_gib)
	run_test bar-start.no-p2p $((60 + g)) bar_start no-p2p
	run_test bar-start.p2p $((60 + 3 * g)) bar_start p2p
}

# pt_iv_gib: ivshmem's BAR2 in GiB, at least 1 (as in passthrough.sh).
pt_iv_gib()
{
	awk -v s="$IVSHMEM_SIZE" 'BEGIN {
		n = s + 0; u = substr(s, length(s))
		g = u == "T" ? n * 1024 : u == "G" ? n : u == "M" ? n / 1024 : n / 1073741824
		printf "%d\n", g < 1 ? 1 : g }'
}

bar_bdf()
{
	awk -v n="$1" '$1 == n { print $2 }' "$TB_OUT/devices"
}

# bar_start no-p2p|p2p
bar_start()
{
	local kind=$1 out=$TB_OUT/bar-start-$1.out t0 p2p="" want=0 first ready end line rc
	need_vmm
	[ "$kind" = no-p2p ] || { p2p=--p2p; want=1; }
	t0=$(uptime_s)
	# $p2p unquoted: empty or one word.
	{ vfio-vmm run --kernel "$TB/guests/pt-p2p" --memory 64M --device "$(bar_bdf edu)" \
		--device "$(bar_bdf ivshmem)" $p2p --cmdline "p2p=$want move=0" 2>&1
	  echo "VMM-EXIT $?"; } | while IFS= read -r line; do
		echo "$(uptime_s) $line"
	done >"$out"
	cat "$out"
	rc=$(sed -n 's/^[0-9.]* VMM-EXIT //p' "$out")
	[ "$rc" = 0 ] || die "vfio-vmm exited with status $rc"
	grep -q ' PASS pt-p2p$' "$out" || die "no PASS pt-p2p line"
	# The guest's lines are the ones that are not the VMM's own.
	first=$(grep -v -e ' vfio-vmm: ' -e ' \[' -e ' VMM-EXIT ' "$out" | head -1 | cut -d' ' -f1)
	ready=$(grep ' CHECK p2p.two-devices: ' "$out" | head -1 | cut -d' ' -f1)
	end=$(grep ' VMM-EXIT ' "$out" | cut -d' ' -f1)
	[ -n "$first" ] && [ -n "$ready" ] || die "no guest output"
	echo "NOTE: BAR2 $(pt_iv_gib) GiB, $kind: guest's first output $(awk -v a="$t0" -v b="$first" 'BEGIN { printf "%.2f", b - a }') s, BAR2 decoded $(awk -v a="$t0" -v b="$ready" 'BEGIN { printf "%.2f", b - a }') s, VMM exit $(awk -v a="$t0" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s after start$(sed -n 's/^[0-9.]* vfio-vmm: mapped a \(.*\)/; mapped a \1/p' "$out")"
}
