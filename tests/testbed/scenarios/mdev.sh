# SPDX-License-Identifier: MIT
# Scenario mdev (on request): mgpu.ko (tests/testbed/mdev/), a GPU-shaped
# mediated device built by host/mdev.sh against the L1 kernel's headers, is
# loaded with mdev.ko; instances of its H100/H200/MIG-like types are created
# through sysfs and assigned by vfio-vmm as /sys/bus/mdev/devices/UUID.

MGPU_PARENT=/sys/class/mdev_bus/mgpu
MGPU_TYPES=$MGPU_PARENT/mdev_supported_types

scenario_mdev()
{
	run_test mdev.load 30 mdev_load
	run_test mdev.types 10 mdev_types
	run_test mdev.create 20 mdev_create_remove
	run_test mdev.host-tools 20 mdev_host_tools
	# One H100-shaped instance assigned to a tiny guest (guest-tests/pt-gpu.c).
	run_test mdev.pt-gpu 90 mdev_guest h100 h100 $MDEV_U1
	mdev_checks h100 gpu0.bars gpu0.bar2-placement gpu0.bar2-rw gpu0.msix gpu0.copy-to-vram \
		gpu0.copy-to-ram gpu0.copy-refused gpu0.flr
	run_test mdev.pt-gpu.stats 5 mdev_stats_zero_exits h100 0
	# The H200's 256 GiB BAR2.
	run_test mdev.pt-gpu-h200 90 mdev_guest h200 h200 $MDEV_U1
	mdev_checks h200 gpu0.bars gpu0.bar2-placement gpu0.bar2-rw gpu0.copy-to-vram \
		gpu0.copy-to-ram gpu0.flr
	run_test mdev.pt-gpu-h200.stats 5 mdev_stats_zero_exits h200 0
	# Two MIG-like slices of one type in one VM, picked by a 2-GPU flavor
	# from a config file (an mdev_type alias): two sets of checks, two BAR2s.
	run_test mdev.pt-gpu-two 90 mdev_guest two h100-3g flavor $MDEV_U1 $MDEV_U2
	mdev_checks two gpu0.bar2-placement gpu0.bar2-rw gpu0.copy-to-vram gpu0.copy-to-ram \
		gpu1.bar2-placement gpu1.bar2-rw gpu1.copy-to-vram gpu1.copy-to-ram gpu1.flr
	run_test mdev.pt-gpu-two.stats 5 mdev_stats_zero_exits two 1
	# --p2p: the BARs mapped for DMA; one GPU's engine reads the other's BAR2
	# and its own through the container (vfio_dma_rw faulting on mgpu's mmap).
	export MDEV_VMM_ARGS="--p2p --cmdline p2p=1"
	run_test mdev.pt-gpu-p2p 90 mdev_guest p2p h100-1g $MDEV_U1 $MDEV_U2
	unset MDEV_VMM_ARGS
	mdev_checks p2p gpu.p2p
	# L2 Linux: the BAR sizes it sees, and its own driver's MSI-X and DMA.
	run_test mdev.linux 180 mdev_linux h100 $((128 << 30))
}

# mdev_linux TYPE BAR2BYTES: L2 Linux with one instance assigned runs the
# pt-gpu check of l2/init (resources, mgpu_guest.ko, /proc/interrupts).
mdev_linux()
{
	local out=$TB_OUT/mdev-linux.out rc line
	need_vmm
	. "$TB/scenarios/linux.sh"	# vmm_watch, L2_CMDLINE
	mdev_create "$1" $MDEV_U1
	set -- run --kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
		--cmdline "$L2_CMDLINE tb.checks=pt-gpu tb.gpubar2=$2" --memory 256M --stats \
		--device /sys/bus/mdev/devices/$MDEV_U1
	echo "+ vfio-vmm $*"
	vmm_watch "$out" 150 10 "$@"
	mdev_remove $MDEV_U1
	tr -d '\r' <"$out"
	rc=$(sed -n 's/^VMM-EXIT //p' "$out")
	line=$(tr -d '\r' <"$out" | grep '^L2-CHECK .* pt-gpu: ' | head -1)
	[ -n "$line" ] || die "L2 never reported its pt-gpu check (vfio-vmm exit status $rc)"
	case "$line" in
	"L2-CHECK ok pt-gpu: "*) echo "NOTE: ${line#L2-CHECK ok pt-gpu: }" | cut -c1-500 ;;
	*) die "${line#L2-CHECK }" ;;
	esac
	[ "$rc" = 0 ] || die "vfio-vmm exited with status $rc after L2 poweroff"
}

