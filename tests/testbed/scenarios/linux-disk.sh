# SPDX-License-Identifier: MIT
# Scenario linux-disk: L2 Linux boots from a root file system on vfio-vmm's
# virtio-blk disk. The image is the ext4 one the host made with mke2fs -d
# (host/disk.sh): a busybox root whose /sbin/init is l2/init. The L2
# initramfs sees root=/dev/vda, loads virtio_blk and ext4, mounts the disk
# and switch_roots into it; the disk's init runs the disk-* checks, remounts
# / read-only and powers off. Here in L1, on a copy of the image:
#   image        the image as built fscks clean (e2fsck -fn: Debian's static
#                e2fsck, copied into L1)
#   write-nvme   boot 1, rw, one VM with the disk and the nvme assigned (as
#                linux-passthrough does): / is ext4 on /dev/vda, a mark and
#                1 MiB of data are written, synced and read back past the
#                page cache; pt-ids finds both functions, the nvme driver
#                reads nvme0n1
#   fsck         the image fscks clean after that boot, and L1 finds the mark
#                in the image file
#   ro-read      boot 2 from the same image with readonly=on and ro: the mark
#                and the data are there; the block device is read-only, a
#                remount rw is refused, writes fail (EROFS through the file
#                system, EPERM on the device); the image's md5 is unchanged
# Two boots, not one per item, keep the scenario under a minute. Each boot's
# time is VMM start to the disk's /sbin/init (a NOTE), and its --stats must
# show no notify exit for the disk.

. "$TB/scenarios/linux.sh"	# vmm_watch, L2_CMDLINE

LD_IMG=/tmp/linux-disk.img

scenario_linux_disk()
{
	local mark
	mark=$(printf 'tb-%04x%04x' $RANDOM $RANDOM)
	run_test linux-disk.image 30 ld_image
	run_test linux-disk.write-nvme 100 ld_boot_nvme "$mark"
	run_test linux-disk.fsck 30 ld_fsck "$mark"
	run_test linux-disk.ro-read 100 ld_ro "$mark"
}

