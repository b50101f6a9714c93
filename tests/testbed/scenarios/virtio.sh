# SPDX-License-Identifier: MIT
# Scenario virtio (in DEFAULT_ORDER): vfio-vmm's own virtio-pci transport and virtio-blk on
# L1's real KVM, driven by the tiny guest guest-tests/virtio-blk.c:
# write, flush, read back and GET_ID through a disk image in L1, the data
# found in the image file by L1 and by a second VM, a read-only disk that
# refuses writes and stays byte-for-byte unchanged, hostile chains that
# the device survives (a reset brings it back), and no exit to vfio-vmm for
# any queue notify (the ioeventfd path; --stats counts trapped notifies).

VIO_IMG=/tmp/virtio-disk.img

# pt_guest (boots a tiny guest with --stats into $TB_OUT/pt-RUN.out, exit 0
# and PASS wanted) and pt_check_line come from the passthrough scenario.
. "$TB/scenarios/passthrough.sh"

scenario_virtio()
{
	run_test virtio.image 10 vio_make_image
	run_test virtio.blk 40 vio_guest blk "path=$VIO_IMG" "sector=8 seed=5"
	vio_checks blk blk.caps blk.features blk.driver-ok blk.write blk.flush blk.read-back \
		blk.get-id blk.past-the-end
	run_test virtio.blk.in-image 10 vio_in_image
	run_test virtio.blk.no-notify-exits 5 vio_no_notify_exits blk
	run_test virtio.blk-again 40 vio_guest blk2 "path=$VIO_IMG" "sector=8 seed=6 prev=5"
	vio_checks blk2 blk.persists blk.read-back
	run_test virtio.blk-ro 40 vio_ro
	vio_checks blk-ro blk.ro blk.ro-read
	run_test virtio.blk-hostile 60 vio_guest hostile "path=$VIO_IMG" "mode=hostile"
	vio_checks hostile blk.hostile-mmio-buffer blk.after-mmio-buffer blk.hostile-loop \
		blk.reset-recovers blk.hostile-long-chain blk.reset-recovers-again
}

vio_make_image()
{
	rm -f "$VIO_IMG"
	truncate -s 16M "$VIO_IMG" || die "cannot create $VIO_IMG"
	ls -l "$VIO_IMG"
}

# vio_guest RUN DISK CMDLINE: guests/virtio-blk with that --disk, no device assigned.
vio_guest()
{
	pt_guest "$1" virtio-blk -- --disk "$2" --cmdline "$3"
}

vio_checks()
{
	local run=$1 c
	shift
	for c in "$@"; do
		run_test "virtio.$run.$c" 5 pt_check_line "$run" "$c"
	done
}

# The guest wrote seed 5's pattern at sector 8: the image file has data
# there (not the zeros truncate made), and nothing before it.
vio_in_image()
{
	local at before
	at=$(dd if="$VIO_IMG" bs=512 skip=8 count=8 2>/dev/null | od -An -v -tx1 | tr -d ' \n' |
		tr -d 0 | wc -c)
	before=$(dd if="$VIO_IMG" bs=512 count=8 2>/dev/null | od -An -v -tx1 | tr -d ' \n' |
		tr -d 0 | wc -c)
	echo "non-zero hex digits: sectors 8-15: $at, sectors 0-7: $before"
	[ "$at" -gt 1000 ] || die "the write did not reach the image file"
	[ "$before" = 0 ] || die "sectors 0-7 changed"
	echo "NOTE: the guest's 4 KiB at sector 8 are in $VIO_IMG"
}

# --stats: "notify exits N" for the disk must be 0 (ioeventfd caught every kick).
vio_no_notify_exits()
{
	local line
	line=$(tr -d '\r' <"$TB_OUT/pt-$1.out" | grep -m1 "notify exits") || true
	echo "$line"
	[ -n "$line" ] || die "no 'notify exits' in --stats"
	case "$line" in
	*"notify exits 0"*) echo "NOTE: $line" ;;
	*) die "queue notifies exited to vfio-vmm: $line" ;;
	esac
}

vio_ro()
{
	local sum0 sum1
	sum0=$(md5sum <"$VIO_IMG")
	vio_guest blk-ro "path=$VIO_IMG,readonly=on" "mode=ro"
	sum1=$(md5sum <"$VIO_IMG")
	[ "$sum0" = "$sum1" ] || die "the read-only image changed"
	echo "NOTE: image unchanged (md5 ${sum0%% *})"
}
