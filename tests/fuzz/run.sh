#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Builds the libFuzzer targets (clang, ASan+UBSan, build dir build-fuzz) and
# runs each for a while, one at a time. See docs/fuzzing.md.
#
#   tests/fuzz/run.sh                   every target 15 s (what scripts/test.sh runs)
#   tests/fuzz/run.sh --long            every target an hour
#   tests/fuzz/run.sh --time 600        every target 600 s
#   tests/fuzz/run.sh --target pvh      one target (repeatable)
#   tests/fuzz/run.sh --runs 10000000   every target until it has run that
#                                       many inputs (no time limit; with
#                                       --time or --long, whichever comes first)
#   tests/fuzz/run.sh --fork 2          libFuzzer's fork mode: that many worker
#                                       processes, one corpus, one count of
#                                       executions (for --runs on more cores)
#   tests/fuzz/run.sh --coverage        no fuzzing: replay the corpora in a
#                                       coverage build (build-fuzz-cov), print
#                                       llvm-cov's line/branch report per file
#
# A target fails on a crash, a sanitizer report, a broken invariant (abort),
# a leak or a timeout; its input is kept under build-fuzz/artifacts/NAME/ and
# the line says how to replay it. New corpus entries go to build-fuzz/corpus/
# (the seeds in tests/fuzz/corpus/ are only read). Ends with the line
# "fuzz: N passed, M failed" and a non-zero status on any failure.
set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${FUZZ_BUILD:-$SRC/build-fuzz}
ALL="bus pci_host serial bzimage pvh config cli"
ALL+=" virtqueue initrd agent passthrough virtio_pci"
time_per=15
timed=0
runs=0
targets=()
coverage=0
fork=0

usage() {
	sed -n '4,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "$1"
}

while [ $# -gt 0 ]; do
	case $1 in
	--long) time_per=3600; timed=1 ;;
	--coverage) coverage=1 ;;
	--time)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --time needs seconds" >&2; exit 2; }
		time_per=$2
		timed=1
		shift ;;
	--runs)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --runs needs a count" >&2; exit 2; }
		runs=$2
		shift ;;
	--fork)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --fork needs a number of workers" >&2; exit 2; }
		fork=$2
		shift ;;
	--target)
		[[ " $ALL " == *" ${2:-} "* ]] || { echo "run.sh: --target is one of: $ALL" >&2; exit 2; }
		targets+=("$2")
		shift ;;
	-h|--help) usage 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage 2 ;;
	esac
	shift
