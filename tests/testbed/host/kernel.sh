# SPDX-License-Identifier: MIT
# Fetches and unpacks the Debian kernel used for both L1 and L2 (sourced by
# run.sh). Only the kernel is cached: it is not built from our code.

# Which Debian kernel series L1 and L2 boot: run.sh --kernel, or
# TESTBED_KERNEL; 6.1 (bookworm's own, the default) or 6.12 (bookworm's
# security suite; zstd bzImage, .ko.xz modules).
KERNEL_SERIES=${TESTBED_KERNEL:-6.1}

# The metapackage that names the newest kernel of a series.
kernel_series_meta()
{
	case "$1" in
	6.1) echo linux-image-amd64 ;;
	6.12) echo linux-image-6.12-amd64 ;;
	*) return 1 ;;
	esac
}

# Sets KPKG, KVER, KROOT, BZIMAGE, VMLINUX.
prepare_kernel()
{
	local meta
	meta=$(kernel_series_meta "$KERNEL_SERIES") ||
		die "--kernel (TESTBED_KERNEL) must be 6.1 or 6.12, not '$KERNEL_SERIES'"
	KPKG=${TESTBED_KERNEL_PKG:-$(kernel_package_name "$meta")}
	if [ -z "$KPKG" ]; then
		KPKG=$(cached_kernel_package "$KERNEL_SERIES")
		[ -n "$KPKG" ] || die "cannot find the package $meta points at (apt-get update, or set TESTBED_KERNEL_PKG)"
		log "kernel: apt does not know $meta; using cached $KPKG"
	fi
	local dir=$CACHE_DIR/$KPKG
	KROOT=$dir/kroot
	KVER=${KPKG#linux-image-}
	BZIMAGE=$KROOT/boot/vmlinuz-$KVER
	VMLINUX=$dir/vmlinux
	if [ -f "$dir/.ready" ]; then
		log "kernel: $KPKG (cached)"
		return
	fi
	log "kernel: fetching $KPKG"
	rm -rf "$dir"
	mkdir -p "$dir"
	# apt's _apt user cannot write into the cache: download as root.
	(cd "$dir" && apt-get -o APT::Sandbox::User=root download "$KPKG" >download.log 2>&1) ||
		{ cat "$dir/download.log"; die "apt-get download $KPKG failed"; }
	dpkg-deb -x "$dir"/"$KPKG"_*.deb "$KROOT"
	rm -f "$dir"/"$KPKG"_*.deb
	[ -f "$BZIMAGE" ] || die "$KPKG has no $BZIMAGE"
	# The .deb carries no modules.dep; busybox modprobe in L1 needs one.
	depmod -b "$KROOT" "$KVER"
	extract_vmlinux "$BZIMAGE" "$VMLINUX"
	touch "$dir/.ready"
}

# The versioned package that metapackage $1 points at (linux-image-amd64:
# linux-image-6.1.0-N-amd64; linux-image-6.12-amd64: linux-image-6.12.N+deb12-amd64).
kernel_package_name()
{
	local name
	name=$(apt-cache depends "$1" 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	if [ -z "$name" ]; then
		apt-get update >/dev/null 2>&1 || true
		name=$(apt-cache depends "$1" 2>/dev/null |
			awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	fi
	echo "$name"
}

# The newest cached kernel of series $1 (6.1.0-N or 6.12.N; the patterns
# keep 6.1 from matching 6.12).
cached_kernel_package()
{
	local d pat
	case "$1" in
	6.1) pat='linux-image-6.1.0-*-amd64' ;;
	*) pat="linux-image-$1.*-amd64" ;;
	esac
	for d in "$CACHE_DIR"/$pat; do
		[ -f "$d/.ready" ] && basename "$d"
	done | sort -V | tail -1
}

# le32 FILE OFFSET / u8 FILE OFFSET: little-endian numbers from a file.
le32()
{
	od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '
}

u8()
{
	od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '
}

# payload FILE OFFSET LENGTH: those bytes of FILE on stdout.
payload()
{
	dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" bs=1M status=none
}

# The bzImage payload is one compressed vmlinux: XZ on 6.1, zstd on 6.12.
# Its uncompressed form is an ELF with a PVH note, which QEMU and vfio-vmm boot
# without the slow decompressor. Where it is comes from the boot protocol's
# setup header: the protected-mode code starts after setup_sects (0x1f1; 0
# means 4) + 1 sectors, and the payload payload_offset (0x248) bytes into it,
# payload_length (0x24c) long (the last 4 bytes of which are the
# uncompressed size, not part of the stream).
extract_vmlinux()
{
	local bz=$1 out=$2 sects off len magic
	[ "$(od -An -c -j $((0x202)) -N4 "$bz" | tr -d ' ')" = HdrS ] ||
		die "$bz is not a bzImage (no HdrS setup header)"
	sects=$(u8 "$bz" $((0x1f1)))
	[ "$sects" != 0 ] || sects=4
	off=$(( (sects + 1) * 512 + $(le32 "$bz" $((0x248))) ))
	len=$(le32 "$bz" $((0x24c)))
	[ "$len" -gt 4 ] && [ $((off + len)) -le "$(stat -c %s "$bz")" ] ||
		die "$bz: payload at $off, $len bytes, is not inside the file"
	magic=$(od -An -tx1 -j "$off" -N6 "$bz" | tr -d ' ')
	case "$magic" in
	fd377a585a00)
		payload "$bz" "$off" "$((len - 4))" | xz -dc >"$out.tmp" ;;
	28b52ffd*)
		command -v zstd >/dev/null ||
			die "$bz is zstd-compressed: install the zstd package"
		payload "$bz" "$off" "$((len - 4))" | zstd -qdc >"$out.tmp" ;;
	*) die "$bz: payload is neither XZ nor zstd (magic $magic); only those are supported" ;;
	esac || die "cannot decompress the payload of $bz"
	is_elf "$out.tmp" ||
		die "extracted vmlinux is not an ELF file"
	mv "$out.tmp" "$out"
}
