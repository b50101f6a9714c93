#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Runs iommu-probe against real VFIO in the nested testbed, reusing the
# testbed's host functions (tests/testbed/host/*.sh) without changing them:
# a scratch copy of tests/testbed gets our scenarios, the static iommu-probe
# goes where vfio-vmm would, and L1 also loads ahci, lpc_ich and i2c_i801 so
# the ICH9 group has host drivers (a real "not viable" group).
#
#   iommu/tools/run-in-testbed.sh [--amd] [--noremap]
#
# --amd: amd-iommu (its own PCI function takes slot 1, so edu moves to 05.0);
# --noremap: intremap=off, where VFIO_SET_IOMMU must fail with EPERM.
set -euo pipefail

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=${IOMMU_TB_WORK:-/tmp/iommu-testbed}
iommu=intel
noremap=0
for a in "$@"; do
	case "$a" in
	--amd) iommu=amd ;;
	--noremap) noremap=1 ;;
	*) echo "usage: $0 [--amd] [--noremap]" >&2; exit 2 ;;
	esac
done

rm -rf "$WORK/tb"
mkdir -p "$WORK/tb"
(cd "$SRC_DIR/tests/testbed" && cp -r host l1 l2 scenarios tb-probe.c "$WORK/tb/")
cp "$SRC_DIR/iommu/tools/testbed-iommu.sh" "$WORK/tb/scenarios/iommu.sh"
cp "$SRC_DIR/iommu/tools/testbed-iommu-noremap.sh" "$WORK/tb/scenarios/iommu-noremap.sh"

# Variables the testbed's host functions expect from run.sh.
TB_DIR=$WORK/tb
CACHE_DIR=$SRC_DIR/tests/testbed/cache
OUT_DIR=$WORK/out
interactive=0
verbose=0
ivshmem_size=256M
timeout_s=400
build_ref=""
scenarios=(iommu)
[ "$noremap" = 0 ] || scenarios=(iommu-noremap)
. "$TB_DIR/host/common.sh"
. "$TB_DIR/host/kernel.sh"
. "$TB_DIR/host/build.sh"
. "$TB_DIR/host/initramfs.sh"
. "$TB_DIR/host/qemu.sh"
mkdir -p "$OUT_DIR"
L1_MODULES="kvm_amd vfio_pci ahci lpc_ich i2c_i801"
eval "$(declare -f qemu_args | sed '1s/qemu_args/testbed_qemu_args/')"
qemu_args()
{
	testbed_qemu_args
	[ "$iommu" = intel ] || QEMU_ARGS=("${QEMU_ARGS[@]/edu,addr=01.0/edu,addr=05.0}")
}
[ "$noremap" = 0 ] || intremap=off

prepare_kernel
rm -rf "$WORK/build"
meson setup "$WORK/build" "$SRC_DIR" -Dstatic=true -Dtests=false >"$WORK/build.log" 2>&1
ninja -C "$WORK/build" iommu/iommu-probe >>"$WORK/build.log" 2>&1
PROBE_BIN=$OUT_DIR/tb-probe
gcc -static -O2 -std=c11 -D_GNU_SOURCE -o "$PROBE_BIN" "$TB_DIR/tb-probe.c"
VMM_BIN=$WORK/build/iommu/iommu-probe	# lands in /testbed/bin like vfio-vmm would
GUESTS=""
build_initramfs
rc=0
run_qemu || rc=$?
report_results "$rc" || rc=$?
exit "$rc"
