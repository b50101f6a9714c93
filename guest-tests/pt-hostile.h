/* SPDX-License-Identifier: MIT */
#ifndef GUEST_PT_HOSTILE_H
#define GUEST_PT_HOSTILE_H

/*
 * pt-hostile: a guest that does to its assigned edu and nvme what a hostile
 * guest would, then checks that both still work (scenario `hostile` of the
 * testbed). pt-hostile.c holds main(), the power and reset abuse and the
 * final checks; pt-hostile-bars.c the BAR moves; pt-hostile-io.c the config
 * space, MSI, MSI-X and DMA abuse.
 *
 * Two rules keep the abuse from hurting the testbed instead of the VMM:
 * - Whenever a BAR may sit over ECAM, config space is reached through
 *   CF8/CFC (port I/O, which no memslot can shadow): with edu's BAR over
 *   ECAM, an ECAM write would land in edu's registers, and QEMU's edu
 *   aborts L1's QEMU (hw_error) on a DMA command with an out-of-range
 *   length. For the same reason every edu DMA stays inside edu's buffer.
 * - While a BAR may shadow the LAPIC or the IOAPIC, interrupts stay off.
 */
#include "pt-nvme-admin.h"

#define VEC_EDU		0x60	/* edu's MSI, when the guest means it */
#define VEC_NVME	0x62	/* nvme's MSI-X vector 0, when the guest means it */
#define VEC_IPI		0x66	/* self-IPIs proving the LAPIC works */

#define RAM_TARGET	0x2000000ull	/* 32 MiB: RAM of the 64 MiB guest, above our image */
#define LOW_SPARE	0xd0000000ull	/* free in the 32-bit window (edu is placed at its start) */

#define EDU_IDENT_VALUE	0x010000ed
#define EDU_RAISE	0x60	/* writing a bit raises edu's interrupt */

#define PCI_PM_CTRL		4
#define PCI_PM_CTRL_STATE	0x3

/* One assigned function as the VMM placed it at boot. */
struct hdev {
	const char *name;
	uint16_t bdf;
	uint64_t home;		/* BAR0 as the VMM placed it */
	uint64_t size;
	bool is64;
	uint16_t cmd;		/* command with decode and bus mastering on */
};

struct hostile {
	struct hdev edu, nvme;
	uint16_t edu_msi;	/* capability offsets, 0 if absent */
	uint16_t nvme_pm, nvme_exp;
	struct msix_info mx;
	uint64_t nvme_cap;	/* CAP and VS at boot: "nvme answers" */
	uint32_t nvme_vs;
	uint32_t apic_id, apic_version, ioapic_version;
	uint64_t tsc_per_ms;
	uint64_t rng;
};

extern struct hostile hs;
extern struct nvme_admin hs_nv;

uint64_t hs_rand(void);
uint64_t hs_ms(uint64_t tsc_cycles);
/* Spins for ms milliseconds, with interrupts on when irqs (to let stray ones show). */
void hs_spin_ms(unsigned int ms, bool irqs);
/* Interrupts delivered on vectors nobody asked for. */
uint64_t hs_stray(void);

/* BAR0 of d to addr through CF8/CFC, low half first as a driver would. */
void hs_bar_set(const struct hdev *d, uint64_t addr);
/* Back as at boot, through CF8/CFC: D0, BAR0 home, MSI/MSI-X off, decode and mastering on. */
void hs_edu_home(void);
void hs_nvme_home(void);
/* edu: ident and the liveness register at bar; nvme: CAP and VS as at boot. */
bool hs_edu_alive(uint64_t bar);
bool hs_nvme_alive(uint64_t bar);
/* Both, at home. */
bool hs_both_alive(void);
/* The guest's physical address bits (CPUID 0x80000008). */
unsigned int hs_phys_bits(void);

/* pt-hostile-bars.c */
/* BAR0 to addr through CF8/CFC, with decode on all along (hot) or off around the move. */
void hs_bar_move(const struct hdev *d, uint64_t addr, bool hot);
void hostile_bars(void);

/* pt-hostile-io.c */
void hostile_config_reads(void);
void hostile_config_writes(void);
void hostile_config_random(void);
void hostile_msi_garbage(void);
void hostile_msix_sizes(void);
void hostile_msix_garbage(void);
void hostile_dma_command(void);

#endif
