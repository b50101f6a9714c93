/* SPDX-License-Identifier: MIT */
/*
 * The register page at the start of mgpu's BAR0 (tests/testbed/mdev/mgpu.c), shared
 * by the module and the guests that drive it (guest-tests/pt-gpu.c, mgpu_guest.c).
 * Dword access (an aligned 8-byte one counts as two, low dword first).
 *
 * Copy engine: program SRC, DST (64-bit each) and LEN (at most 1 MiB), then write
 * DOORBELL. Bit 0 of DOORBELL picks the direction: 0 moves LEN bytes from guest RAM
 * at SRC (an IOVA: guest-physical under vfio-vmm) to BAR2 offset DST; 1 moves them
 * from BAR2 offset SRC to guest RAM at DST. Bits 8-15 name the MSI-X vector signalled
 * when the copy ends. The copy is done when the doorbell write returns; STATUS says
 * how it went (DONE, or ERROR | errno) and DONE counts the copies since the last reset.
 * Bus mastering must be on, as on a real device.
 */
#ifndef MGPU_REGS_H
#define MGPU_REGS_H

#define MGPU_REGS_SIZE		0x1000
#define MGPU_REG_ID		0x00
#define MGPU_REG_CE_SRC_LO	0x08
#define MGPU_REG_CE_SRC_HI	0x0c
#define MGPU_REG_CE_DST_LO	0x10
#define MGPU_REG_CE_DST_HI	0x14
#define MGPU_REG_CE_LEN		0x18
#define MGPU_REG_CE_DOORBELL	0x1c
#define MGPU_REG_CE_STATUS	0x20
#define MGPU_REG_CE_DONE	0x24
#define MGPU_REG_BAR2_SIZE_LO	0x28
#define MGPU_REG_BAR2_SIZE_HI	0x2c
#define MGPU_REG_SCRATCH	0x30

#define MGPU_ID			0x6d677075u	/* "mgpu" */

#define MGPU_CE_CTRL_TO_RAM	0x1u
#define MGPU_CE_CTRL_VEC_SHIFT	8
#define MGPU_CE_CTRL_VEC_MASK	0xff00u

#define MGPU_CE_STATUS_IDLE	0u
#define MGPU_CE_STATUS_DONE	1u
#define MGPU_CE_STATUS_BUSY	2u
#define MGPU_CE_STATUS_ERROR	0x80000000u

#endif
