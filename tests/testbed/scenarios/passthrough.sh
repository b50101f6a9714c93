# SPDX-License-Identifier: MIT
# Scenario passthrough: tiny L2 guests (guest-tests/pt-*.c) drive the four
# test devices assigned with vfio-vmm run --device. Each guest run is one
# test (the VMM's exit status and the guest's PASS line); each check the
# guest made ("CHECK name: ok|FAIL ...") becomes a test of its own, and so
# do the checks on the VMM's --stats counters (trapped BAR accesses per BAR,
# exits per bus range, host interrupts per vector).

PT_MEM=64M

scenario_passthrough()
{
	run_test pt.edu 40 pt_guest edu pt-edu edu
	pt_checks edu edu.ident edu.liveness edu.msi edu.intx edu.dma
}

# pt_bdf NAME: the L1 address of a test device (init wrote them down).
pt_bdf()
{
	awk -v n="$1" '$1 == n { print $2 }' "$TB_OUT/devices"
}

# pt_guest RUN GUEST DEVICE... [-- VMM ARGS]: boots guests/GUEST with the
# devices assigned and --stats; output (guest and stats) in $TB_OUT/pt-RUN.out.
pt_guest()
{
	local run=$1 guest=$2 out=$TB_OUT/pt-$1.out rc bdf
	shift 2
	need_vmm
	set -- run --kernel "$TB/guests/$guest" --memory "$PT_MEM" --stats $(pt_devargs "$@")
	echo "+ vfio-vmm $*"
	timeout -s KILL 30 vfio-vmm "$@" >"$out" 2>&1
	rc=$?
	echo "$rc" >"$out.rc"
	cat "$out"
	[ "$rc" != 137 ] || die "vfio-vmm did not exit within 30s"
	[ "$rc" = 0 ] || die "vfio-vmm exited with status $rc"
	grep -q "^PASS $guest\$" "$out" || die "exit status 0 but no 'PASS $guest' line"
}

# Device names become --device BDF; anything after -- is passed as is.
pt_devargs()
{
	while [ $# -gt 0 ]; do
		if [ "$1" = -- ]; then
			shift
			echo "$@"
			return
		fi
		echo "--device $(pt_bdf "$1")"
		shift
	done
}

# pt_checks RUN CHECK...: one test per check line of that run's guest.
pt_checks()
{
	local run=$1 c
	shift
	for c in "$@"; do
		run_test "pt.$c" 5 pt_check_line "$run" "$c"
	done
}

pt_check_line()
{
	local out=$TB_OUT/pt-$1.out line
	[ -f "$out" ] || die "run $1 produced no output"
	line=$(tr -d '\r' <"$out" | grep "^CHECK $2: " | head -1)
	echo "$line"
	[ -n "$line" ] || die "the guest never reported check $2"
	case "$line" in
	"CHECK $2: ok "*) echo "NOTE: ${line#CHECK $2: ok }" ;;
	*) die "${line#CHECK $2: }" ;;
	esac
}
