# SPDX-License-Identifier: MIT
# Scenario hostile (issue 12): guest-tests/pt-hostile.c, with edu and nvme
# assigned, does what a hostile guest does (BARs over RAM, the LAPIC, the
# IOAPIC, ECAM, each other and the top of the address space; garbage MSI
# and MSI-X; every access size over config space and the MSI-X table and
# PBA; random command writes under edu's DMA; D3hot; FLR loops) and checks
# both devices still work. Each "CHECK name" line of the guest becomes a
# test hostile.name. Around it, the scenario checks what only L1 can see:
# vfio-vmm's exit status and its stderr (finding 3: guest-triggerable
# warnings are rate-limited, so thousands of refused BAR maps must not
# flood it), L1's kernel log, and that a fresh VM can use both devices.
#
# Finding 1 (memslot numbers never reused) is hostile.memslot-numbers here
# and, past KVM's limit, scenario hostile-memslots; finding 2 (D3hot then a
# BAR read ended the VM) is the guest's check d3hot.bar-read.
# Finding 4 (a BAR cut into more pieces than vfio-vmm had room for) came
# from the host's sparse-mmap layout of a region, which a guest cannot
# choose: it has no check here (tests/unit/test_vfio_bar.c covers it).

# pt_bdf, pt_guest and pt_check_line, and PT_MEM.
. "$TB/scenarios/passthrough.sh"

# Decode off/on cycles of edu's BAR in the default run. Each costs ~4 ms in
# L2 here, so going past KVM's 32764 memslots takes 2.5 minutes: that is
# scenario hostile-memslots, on request. Here hostile.memslot-numbers reads
# the numbers from --trace kvm instead: never reused, they would climb with
# every memslot made (thousands in this run); reused, they stay below
# HOSTILE_SLOT_MAX.
HOSTILE_CYCLES=1000
HOSTILE_SLOT_MAX=16

# vfio-vmm's stderr after the whole hostile run, without its trace lines
# ("[kvm  ] ..."). Each guest-triggerable warning prints at most 5 lines per
# call site per 10 s plus one line counting what it dropped; the run lasts
# 17 to 40 s and trips two or three call sites (7 to 13 lines seen), while
# the guest alone makes a thousand refused BAR maps.
HOSTILE_STDERR_MAX=40

HOSTILE_CHECKS="config.reads config.writes bars.over-ram bars.over-lapic bars.over-ioapic
bars.over-ecam bars.over-each-other bars.top bars.beyond msi.garbage msix.sizes msix.garbage
dma.command config.random d3hot.bar-read d3hot.msix-enable flr.loop flood.refused-maps
memslot.reuse edu.works nvme.works"

# Checks that find a VMM bug not fixed yet. Each test passes while the bug
# is there, with a NOTE starting "KNOWN VMM BUG", and fails once the check
# passes: then move it to HOSTILE_CHECKS.
# (d3hot.msix-enable was one, found by this scenario: MSI-X enabled in
# D3hot never delivered after D0; vfio-vmm now defers the enable to D0.)
HOSTILE_KNOWN_BUGS=""

scenario_hostile()
{
	local c
	run_test hostile.run 120 hostile_run hostile 110 "cycles=$HOSTILE_CYCLES"
	for c in $HOSTILE_CHECKS; do
		run_test "hostile.$c" 5 pt_check_line hostile "$c"
	done
	for c in $HOSTILE_KNOWN_BUGS; do
		run_test "hostile.$c" 5 hostile_known_bug hostile "$c"
	done
	run_test hostile.memslot-numbers 30 hostile_memslot_numbers hostile 1000
	run_test hostile.stderr 5 hostile_stderr hostile
	# A fresh VM with the same two devices: the hostile one left them usable.
	run_test hostile.next-vm-edu 40 pt_guest hostile-next-edu pt-edu edu nvme
	run_test hostile.next-vm-nvme 40 pt_guest hostile-next-nvme pt-nvme edu nvme
	run_test hostile.l1-kernel 5 hostile_l1_kernel hostile
}

# hostile_run RUN SECONDS CMDLINE: the guest with edu and nvme on the root bus
# (port=off: it checks that every bus but 0 is empty and storms bus 1), --trace kvm;
# its output in pt-RUN.out (what pt_check_line reads), vfio-vmm's stderr
# apart in pt-RUN.err, L1's log length before in RUN.dmesg-lines.
hostile_run()
{
	local run=$1 limit=$2 out=$TB_OUT/pt-$1.out err=$TB_OUT/pt-$1.err rc t0
	rm -f "$out" "$err"
	need_vmm
	dmesg | wc -l >"$TB_OUT/$run.dmesg-lines"
	set -- run --kernel "$TB/guests/pt-hostile" --memory "$PT_MEM" --cmdline "$3" \
		--trace kvm --device "$(pt_bdf edu),port=off" --device "$(pt_bdf nvme),port=off"
	echo "+ vfio-vmm $*"
	t0=$(uptime_s)
	timeout -s KILL "$limit" vfio-vmm "$@" >"$out" 2>"$err"
	rc=$?
	cat "$out"
	echo "--- vfio-vmm stderr without trace lines ($(wc -l <"$err") lines with them) ---"
	grep -v '^\[' "$err"
	[ "$rc" != 137 ] || die "vfio-vmm did not exit within ${limit}s"
	[ "$rc" = 0 ] || die "vfio-vmm exited with status $rc (guest's last line: $(tr -d '\r' <"$out" | tail -1))"
	tr -d '\r' <"$out" | grep -q '^PASS pt-hostile$' ||
		die "exit status 0 but no 'PASS pt-hostile' line"
	echo "NOTE: $(since "$t0")s for the hostile VM; $(tr -d '\r' <"$out" | grep -m1 '^seed ')"
}

