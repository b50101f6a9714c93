#!/bin/bash
# SPDX-License-Identifier: MIT
# The demo: in the nested testbed (QEMU TCG L1 with an emulated IOMMU and
# PCI devices bound to vfio-pci), vfio-vmm boots its guests. Installs what it
# needs. See docs/testbed.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/deps.sh
# L1 fit for VFIO, then real passthrough: tiny L2 guests drive edu, nvme,
# ivshmem and virtio-net assigned with --device; the NOTE lines at the end
# say what each guest saw from its device (edu's ident, nvme's model number,
# data moved by DMA and P2P) and what the VMM's --stats counted.
exec bash tests/testbed/run.sh "$@" l1 passthrough
