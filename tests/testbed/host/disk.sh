# SPDX-License-Identifier: MIT
# The L2 root disk (sourced by run.sh, used by host/initramfs.sh): an ext4
# image made with mke2fs -d from a tiny busybox root: the L2 initramfs's
# files, with l2/init as its /sbin/init instead of /init, so an L2 booted
# with root=/dev/vda really runs from the disk (scenario linux-disk).
# Also the static e2fsck (Debian's e2fsck-static) that checks the image in
# L1: busybox has mke2fs but no fsck for ext4, and L1 has no way to hand the
# image back to this host between boots.

L2_DISK_SIZE=32M

# install_l2_disk ROOT: puts ROOT/testbed/l2/root.img and
# ROOT/testbed/bin/e2fsck in place (ROOT is the uncompressed part of L1's
# initramfs: the image is mostly zeros, and L1 copies it faster than it
# could gunzip it).
install_l2_disk()
{
	local root=$1 dir=$OUT_DIR/l2disk img=$1/testbed/l2/root.img
	# The L2 initramfs's tree (build_l2_initramfs leaves it in
	# $OUT_DIR/l2root) has busybox, the modules with their modules.dep and
	# dev/console already; l2/init moves from /init to /sbin/init, in place
	# of busybox's own init applet.
	[ -x "$OUT_DIR/l2root/init" ] || die "no L2 initramfs tree in $OUT_DIR/l2root"
	rm -rf "$dir"
	mkdir -p "$dir" "$root/testbed"/{l2,bin}
	cp -a "$OUT_DIR/l2root/." "$dir/"
	mkdir -p "$dir"/{mnt,root,var/tb}
	rm -f "$dir/init" "$dir/sbin/init"
	cp "$TB_DIR/l2/init" "$dir/sbin/init"
	chmod +x "$dir/sbin/init"
	echo "vfio-vmm testbed L2 root disk (tests/testbed/host/disk.sh)" >"$dir/var/tb/made"
	rm -f "$img"
	mke2fs -q -F -t ext4 -b 4096 -L tb-root -d "$dir" "$img" "$L2_DISK_SIZE" \
		>"$OUT_DIR/mke2fs.log" 2>&1 || { cat "$OUT_DIR/mke2fs.log"; die "mke2fs -d failed"; }
	e2fsck -fn "$img" >"$OUT_DIR/e2fsck-host.log" 2>&1 ||
		{ cat "$OUT_DIR/e2fsck-host.log"; die "the new L2 root image does not fsck clean"; }
	is_elf /sbin/e2fsck.static || die "no /sbin/e2fsck.static (package e2fsck-static)"
	cp /sbin/e2fsck.static "$root/testbed/bin/e2fsck"
	log "L2 root disk: $L2_DISK_SIZE ext4, $(du -sh "$dir" | cut -f1) of files"
}
