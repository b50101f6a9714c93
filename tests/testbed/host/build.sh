# SPDX-License-Identifier: MIT
# Builds everything of ours that goes into L1 (sourced by run.sh). Always a
# fresh build directory: a stale binary must never hide a change.

# Sets VMM_BIN, IOMMU_PROBE_BIN, AGENT_BIN, PROBE_BIN, XFER_BIN, HAMMER_BIN, DISKBENCH_BIN, NETBENCH_BIN, NVMEVIRT_BIN, EDUBENCH_BIN and GUESTS (lines "name path").
build_all()
{
	local build=$OUT_DIR/build blog=$OUT_DIR/build.log src
	src=$(source_tree)
	rm -rf "$build"
	log "build: vfio-vmm (static) and the guests from $src"
	meson setup "$build" "$src" -Dstatic=true -Dtests=false >"$blog" 2>&1 ||
		{ tail -30 "$blog"; die "meson setup failed (full log: $blog)"; }
	# -k 0: a VMM that does not link yet must not hide the guests (and
	# vice versa); L1 reports whatever is missing as a FAIL.
	if ! ninja -C "$build" -k 0 >>"$blog" 2>&1; then
		grep -E 'error|FAILED' "$blog" | head -20
		log "build: FAILED (full log: $blog); continuing with what was built"
	fi
	VMM_BIN=$(static_bin "$build/vfio-vmm")
	# iommu/'s own probe, for the iommu scenarios (docs/iommu.md).
	IOMMU_PROBE_BIN=$(static_bin "$build/iommu/iommu-probe")
	# The guest agent, for the L2 initramfs (scenario net, `vfio-vmm exec`).
	AGENT_BIN=$(static_bin "$build/agent/vfio-vmm-agent")
	GUESTS=$(list_guests "$build")
	log "build: vfio-vmm: ${VMM_BIN:-NOT BUILT}; iommu-probe: ${IOMMU_PROBE_BIN:-NOT BUILT}; guests: $(echo "$GUESTS" | awk '{ printf "%s ", $1 }')"

	PROBE_BIN=$OUT_DIR/tb-probe
	gcc -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-o "$PROBE_BIN" "$TB_DIR/tb-probe.c" >>"$blog" 2>&1 ||
		{ tail -20 "$blog"; die "tb-probe failed to build"; }
	# The data mover of the net scenario (TCP, vsock), in L1 and in the L2 initramfs.
	XFER_BIN=$OUT_DIR/tb-xfer
	gcc -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-o "$XFER_BIN" "$TB_DIR/tb-xfer.c" >>"$blog" 2>&1 ||
		{ tail -20 "$blog"; die "tb-xfer failed to build"; }
	# Two vCPUs hammering one assigned function (linux-passthrough, pt-hammer), in the L2 initramfs.
	HAMMER_BIN=$OUT_DIR/tb-hammer
	gcc -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-o "$HAMMER_BIN" "$TB_DIR/tb-hammer.c" >>"$blog" 2>&1 ||
		{ tail -20 "$blog"; die "tb-hammer failed to build"; }
	# The bench scenario's disk rows, run by L2 Linux (in the L2 initramfs).
	DISKBENCH_BIN=$OUT_DIR/tb-diskbench
	gcc -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-o "$DISKBENCH_BIN" "$TB_DIR/tb-diskbench.c" >>"$blog" 2>&1 ||
		{ tail -20 "$blog"; die "tb-diskbench failed to build"; }
	# The bench scenario's network and vsock rows: server in L1, client in L2.
	NETBENCH_BIN=$OUT_DIR/tb-netbench
	gcc -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-o "$NETBENCH_BIN" "$TB_DIR/tb-netbench.c" >>"$blog" 2>&1 ||
		{ tail -20 "$blog"; die "tb-netbench failed to build"; }
	# The sriov scenario's NVMe admin commands in L1 (L1 has no nvme-cli).
	NVMEVIRT_BIN=$OUT_DIR/tb-nvmevirt
	gcc -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-o "$NVMEVIRT_BIN" "$TB_DIR/tb-nvmevirt.c" >>"$blog" 2>&1 ||
		{ tail -20 "$blog"; die "tb-nvmevirt failed to build"; }
	# The overhead scenario's edu rows (edu_bench.ko's ioctls), in L1 and in L2.
	EDUBENCH_BIN=$OUT_DIR/tb-edubench
	gcc -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-o "$EDUBENCH_BIN" "$TB_DIR/tb-edubench.c" "$TB_DIR/edubench_stats.c" >>"$blog" 2>&1 ||
		{ tail -20 "$blog"; die "tb-edubench failed to build"; }
}

# static_bin PATH: echoes PATH if it was built, nothing if not. A dynamic
# binary would need its loader and libraries inside L1.
static_bin()
{
	[ -x "$1" ] || return 0
	readelf -l "$1" | grep -q INTERP &&
		die "$1 is not static: -Dstatic=true did not take effect"
	echo "$1"
}

# The working tree, or with --ref a committed revision exported afresh.
source_tree()
{
	if [ -z "$build_ref" ]; then
		echo "$SRC_DIR"
		return
	fi
	rm -rf "$OUT_DIR/src"
	mkdir -p "$OUT_DIR/src"
	git -C "$SRC_DIR" archive "$build_ref" | tar -x -C "$OUT_DIR/src" ||
		die "cannot export $build_ref"
	echo "$OUT_DIR/src"
}

# Every executable target defined under guest-tests/ (the guest_binaries
# dict's targets), as "name path" lines, or, when introspection finds none,
# any ELF file built there.
list_guests()
{
	local build=$1 found
	found=$(meson introspect --targets "$build" | /usr/bin/python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["type"] == "executable" and "/guest-tests/" in t["defined_in"]:
        for f in t["filename"]:
            print(t["name"], f)
')
	if [ -z "$found" ] && [ -d "$build/guest-tests" ]; then
		found=$(find "$build/guest-tests" -maxdepth 2 -type f -perm -u+x |
		while read -r path; do
			is_elf "$path" && echo "$(basename "$path") $path"
		done)
	fi
	echo "$found" | while read -r name path; do
		[ -n "$name" ] && [ -f "$path" ] && echo "$(guest_name "$name") $path"
	done | sort -u -k1,1
}

# Target names may carry a suffix or prefix; the guest's PASS line does not.
guest_name()
{
	local n=${1%.elf}
	n=${n#guest-}
	echo "${n#guest_}"
}
