# SPDX-License-Identifier: MIT
# Helpers for L1's init and the scenarios (busybox ash). A scenario file
# scenarios/NAME.sh defines scenario_NAME (dashes become underscores), which
# calls run_test once per test; each test is a shell function in that file.

TB=/testbed
TB_OUT=/tmp/testbed
PATH=$TB/bin:/bin:/sbin:/usr/bin:/usr/sbin
export PATH
TB_PASSED=0
TB_FAILED=0

# Seconds since L1 booted, e.g. 12.34.
uptime_s()
{
	read -r up _ </proc/uptime
	echo "$up"
}

# since T0: seconds elapsed since an uptime_s value.
since()
{
	awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.2f", b - a }'
}

# Tests call this to fail with a one-line reason (they run in their own
# process, so exiting is enough).
die()
{
	echo "REASON: $*"
	exit 1
}

# run_test NAME TIMEOUT FUNC [ARGS...]: runs FUNC from the current
# scenario's file in its own session with a time limit, its output in
# $TB_OUT/NAME.log, and prints PASS NAME or FAIL NAME: reason. A failing
# test's output is printed between markers so the host can show it.
run_test()
{
	local name=$1 limit=$(($2 * ${SLOW:-1})) t0 rc reason log
	shift 2
	log=$TB_OUT/$name.log
	mkdir -p "$TB_OUT"
	# Says which test was running if L1 never gets further, and how long
	# the host's hang watchdog must wait for its result line.
	echo "RUN $name (limit ${limit}s)"
	t0=$(uptime_s)
	timeout -s KILL "$limit" setsid sh "$TB/runtest.sh" "$TB_SCENARIO" "$@" \
		>"$log" 2>&1 </dev/null &
	local pid=$!
	wait "$pid"
	rc=$?
	# Anything the test started (a VMM) must not outlive it.
	kill -KILL -- "-$pid" 2>/dev/null
	# Measurements a test wants seen go to the console as NOTE lines.
	sed -n "s/^NOTE: /NOTE $name: /p" "$log"
	if [ "$rc" = 0 ]; then
		echo "PASS $name [$(since "$t0")s]"
		TB_PASSED=$((TB_PASSED + 1))
		[ "${VERBOSE:-0}" = 0 ] || show_output "$name" "$log"
		return 0
	fi
	reason=$(sed -n 's/^REASON: //p' "$log" | tail -1)
	if [ "$rc" = 137 ]; then
		reason="timed out after ${limit}s${reason:+ ($reason)}"
	fi
	echo "FAIL $name: ${reason:-exit status $rc}"
	TB_FAILED=$((TB_FAILED + 1))
	show_output "$name" "$log"
	return 1
}

# Prints a test's output between markers, indented so that no line of it
# reads as a result line.
show_output()
{
	echo "----- begin output $1 -----"
	sed 's/^/| /' "$2"
	echo "| --- last L1 kernel messages ---"
	dmesg | tail -10 | sed 's/^/| /'
	echo "----- end output $1 -----"
}

# The assigned devices, one "name bdf vendor:device" per line (written by
# init after binding).
tb_devices()
{
	cat "$TB_OUT/devices"
}

# IOMMU group number of a BDF.
iommu_group()
{
	basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"
}

# Tests that need our VMM call this first.
need_vmm()
{
	command -v vfio-vmm >/dev/null ||
		die "vfio-vmm was not built (see build.log on the host)"
}
