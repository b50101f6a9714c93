/* SPDX-License-Identifier: MIT */
#ifndef TEST_IOMMU_FAKESYS_H
#define TEST_IOMMU_FAKESYS_H

/*
 * A fake sysfs tree in a temp dir, shaped like the real one (same link
 * depths), for the iommu/ tests. driver NULL: unbound. class "0x060400"
 * makes a bridge.
 */
const char *fakesys_root(void);	/* creates the tree on first use */
void fakesys_add_pci(const char *bdf, int group, const char *driver, const char *cls);
void fakesys_add_mdev(const char *uuid, const char *parent, int group);
/* Removes the device's iommu_group link. */
void fakesys_drop_group_link(const char *bdf);
void fakesys_cleanup(void);

#endif