# hostile_known_bug RUN CHECK: see HOSTILE_KNOWN_BUGS.
hostile_known_bug()
{
	local line
	[ -f "$TB_OUT/pt-$1.out" ] || die "run $1 produced no output"
	line=$(tr -d '\r' <"$TB_OUT/pt-$1.out" | grep "^CHECK $2: " | head -1)
	echo "$line"
	case "$line" in
	"CHECK $2: FAIL "*)
		echo "NOTE: KNOWN VMM BUG, not fixed yet: ${line#CHECK $2: FAIL }" ;;
	"CHECK $2: ok "*)
		die "known VMM bug $2 no longer shows: move it from HOSTILE_KNOWN_BUGS to HOSTILE_CHECKS" ;;
	*)
		die "the guest never reported check $2" ;;
	esac
}

# hostile_memslot_numbers RUN MIN (finding 1): the run made at least MIN
# memslots, and their numbers stayed small.
hostile_memslot_numbers()
{
	local err=$TB_OUT/pt-$1.err min=$2 cap made max
	[ -f "$err" ] || die "the run left no stderr file"
	cap=$(sed -n 's/.*KVM_CAP_NR_MEMSLOTS: \([0-9]*\) memslots.*/\1/p' "$err" | head -1)
	# "[kvm  ] KVM_SET_USER_MEMORY_REGION slot N gpa 0xA-0xB hva P": one made.
	# sed, not awk: tens of thousands of lines, and busybox awk is slow under TCG.
	sed -n 's/.*KVM_SET_USER_MEMORY_REGION slot \([0-9][0-9]*\) gpa 0x[0-9a-f]*-0x.*/\1/p' \
		"$err" >"$TB_OUT/$1.slots"
	made=$(wc -l <"$TB_OUT/$1.slots")
	max=$(sort -n "$TB_OUT/$1.slots" | tail -1)
	[ "$made" -gt 0 ] ||
		die "no memslot in vfio-vmm's --trace kvm output (did its wording change?)"
	echo "$made memslots made, highest number $max, KVM_CAP_NR_MEMSLOTS ${cap:-unknown}"
	[ "$made" -ge "$min" ] ||
		die "only $made memslots made, want $min or more for numbers to mean something"
	[ "$max" -le "$HOSTILE_SLOT_MAX" ] ||
		die "memslot numbers went up to $max over $made memslots made: numbers are not reused"
	echo "NOTE: $made memslots made and deleted during the run, numbers 0-$max of KVM's ${cap:-?}: numbers are reused"
}

# hostile_stderr RUN (finding 3): a guest that makes thousands of
# warning-worthy failures gets a bounded number of lines.
hostile_stderr()
{
	local err=$TB_OUT/pt-$1.err n maps
	[ -f "$err" ] || die "the run left no stderr file"
	n=$(grep -vc '^\[' "$err")
	maps=$(tr -d '\r' <"$TB_OUT/pt-$1.out" |
		awk '$1 == "HOSTILE-COUNT" && $2 == "refused-bar-maps" { print $3 }')
	grep -v '^\[' "$err"
	[ -n "$maps" ] || die "the guest never reported its refused BAR maps"
	[ "$n" -le "$HOSTILE_STDERR_MAX" ] ||
		die "vfio-vmm printed $n stderr lines, more than $HOSTILE_STDERR_MAX"
	echo "NOTE: vfio-vmm printed $n stderr lines besides its trace (bound $HOSTILE_STDERR_MAX) for a guest that made $maps refused BAR maps among the rest"
}

# hostile_l1_kernel RUN: L1's kernel must not have warned (or worse) since
# the run started.
hostile_l1_kernel()
{
	local before new bad
	before=$(cat "$TB_OUT/$1.dmesg-lines" 2>/dev/null) ||
		die "the run did not record L1's log length"
	dmesg >"$TB_OUT/$1.dmesg"
	# The ring buffer wrapped: look at all of it.
	[ "$(wc -l <"$TB_OUT/$1.dmesg")" -ge "$before" ] || before=0
	new=$(tail -n +$((before + 1)) "$TB_OUT/$1.dmesg")
	echo "$new"
	bad=$(echo "$new" | grep -E 'WARNING|BUG|Oops|general protection|Call Trace' | head -1)
	[ -z "$bad" ] || die "L1's kernel: $bad"
	echo "NOTE: $(echo "$new" | grep -c .) L1 kernel lines since the run started, no WARNING, BUG or Oops"
}
