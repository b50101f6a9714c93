# SPDX-License-Identifier: MIT
# Runs L1 under QEMU TCG and judges its serial log (sourced by run.sh).

SERIAL_LOG=
QEMU_RC=0

# edu masks DMA addresses to 28 bits by default; the passthrough scenario's
# P2P test has it DMA into ivshmem's BAR above 4 GiB, within the IOMMU's
# 39-bit IOVA space.
EDU_DMA_MASK=0x7fffffffff

# ivshmem's memory is a sparse file on tmpfs: L1 can be given a 256G BAR
# while the host pays only for the pages written (a 256G anonymous shared
# mapping is refused by the host's overcommit check; on ext4 every page
# L1 touches goes through the page cache and writeback, which is slow).
# The file is removed when run.sh exits. TESTBED_SHM picks the tmpfs.
IVSHMEM_FILE=
ivshmem_file()
{
	local dir=${TESTBED_SHM:-/dev/shm}
	[ -z "$IVSHMEM_FILE" ] || return 0
	[ "$(stat -f -c %T "$dir" 2>/dev/null)" = tmpfs ] ||
		die "$dir is not a tmpfs: set TESTBED_SHM to one for ivshmem's backing file"
	IVSHMEM_FILE=$(mktemp "$dir/vfio-vmm-testbed-ivshmem.XXXXXX")
	trap 'rm -f "$IVSHMEM_FILE"' EXIT
	truncate -s "$ivshmem_size" "$IVSHMEM_FILE" ||
		die "cannot make a $ivshmem_size sparse file in $dir for ivshmem"
}

# The machine of NOTES.md: q35 (needed for an emulated IOMMU), an AMD CPU
# model with SVM so L1's kvm_amd gives a real /dev/kvm, and the five test
# devices at fixed slots so their BDFs and IOMMU groups never move.
qemu_args()
{
	local append="console=ttyS0 panic=-1 loglevel=${TESTBED_LOGLEVEL:-3} iommu=pt"
	# The hang watchdog below sends L1 an NMI; this makes L1 print where it
	# was (a panic with a backtrace) instead of ignoring it.
	append+=" unknown_nmi_panic"
	# On a loaded host TCG can miss the early IO-APIC timer probe, and with
	# interrupt remapping the kernel then panics ("timer doesn't work through
	# Interrupt-remapped IO-APIC"); the timer itself works.
	append+=" no_timer_check"
	# The IOMMU comes first: only devices created after it are behind it.
	# amd-iommu brings a PCI function of its own that takes slot 1, so there
	# the test devices move up one slot (scenarios look them up by ID).
	# Two virtio-nets: the transitional one (1af4:1000) for its I/O BAR0,
	# whose DMA would bypass the IOMMU, and a modern-only one (1af4:1041)
	# with ACCESS_PLATFORM, whose DMA goes through the IOMMU and so through
	# vfio-vmm's mappings of L2's RAM. Neither has a netdev: QEMU then drops
	# each packet as sent and still hands its buffer back through the used
	# ring, which is all the TX check needs, with no network to reach.
	local slot=1
	ivshmem_file
	QEMU_ARGS=(-nodefaults -no-user-config -display none -no-reboot
		-machine q35 -accel tcg -cpu "${TESTBED_CPU:-EPYC,+svm,+npt}"
		-smp "${TESTBED_L1_CPUS:-1}" -m "${TESTBED_L1_MEM:-2G}")
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
		-object "memory-backend-file,id=ivmem,size=$ivshmem_size,share=on,mem-path=$IVSHMEM_FILE"
		-device "ivshmem-plain,memdev=ivmem,addr=$((slot + 2)).0"
		-nic none -device "virtio-net-pci,addr=$((slot + 3)).0"
		-device "virtio-net-pci,disable-legacy=on,iommu_platform=on,addr=$((slot + 4)).0")
	sriov_args $((slot + 5))
}

