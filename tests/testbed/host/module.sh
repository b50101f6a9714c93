# SPDX-License-Identifier: MIT
# Out-of-tree kernel modules of ours (sourced by run.sh): Debian's headers for
# the L1 kernel, cached next to the kernel, and one way to build a module
# against them. host/mdev.sh (mgpu.ko) and host/edu.sh (edu_bench.ko) use it;
# the modules themselves are built afresh on every run, like everything else
# of ours. L2 boots the same kernel package, so one build loads in both.

MODULE_PACKAGES="make"

# build_oot_module TAG SRC OUT [PREP]: copies SRC's *.c, *.h and Kbuild into
# a fresh OUT, runs "PREP OUT" when given (generated sources), and builds
# against the L1 kernel's headers. Returns 1, having said why with TAG, when
# the headers are missing or the build failed or warned; the log is
# $OUT_DIR/TAG-build.log.
build_oot_module()
{
	local tag=$1 src=$2 out=$3 prep=${4:-} hdr blog=$OUT_DIR/$1-build.log
	hdr=$(prepare_kernel_headers "$tag") || return 1
	rm -rf "$out"
	mkdir -p "$out"
	cp "$src"/*.c "$src"/*.h "$src"/Kbuild "$out/"
	[ -z "$prep" ] || "$prep" "$out" || { log "$tag: preparing $out failed"; return 1; }
	# No BTF: 6.12's Kbuild would run pahole (dwarves), and BTF from
	# bookworm's older pahole could be refused at load; our modules need none.
	if ! make -C "$hdr" M="$out" CONFIG_DEBUG_INFO_BTF_MODULES= modules >"$blog" 2>&1; then
		# (|| true: a failure with no such line must still reach the log line.)
		{ grep -iE 'error|warning' "$blog" || true; } | head -20
		log "$tag: build in $out FAILED (full log: $blog)"
		return 1
	fi
	# -Wall is Kbuild's; a warning is a bug here as in the rest of the tree.
	if grep -q 'warning:' "$blog"; then
		grep 'warning:' "$blog" | head -10
		log "$tag: built with warnings (full log: $blog): not used"
		return 1
	fi
}

# prepare_kernel_headers TAG: unpacks linux-headers-$KVER, its -common and
# the matching linux-kbuild into the cache (once) and prints the directory to
# build against. TAG (the module's scenario) only names who asked in the log.
prepare_kernel_headers()
{
	local tag=${1:-module} dir=$CACHE_DIR/linux-headers-$KVER major pkgs p kbuild
	major=$(echo "$KVER" | cut -d. -f1,2)
	local hdr=$dir/root/usr/src/linux-headers-$KVER
	if [ -f "$dir/.ready" ]; then
		echo "$hdr"
		return 0
	fi
	local missing=()
	for p in $MODULE_PACKAGES; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			"${missing[@]}" >"$OUT_DIR/apt-module.log" 2>&1 ||
			{ log "$tag: cannot install ${missing[*]} (see $OUT_DIR/apt-module.log)" >&2; return 1; }
	fi
	# The kbuild package is linux-kbuild-6.1 for 6.1.0-N but
	# linux-kbuild-6.12.N+deb12 for 6.12: ask what the headers depend on.
	kbuild=$(apt-cache depends "linux-headers-$KVER" 2>/dev/null |
		awk '/Depends: linux-kbuild-/ { print $2; exit }')
	[ -n "$kbuild" ] || kbuild=linux-kbuild-$major
	pkgs="linux-headers-$KVER linux-headers-${KVER%-*}-common $kbuild"
	log "$tag: fetching kernel headers: $pkgs" >&2
	rm -rf "$dir"
	mkdir -p "$dir"
	# apt's _apt user cannot write into the cache: download as root, quietly.
	if ! (cd "$dir" && apt-get -o APT::Sandbox::User=root download $pkgs >download.log 2>&1); then
		log "$tag: apt-get download $pkgs failed (see $dir/download.log)" >&2
		return 1
	fi
	for p in "$dir"/*.deb; do
		dpkg-deb -x "$p" "$dir/root"
	done
	rm -f "$dir"/*.deb
	# The -amd64 Makefile includes the -common one by its installed path.
	sed -i "s|^include /usr/src/|include $dir/root/usr/src/|" "$hdr/Makefile"
	[ -f "$hdr/Module.symvers" ] || { log "$tag: $hdr has no Module.symvers" >&2; return 1; }
	touch "$dir/.ready"
	echo "$hdr"
}
