// SPDX-License-Identifier: GPL-2.0
/*
 * mgpu_guest: the L2 Linux side of the mdev scenario. A PCI driver for the
 * GPU-shaped functions mgpu.ko offers in L1 (vendor 10de, device 2330/2335)
 * once vfio-vmm has assigned them to L2: it does what a GPU driver does first,
 * through the guest kernel's own PCI core: enables the device and bus
 * mastering, allocates MSI-X vectors, and runs mgpu's copy engine
 * (mgpu_regs.h) from a DMA buffer into BAR2 and back, each copy ended by an
 * MSI-X interrupt. l2/init (check pt-gpu) reads what it logged, the resource
 * sizes and /proc/interrupts.
 *
 * GPL-2.0 like mgpu.ko: pci_alloc_irq_vectors and the DMA API are GPL-only.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/interrupt.h>
#include <linux/completion.h>
#include <linux/dma-mapping.h>

#include "mgpu_regs.h"

#define MGPU_GUEST_LEN	8192

struct mgpu_guest {
	void __iomem *regs;
	struct completion done;
	unsigned int irqs;
};

static irqreturn_t mgpu_guest_irq(int irq, void *arg)
{
	struct mgpu_guest *g = arg;

	g->irqs++;
	complete(&g->done);
	return IRQ_HANDLED;
}

/* One copy; 0 when it completed with DONE and its interrupt came. */
static int mgpu_guest_copy(struct mgpu_guest *g, bool to_ram, u64 src, u64 dst, u32 len)
{
	u32 status;

	reinit_completion(&g->done);
	writel(lower_32_bits(src), g->regs + MGPU_REG_CE_SRC_LO);
	writel(upper_32_bits(src), g->regs + MGPU_REG_CE_SRC_HI);
	writel(lower_32_bits(dst), g->regs + MGPU_REG_CE_DST_LO);
	writel(upper_32_bits(dst), g->regs + MGPU_REG_CE_DST_HI);
	writel(len, g->regs + MGPU_REG_CE_LEN);
	writel(to_ram ? MGPU_CE_CTRL_TO_RAM : 0, g->regs + MGPU_REG_CE_DOORBELL);	/* entry 0 */
	status = readl(g->regs + MGPU_REG_CE_STATUS);
	if (!wait_for_completion_timeout(&g->done, 5 * HZ))
		return -ETIMEDOUT;
	return status == MGPU_CE_STATUS_DONE ? 0 : -EIO;
}

static int mgpu_guest_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct mgpu_guest *g;
	dma_addr_t dma;
	u64 vram;
	u8 *buf;
	int ret, nvec, i, bad = -1;

	g = devm_kzalloc(dev, sizeof(*g), GFP_KERNEL);
	if (!g)
		return -ENOMEM;
	init_completion(&g->done);
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), "mgpu_guest");
	if (ret)
		return ret;
	g->regs = pcim_iomap_table(pdev)[0];
	if (readl(g->regs + MGPU_REG_ID) != MGPU_ID) {
		dev_err(dev, "mgpu_guest: BAR0 ID register reads %#x, not mgpu's\n",
			readl(g->regs + MGPU_REG_ID));
		return -ENODEV;
	}
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	nvec = pci_alloc_irq_vectors(pdev, 1, 9, PCI_IRQ_MSIX);
	if (nvec < 0) {
		dev_err(dev, "mgpu_guest: no MSI-X vectors: %d\n", nvec);
		return nvec;
	}
	ret = devm_request_irq(dev, pci_irq_vector(pdev, 0), mgpu_guest_irq, 0, "mgpu_guest", g);
	if (ret)
		goto out_vectors;
	buf = dmam_alloc_coherent(dev, MGPU_GUEST_LEN, &dma, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;	/* pcim frees the vectors after devm the IRQ */
	for (i = 0; i < MGPU_GUEST_LEN; i++)
		buf[i] = (u8)(i * 7 + 3);
	/* The middle of BAR2, whatever its size (the MIG-like types have smaller ones). */
	vram = pci_resource_len(pdev, 2) / 2;
	ret = mgpu_guest_copy(g, false, dma, vram, MGPU_GUEST_LEN);
	if (!ret) {
		memset(buf, 0, MGPU_GUEST_LEN);
		ret = mgpu_guest_copy(g, true, vram, dma, MGPU_GUEST_LEN);
	}
	for (i = 0; !ret && i < MGPU_GUEST_LEN && bad < 0; i++)
		if (buf[i] != (u8)(i * 7 + 3))
			bad = i;
	if (!ret && bad >= 0)
		ret = -EIO;
	/* One line l2/init looks for, pass or fail. */
	dev_info(dev, "mgpu_guest: %s: MSI-X %d vectors, BAR0 %pR, BAR2 %pR, BAR4 %pR; "
		 "%u bytes to BAR2+%#llx and back through DMA at %pad: %s, %u interrupts\n",
		 ret ? "FAIL" : "ok", nvec, &pdev->resource[0], &pdev->resource[2],
		 &pdev->resource[4], MGPU_GUEST_LEN, vram, &dma,
		 ret == -ETIMEDOUT ? "no interrupt" : bad >= 0 ? "data differs" :
		 ret ? "copy failed" : "data matches", g->irqs);
	pci_set_drvdata(pdev, g);
	/* Stay bound either way: the check reads /proc/interrupts next. */
	return 0;
out_vectors:
	pci_free_irq_vectors(pdev);
	return ret;
}

static void mgpu_guest_remove(struct pci_dev *pdev)
{
	devm_free_irq(&pdev->dev, pci_irq_vector(pdev, 0), pci_get_drvdata(pdev));
	pci_free_irq_vectors(pdev);
}

static const struct pci_device_id mgpu_guest_ids[] = {
	{ PCI_DEVICE(0x10de, 0x2330) },	/* H100 (and mgpu's MIG-like types) */
	{ PCI_DEVICE(0x10de, 0x2335) },	/* H200 */
	{ }
};
MODULE_DEVICE_TABLE(pci, mgpu_guest_ids);

static struct pci_driver mgpu_guest_driver = {
	.name = "mgpu_guest",
	.id_table = mgpu_guest_ids,
	.probe = mgpu_guest_probe,
	.remove = mgpu_guest_remove,
};
module_pci_driver(mgpu_guest_driver);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("L2 test driver for the vfio-vmm testbed's mgpu mediated device");
