# SPDX-License-Identifier: MIT
# Builds edu_bench.ko (tests/testbed/edu/), the edu driver of the overhead
# scenario's edu rows, against Debian's headers for the L1 kernel (sourced by
# run.sh; prepare_kernel_headers is host/mdev.sh's). L2 boots the same kernel
# package, so the one module loads in both. Built afresh on every run.

# Sets EDU_BENCH_KO, empty when the build failed: overhead.edu then fails
# with "edu_bench.ko was not built"; nothing else needs it.
build_edu_module()
{
	local hdr tree=$SRC_DIR out=$OUT_DIR/edu blog=$OUT_DIR/edu-build.log src
	[ -z "${build_ref:-}" ] || tree=$OUT_DIR/src
	src=$tree/tests/testbed/edu
	EDU_BENCH_KO=""
	hdr=$(prepare_kernel_headers) || return 0
	rm -rf "$out"
	mkdir -p "$out"
	cp "$src"/*.c "$src"/*.h "$src"/Kbuild "$out/"
	# No BTF, as for mgpu.ko (host/mdev.sh).
	if ! make -C "$hdr" M="$out" CONFIG_DEBUG_INFO_BTF_MODULES= modules >"$blog" 2>&1; then
		{ grep -iE 'error|warning' "$blog" || true; } | head -20
		log "edu: edu_bench.ko FAILED to build (full log: $blog)"
		return 0
	fi
	if grep -q 'warning:' "$blog"; then
		grep 'warning:' "$blog" | head -10
		log "edu: edu_bench.ko built with warnings (full log: $blog): not used"
		return 0
	fi
	EDU_BENCH_KO=$out/edu_bench.ko
	log "edu: built $EDU_BENCH_KO for $KVER"
}