# sriov_args SLOT: a second nvme, with SR-IOV, for the sriov scenario
# (docs/testbed.md). QEMU 7.2's nvme offers VFs only inside an NVM
# subsystem; its VFs take functions 1 and 2 of the PF's slot (VF offset 1,
# stride 1), which QEMU creates only when the PF says multifunction. Each
# VF gets 2 queues (admin + 1 I/O) and 1 interrupt from the flexible pools
# (sriov_vq_flexible = 2 x 2, sriov_vi_flexible = 2 x 1). The namespace is
# shared, so the VFs' controllers see it too (QEMU attaches shared
# namespaces to every controller of the subsystem as it registers), backed
# by a sparse 1 GiB file so that what L2 writes through a VF can be read
# back through the PF in L1. L1's init leaves this PF off vfio-pci.
sriov_args()
{
	local disk=$OUT_DIR/sriov-ns.raw
	rm -f "$disk"
	truncate -s 1G "$disk" || die "cannot make the sriov namespace file $disk"
	QEMU_ARGS+=(-device "nvme-subsys,id=tbsubsys,nqn=vfio-vmm-testbed-sriov"
		-drive "file=$disk,if=none,id=nvvf,format=raw"
		-device "nvme,id=nvsriov,serial=sriov0,subsys=tbsubsys,addr=$1.0,multifunction=on,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2"
		-device "nvme-ns,drive=nvvf,bus=nvsriov,nsid=1,shared=on")
}

run_qemu_interactive()
{
	qemu_args
	log "interactive: L1 serial on stdio; Ctrl-A x quits QEMU, 'poweroff -f' leaves L1"
	local kick=$OUT_DIR/qemu-kick.mon kpid=""
	rm -f "$kick"
	if [ "${TESTBED_KICK:-1}" != 0 ]; then
		l1_kick "$kick" &
		kpid=$!
	fi
	qemu-system-x86_64 "${QEMU_ARGS[@]}" -serial mon:stdio \
		-qmp "unix:$kick,server=on,wait=off" || true
	[ -z "$kpid" ] || { kill "$kpid" 2>/dev/null; wait "$kpid" 2>/dev/null; }
}

# Runs L1 in batch mode, echoing its result lines as they appear.
run_qemu()
{
	qemu_args
	SERIAL_LOG=$OUT_DIR/serial.log
	: >"$SERIAL_LOG"
	local t0=$EPOCHREALTIME
	log "qemu: L1 ${TESTBED_CPU:-EPYC,+svm,+npt} x${TESTBED_L1_CPUS:-1}, ${TESTBED_L1_MEM:-2G}, $iommu IOMMU, ivshmem $ivshmem_size, timeout ${timeout_s}s; serial log: $SERIAL_LOG"
	QEMU_MON=$OUT_DIR/qemu.mon
	local kick=$OUT_DIR/qemu-kick.mon
	rm -f "$QEMU_MON" "$kick" "$OUT_DIR/hang.txt"
	timeout -k 5 "$timeout_s" qemu-system-x86_64 "${QEMU_ARGS[@]}" \
		-qmp "unix:$QEMU_MON,server=on,wait=off" \
		-qmp "unix:$kick,server=on,wait=off" \
		-serial "file:$SERIAL_LOG" </dev/null >"$OUT_DIR/qemu.log" 2>&1 &
	local qpid=$! tpid wpid kpid
	tail -s 0.2 -n +1 -F --pid="$qpid" "$SERIAL_LOG" 2>/dev/null |
		show_result_lines "$t0" &
	tpid=$!
	hang_watch "$qpid" &
	wpid=$!
	[ "${TESTBED_KICK:-1}" = 0 ] || { l1_kick "$kick" & }
	kpid=$!
	QEMU_RC=0
	wait "$qpid" || QEMU_RC=$?
	kill "$wpid" "$kpid" 2>/dev/null
	wait "$tpid" "$wpid" "$kpid" 2>/dev/null || true
	return 0
}

