#!/bin/bash
# SPDX-License-Identifier: MIT
# The demo: in the nested testbed (QEMU TCG L1 with an emulated IOMMU and
# PCI devices bound to vfio-pci), vfio-vmm boots its guests. Installs what it
# needs. See docs/testbed.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/deps.sh
# Until passthrough lands (issue 4) the demo shows L1 VFIO and L2 boots.
exec bash tests/testbed/run.sh "$@" l1 guests linux
