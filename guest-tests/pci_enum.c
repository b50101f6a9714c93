// SPDX-License-Identifier: MIT
/*
 * Bus 0 through both config mechanisms: the host bridge looks the same
 * through CF8/CFC and ECAM, absent functions read all-ones, and ECAM
 * reaches the extended config space (offsets 0x100-0xfff).
 */
#include "lib/runtime.h"

#define HOST_BRIDGE		PCI_BDF(0, 0, 0)
#define HOST_BRIDGE_VENDOR	0x8086
#define HOST_BRIDGE_DEVICE	0x29c0
#define CLASS_HOST_BRIDGE	0x0600
#define CMP_DWORDS		16	/* the type 0/1 header */

static void check_host_bridge(void)
{
	uint32_t id_cf8 = pci_cf8_read32(HOST_BRIDGE, PCI_VENDOR_ID);
	uint32_t id_ecam = pci_cfg_read32(HOST_BRIDGE, PCI_VENDOR_ID);
	unsigned int i;

	printf("host bridge: CF8 id 0x%08x, ECAM id 0x%08x\n", id_cf8, id_ecam);
	ASSERT_EQ(id_cf8 & 0xffff, HOST_BRIDGE_VENDOR);
	ASSERT_EQ(id_cf8 >> 16, HOST_BRIDGE_DEVICE);
	ASSERT_EQ(id_ecam, id_cf8);
	ASSERT_EQ(pci_cf8_read16(HOST_BRIDGE, PCI_CLASS_DEVICE), CLASS_HOST_BRIDGE);
	ASSERT_EQ(pci_cfg_read16(HOST_BRIDGE, PCI_CLASS_DEVICE), CLASS_HOST_BRIDGE);

	/* Narrow accesses through each mechanism agree with the dword. */
	ASSERT_EQ(pci_cf8_read16(HOST_BRIDGE, PCI_DEVICE_ID), HOST_BRIDGE_DEVICE);
	ASSERT_EQ(pci_cfg_read16(HOST_BRIDGE, PCI_DEVICE_ID), HOST_BRIDGE_DEVICE);
	ASSERT_EQ(pci_cf8_read8(HOST_BRIDGE, PCI_VENDOR_ID + 1), HOST_BRIDGE_VENDOR >> 8);
	ASSERT_EQ(pci_cfg_read8(HOST_BRIDGE, PCI_VENDOR_ID + 1), HOST_BRIDGE_VENDOR >> 8);

	for (i = 0; i < CMP_DWORDS; i++)
		ASSERT_EQ(pci_cfg_read32(HOST_BRIDGE, i * 4), pci_cf8_read32(HOST_BRIDGE, i * 4));

	/* The vendor ID is read-only: a write must not stick. */
	pci_cfg_write16(HOST_BRIDGE, PCI_VENDOR_ID, 0x1234);
	ASSERT_EQ(pci_cfg_read16(HOST_BRIDGE, PCI_VENDOR_ID), HOST_BRIDGE_VENDOR);
}

/* Lists bus 0; every slot must look the same through both mechanisms. */
static unsigned int scan_bus0(unsigned int *absent)
{
	unsigned int dev, fn, nfn, found = 0;

	*absent = 0;
	for (dev = 0; dev < 32; dev++) {
		uint16_t bdf = PCI_BDF(0, dev, 0);
		uint32_t id = pci_cf8_read32(bdf, PCI_VENDOR_ID);

		ASSERT_EQ(pci_cfg_read32(bdf, PCI_VENDOR_ID), id);
		if (id == 0xffffffff) {
			/* Absent: the whole function reads all-ones, not just the ID. */
			ASSERT_EQ(pci_cfg_read32(bdf, PCI_CLASS_PROG & ~3), 0xffffffff);
			(*absent)++;
			continue;
		}
		nfn = (pci_cfg_read8(bdf, PCI_HEADER_TYPE) & 0x80) ? 8 : 1;
		for (fn = 0; fn < nfn; fn++) {
			bdf = PCI_BDF(0, dev, fn);
			if (!pci_present(bdf))
				continue;
			pci_print_device(bdf);
			found++;
		}
	}
	return found;
}

/* A dword of extended space is 0 (nothing there) or a plausible cap header. */
static void check_ext_dword(uint16_t reg, uint32_t v)
{
	unsigned int next = (v >> 20) & 0xfff;

	ASSERT(v != 0xffffffff);
	if (v == 0)
		return;
	ASSERT(next == 0 || (next >= PCI_EXT_CAP_START && !(next & 3)));
	printf("  ext cap at 0x%03x: id 0x%04x ver %u next 0x%03x\n", reg, v & 0xffff,
	       (v >> 16) & 0xf, next);
}

static void check_ext_config(void)
{
	static const uint16_t probes[] = { 0x400, 0x800, 0xffc };
	uint32_t v;
	unsigned int i;

	v = pci_cfg_read32(HOST_BRIDGE, PCI_EXT_CAP_START);
	printf("host bridge ECAM 0x100 = 0x%08x\n", v);
	check_ext_dword(PCI_EXT_CAP_START, v);
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		ASSERT(pci_cfg_read32(HOST_BRIDGE, probes[i]) != 0xffffffff);

	/* Bus 1 has no bridge to it: ECAM there is all-ones. */
	ASSERT_EQ(pci_cfg_read32(PCI_BDF(1, 0, 0), PCI_VENDOR_ID), 0xffffffff);
}

int main(void)
{
	unsigned int found, absent;

	check_host_bridge();
	found = scan_bus0(&absent);
	printf("bus 0: %u functions present, %u empty slots\n", found, absent);
	ASSERT(found >= 1);
	ASSERT(absent >= 1);
	check_ext_config();
	test_pass("pci-enum");
}