# l1_kick SOCKET: one PS/2 key event (shift) a second into L1, through a QMP
# socket of its own. QEMU 7.2's TCG sometimes leaves an interrupt that the
# L1 local APIC has accepted (its IRR bit set, e.g. the LAPIC timer) without
# waking or interrupting the CPU: L1 then halts for good, or keeps running
# an L2 guest and never takes its own timer again (docs/testbed.md,
# "L1 hangs"). A device interrupt raised from QEMU's main loop makes QEMU
# re-evaluate the APIC, which delivers the stranded one too; the key event
# is the cheapest such interrupt L1 ignores. TESTBED_KICK=0 turns it off.
l1_kick()
{
	python3 "$TB_DIR/host/qmp.py" --kick "$1"
}

# Seconds of serial silence after which L1 counts as hung. Every test in L1
# runs under its own limit, announced on its RUN line, and prints a result
# line when it ends, pass or fail; so a silence longer than the running
# test's limit plus a margin (and at least HANG_S) means L1 itself stopped.
HANG_S=${TESTBED_HANG_S:-90}

# hang_watch QPID: when L1's serial log stops growing for that long,
# records L1's CPU state through the QEMU monitor in hang.txt, sends an NMI
# (L1 then panics with a backtrace, see unknown_nmi_panic above, if its
# kernel still runs at all) and stops QEMU.
hang_watch()
{
	local qpid=$1 size last=-1 quiet=0 limit
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 5
		# The limit is read before the size: a RUN line written after
		# the size was taken changes the size, so it is never judged
		# against the silence of the test before it (a 300 s silent
		# P2P mapping at 256G, then a test with a 168 s limit, was
		# called a hang the moment that test started).
		limit=$(tr -d '\r' <"$SERIAL_LOG" |
			sed -n 's/^RUN [^ ]* (limit \([0-9]*\)s)$/\1/p' | tail -1)
		size=$(stat -c %s "$SERIAL_LOG" 2>/dev/null || echo 0)
		if [ "$size" != "$last" ]; then
			last=$size
			quiet=0
			continue
		fi
		quiet=$((quiet + 5))
		limit=$((${limit:-0} + 30))
		[ "$limit" -ge "$HANG_S" ] || limit=$HANG_S
		[ "$quiet" -ge "$limit" ] || continue
		log "L1 silent for ${quiet}s: CPU state in $OUT_DIR/hang.txt, then an NMI"
		echo "== L1 silent for ${quiet}s" >"$OUT_DIR/hang.txt"
		qemu_monitor "info registers" "info lapic" "x/12i \$pc" nmi "sleep 15" \
			"info registers" "x/12i \$pc" >>"$OUT_DIR/hang.txt" 2>&1
		# An L1 that answered the NMI has panicked and QEMU has gone.
		kill "$qpid" 2>/dev/null
		return 0
	done
}

# qemu_monitor CMD...: human monitor commands through QMP in one session,
# their output printed; "sleep N" waits N seconds in between.
qemu_monitor()
{
	python3 "$TB_DIR/host/qmp.py" "$QEMU_MON" "$@"
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
		name=$(sed -n 's/^RUN \([^ ]*\).*/\1/p' "$log_file" | tail -1)
		[ -z "$name" ] || grep -q "^\(PASS\|FAIL\) $name\( \|:\)" "$log_file" ||
			echo "TIMEOUT: test $name was running"
		bad=1
	elif [ -s "$OUT_DIR/hang.txt" ]; then
		echo "HANG: L1 stopped printing (its running test's limit passed); last serial lines:"
		tail -25 "$log_file"
		name=$(sed -n 's/^RUN \([^ ]*\).*/\1/p' "$log_file" | tail -1)
		[ -z "$name" ] || echo "HANG: test $name was running"
		echo "HANG: L1's CPU state (QEMU monitor), before and after an NMI:"
		grep -v "^[XY]MM" "$OUT_DIR/hang.txt"
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
