# SPDX-License-Identifier: MIT
# Builds edu_bench.ko (tests/testbed/edu/), the edu driver of the overhead
# scenario's edu rows, with host/module.sh (sourced by run.sh).

# Sets EDU_BENCH_KO, empty when the build failed: overhead.edu then fails
# with "edu_bench.ko was not built"; nothing else needs it.
build_edu_module()
{
	local tree=$SRC_DIR out=$OUT_DIR/edu
	# With --ref, the exported revision (host/build.sh made it), like vfio-vmm.
	[ -z "${build_ref:-}" ] || tree=$OUT_DIR/src
	EDU_BENCH_KO=""
	build_oot_module edu "$tree/tests/testbed/edu" "$out" || return 0
	EDU_BENCH_KO=$out/edu_bench.ko
	log "edu: built $EDU_BENCH_KO for $KVER"
}
