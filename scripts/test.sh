#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Runs every test on a fresh Debian 12 machine (as root): installs the
# packages, builds, then runs
#   1. unit tests (criterion) and guest tests (tiny guests on /dev/kvm),
#   2. the same under ASan/UBSan, then the fuzz targets for 15 s each,
#   3. the nested VFIO testbed (QEMU TCG L1 + real VFIO; see docs/testbed.md),
#      then one more L1 boot without interrupt remapping (VFIO and doctor),
#      one with amd-iommu instead of intel-iommu (passthrough), one with a
#      16 GiB BAR, and one with L1 and L2 on Linux 6.12 instead of 6.1.
# Ends with one line "N passed, N failed" and a non-zero status on any failure.
# SKIP_TESTBED=1 skips step 3 (for quick local runs).
set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$SRC"
bash scripts/deps.sh || exit 1

passed=0
failed=0
skipped=0
status=0

count_meson() {
	# meson writes one JSON object per test to testlog.json.
	local log=$1/meson-logs/testlog.json p f s
	p=$(grep -c '"result": "OK"' "$log" || true)
	s=$(grep -c '"result": "SKIP"' "$log" || true)
	skipped=$((skipped + s))
	f=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
	passed=$((passed + p))
	failed=$((failed + f))
}

run_meson() {
	local dir=$1
	shift
	echo "== build $dir $*"
	rm -rf "$dir"
	if ! meson setup "$dir" "$@" >/dev/null || ! ninja -C "$dir"; then
		echo "FAIL: build in $dir"
		failed=$((failed + 1))
		status=1
		return
	fi
	echo "== tests in $dir"
	meson test -C "$dir" --print-errorlogs || status=1
	count_meson "$dir"
}

# run_counted NAME CMD...: a run that ends with "NAME: N passed, M failed"
# (the testbed: L1's own verdict; tests/fuzz/run.sh), its counts added.
run_counted() {
	local name=$1 log rc p f
	shift
	log=$(mktemp)
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(sed -n "s/^$name: \([0-9]*\) passed, [0-9]* failed.*/\1/p" "$log" | tail -1)
	f=$(sed -n "s/^$name: [0-9]* passed, \([0-9]*\) failed.*/\1/p" "$log" | tail -1)
	p=${p:-0}
	f=${f:-0}
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ]; then
		status=1
		[ "$f" -eq 0 ] && failed=$((failed + 1))
	fi
	rm -f "$log"
}

run_meson build-test
run_meson build-asan -Db_sanitize=address,undefined -Db_lundef=false

# Coverage-guided fuzzing (clang, libFuzzer, ASan+UBSan): every target 15 s.
echo "== fuzz targets (tests/fuzz, docs/fuzzing.md)"
run_counted fuzz bash tests/fuzz/run.sh

if [ "${SKIP_TESTBED:-0}" != 1 ]; then
	echo "== nested VFIO testbed"
	run_counted testbed bash tests/testbed/run.sh
	# One more L1 boot, without interrupt remapping: doctor must say so, and
	# VFIO_SET_IOMMU must refuse the container (iommu-noremap).
	echo "== nested VFIO testbed, L1 without interrupt remapping (iommu-noremap, host-tools)"
	TESTBED_OUT=tests/testbed/out-noremap run_counted testbed bash tests/testbed/run.sh --noremap iommu-noremap host-tools
	# And once more on AMD's IOMMU (QEMU's amd-iommu, its own interrupt
	# remapping): the passthrough scenarios, tiny guests and Linux.
	echo "== nested VFIO testbed, L1 with amd-iommu (l1, passthrough, linux-passthrough)"
	TESTBED_OUT=tests/testbed/out-amd run_counted testbed bash tests/testbed/run.sh --iommu amd \
		l1 passthrough linux-passthrough
	# A 16 GiB ivshmem BAR2 (a sparse file on tmpfs): mapped for P2P in
	# 16 one-GiB MAP_DMA calls, stopped by SIGTERM and by SIGKILL while it
	# maps (pt.p2p-sigterm, pt.p2p-sigkill), about 2 minutes of L1. 256G is
	# on request (docs/testbed.md, "Big BARs"): its P2P mapping alone takes
	# about 330 s on the 6.1 L1.
	echo "== nested VFIO testbed, 16G ivshmem BAR2 (l1, passthrough)"
	TESTBED_OUT=tests/testbed/out-16g run_counted testbed bash tests/testbed/run.sh \
		--ivshmem-size 16G l1 passthrough
	# L1 and L2 on Debian's 6.12 kernel (bookworm-security; zstd bzImage,
	# .ko.xz modules; run.sh --kernel 6.12): the passthrough scenarios on a
	# kernel with huge-PFN BAR faults. A 107 MB download the first time,
	# then cached in tests/testbed/cache like 6.1. Measured: 49 tests,
	# 126.5 s of L1, 193.8 s wall with its own static build.
	echo "== nested VFIO testbed, L1 and L2 on Linux 6.12 (l1, passthrough, linux-passthrough)"
	TESTBED_OUT=tests/testbed/out-6.12 run_counted testbed bash tests/testbed/run.sh --kernel 6.12 \
		l1 passthrough linux-passthrough
	# The testbed ran the quick bench scenario: its results must still make
	# the JSON, the table and the plots (docs/benchmarks.md).
	echo "== bench report"
	tb_out=${TESTBED_OUT:-tests/testbed/out}
	if ! grep -q '^TIME scenario bench:' "$tb_out/serial.clean" 2>/dev/null; then
		echo "FAIL: bench report: the testbed stopped before its bench scenario (see above)"
		failed=$((failed + 1))
		status=1
	elif bash bench/run.sh --from-log "$tb_out/serial.clean" --out "$tb_out/bench"; then
		passed=$((passed + 1))
	else
		echo "FAIL: bench report"
		failed=$((failed + 1))
		status=1
	fi
fi

# Guest tests skip on a host without /dev/kvm; the testbed boots them in L1.
[ -c /dev/kvm ] || echo "note: no /dev/kvm on this host: the guest tests were skipped here and ran in the testbed's L1 (scenario guests)"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || status=1
exit $status
