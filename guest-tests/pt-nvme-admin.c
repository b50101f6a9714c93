// SPDX-License-Identifier: MIT
#include "pt-nvme-admin.h"

#define OPC_IDENTIFY	0x06
#define CNS_CONTROLLER	1
#define CID		0x1d

struct nvme_sqe {
	uint32_t cdw0;		/* opcode | command id << 16 */
	uint32_t nsid;
	uint32_t rsvd[4];
	uint64_t prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

static struct nvme_sqe asq[NVME_QUEUE_DEPTH] __attribute__((aligned(4096)));
volatile struct nvme_cqe nvme_acq[NVME_QUEUE_DEPTH] __attribute__((aligned(4096)));
static volatile uint8_t ident[4096] __attribute__((aligned(4096)));

bool nvme_wait_ready(const struct nvme_admin *n, uint32_t ready)
{
	uint64_t start = rdtsc();

	while ((mmio_read32(n->bar0 + NVME_CSTS) & NVME_CSTS_RDY) != ready)
		if (rdtsc() - start > PT_WAIT_CYCLES)
			return false;
	return true;
}

bool nvme_enable(struct nvme_admin *n)
{
	uint64_t cap = mmio_read64(n->bar0 + NVME_CAP);

	printf("  CAP 0x%lx VS 0x%x\n", cap, mmio_read32(n->bar0 + NVME_VS));
	mmio_write32(n->bar0 + NVME_CC, 0);
	if (!nvme_wait_ready(n, 0))
		return false;
	n->next_slot = 0;
	for (unsigned int i = 0; i < NVME_QUEUE_DEPTH; i++)
		nvme_acq[i] = (struct nvme_cqe){ 0 };
	memset((void *)ident, 0, sizeof(ident));
	mmio_write32(n->bar0 + NVME_AQA, ((NVME_QUEUE_DEPTH - 1) << 16) | (NVME_QUEUE_DEPTH - 1));
	mmio_write32(n->bar0 + NVME_ASQ, (uint32_t)(uintptr_t)asq);
	mmio_write32(n->bar0 + NVME_ASQ + 4, (uint32_t)((uint64_t)(uintptr_t)asq >> 32));
	mmio_write32(n->bar0 + NVME_ACQ, (uint32_t)(uintptr_t)nvme_acq);
	mmio_write32(n->bar0 + NVME_ACQ + 4, (uint32_t)((uint64_t)(uintptr_t)nvme_acq >> 32));
	mmio_write32(n->bar0 + NVME_CC, NVME_CC_IOSQES | NVME_CC_IOCQES | NVME_CC_EN);
	return nvme_wait_ready(n, NVME_CSTS_RDY);
}

static uint32_t cq_doorbell(const struct nvme_admin *n)
{
	uint32_t dstrd = (uint32_t)(mmio_read64(n->bar0 + NVME_CAP) >> 32) & 0xf;

	return NVME_DOORBELL + (4u << dstrd);
}

unsigned int nvme_submit_identify(struct nvme_admin *n)
{
	unsigned int slot = n->next_slot++;

	memset(&asq[slot], 0, sizeof(asq[slot]));
	asq[slot].cdw0 = OPC_IDENTIFY | ((CID + slot) << 16);
	asq[slot].prp1 = (uint64_t)(uintptr_t)ident;
	asq[slot].cdw10 = CNS_CONTROLLER;
	barrier();
	mmio_write32(n->bar0 + NVME_DOORBELL, slot + 1);
	return slot;
}

bool nvme_posted(unsigned int slot)
{
	return (nvme_acq[slot].status & 1) && nvme_acq[slot].cid == CID + slot;
}

bool nvme_wait_posted(unsigned int slot)
{
	uint64_t start = rdtsc();

	while (!nvme_posted(slot))
		if (rdtsc() - start > PT_WAIT_CYCLES)
			return false;
	return true;
}

void nvme_consume(const struct nvme_admin *n, unsigned int slot)
{
	mmio_write32(n->bar0 + cq_doorbell(n), slot + 1);
}

void nvme_model(char model[41])
{
	/* The controller reports success even when the IOMMU dropped its DMA: the data tells. */
	memcpy(model, (const void *)(ident + 24), 40);
	model[40] = '\0';
	for (int i = 39; i >= 0 && model[i] == ' '; i--)
		model[i] = '\0';
}
