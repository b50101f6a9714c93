# SPDX-License-Identifier: MIT
# Fetches and unpacks the Debian kernel used for both L1 and L2 (sourced by
# run.sh). Only the kernel is cached: it is not built from our code.

# Sets KPKG, KVER, KROOT, BZIMAGE, VMLINUX.
prepare_kernel()
{
	KPKG=${TESTBED_KERNEL_PKG:-$(kernel_package_name)}
	if [ -z "$KPKG" ]; then
		KPKG=$(cached_kernel_package)
		[ -n "$KPKG" ] || die "cannot find the linux-image-*-amd64 package name"
		log "kernel: apt does not know linux-image-amd64; using cached $KPKG"
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
	(cd "$dir" && apt-get download "$KPKG" >download.log 2>&1) ||
		{ cat "$dir/download.log"; die "apt-get download $KPKG failed"; }
	dpkg-deb -x "$dir"/"$KPKG"_*.deb "$KROOT"
	rm -f "$dir"/"$KPKG"_*.deb
	[ -f "$BZIMAGE" ] || die "$KPKG has no $BZIMAGE"
	# The .deb carries no modules.dep; busybox modprobe in L1 needs one.
	depmod -b "$KROOT" "$KVER"
	extract_vmlinux "$BZIMAGE" "$VMLINUX"
	touch "$dir/.ready"
}

# The versioned package that the linux-image-amd64 metapackage points at.
kernel_package_name()
{
	local name
	name=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	if [ -z "$name" ]; then
		apt-get update >/dev/null 2>&1 || true
		name=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	fi
	echo "$name"
}

cached_kernel_package()
{
	local d
	for d in "$CACHE_DIR"/linux-image-*; do
		[ -f "$d/.ready" ] && basename "$d"
	done | sort -V | tail -1
}

# The bzImage payload is one XZ stream; its uncompressed form is an ELF with
# a PVH note, which QEMU and vfio-vmm boot without the slow decompressor.
extract_vmlinux()
{
	local bz=$1 out=$2 off
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bz" | head -1 | cut -d: -f1)
	[ -n "$off" ] || die "no XZ stream in $bz"
	# xz stops at the end of the stream and tail gets SIGPIPE: not an error.
	{ tail -c +"$((off + 1))" "$bz" || true; } | xz -dc --single-stream >"$out.tmp"
	is_elf "$out.tmp" ||
		die "extracted vmlinux is not an ELF file"
	mv "$out.tmp" "$out"
}
