#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Passthrough overhead benchmarks (docs/benchmarks.md): boots the nested
# testbed with only the bench scenario, QEMU and kvmtool's lkvm copied
# (stripped) into L1 next to vfio-vmm, then writes bench/out/results.json, a
# terminal table and PNG plots.
#
#   bench/run.sh [--quick] [--only TEST,...] [--kvmtool PATH | --no-kvmtool] [--no-qemu] [--out DIR]
#   bench/run.sh --from-log SERIAL_LOG [--out DIR]
#
# --quick runs 3 rounds of shorter loops (3.3 minutes of L1 on a loaded host);
# --only runs just those of the scenario's tests (start exit cf8 ecam
# bar-direct bar-trap msix-table msix-pba bar-ram irq dma rss disk net linux);
# --kvmtool defaults to ../shared/peers/kvmtool/lkvm-static when it is there;
# --from-log only processes the log of a testbed run that included the bench
# scenario (CI does this after its testbed step, so the pipeline cannot rot).
# The environment: BENCH_TIMEOUT (the testbed run's limit in seconds; quick
# 2400, full 5400), BENCH_VERBOSE=1 (the testbed's --verbose), TESTBED_OUT,
# TESTBED_L1_MEM (default 4G).
set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$BENCH_SRC/.." && pwd)
out=$BENCH_SRC/out
mode=full
kvmtool=auto
# A static lkvm built from kvmtool's source, beside the repository.
SHARED_LKVM=$SRC/../shared/peers/kvmtool/lkvm-static
qemu=1
from_log=""
# Every vfio-vmm result a run must produce (device ones only in full runs).
REQUIRE_BASE="start,start-edu,exit,cf8,ecam,dma-4k,dma-2m,rss-none,binary,binary-stripped"
REQUIRE_BASE="$REQUIRE_BASE,disk-seq-read,disk-seq-write,disk-rand-read,disk-rand-write"
NET_REQUIRE="net-tcp-tx,net-tcp-rx,net-tcp-rr,net-tcp-rr-lat,vsock-rr,vsock-rr-lat,exec-start"
REQUIRE_BASE="$REQUIRE_BASE,$NET_REQUIRE"
# The bench scenario's tests that --only accepts (bench.NAME in L1).
ONLY_TESTS="start exit cf8 ecam bar-direct bar-trap msix-table msix-pba bar-ram irq dma rss disk net linux"
only=""

usage()
{
	sed -n '9,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-2}"
}

log()
{
	echo "[bench] $*"
}

die()
{
	echo "[bench] error: $*" >&2
	exit 2
}

parse_args()
{
	while [ $# -gt 0 ]; do
		case "$1" in
		--quick) mode=quick ;;
		--only) only=${2:?--only needs a list of tests, e.g. --only disk}; shift ;;
		--kvmtool) kvmtool=${2:?--kvmtool needs the path of an lkvm binary}; shift ;;
		--no-kvmtool) kvmtool="" ;;
		--no-qemu) qemu=0 ;;
		--out) out=${2:?--out needs a directory}; shift ;;
		--from-log) from_log=${2:?--from-log needs a serial log}; shift; mode=quick ;;
		-h|--help) usage 0 ;;
		*) echo "unknown argument: $1" >&2; usage ;;
		esac
		shift
	done
	local t
	for t in ${only//,/ }; do
		case " $ONLY_TESTS " in
		*" $t "*) ;;
		*) die "--only $only: no test '$t'; use some of: ${ONLY_TESTS// /,}" ;;
		esac
	done
	[ -z "$only" ] || [ -z "$from_log" ] || die "--only selects what L1 runs; a --from-log report takes what the log has"
	if [ "$kvmtool" = auto ]; then
		kvmtool=""
		[ -n "$from_log" ] || [ ! -x "$SHARED_LKVM" ] || kvmtool=$SHARED_LKVM
	fi
	if [ -n "$kvmtool" ]; then
		[ -x "$kvmtool" ] || die "--kvmtool $kvmtool is not an executable"
		! readelf -l "$kvmtool" 2>/dev/null | grep -q INTERP ||
			die "$kvmtool is dynamically linked; L1 needs a static lkvm"
	fi
}

# gnuplot draws the PNGs; python3 writes the JSON and the table.
ensure_tools()
{
	local missing=() p
	for p in gnuplot-nox python3; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${missing[@]}" >"$out/apt.log" 2>&1 ||
		{ apt-get update >>"$out/apt.log" 2>&1 &&
		  apt-get install -y --no-install-recommends "${missing[@]}" >>"$out/apt.log" 2>&1; } ||
		{ tail -20 "$out/apt.log"; die "apt-get install ${missing[*]} failed"; }
}

# cp_stripped SRC DST: a copy of SRC, stripped if it has a symbol table, so
# that the peers' sizes are stripped sizes (Debian's QEMU and the shared
# lkvm are stripped already; vfio-vmm's stripped size is measured apart).
cp_stripped()
{
	if readelf -S "$1" 2>/dev/null | grep -q '\.symtab'; then
		strip -o "$2" "$1" || die "cannot strip a copy of $1"
	else
		cp -L "$1" "$2"
	fi
}

