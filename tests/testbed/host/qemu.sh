# SPDX-License-Identifier: MIT
# Runs L1 under QEMU TCG and judges its serial log (sourced by run.sh).

SERIAL_LOG=
QEMU_RC=0

# edu masks DMA addresses to 28 bits by default; the passthrough scenario's
# P2P test has it DMA into ivshmem's BAR above 4 GiB, within the IOMMU's
# 39-bit IOVA space.
EDU_DMA_MASK=0x7fffffffff

# The machine of NOTES.md: q35 (needed for an emulated IOMMU), an AMD CPU
# model with SVM so L1's kvm_amd gives a real /dev/kvm, and the four test
# devices at fixed slots so their BDFs and IOMMU groups never move.
qemu_args()
{
	local append="console=ttyS0 panic=-1 loglevel=${TESTBED_LOGLEVEL:-3} iommu=pt"
	# On a loaded host TCG can miss the early IO-APIC timer probe, and with
	# interrupt remapping the kernel then panics ("timer doesn't work through
	# Interrupt-remapped IO-APIC"); the timer itself works.
	append+=" no_timer_check"
	# The IOMMU comes first: only devices created after it are behind it.
	# amd-iommu brings a PCI function of its own that takes slot 1, so there
	# the test devices move up one slot (scenarios look them up by ID).
	local slot=1
	QEMU_ARGS=(-nodefaults -no-user-config -display none -no-reboot
		-machine q35 -accel tcg -cpu "${TESTBED_CPU:-EPYC,+svm,+npt}"
		-smp 1 -m "${TESTBED_L1_MEM:-2G}")
	case "$iommu" in
	intel)
		QEMU_ARGS+=(-device "intel-iommu,intremap=${intremap:-on}")
		append+=" intel_iommu=on"
		;;
	amd)
		# amd_iommu=on is not a valid option; the IOMMU is on by default.
		QEMU_ARGS+=(-device "amd-iommu,intremap=${intremap:-on}")
		slot=2
		;;
	esac
	QEMU_ARGS+=(-kernel "$VMLINUX" -initrd "$L1_INITRD"
		-append "$append ${TESTBED_APPEND:-}"
		-device "edu,addr=$slot.0,dma_mask=$EDU_DMA_MASK"
		-drive file=null-co://,if=none,id=nv0,format=raw
		-device "nvme,serial=deadbeef,drive=nv0,addr=$((slot + 1)).0"
		-object "memory-backend-ram,id=ivmem,size=$ivshmem_size,share=on"
		-device "ivshmem-plain,memdev=ivmem,addr=$((slot + 2)).0"
		-nic none -device "virtio-net-pci,addr=$((slot + 3)).0")
}

run_qemu_interactive()
{
	qemu_args
	log "interactive: L1 serial on stdio; Ctrl-A x quits QEMU, 'poweroff -f' leaves L1"
	qemu-system-x86_64 "${QEMU_ARGS[@]}" -serial mon:stdio
}

# Runs L1 in batch mode, echoing its result lines as they appear.
run_qemu()
{
	qemu_args
	SERIAL_LOG=$OUT_DIR/serial.log
	: >"$SERIAL_LOG"
	local t0=$EPOCHREALTIME
	log "qemu: L1 ${TESTBED_CPU:-EPYC,+svm,+npt}, $iommu IOMMU, ivshmem $ivshmem_size, timeout ${timeout_s}s; serial log: $SERIAL_LOG"
	timeout -k 5 "$timeout_s" qemu-system-x86_64 "${QEMU_ARGS[@]}" \
		-serial "file:$SERIAL_LOG" </dev/null >"$OUT_DIR/qemu.log" 2>&1 &
	local qpid=$! tpid
	tail -s 0.2 -n +1 -F --pid="$qpid" "$SERIAL_LOG" 2>/dev/null |
		show_result_lines "$t0" &
	tpid=$!
	QEMU_RC=0
	wait "$qpid" || QEMU_RC=$?
	wait "$tpid" || true
	return 0
}

# Echoes L1's result lines as they arrive, each prefixed with the seconds
# since QEMU started. Line by line in bash: a pipe through tr or grep would
# hold them back in its buffer.
show_result_lines()
{
	local t0=$1 line
	while IFS= read -r line; do
		line=${line%$'\r'}
		[[ "$line" =~ ^(PASS|FAIL|TIME|NOTE|TESTBED) ]] || continue
		printf '  L1 +%5.1fs| %s\n' \
			"$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" "$line"
	done
}

# Prints the verdict from the serial log; returns 1 on anything but success.
report_results()
{
	local log_file=$OUT_DIR/serial.clean npass nfail bad=0 name
	tr -d '\r' <"$SERIAL_LOG" >"$log_file"
	npass=$(grep -c '^PASS ' "$log_file" || true)
	nfail=$(grep -c '^FAIL ' "$log_file" || true)

	for name in $(sed -n 's/^FAIL \([^:]*\):.*/\1/p' "$log_file"); do
		echo "===== output of failed test $name ====="
		sed -n "/^----- begin output $name -----\$/,/^----- end output $name -----\$/p" \
			"$log_file" | sed '1d;$d;s/^| //'
	done
	if [ "$QEMU_RC" = 124 ] || [ "$QEMU_RC" = 137 ]; then
		echo "TIMEOUT: L1 did not finish within ${timeout_s}s; last serial lines:"
		tail -25 "$log_file"
		name=$(sed -n 's/^RUN //p' "$log_file" | tail -1)
		[ -z "$name" ] || grep -q "^\(PASS\|FAIL\) $name\( \|:\)" "$log_file" ||
			echo "TIMEOUT: test $name was running"
		bad=1
	elif [ "$QEMU_RC" != 0 ]; then
		echo "QEMU exited with status $QEMU_RC:"
		tail -10 "$OUT_DIR/qemu.log"
		bad=1
	fi
	if grep -q 'Kernel panic' "$log_file"; then
		echo "L1 PANIC:"
		grep -A15 'Kernel panic' "$log_file" | head -25
		bad=1
	fi
	if ! grep -q '^TESTBED-VERDICT: ' "$log_file"; then
		echo "no verdict line from L1 (it did not finish its scenarios)"
		[ "$bad" = 1 ] || tail -25 "$log_file"
		bad=1
	fi
	grep '^NOTE ' "$log_file" || true
	[ "$nfail" = 0 ] || bad=1
	[ "$npass" != 0 ] || { echo "no test passed"; bad=1; }
	echo "testbed: $npass passed, $nfail failed"
	return "$bad"
}
