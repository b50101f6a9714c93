#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Boots one test guest under vfio-vmm and judges it by both channels:
# the exit status (what the guest wrote to the test exit port) and the
# result line it printed on the serial console.
#
# usage: run-guest.sh [options] VMM GUEST NAME [-- extra vfio-vmm run args]
#   --timeout S     kill the VMM after S seconds (default 30)
#   --expect RE     the output must also match this extended regex
#   --expect-fail   negative test: want exit status 1, an ASSERT FAILED line
#                   and no PASS line
set -u

timeout_s=30
expect=
expect_fail=0

usage()
{
	echo "usage: $0 [--timeout S] [--expect RE] [--expect-fail] VMM GUEST NAME [-- ARGS]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) timeout_s=$2; shift 2 ;;
	--expect) expect=$2; shift 2 ;;
	--expect-fail) expect_fail=1; shift ;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -ge 3 ] || usage
vmm=$1 guest=$2 name=$3
shift 3
[ "${1:-}" = "--" ] && shift

[ -x "$vmm" ] || { echo "FAIL $name: no VMM binary at $vmm"; exit 1; }
[ -f "$guest" ] || { echo "FAIL $name: no guest at $guest"; exit 1; }
# 77 is meson's "skipped". Without /dev/kvm nothing can boot here; the
# testbed's guests scenario boots the same guests on L1's KVM instead.
if [ ! -c /dev/kvm ]; then
	echo "SKIP $name: this host has no /dev/kvm (the testbed's guests scenario runs it in L1)"
	exit 77
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT

cmd=("$vmm" run --kernel "$guest" "$@")
start=$(date +%s%N)
timeout -k 5 "$timeout_s" "${cmd[@]}" >"$out" 2>&1 </dev/null
status=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))

fail()
{
	echo "FAIL $name: $*"
	echo "command: ${cmd[*]}"
	echo "----- output -----"
	cat "$out"
	echo "------------------"
	exit 1
}

# The serial console may add carriage returns; compare lines without them.
has_line()
{
	tr -d '\r' <"$out" | grep -Eq "$1"
}

[ "$status" -ne 124 ] && [ "$status" -ne 137 ] ||
	fail "timed out after ${timeout_s}s"

if [ "$expect_fail" = 1 ]; then
	[ "$status" -eq 1 ] || fail "exit status $status, want 1 (assertion failure)"
	! has_line '^PASS' || fail "a failing guest printed a PASS line"
	has_line '^ASSERT FAILED ' || fail "no ASSERT FAILED line"
else
	[ "$status" -eq 0 ] || fail "exit status $status, want 0"
	has_line "^PASS $name\$" || fail "exit status 0 but no 'PASS $name' line"
fi
[ -z "$expect" ] || has_line "$expect" || fail "output does not match '$expect'"

tr -d '\r' <"$out"
printf 'ok %s: exit status %d in %d.%03ds\n' "$name" "$status" $((elapsed_ms / 1000)) \
	$((elapsed_ms % 1000))
exit 0
