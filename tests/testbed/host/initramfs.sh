# SPDX-License-Identifier: MIT
# Assembles the L1 initramfs (sourced by run.sh): busybox, the kernel
# modules for KVM and VFIO, our binaries, the tiny guests, and the L2 kernel
# with its own busybox initramfs.

L1_MODULES="kvm_amd vfio_pci ahci lpc_ich i2c_i801 tun vhost_net vhost_vsock"
# The bench scenario's disk rows: a RAM block device (brd) that takes O_DIRECT.
L1_MODULES="$L1_MODULES brd"
# The mdev scenario: mdev.ko for mgpu.ko (host/mdev.sh), which it loads itself.
L1_MODULES="$L1_MODULES mdev"
# The overhead scenario: L1's own nvme driver on the nvme, the host side of
# vfio-vmm bench overhead (loaded only there: L1 binds the nvme to vfio-pci).
L1_MODULES="$L1_MODULES nvme"
# Drivers the L2 Linux loads for assigned devices (linux-passthrough) and
# for vfio-vmm's own virtio devices (net: virtio_net, vsock; linux-disk's
# root disk: virtio_blk, ext4).
L2_MODULES="nvme virtio_net virtio_pci vmw_vsock_virtio_transport virtio_blk ext4"

# Sets L1_INITRD.
build_initramfs()
{
	local root=$OUT_DIR/l1root big=$OUT_DIR/l1big
	rm -rf "$root" "$big"
	mkdir -p "$root"/{dev,proc,sys,tmp,run,etc} "$root/testbed"/{bin,guests,l2}
	mknod -m 600 "$root/dev/console" c 5 1
	install_busybox "$root"
	install_modules "$root"

	cp "$TB_DIR/l1/init" "$root/init"
	cp "$TB_DIR/l1/lib.sh" "$TB_DIR/l1/runtest.sh" "$root/testbed/"
	cp -r "$TB_DIR/scenarios" "$root/testbed/"
	cp "$PROBE_BIN" "$XFER_BIN" "$NETBENCH_BIN" "$DISKBENCH_BIN" "$NVMEVIRT_BIN" "$EDUBENCH_BIN" \
		"$root/testbed/bin/"
	[ -z "$VMM_BIN" ] || cp "$VMM_BIN" "$root/testbed/bin/"
	[ -z "${IOMMU_PROBE_BIN:-}" ] || cp "$IOMMU_PROBE_BIN" "$root/testbed/bin/"
	[ -z "${MGPU_KO:-}" ] || cp "$MGPU_KO" "$root/testbed/"
	[ -z "${EDU_BENCH_KO:-}" ] || cp "$EDU_BENCH_KO" "$root/testbed/"	# scenario overhead
	local name path
	while read -r name path; do
		[ -n "$name" ] && cp "$path" "$root/testbed/guests/$name"
	done <<<"$GUESTS"
	chmod +x "$root/init" "$root/testbed"/bin/*
	write_l1_config "$root/testbed/config"
	build_l2_initramfs "$root/testbed/l2/initramfs.cpio.gz"

	# The L2 kernels are big and barely compress further; they go in a
	# second, uncompressed archive that L1 unpacks with a plain copy.
	mkdir -p "$big/testbed/l2"
	cp "$BZIMAGE" "$big/testbed/l2/bzImage"
	cp "$VMLINUX" "$big/testbed/l2/vmlinux"
	install_l2_disk "$big"		# root.img and e2fsck (host/disk.sh)
	# Extra files for L1 (bench/run.sh: QEMU with its libraries, lkvm).
	[ -z "${TESTBED_EXTRA_ROOT:-}" ] || cp -a "$TESTBED_EXTRA_ROOT/." "$big/"

	L1_INITRD=$OUT_DIR/l1-initramfs.cpio
	make_cpio "$root" | gzip -1 >"$L1_INITRD"
	# Pad so the next archive starts aligned; the kernel skips the zeros.
	truncate -s %512 "$L1_INITRD"
	make_cpio "$big" >>"$L1_INITRD"
	log "initramfs: $(du -h "$L1_INITRD" | cut -f1) ($(du -sh "$root" | cut -f1) compressed part)"
}

make_cpio()
{
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet)
}

install_busybox()
{
	local root=$1 applet
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin}
	cp /bin/busybox "$root/bin/busybox"
	for applet in $("$root/bin/busybox" --list-full); do
		[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done
}

# Copies the modules L1 needs with everything they depend on, as resolved
# against the unpacked Debian tree, and makes a modules.dep for them:
# install_modules ROOT [MODULES] (default $L1_MODULES).
install_modules()
{
	local root=$1 mods m ko
	mods=$(for m in ${2:-$L1_MODULES}; do
		modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" ||
			die "modprobe cannot resolve $m in $KROOT"
	done | awk '$1 == "insmod" { print $2 }' | sort -u)
	# 6.12's modules are .ko.xz: stored decompressed, as 6.1's .ko are, so
	# that busybox insmod (which reads a plain ELF) loads either kernel's.
	for ko in $mods; do
		ko=${ko#"$KROOT"/}
		mkdir -p "$root/$(dirname "$ko")"
		case "$ko" in
		*.ko.xz) xz -dc "$KROOT/$ko" >"$root/${ko%.xz}" ;;
		*.ko.zst) zstd -qdc "$KROOT/$ko" >"$root/${ko%.zst}" ;;
		*.ko.gz) gzip -dc "$KROOT/$ko" >"$root/${ko%.gz}" ;;
		*) cp "$KROOT/$ko" "$root/$ko" ;;
		esac || die "cannot decompress $KROOT/$ko"
	done
	cp "$KROOT/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} \
		"$root/lib/modules/$KVER/"
	depmod -b "$root" "$KVER"
}

write_l1_config()
{
	cat >"$1" <<EOC
SCENARIOS="${scenarios[*]}"
INTERACTIVE=$interactive
VERBOSE=$verbose
IOMMU=$iommu
IVSHMEM_SIZE=$ivshmem_size
KICK=${TESTBED_KICK:-1}
SLOW=$slow
KVER=$KVER
L2_APPEND='${TESTBED_L2_APPEND:-}'
VMM_STRIPPED_BYTES=$(vmm_stripped_bytes)
EOC
}

# The size of a stripped copy of vfio-vmm (L1 has no strip), for the bench
# scenario's binary size next to the stripped peers; empty without a VMM.
vmm_stripped_bytes()
{
	[ -n "${VMM_BIN:-}" ] || return 0
	strip -o "$OUT_DIR/vfio-vmm.stripped" "$VMM_BIN" &&
		stat -c %s "$OUT_DIR/vfio-vmm.stripped"
}

build_l2_initramfs()
{
	local out=$1 root=$OUT_DIR/l2root
	rm -rf "$root"
	mkdir -p "$root"/{dev,proc,sys,tmp}
	mknod -m 600 "$root/dev/console" c 5 1
	install_busybox "$root"
	install_modules "$root" "$L2_MODULES"
	cp "$TB_DIR/l2/init" "$root/init"
	cp "$XFER_BIN" "$root/bin/"
	cp "$HAMMER_BIN" "$root/bin/"
	[ -z "${AGENT_BIN:-}" ] || cp "$AGENT_BIN" "$root/bin/"
	cp "$DISKBENCH_BIN" "$NETBENCH_BIN" "$EDUBENCH_BIN" "$root/bin/"
	[ -z "${MGPU_GUEST_KO:-}" ] || cp "$MGPU_GUEST_KO" "$root/"	# scenario mdev
	# Scenario overhead (edu): the same module as L1's, for the same kernel.
	[ -z "${EDU_BENCH_KO:-}" ] || cp "$EDU_BENCH_KO" "$root/"
	chmod +x "$root/init"
	make_cpio "$root" | gzip -1 >"$out"
}
