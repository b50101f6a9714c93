#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Passthrough against bare metal, with QEMU's column (docs/benchmarks.md,
# issue 13 part 1): boots the nested testbed with QEMU copied into L1 and
# only the overhead scenario, which runs `vfio-vmm bench overhead --qemu` on
# L1's nvme and on edu; then writes OUT/overhead.tsv and OUT/overhead.report
# (nvme) and OUT/overhead-edu.tsv and OUT/overhead-edu.report (edu), rebuilt
# from the scenario's OHTSV and NOTE lines, and OUT/overhead.png (both
# devices, bench/overhead.gnuplot; needs gnuplot on this host).
#
#   bench/overhead.sh [--full] [--no-qemu] [--timeout S] [--verbose] [--out DIR]
#
# The quick form (default): 1 run a side, 1 s per test; --full: 3 rounds
# (host, guest, QEMU, host, ...) of 1 run a side, 2 s per test
# (tb.overhead=full). --no-qemu: host and vfio-vmm only.
set -euo pipefail

OH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# stage_qemu, cp_stripped, log, die.
. "$OH_SRC/run.sh"
out=$OH_SRC/out
oh_full=0 oh_qemu=1 timeout=1800 verbose=""

oh_usage()
{
	sed -n '12,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-2}"
}

oh_args()
{
	while [ $# -gt 0 ]; do
		case "$1" in
		--full) oh_full=1 ;;
		--no-qemu) oh_qemu=0 ;;
		--timeout) timeout=${2:?--timeout needs seconds}; shift ;;
		--out) out=${2:?--out needs a directory}; shift ;;
		--verbose) verbose=--verbose ;;
		-h|--help) oh_usage 0 ;;
		*) echo "unknown argument: $1" >&2; oh_usage ;;
		esac
		shift
	done
	[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || die "--timeout $timeout: whole seconds, like 1800"
}

# oh_extract SERIAL TEST NAME: OUT/NAME.tsv and OUT/NAME.report from
# overhead.TEST's NOTE lines; returns 1 when it left no TSV.
oh_extract()
{
	local serial=$1 test=$2 name=$3
	sed -n "s/^NOTE overhead\\.$test: OHTSV //p" "$serial" | tr -d '\r' >"$out/$name.tsv"
	sed -n "s/^NOTE overhead\\.$test: //p" "$serial" | tr -d '\r' | grep -v '^OHTSV ' \
		>"$out/$name.report" || true
	[ -s "$out/$name.tsv" ] || { log "no OHTSV lines of overhead.$test in $serial"; return 1; }
	log "wrote $out/$name.tsv and $out/$name.report"
}

# OUT/overhead-all.tsv (both TSVs, the device in front of each metric) and,
# when gnuplot is installed, OUT/overhead.png from bench/overhead.gnuplot.
oh_plot()
{
	{
		tail -n +2 "$out/overhead.tsv" | sed 's/^/nvme /'
		tail -n +2 "$out/overhead-edu.tsv" | sed 's/^/edu /'
	} >"$out/overhead-all.tsv"
	if ! command -v gnuplot >/dev/null; then
		log "no gnuplot: no plot ($out/overhead-all.tsv has the data)"
		return 0
	fi
	gnuplot -e "dir='$out'" "$OH_SRC/overhead.gnuplot" ||
		{ log "gnuplot failed on $OH_SRC/overhead.gnuplot"; return 0; }
	log "wrote $out/overhead.png"
}

oh_main()
{
	local extra append="${TESTBED_APPEND:-}" rc=0 serial missing=0
	oh_args "$@"
	mkdir -p "$out"
	extra=$out/l1-extra
	rm -rf "$extra"
	mkdir -p "$extra/testbed/bench"
	[ "$oh_qemu" = 0 ] || stage_qemu "$extra"
	[ "$oh_full" = 0 ] || append="$append tb.overhead=full"
	log "testbed: overhead${append:+ ($append)}; log $out/testbed.log"
	TESTBED_EXTRA_ROOT=$extra TESTBED_APPEND="$append" TESTBED_OUT=${TESTBED_OUT:-$out/testbed} \
		bash "$OH_SRC/../tests/testbed/run.sh" --timeout "$timeout" $verbose overhead 2>&1 |
		tee "$out/testbed.log" || rc=$?
	serial=${TESTBED_OUT:-$out/testbed}/serial.clean
	[ -f "$serial" ] || die "the testbed left no serial log"
	# The scenario's lines are "NOTE overhead.nvme: TEXT" (and overhead.edu)
	# in the serial log.
	oh_extract "$serial" nvme overhead || missing=1
	oh_extract "$serial" edu overhead-edu || missing=1
	[ "$missing" = 0 ] || exit 1
	oh_plot
	[ "$rc" = 0 ] || { log "the testbed reported failures (status $rc)"; exit 1; }
}

oh_main "$@"
