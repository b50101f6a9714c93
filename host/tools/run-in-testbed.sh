#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Runs the host-tools scenario in the nested testbed with L1's interrupt
# remapping turned off (intel-iommu,intremap=off), the one host state the
# default testbed boot cannot show. It reuses the testbed's host functions
# unchanged, as iommu/tools/run-in-testbed.sh does: a scratch copy of
# tests/testbed, the QEMU arguments rewritten, one L1 boot.
#
#   host/tools/run-in-testbed.sh [--noremap] [--show]
#
# Without options it is the same as tests/testbed/run.sh host-tools.
# --show also prints the real output of the commands as NOTE lines (what
# docs/quickstart.md quotes).
set -euo pipefail

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=${HOST_TB_WORK:-/tmp/host-testbed}
noremap=0
show=0
for a in "$@"; do
	case "$a" in
	--noremap) noremap=1 ;;
	--show) show=1 ;;
	*) echo "usage: $0 [--noremap] [--show]" >&2; exit 2 ;;
	esac
done

rm -rf "$WORK/tb"
mkdir -p "$WORK/tb"
(cd "$SRC_DIR/tests/testbed" && cp -r host l1 l2 scenarios tb-probe.c "$WORK/tb/")

# Variables the testbed's host functions expect from run.sh.
TB_DIR=$WORK/tb
CACHE_DIR=$SRC_DIR/tests/testbed/cache
OUT_DIR=$WORK/out
interactive=0
verbose=0
iommu=intel
ivshmem_size=256M
timeout_s=300
build_ref=""
scenarios=(host-tools)
if [ "$show" = 1 ]; then
	scenarios+=(host-show)
	cat >"$WORK/tb/scenarios/host-show.sh" <<'EOF'
scenario_host_show()
{
	run_test host.show 60 host_show
}
. "$TB/scenarios/host-tools.sh"

host_show()
{
	local c
	for c in "devices" "doctor" "bind 00:1f.2" "doctor 00:1f.2" "bind --group 00:1f.2" \
		 "unbind --group 00:1f.2" "devices --json"; do
		echo "NOTE: \$ vfio-vmm $c"
		vfio-vmm $c 2>&1 | sed 's/^/NOTE: /'
	done
	write_conf
	vfio-vmm run --kernel "$TB/l2/bzImage" --cmdline "console=ttyS0 panic=0" \
		--memory 128M --device 00:02.0 >/dev/null 2>&1 </dev/null &
	sleep 2
	for c in "--flavor two-nvme" "--device 00:02.0" "--device alias:nvme:1"; do
		echo "NOTE: \$ vfio-vmm run --kernel hello --config host.conf $c"
		vfio-vmm run --kernel "$TB/guests/hello" --config "$TB_OUT/host.conf" $c 2>&1 |
			sed 's/^/NOTE: /'
	done
	echo "NOTE: \$ vfio-vmm unbind 00:02.0"
	vfio-vmm unbind 00:02.0 2>&1 | sed 's/^/NOTE: /'
	kill %1
}
EOF
fi
. "$TB_DIR/host/common.sh"
. "$TB_DIR/host/kernel.sh"
. "$TB_DIR/host/build.sh"
. "$TB_DIR/host/initramfs.sh"
. "$TB_DIR/host/qemu.sh"
mkdir -p "$OUT_DIR"
[ "$noremap" = 0 ] || intremap=off

prepare_kernel
build_all
build_initramfs
rc=0
run_qemu || rc=$?
report_results "$rc" || rc=$?
exit "$rc"