# QEMU with its shared libraries, loader and the firmware a PVH boot needs,
# under testbed/bench/qemu of an extra root that run.sh copies into L1.
stage_qemu()
{
	local root=$1 q=$1/testbed/bench/qemu bin lib f d
	bin=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 is not installed"
	mkdir -p "$q/bin" "$q/lib" "$q/share"
	cp_stripped "$bin" "$q/bin/qemu-system-x86_64"
	for lib in $(ldd "$bin" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }'); do
		cp_stripped "$lib" "$q/lib/$(basename "$lib")"
	done
	for f in bios-256k.bin bios-microvm.bin qboot.rom kvmvapic.bin linuxboot_dma.bin \
		pvh.bin multiboot_dma.bin efi-virtio.rom efi-e1000e.rom vgabios-stdvga.bin; do
		for d in /usr/share/qemu /usr/share/seabios; do
			[ ! -e "$d/$f" ] || cp -L "$d/$f" "$q/share/"
		done
	done
	[ -f "$q/share/bios-256k.bin" ] || die "no SeaBIOS image (bios-256k.bin) for QEMU"
	[ -f "$q/share/pvh.bin" ] || die "no pvh.bin option ROM for QEMU"

	# The loader runs QEMU with our libraries: L1 has no /lib of its own.
	cat >"$q/qemu" <<'EOF'
#!/bin/sh
d=$(dirname "$0")
exec "$d/lib/ld-linux-x86-64.so.2" --library-path "$d/lib" "$d/bin/qemu-system-x86_64" -L "$d/share" "$@"
EOF
	chmod +x "$q/qemu"
	log "QEMU for L1: $(du -sh "$q" | cut -f1)"
}

run_testbed()
{
	local extra=$out/l1-extra rc=0 tb_log=$out/testbed.log
	rm -rf "$extra"
	mkdir -p "$extra/testbed/bench"
	[ "$qemu" = 0 ] || stage_qemu "$extra"
	[ -z "$kvmtool" ] || cp_stripped "$kvmtool" "$extra/testbed/bench/lkvm"
	local append="${TESTBED_APPEND:-}"
	[ "$mode" = quick ] || append="$append tb.bench=full"
	[ -z "$only" ] || append="$append tb.bench_only=$only"
	# The whole run's limit (each test has its own hang watchdog): a quick
	# run with its disk and net rows took 419 s for the disk rows alone on a
	# loaded host, so 900 s stopped its net rows; BENCH_TIMEOUT overrides.
	local limit=${BENCH_TIMEOUT:-$([ "$mode" = quick ] && echo 2400 || echo 5400)}
	log "testbed ($mode): tests/testbed/run.sh bench; log $tb_log"
	TESTBED_EXTRA_ROOT=$extra TESTBED_APPEND="$append" \
	TESTBED_L1_MEM=${TESTBED_L1_MEM:-4G} TESTBED_OUT=${TESTBED_OUT:-$out/testbed} \
		bash "$SRC/tests/testbed/run.sh" ${BENCH_VERBOSE:+--verbose} --timeout "$limit" \
		bench 2>&1 | tee "$tb_log" || rc=$?
	from_log=${TESTBED_OUT:-$out/testbed}/serial.clean
	[ -f "$from_log" ] || die "the testbed left no serial log"
	return "$rc"
}

# The vfio-vmm results an --only run must produce: bench.setup's sizes and
# what each chosen test measures (the device ones only in full runs).
only_require()
{
	local t r=binary,binary-stripped
	for t in ${only//,/ }; do
		case "$t" in
		start) r="$r,start,start-edu" ;;
		exit|cf8|ecam) r="$r,$t" ;;
		bar-direct|bar-trap|msix-table) [ "$mode" = quick ] || r="$r,$t" ;;
		irq) [ "$mode" = quick ] || r="$r,irq,irq-latency" ;;
		dma) r="$r,dma-4k,dma-2m" ;;
		rss) r="$r,rss-none" ;;
		disk) r="$r,disk-seq-read,disk-seq-write,disk-rand-read,disk-rand-write" ;;
		net) r="$r,$NET_REQUIRE" ;;
		linux) [ "$mode" = quick ] || r="$r,linux-boot" ;;
		esac
	done
	echo "$r"
}

report()
{
	local require=$REQUIRE_BASE rc=0
	[ "$mode" = quick ] || require="$require,bar-direct,bar-trap,msix-table,irq,irq-latency"
	[ -z "$only" ] || require=$(only_require)
	python3 "$BENCH_SRC/report.py" "$from_log" "$out" --mode "$mode" --require "$require" |
		tee "$out/table.txt" || rc=$?
	[ "$rc" = 0 ] || return "$rc"
	gnuplot -e "dir='$out'" "$BENCH_SRC/plot.gnuplot" ||
		{ echo "[bench] gnuplot failed" >&2; return 1; }
	local p
	for p in "$out"/plot-*.png; do
		[ -s "$p" ] || { echo "[bench] $p is empty" >&2; return 1; }
	done
	log "wrote $out/results.json, $out/table.txt, $(cd "$out" && echo plot-*.png)"
}

main()
{
	local tb_rc=0
	parse_args "$@"
	mkdir -p "$out"
	ensure_tools
	[ -n "$from_log" ] || run_testbed || tb_rc=$?
	report || exit 1
	[ "$tb_rc" = 0 ] || { log "the testbed reported failures (status $tb_rc)"; exit 1; }
}

# bench/start-ram.sh sources this file for stage_qemu and its kin.
[ "${BASH_SOURCE[0]}" != "$0" ] || main "$@"
