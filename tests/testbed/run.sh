#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The nested VFIO testbed: boots a Debian kernel as "L1" under QEMU TCG with an
# emulated IOMMU and five assignable PCI devices, and runs vfio-vmm inside it
# against real VFIO. See docs/testbed.md.
#
#   tests/testbed/run.sh [--interactive] [--verbose] [--iommu intel|amd] [--noremap]
#                        [--ivshmem-size SIZE] [--kernel 6.1|6.12] [--timeout SECS] [--ref REV]
#                        [SCENARIO...]
#
# Exit status: 0 when every test passed and L1 printed its verdict; 1 on any
# FAIL, a missing verdict, an L1 panic or a timeout; 2 on a setup error.
set -euo pipefail

TB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$TB_DIR/../.." && pwd)
CACHE_DIR=${TESTBED_CACHE:-$TB_DIR/cache}
OUT_DIR=${TESTBED_OUT:-$TB_DIR/out}

# A batch run without scenario names runs exactly these, in this order. Any
# other scenarios/*.sh runs only when named ("on request" in --help).
DEFAULT_ORDER="l1 guests linux passthrough hostile virtio linux-disk linux-passthrough sriov net mdev overhead teardown soak unpriv host-tools bench"

interactive=0
verbose=0
iommu=intel
intremap=on
ivshmem_size=1G
timeout_s=1500
slow=${TESTBED_SLOW:-1}
build_ref=""
scenarios=()

. "$TB_DIR/host/common.sh"
. "$TB_DIR/host/kernel.sh"
. "$TB_DIR/host/build.sh"
. "$TB_DIR/host/initramfs.sh"
. "$TB_DIR/host/disk.sh"
. "$TB_DIR/host/module.sh"
. "$TB_DIR/host/mdev.sh"
. "$TB_DIR/host/edu.sh"
. "$TB_DIR/host/qemu.sh"

usage()
{
	cat <<EOF
usage: $0 [--interactive] [--verbose] [--iommu intel|amd] [--noremap] [--ivshmem-size SIZE]
          [--kernel 6.1|6.12] [--timeout SECS] [--ref GITREV] [SCENARIO...]
--kernel picks the Debian kernel L1 and L2 boot: 6.1 (bookworm's, the default) or
6.12 (bookworm-security's linux-image-6.12-amd64); TESTBED_KERNEL does the same.
--ref builds a committed revision instead of the working tree.
--verbose puts every test's output in the serial log, not only a failing one's.
Environment: TESTBED_L1_MEM (L1's RAM, default 2G), TESTBED_L1_CPUS (L1's CPUs,
default 1; MTTCG runs each on a host thread), TESTBED_CPU, TESTBED_APPEND, TESTBED_OUT,
TESTBED_KERNEL_PKG (an exact linux-image package, overriding --kernel's choice),
TESTBED_SLOW=N (multiplies every time limit by N, for a busy host)
(docs/testbed.md).
scenarios (default, in order): $(list_scenarios default | tr '\n' ' ')
scenarios on request: $(list_scenarios extra | tr '\n' ' ')
EOF
	exit "${1:-2}"
}

parse_args()
{
	while [ $# -gt 0 ]; do
		case "$1" in
		--interactive|-i) interactive=1 ;;
		--verbose|-v) verbose=1 ;;
		--iommu) iommu=${2:?--iommu needs intel or amd}; shift ;;
		--noremap) intremap=off ;;
		--ivshmem-size) ivshmem_size=${2:?--ivshmem-size needs a size}; shift ;;
		--kernel) KERNEL_SERIES=${2:?--kernel needs 6.1 or 6.12}; shift ;;
		--timeout) timeout_s=${2:?--timeout needs seconds}; shift ;;
		--ref) build_ref=${2:?--ref needs a git revision}; shift ;;
		-h|--help) usage 0 ;;
		-*) echo "unknown option: $1" >&2; usage ;;
		*) scenarios+=("$1") ;;
		esac
		shift
	done
	case "$iommu" in
	intel|amd) ;;
	*) die "--iommu must be intel or amd, not '$iommu'" ;;
	esac
	kernel_series_meta "$KERNEL_SERIES" >/dev/null ||
		die "--kernel (or TESTBED_KERNEL) must be 6.1 or 6.12, not '$KERNEL_SERIES'"
	case "$slow" in
	[1-9]|[1-9][0-9]) ;;
	*) die "TESTBED_SLOW must be a whole number from 1 to 99, not '$slow'" ;;
	esac
	timeout_s=$((timeout_s * slow))
	case "${TESTBED_L1_CPUS:-1}" in
	[1-9]|[1-9][0-9]) ;;
	*) die "TESTBED_L1_CPUS must be a number of CPUs from 1 to 99, like 2" ;;
	esac
	case "$ivshmem_size" in
	[0-9]*[KMGT]|[0-9]*) ;;
	*) die "--ivshmem-size must look like 256M, 1G or 16G" ;;
	esac
	local s all
	all=$(list_scenarios)
	for s in "${scenarios[@]}"; do
		grep -qx -- "$s" <<<"$all" || die "unknown scenario '$s' (have: $(echo $all))"
	done
	# Interactive mode runs only what was named; batch mode defaults to
	# DEFAULT_ORDER.
	if [ ${#scenarios[@]} -eq 0 ] && [ "$interactive" = 0 ]; then
		mapfile -t scenarios < <(list_scenarios default)
	fi
}

main()
{
	local t0
	t0=$(now)
	parse_args "$@"
	mkdir -p "$CACHE_DIR" "$OUT_DIR"
	take_lock 8 "$OUT_DIR/.lock" "output directory $OUT_DIR (set TESTBED_OUT for a parallel run)"

	phase "packages" ensure_packages
	take_lock 9 "$CACHE_DIR/.lock" "kernel cache $CACHE_DIR"
	phase "kernel" prepare_kernel
	exec 9>&-
	phase "build" build_all
	# mgpu.ko only when a scenario loads it (headers are a 14 MB download once).
	case " ${scenarios[*]} " in *" mdev "*) phase "mdev module" build_mdev_module ;; esac
	# edu_bench.ko for overhead.edu (the same headers).
	case " ${scenarios[*]} " in *" overhead "*) phase "edu module" build_edu_module ;; esac
	phase "initramfs" build_initramfs
	if [ "$interactive" = 1 ]; then
		run_qemu_interactive
		exit 0
	fi
	local rc=0
	phase "qemu (L1 boot + scenarios)" run_qemu || rc=$?
	report_results "$rc" || rc=$?
	log "total wall time: $(elapsed "$t0")s"
	exit "$rc"
}

main "$@"