# mdev_guest RUN TYPE [flavor] UUID...: creates the instances (TYPE for each
# UUID), boots pt-gpu with them assigned by sysfs path (or, with "flavor",
# through a flavor of a config file whose alias names TYPE) and --stats,
# removes them. Output in $TB_OUT/pt-mdev-RUN.out (the checks and stats read it).
mdev_guest()
{
	local run=$1 type=$2 out=$TB_OUT/pt-mdev-$1.out u devs="" rc n=0 flavor=""
	shift 2
	need_vmm
	rm -f "$out"
	if [ "$1" = flavor ]; then
		flavor=1
		shift
	fi
	for u in "$@"; do
		mdev_create "$type" "$u"
		devs="$devs --device /sys/bus/mdev/devices/$u"
		n=$((n + 1))
	done
	if [ -n "$flavor" ]; then
		cat >"$TB_OUT/mdev.conf" <<EOC
[alias gpu-$type]
mdev_type = mgpu-$type
[flavor gpu.${n}x]
memory = 64M
devices = gpu-$type:$n
EOC
		cat "$TB_OUT/mdev.conf"
		devs=" --config $TB_OUT/mdev.conf --flavor gpu.${n}x"
	fi
	echo "+ vfio-vmm run --kernel $TB/guests/pt-gpu --memory 64M --stats$devs ${MDEV_VMM_ARGS:-}"
	# $devs and MDEV_VMM_ARGS unquoted on purpose: words without spaces.
	timeout -s KILL 60 vfio-vmm run --kernel "$TB/guests/pt-gpu" --memory 64M --stats \
		$devs ${MDEV_VMM_ARGS:-} >"$out" 2>&1
	rc=$?
	cat "$out"
	for u in "$@"; do
		mdev_remove "$u"
	done
	[ "$rc" != 137 ] || die "vfio-vmm did not exit within 60s"
	[ "$rc" = 0 ] || die "vfio-vmm exited with status $rc"
	grep -q '^PASS pt-gpu$' "$out" || die "exit status 0 but no 'PASS pt-gpu' line"
	[ -z "$flavor" ] || [ "$(grep -c "alias gpu-$type: picked " "$out")" = "$n" ] ||
		die "the flavor did not pick the $n instances"
	[ "$(tr -d '\r' <"$out" | sed -n 's/^PT-GPUS //p')" = "$n" ] || die "the guest did not see $n GPUs"
}

# mdev_checks RUN CHECK...: one test per CHECK line of that run's guest.
mdev_checks()
{
	local run=$1 c
	shift
	for c in "$@"; do
		run_test "mdev.$c" 5 mdev_check_line "$run" "$c"
	done
}

mdev_check_line()
{
	local out=$TB_OUT/pt-mdev-$1.out line
	[ -f "$out" ] || die "run $1 produced no output"
	line=$(tr -d '\r' <"$out" | grep "^CHECK $2: " | head -1)
	echo "$line"
	[ -n "$line" ] || die "the guest never reported check $2"
	case "$line" in
	"CHECK $2: ok "*) echo "NOTE: ${line#CHECK $2: ok }" ;;
	*) die "${line#CHECK $2: }" ;;
	esac
}

# mdev_stats_zero_exits RUN K: GPU K's BAR2 took no trapped access though the
# guest made PT-COUNT of them, and the register page took some.
mdev_stats_zero_exits()
{
	local out=$TB_OUT/pt-mdev-$1.out n lines
	n=$(tr -d '\r' <"$out" | awk -v g="gpu$2" '$1 == "PT-COUNT" && $2 == g { print $NF }')
	[ "${n:-0}" -gt 0 ] || die "the guest did not report its BAR2 accesses"
	lines=$(tr -d '\r' <"$out" | grep -E '^ +BAR2 mem64 at .*: mapped ')
	echo "$lines"
	[ -n "$lines" ] || die "no BAR2 line in --stats"
	echo "$lines" | grep -v 'trapped 0x0; 0 trapped reads, 0 trapped writes' &&
		die "a BAR2 took trapped accesses"
	[ "$(echo "$lines" | wc -l)" = $(($2 + 1)) ] || die "want $(($2 + 1)) BAR2 stats lines"
	echo "NOTE: the guest made $n accesses to each GPU's BAR2, the VMM trapped none: $(echo "$lines" | head -1 | sed 's/^ *//')"
}

mdev_load()
{
	[ -f "$TB/mgpu.ko" ] || die "mgpu.ko was not built (see mdev-build.log on the host)"
	modprobe mdev || die "modprobe mdev failed"
	insmod "$TB/mgpu.ko" || die "insmod mgpu.ko failed: $(dmesg | tail -3)"
	[ -d "$MGPU_TYPES" ] || die "no $MGPU_TYPES after insmod"
	ls "$MGPU_TYPES"
}

