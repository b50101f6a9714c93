#!/bin/bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages vfio-vmm needs to build and test (as root),
# skipping apt entirely when they are all present already. clang, libFuzzer,
# the sanitizer runtimes and llvm-14 (llvm-symbolizer for readable reports,
# llvm-cov) are for tests/fuzz.
set -euo pipefail

PKGS="gcc meson ninja-build pkg-config linux-libc-dev libcriterion-dev libseccomp-dev libinih-dev
      liburing-dev acpica-tools qemu-system-x86 busybox-static cpio kmod xz-utils zstd e2fsprogs
      e2fsck-static clang libfuzzer-14-dev libclang-rt-14-dev llvm-14"

missing=()
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "vfio-vmm: missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "== installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
