/* SPDX-License-Identifier: MIT */
#ifndef GUEST_PT_NVME_ADMIN_H
#define GUEST_PT_NVME_ADMIN_H

/*
 * An NVMe admin queue pair in guest RAM, enough to bring QEMU's NVMe
 * controller up and send Identify Controller: shared by pt-nvme (which
 * checks the interrupts around it) and pt-hostile (which checks that the
 * controller still works after a hostile run). The device DMAs the queues
 * and the Identify data through the IOMMU, at IOVA = guest physical.
 */
#include "pt-common.h"

#define NVME_CAP	0x00
#define NVME_VS		0x08
#define NVME_CC		0x14
#define NVME_CC_EN	0x1
#define NVME_CC_IOSQES	(6u << 16)	/* 64-byte submission entries */
#define NVME_CC_IOCQES	(4u << 20)	/* 16-byte completion entries */
#define NVME_CSTS	0x1c
#define NVME_CSTS_RDY	0x1
#define NVME_CSTS_CFS	0x2
#define NVME_AQA	0x24
#define NVME_ASQ	0x28
#define NVME_ACQ	0x30
#define NVME_DOORBELL	0x1000

/* PCI Express capability: DevCap/DevCtl offsets and the FLR bits. */
#define PCI_EXP_DEVCAP		4
#define PCI_EXP_DEVCAP_FLR	(1u << 28)
#define PCI_EXP_DEVCTL		8
#define PCI_EXP_DEVCTL_FLR	0x8000

#define NVME_QUEUE_DEPTH	8
#define NVME_MODEL		"QEMU NVMe Ctrl"

struct nvme_cqe {
	uint32_t result, rsvd;
	uint16_t sq_head, sq_id;
	uint16_t cid;
	uint16_t status;	/* bit 0: phase tag */
};

/* The admin completion queue, for callers that report a completion's fields. */
extern volatile struct nvme_cqe nvme_acq[NVME_QUEUE_DEPTH];

/* The controller at BAR0 address bar0; commands go in slot order and never wrap. */
struct nvme_admin {
	uint64_t bar0;
	unsigned int next_slot;
};

/* Waits (PT_WAIT_CYCLES at most) until CSTS.RDY is ready (0 or 1). */
bool nvme_wait_ready(const struct nvme_admin *n, uint32_t ready);
/*
 * Disables the controller, gives it fresh admin queues (old completions and
 * Identify data cleared, so they cannot pass for new ones) and enables it
 * again; true once it is ready.
 */
bool nvme_enable(struct nvme_admin *n);
/* Queues Identify Controller into the next slot and rings the doorbell; returns the slot. */
unsigned int nvme_submit_identify(struct nvme_admin *n);
/* The completion for slot is there (phase tag and command id). */
bool nvme_posted(unsigned int slot);
bool nvme_wait_posted(unsigned int slot);
/* Consumes the completion (completion queue head doorbell), as a driver would. */
void nvme_consume(const struct nvme_admin *n, unsigned int slot);
/* The model number from the last Identify data, trailing spaces cut. */
void nvme_model(char model[41]);

#endif