# mdev_type_attr TYPE ATTR: one sysfs attribute of a supported type.
mdev_type_attr()
{
	cat "$MGPU_TYPES/mgpu-$1/$2"
}

mdev_types()
{
	local t
	for t in h100 h200 h100-1g h100-3g; do
		[ -d "$MGPU_TYPES/mgpu-$t" ] || die "type mgpu-$t missing: $(ls "$MGPU_TYPES")"
		echo "mgpu-$t: $(mdev_type_attr $t name); $(mdev_type_attr $t description)" \
			"available $(mdev_type_attr $t available_instances)" \
			"api $(mdev_type_attr $t device_api)"
		[ "$(mdev_type_attr $t device_api)" = vfio-pci ] || die "mgpu-$t: device_api not vfio-pci"
	done
	[ "$(mdev_type_attr h100-1g available_instances)" = 7 ] ||
		die "mgpu-h100-1g offers $(mdev_type_attr h100-1g available_instances) instances, not 7"
}

# mdev_create TYPE UUID: creates one instance; fails the test when it cannot.
mdev_create()
{
	echo "$2" >"$MGPU_TYPES/mgpu-$1/create" || die "creating mgpu-$1 $2 failed: $(dmesg | tail -2)"
	[ -e "/sys/bus/mdev/devices/$2" ] || die "no /sys/bus/mdev/devices/$2 after create"
}

mdev_remove()
{
	[ ! -e "/sys/bus/mdev/devices/$1" ] || echo 1 >"/sys/bus/mdev/devices/$1/remove" ||
		die "removing $1 failed"
}

# The UUIDs the tests use: fixed, so a failing run's leftovers are recognizable.
MDEV_U1=6a5f0a3e-0001-4d3c-9b1e-000000000001
MDEV_U2=6a5f0a3e-0001-4d3c-9b1e-000000000002
MDEV_U3=6a5f0a3e-0001-4d3c-9b1e-000000000003

mdev_create_remove()
{
	local grp before after
	before=$(mdev_type_attr h100 available_instances)
	mdev_create h100 $MDEV_U1
	grp=$(basename "$(readlink /sys/bus/mdev/devices/$MDEV_U1/iommu_group)")
	[ -n "$grp" ] && [ -c "/dev/vfio/$grp" ] || die "mdev $MDEV_U1 has no IOMMU group node (group '$grp')"
	echo "mgpu-h100 $MDEV_U1: IOMMU group $grp, driver $(basename "$(readlink /sys/bus/mdev/devices/$MDEV_U1/driver)")"
	after=$(mdev_type_attr h100 available_instances)
	[ "$after" = $((before - 1)) ] || die "available_instances $before -> $after after one create"
	mdev_create h100 $MDEV_U2
	# The type's limit (2): a third is refused.
	if echo $MDEV_U3 >"$MGPU_TYPES/mgpu-h100/create" 2>/dev/null; then
		mdev_remove $MDEV_U3
		die "a third mgpu-h100 was created past max_instances 2"
	fi
	mdev_remove $MDEV_U1
	mdev_remove $MDEV_U2
	[ ! -e /sys/bus/mdev/devices/$MDEV_U1 ] || die "$MDEV_U1 still there after remove"
	[ "$(mdev_type_attr h100 available_instances)" = "$before" ] ||
		die "available_instances not back to $before after remove"
}

# vfio-vmm devices lists an instance with its type, parent and group; doctor
# passes it by UUID and by path, and names one that does not exist.
mdev_host_tools()
{
	local out grp
	need_vmm
	mdev_create h100-1g $MDEV_U1
	grp=$(basename "$(readlink /sys/bus/mdev/devices/$MDEV_U1/iommu_group)")
	out=$(vfio-vmm devices 2>&1)
	echo "$out"
	echo "$out" | grep -q "^$MDEV_U1  mgpu-h100-1g  *mgpu  *mgpu  *$grp  *yes\$" ||
		{ mdev_remove $MDEV_U1; die "devices does not list $MDEV_U1 (type, parent, group $grp)"; }
	out=$(vfio-vmm doctor $MDEV_U1 /sys/bus/mdev/devices/$MDEV_U1 2>&1)
	echo "$out"
	mdev_remove $MDEV_U1
	echo "$out" | grep -q "^PASS  $MDEV_U1: mediated device of type mgpu-h100-1g on mgpu" ||
		die "doctor did not pass the instance"
	echo "$out" | grep -q "^PASS  $MDEV_U1: /dev/vfio/$grp usable" || die "doctor: no node line"
	echo "$out" | grep -q "^FAIL  $MDEV_U1" && die "doctor failed the instance"
	echo "NOTE: $(echo "$out" | grep "^PASS  $MDEV_U1" | head -2 | tr '\n' ' ')"
}
