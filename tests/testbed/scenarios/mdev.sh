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