# e2fsck -fn on the image: exit status 0, nothing about a journal to
# replay (the guest remounted / read-only before its poweroff).
ld_e2fsck()
{
	local out rc
	command -v e2fsck >/dev/null || die "no e2fsck in L1 (host/disk.sh copies /sbin/e2fsck.static)"
	out=$(e2fsck -fn "$LD_IMG" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" = 0 ] || die "e2fsck -fn exited $rc: $(echo "$out" | grep -v '^Pass' | head -3 | tr '\n' ' ')"
	! echo "$out" | grep -qi 'journal recovery\|needs_recovery' ||
		die "the file system was not left clean: $(echo "$out" | grep -i -m1 'recovery')"
	echo "NOTE: e2fsck -fn clean: $(echo "$out" | tail -1)"
}

ld_image()
{
	[ -f "$TB/l2/root.img" ] || die "no $TB/l2/root.img (host/disk.sh)"
	cp "$TB/l2/root.img" "$LD_IMG" || die "cannot copy the image to $LD_IMG"
	ls -l "$LD_IMG"
	ld_e2fsck
}

# ld_fsck MARK: clean, and the mark boot 1 wrote is in the image file.
ld_fsck()
{
	ld_e2fsck
	# strings: grep -a on a file of long zero runs is several times slower.
	strings -n "${#1}" "$LD_IMG" | grep -q -F "$1" || die "the guest's mark $1 is not in $LD_IMG"
	echo "NOTE: the guest's mark $1 is in the image file"
}

# ld_boot TAG DISK MODE CHECKS CMDLINE [VMM ARGS]: one L2 boot from the
# disk, judged here.
ld_boot()
{
	local tag=$1 disk=$2 mode=$3 checks=$4 extra=$5 out=$TB_OUT/linux-disk-$1.out
	local log rc boot c up1 up2 up3 stat
	shift 5
	need_vmm
	set -- run --kernel "$TB/l2/vmlinux" --initrd "$TB/l2/initramfs.cpio.gz" \
		--disk "$disk" \
		--cmdline "$L2_CMDLINE root=/dev/vda $mode tb.checks=$checks${extra:+ $extra}${L2_APPEND:+ $L2_APPEND}" \
		--memory 256M --stats "$@"
	echo "+ vfio-vmm $*"
	vmm_watch "$out" 90 10 "$@"
	log=$out.txt
	tr -d '\r' <"$out" >"$log"
	cat "$log"
	rc=$(sed -n 's/^VMM-EXIT //p' "$log")
	boot=$(sed -n 's/^BOOT-TIME //p' "$log")
	[ -n "$boot" ] || die "no init marker from L2 (vfio-vmm exit status $rc)"
	grep -q '^L2-TESTBED: init reached: /sbin/init on the root disk' "$log" ||
		die "L2's init did not run from the disk: $(grep -m1 'L2-CHECK fail\|L2-TESTBED: init reached' "$log")"
	up1=$(sed -n 's/^L2-TESTBED: initramfs at \([0-9.]*\)s.*/\1/p' "$log")
	up2=$(sed -n 's/^L2-TESTBED: .* mounted .* at \([0-9.]*\)s, switch_root.*/\1/p' "$log")
	up3=$(sed -n 's/^L2-TESTBED: init reached: .* at \([0-9.]*\)s$/\1/p' "$log")
	echo "NOTE: L2 boot time from the root disk ($tag): ${boot}s (vfio-vmm start to the disk's /sbin/init; L2 uptime: initramfs ${up1}s, disk mounted ${up2}s, disk init ${up3}s)"
	sed -n 's/^L2-CHECK ok \([^:]*\): \(.*\)/NOTE: \1: \2/p' "$log" | cut -c1-400
	c=$(sed -n 's/^L2-CHECK fail //p' "$log" | head -1)
	[ -z "$c" ] || die "L2 check failed: $c"
	for c in $(echo "$checks" | tr , ' ') disk-remount-ro; do
		grep -q "^L2-CHECK ok $c:" "$log" || die "L2 did not report its $c check"
	done
	grep -q 'L2-TESTBED: done' "$log" || die "L2 init did not finish its checks"
	[ "$rc" != 137 ] || die "L2 did not power off: vfio-vmm still running ${POWEROFF_GRACE}s after L2 init finished"
	[ "$rc" = 0 ] || die "vfio-vmm exited with status $rc after L2 poweroff"
	stat=$(grep -m1 '(virtio-pci): notify exits' "$log") || die "no notify exits line in --stats"
	case "$stat" in
	*"notify exits 0") echo "NOTE: --stats:$stat" ;;
	*) die "queue notifies exited to vfio-vmm: $stat" ;;
	esac
}

# Boot 1: the disk and the nvme in one VM. pt-ids finds both functions
# (virtio-blk is 1af4:1042), pt-nvme has the nvme driver read nvme0n1.
ld_boot_nvme()
{
	local bdf
	bdf=$(awk '$1 == "nvme" { print $2 }' "$TB_OUT/devices")
	[ -n "$bdf" ] || die "no nvme in $TB_OUT/devices"
	ld_boot write-nvme "path=$LD_IMG" rw disk-root,disk-write,pt-ids,pt-nvme \
		"tb.mark=$1 tb.devs=1b36:0010,1af4:1042" --device "$bdf"
}

# Boot 2: read-only, and the data of boot 1 (tb.expect=MARK) reads back.
ld_ro()
{
	local sum0 sum1
	sum0=$(md5sum <"$LD_IMG")
	ld_boot ro-read "path=$LD_IMG,readonly=on" ro disk-root,disk-read,disk-ro "tb.expect=$1"
	sum1=$(md5sum <"$LD_IMG")
	echo "md5 before ${sum0%% *}, after ${sum1%% *}"
	[ "$sum0" = "$sum1" ] || die "the read-only image changed (md5 ${sum0%% *} -> ${sum1%% *})"
	echo "NOTE: readonly=on image unchanged (md5 ${sum0%% *})"
}
