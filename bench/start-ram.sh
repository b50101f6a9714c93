#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Start time against guest RAM (docs/benchmarks.md, issue 13 part 4): boots
# the nested testbed with more memory and CPUs than usual, QEMU copied into
# L1, and only the start-ram scenario; then writes OUT/start-ram.json, a
# Markdown table (OUT/start-ram.md) and OUT/plot-start-ram.png.
#
#   bench/start-ram.sh [--sizes 1,2,4,8,max] [--pages 1g,2m,4k,thp] [--threads 0,1,N]
#                      [--rounds N] [--vmms vfio-vmm,qemu] [--l1-mem 12G] [--l1-cpus 1]
#                      [--timeout S] [--verbose] [--out DIR]
#   bench/start-ram.sh --from-log SERIAL_LOG [--out DIR]
#
# Sizes are GiB of guest RAM (max: what L1 can hold); N is L1's CPU count;
# pages: hugetlbfs 1 GiB and 2 MiB pages, anonymous RAM with transparent huge
# pages off (4k) and in "madvise" mode (thp).
# Check `free -g` first: L1 takes --l1-mem of the host's memory while it runs.
# --l1-cpus 2 (for thread scaling) hung L1 twice here (docs/testbed.md).
set -euo pipefail

SR_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# stage_qemu, cp_stripped, ensure_tools, log, die.
. "$SR_SRC/run.sh"
out=$SR_SRC/out
sizes="" pages="" threads="" rounds="" vmms=""
l1_mem=12G l1_cpus=1 timeout=7200 from_log="" verbose=""

sr_usage()
{
	sed -n '9,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-2}"
}

sr_args()
{
	while [ $# -gt 0 ]; do
		case "$1" in
		--sizes) sizes=${2:?--sizes needs a list of GiB, e.g. 1,2,4,max}; shift ;;
		--pages) pages=${2:?--pages needs a list of 4k,2m,1g}; shift ;;
		--threads) threads=${2:?--threads needs a list, e.g. 0,1,N}; shift ;;
		--rounds) rounds=${2:?--rounds needs a number}; shift ;;
		--vmms) vmms=${2:?--vmms needs vfio-vmm,qemu or one of them}; shift ;;
		--l1-mem) l1_mem=${2:?--l1-mem needs a size, e.g. 12G}; shift ;;
		--l1-cpus) l1_cpus=${2:?--l1-cpus needs a number}; shift ;;
		--timeout) timeout=${2:?--timeout needs seconds}; shift ;;
		--out) out=${2:?--out needs a directory}; shift ;;
		--verbose) verbose=--verbose ;;
		--from-log) from_log=${2:?--from-log needs a serial log}; shift ;;
		-h|--help) sr_usage 0 ;;
		*) echo "unknown argument: $1" >&2; sr_usage ;;
		esac
		shift
	done
	[[ -z "$sizes" || "$sizes" =~ ^((max|[0-9]+),)*(max|[0-9]+)$ ]] ||
		die "--sizes $sizes: a comma-separated list of GiB or max, like 1,2,4,max"
	[[ -z "$pages" || "$pages" =~ ^((4k|2m|1g|thp),)*(4k|2m|1g|thp)$ ]] ||
		die "--pages $pages: a comma-separated list of 1g, 2m, 4k and thp"
	[[ "$l1_mem" =~ ^[1-9][0-9]*G$ ]] || die "--l1-mem $l1_mem: whole GiB, like 12G"
	[[ -z "$threads" || "$threads" =~ ^((N|[0-9]+),)*(N|[0-9]+)$ ]] ||
		die "--threads $threads: a comma-separated list of numbers or N, like 0,1,N"
	[[ -z "$rounds" || "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds $rounds: a number from 1"
	[[ -z "$vmms" || "$vmms" =~ ^((vfio-vmm|qemu),)*(vfio-vmm|qemu)$ ]] ||
		die "--vmms $vmms: vfio-vmm, qemu or both, comma-separated"
}

sr_testbed()
{
	local extra=$out/l1-extra append="${TESTBED_APPEND:-}" rc=0
	rm -rf "$extra"
	mkdir -p "$extra/testbed/bench"
	case ",${vmms:-qemu}," in *,qemu,*) stage_qemu "$extra" ;; esac
	# 1 GiB pages are reserved at L1's boot, while its memory is in one
	# piece (at run time L1 found 2 of 4 in a 6 GiB L1); the scenario
	# frees them before the other page kinds.
	case ",${pages:-1g}," in
	*,1g,*) append="$append hugepagesz=1G hugepages=$((${l1_mem%G} - 3))" ;;
	esac
	[ -z "$sizes" ] || append="$append tb.sr_sizes=$sizes"
	[ -z "$pages" ] || append="$append tb.sr_pages=$pages"
	[ -z "$threads" ] || append="$append tb.sr_threads=$threads"
	[ -z "$rounds" ] || append="$append tb.sr_rounds=$rounds"
	[ -z "$vmms" ] || append="$append tb.sr_vmms=$vmms"
	log "testbed: L1 $l1_mem x$l1_cpus, start-ram,$append; log $out/testbed.log"
	TESTBED_EXTRA_ROOT=$extra TESTBED_APPEND="$append" TESTBED_L1_MEM=$l1_mem \
	TESTBED_L1_CPUS=$l1_cpus TESTBED_OUT=${TESTBED_OUT:-$out/testbed} \
		bash "$SR_SRC/../tests/testbed/run.sh" --timeout "$timeout" $verbose start-ram 2>&1 |
		tee "$out/testbed.log" || rc=$?
	from_log=${TESTBED_OUT:-$out/testbed}/serial.clean
	[ -f "$from_log" ] || die "the testbed left no serial log"
	return "$rc"
}

sr_main()
{
	local tb_rc=0
	sr_args "$@"
	mkdir -p "$out"
	ensure_tools
	[ -n "$from_log" ] || sr_testbed || tb_rc=$?
	python3 "$SR_SRC/start_ram.py" "$from_log" "$out" || exit 1
	gnuplot -e "dir='$out'" "$SR_SRC/start-ram.gnuplot" || die "gnuplot failed"
	[ -s "$out/plot-start-ram.png" ] || die "gnuplot wrote no plot-start-ram.png"
	log "wrote $out/start-ram.json, $out/start-ram.md, $out/plot-start-ram.png"
	[ "$tb_rc" = 0 ] || { log "the testbed reported failures (status $tb_rc)"; exit 1; }
}

sr_main "$@"