done
[ ${#targets[@]} -gt 0 ] || read -ra targets <<< "$ALL"

cd "$SRC"
bash scripts/deps.sh || exit 1

# Coverage: the same targets with clang's source-based coverage, each input
# of the seeds and of the working corpus run once (-runs=0).
if [ "$coverage" = 1 ]; then
	COV=$BUILD-cov
	echo "== coverage build $COV"
	if [ ! -f "$COV/build.ninja" ]; then
		# meson's compiler checks run instrumented programs: no default.profraw here.
		CC=clang LLVM_PROFILE_FILE=/dev/null meson setup "$COV" -Dfuzz=true -Dtests=false \
			-Dc_args="-fprofile-instr-generate -fcoverage-mapping" \
			-Dc_link_args=-fprofile-instr-generate >/dev/null || exit 1
	fi
	ninja -C "$COV" -j1 fuzz >/dev/null || exit 1
	rm -rf "$COV/prof"
	mkdir -p "$COV/prof" "$BUILD/corpus"
	objs=()
	for t in "${targets[@]}"; do
		mkdir -p "$BUILD/corpus/$t"
		LLVM_PROFILE_FILE="$COV/prof/$t.profraw" "$COV/tests/fuzz/fuzz_$t" -runs=0 \
			"$BUILD/corpus/$t" "$SRC/tests/fuzz/corpus/$t" >"$COV/prof/$t.log" 2>&1 ||
			echo "fuzz_$t failed on its corpus: $COV/prof/$t.log"
		objs+=(-object "$COV/tests/fuzz/fuzz_$t")
	done
	llvm-profdata-14 merge -o "$COV/fuzz.profdata" "$COV"/prof/*.profraw || exit 1
	llvm-cov-14 report "${objs[@]:1}" -instr-profile="$COV/fuzz.profdata" \
		devices/bus.c devices/pci_host.c devices/pcie_port.c devices/serial.c \
		vmm/bzimage.c vmm/pvh.c vmm/cli.c host/config.c agent/proto.c \
		devices/guest_mem.c devices/virtio/virtqueue.c \
		vfio/config.c vfio/bar.c vfio/msi.c vfio/msix.c vfio/vfio_pci.c vfio/pci_passthrough.c \
		devices/pci_dev.c devices/msix.c devices/pci_vector.c devices/virtio/virtio_pci.c
	exit 0
fi

echo "== build $BUILD (clang, libFuzzer, ASan+UBSan)"
if [ ! -f "$BUILD/build.ninja" ]; then
	CC=clang meson setup "$BUILD" -Dfuzz=true -Dtests=false >/dev/null ||
		{ echo "FAIL: meson setup $BUILD"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$BUILD" -j1 fuzz >/dev/null; then
	ninja -C "$BUILD" -j1 fuzz	# again, for the errors
	echo "FAIL: build in $BUILD"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

passed=0
failed=0
for t in "${targets[@]}"; do
	exe=$BUILD/tests/fuzz/fuzz_$t
	corpus=$BUILD/corpus/$t
	art=$BUILD/artifacts/$t
	log=$BUILD/logs/fuzz_$t.log
	mkdir -p "$corpus" "$art" "$(dirname "$log")"
	dict=()
	[ -f "$SRC/tests/fuzz/$t.dict" ] && dict=(-dict="$SRC/tests/fuzz/$t.dict")
	stamp=$(mktemp)
	# libFuzzer stops by itself after -max_total_time or -runs; timeout only
	# guards against a hang it could not interrupt (with --runs alone: 12 hours).
	limit=(-max_total_time="$time_per")
	guard=$((time_per + 300))
	if [ "$runs" -gt 0 ] && [ "$timed" = 1 ]; then
		limit+=(-runs="$runs")
	elif [ "$runs" -gt 0 ]; then
		limit=(-runs="$runs")
		guard=43200
	fi
	[ "$fork" = 0 ] || limit+=(-fork="$fork")
	start=$SECONDS
	timeout --signal=KILL "$guard" "$exe" "${limit[@]}" \
		"${dict[@]}" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$art/" "$corpus" "$SRC/tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	# Fork mode prints no final stats: its last "#N: cov: ... exec/s R" line.
	if [ "$fork" != 0 ]; then
		execs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -1)
		rate=$(sed -n 's/^#[0-9]*: cov:.* exec\/s \([0-9]*\).*/\1/p' "$log" | tail -1)
	fi
	found=$(find "$art" -type f -newer "$stamp" ! -name 'slow-unit-*' | head -1)
	rm -f "$stamp"
	if [ "$rc" -eq 0 ] && [ -z "$found" ]; then
		echo "PASS: fuzz_$t: ${execs:-?} executions in $((SECONDS - start)) s (${rate:-?}/s)," \
		     "corpus $(find "$corpus" -type f | wc -l) inputs"
		passed=$((passed + 1))
		continue
	fi
	echo "FAIL: fuzz_$t (exit $rc) after ${execs:-?} executions; log $log"
	grep -E '^(fuzz invariant broken|SUMMARY|==[0-9]+==ERROR)|runtime error' "$log" | head -5 |
		sed 's/^/    /'
	if [ -n "$found" ]; then
		echo "    input saved: $found"
		echo "    replay: FUZZ_VERBOSE=1 $exe $found"
	fi
	failed=$((failed + 1))
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
