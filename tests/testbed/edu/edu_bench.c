// SPDX-License-Identifier: GPL-2.0
/*
 * edu_bench: a PCI driver for QEMU's edu device (1234:11e8) that times it
 * from the kernel, for the overhead scenario (issue 13): the same module runs
 * in L1 with edu on it (the host side) and in the L2 Linux with edu passed
 * through by vfio-vmm (the guest side). /dev/edu_bench takes the ioctls of
 * edu_bench.h; tb-edubench drives them and prints METRIC lines.
 *
 * edu's registers (QEMU's docs/specs/edu.txt):
 *   0x00 ident, 0x24 interrupt status, 0x60 raise (ORs the value into the
 *   status and sends the MSI), 0x64 acknowledge (clears those bits),
 *   0x80 DMA source, 0x88 destination, 0x90 count, 0x98 command (bit 0 run,
 *   bit 1 direction: 1 is edu to RAM, bit 2 interrupt when done, with status
 *   bit 0x100). edu's own buffer is 4096 bytes at 0x40000; its DMA addresses
 *   are 28 bits wide, and a transfer completes on a 100 ms timer.
 *
 * One device, one user at a time: every ioctl holds edu_lock and finds the
 * device through edu_dev, which remove() clears under the same lock before
 * it frees anything, so a file still open after an unbind gets ENODEV.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "edu_bench.h"

#define EDU_IDENT		0x00
#define EDU_IRQ_STATUS		0x24
#define EDU_IRQ_RAISE		0x60
#define EDU_IRQ_ACK		0x64
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_CNT		0x90
#define EDU_DMA_CMD		0x98

#define EDU_DMA_RUN		0x1
#define EDU_DMA_TO_RAM		0x2
#define EDU_DMA_IRQ		0x4
#define EDU_DMA_BUF		0x40000
#define EDU_STATUS_DMA		0x100
#define EDU_STATUS_BENCH	0x1	/* the value our raises write */

/*
 * QEMU 7.2's edu checks a transfer's end against its buffer's end with "<",
 * so a transfer of the whole 4096 bytes is refused with hw_error(), which
 * aborts QEMU (L1 and everything in it). EDU_BENCH_MAX_DMA stays one short.
 */
#if EDU_BENCH_MAX_DMA >= 4096
#error "edu's DMA bounds check aborts QEMU 7.2 on a 4096-byte transfer"
#endif

struct edu_bench {
	struct pci_dev *pdev;
	void __iomem *regs;
	int irq;
	struct miscdevice misc;

	/* The interrupt benchmark: the handler's side. */
	u32 raised;			/* raises written (the ioctl's side) */
	u32 handled;			/* raises the handler saw */
	u32 extra;			/* handler calls with none outstanding */
	u64 t_irq;			/* ktime of the last handled raise */

	/* DMA */
	void *buf;
	dma_addr_t buf_dma;
	struct completion dma_done;
};

/* The one device this module drives, and the lock of every ioctl on it. */
static struct edu_bench *edu_dev;
static DEFINE_MUTEX(edu_lock);

static irqreturn_t edu_bench_irq(int irq, void *data)
{
	struct edu_bench *e = data;
	u64 now = ktime_get_ns();
	u32 status = readl(e->regs + EDU_IRQ_STATUS);

	if (!status)
		return IRQ_NONE;
	writel(status, e->regs + EDU_IRQ_ACK);
	if (status & EDU_STATUS_BENCH) {
		if (READ_ONCE(e->handled) != READ_ONCE(e->raised)) {
			e->t_irq = now;
			/* t_irq before handled, for the spinning ioctl */
			smp_store_release(&e->handled, e->handled + 1);
		} else {
			e->extra++;
		}
	}
	if (status & EDU_STATUS_DMA)
		complete(&e->dma_done);
	return IRQ_HANDLED;
}

static long edu_bench_info(struct edu_bench *e, void __user *arg)
{
	struct edu_bench_info info;

	memset(&info, 0, sizeof(info));
	info.ident = readl(e->regs + EDU_IDENT);
	info.irq = e->irq;
	strscpy(info.bdf, pci_name(e->pdev), sizeof(info.bdf));
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long edu_bench_irqs(struct edu_bench *e, void __user *arg)
{
	struct edu_bench_irq req;
	u32 *lat = NULL, i;
	u64 t_first = 0, timeout_ns;
	long ret = 0;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (!req.count || req.count > EDU_BENCH_MAX_RAISES)
		return -EINVAL;
	/*
	 * 2 s by default: an interrupt into L2 of the nested testbed can be
	 * late by tens of milliseconds when the host is busy (74 ms seen as a
	 * run's maximum), and a 100 ms limit once failed a run on a merely
	 * late one. A lost interrupt still fails, after 2 s.
	 */
	timeout_ns = (u64)(req.timeout_us ? req.timeout_us : 2000000) * NSEC_PER_USEC;
	if (req.lat_ns) {
		lat = kvmalloc_array(req.count, sizeof(*lat), GFP_KERNEL);
		if (!lat)
			return -ENOMEM;
	}
	req.done = 0;
	req.elapsed_ns = 0;
	e->extra = 0;
	for (i = 0; i < req.count; i++) {
		u32 want = e->raised + 1;
		u64 t0, d;

		WRITE_ONCE(e->raised, want);
		t0 = ktime_get_ns();
		if (!i)
			t_first = t0;
		writel(EDU_STATUS_BENCH, e->regs + EDU_IRQ_RAISE);
		while (smp_load_acquire(&e->handled) != want) {
			if (ktime_get_ns() - t0 > timeout_ns) {
				ret = -ETIMEDOUT;
				break;
			}
			cpu_relax();
		}
		if (ret) {
			/* The late interrupt, if any, counts as extra. */
			WRITE_ONCE(e->handled, want);
			break;
		}
		d = e->t_irq - t0;
		if (lat)
			lat[i] = d > U32_MAX ? U32_MAX : (u32)d;
		req.done++;
		req.elapsed_ns = e->t_irq - t_first;
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	req.extra = e->extra;
	if (lat && req.done &&
	    copy_to_user(u64_to_user_ptr(req.lat_ns), lat, req.done * sizeof(*lat)))
		ret = -EFAULT;
	kvfree(lat);
	/* The counts go back even after a timeout: tb-edubench says how far it got. */
	if (copy_to_user(arg, &req, sizeof(req)))
		return -EFAULT;
	return ret;
}

/* One transfer: 0, or -ETIMEDOUT when edu's interrupt did not come. */
static int edu_bench_transfer(struct edu_bench *e, u32 src, u32 dst, u32 len, u32 dir,
			      unsigned long timeout)
{
	reinit_completion(&e->dma_done);
	writel(src, e->regs + EDU_DMA_SRC);
	writel(dst, e->regs + EDU_DMA_DST);
	writel(len, e->regs + EDU_DMA_CNT);
	writel(EDU_DMA_RUN | EDU_DMA_IRQ | dir, e->regs + EDU_DMA_CMD);
	if (!wait_for_completion_timeout(&e->dma_done, timeout))
		return -ETIMEDOUT;
	return 0;
}

static long edu_bench_dma(struct edu_bench *e, void __user *arg)
{
	struct edu_bench_dma req;
	unsigned long timeout;
	u8 *buf = e->buf;
	u64 t0;
	long ret = 0;
	u32 r, i;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (!req.len || req.len > EDU_BENCH_MAX_DMA || !req.rounds ||
	    req.rounds > EDU_BENCH_MAX_ROUNDS)
		return -EINVAL;
	timeout = msecs_to_jiffies(req.timeout_ms ? req.timeout_ms : 2000);
	req.done = 0;
	req.bytes = 0;
	req.mismatches = 0;
	t0 = ktime_get_ns();
	for (r = 0; r < req.rounds; r++) {
		u8 seed = (u8)(r * 37 + 11);

		for (i = 0; i < req.len; i++)
			buf[i] = (u8)(seed + i * 7);
		ret = edu_bench_transfer(e, (u32)e->buf_dma, EDU_DMA_BUF, req.len, 0, timeout);
		if (ret)
			break;
		memset(buf, 0, req.len);
		ret = edu_bench_transfer(e, EDU_DMA_BUF, (u32)e->buf_dma, req.len, EDU_DMA_TO_RAM,
					 timeout);
		if (ret)
			break;
		for (i = 0; i < req.len; i++)
			req.mismatches += buf[i] != (u8)(seed + i * 7);
		req.done++;
		req.bytes += 2ull * req.len;
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
	req.elapsed_ns = ktime_get_ns() - t0;
	if (ret == -ETIMEDOUT)
		dev_warn(&e->pdev->dev, "DMA interrupt did not come (status %#x, cmd %#x)\n",
			 readl(e->regs + EDU_IRQ_STATUS), readl(e->regs + EDU_DMA_CMD));
	if (copy_to_user(arg, &req, sizeof(req)))
		return -EFAULT;
	return ret;
}

static long edu_bench_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	struct edu_bench *e;
	long ret;

	if (mutex_lock_interruptible(&edu_lock))
		return -EINTR;
	e = edu_dev;
	if (!e) {
		mutex_unlock(&edu_lock);
		return -ENODEV;
	}
	switch (cmd) {
	case EDU_BENCH_INFO:
		ret = edu_bench_info(e, uarg);
		break;
	case EDU_BENCH_IRQ:
		ret = edu_bench_irqs(e, uarg);
		break;
	case EDU_BENCH_DMA:
		ret = edu_bench_dma(e, uarg);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&edu_lock);
	return ret;
}

static const struct file_operations edu_bench_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = edu_bench_ioctl,
};

static int edu_bench_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu_bench *e;
	int ret;

	if (edu_dev)
		return -EBUSY;	/* one /dev/edu_bench */
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->pdev = pdev;
	init_completion(&e->dma_done);
	ret = pci_enable_device(pdev);
	if (ret)
		goto err_free;
	ret = pci_request_region(pdev, 0, "edu_bench");
	if (ret)
		goto err_disable;
	e->regs = pci_iomap(pdev, 0, 0);
	if (!e->regs) {
		ret = -ENOMEM;
		goto err_release;
	}
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(28));
	if (ret)
		goto err_unmap;
	e->buf = dma_alloc_coherent(&pdev->dev, PAGE_SIZE, &e->buf_dma, GFP_KERNEL);
	if (!e->buf) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0)
		goto err_buf;
	e->irq = pci_irq_vector(pdev, 0);
	writel(readl(e->regs + EDU_IRQ_STATUS), e->regs + EDU_IRQ_ACK);
	ret = request_irq(e->irq, edu_bench_irq, 0, "edu_bench", e);
	if (ret)
		goto err_vectors;
	e->misc.minor = MISC_DYNAMIC_MINOR;
	e->misc.name = "edu_bench";
	e->misc.fops = &edu_bench_fops;
	e->misc.parent = &pdev->dev;
	ret = misc_register(&e->misc);
	if (ret)
		goto err_irq;
	pci_set_drvdata(pdev, e);
	mutex_lock(&edu_lock);
	edu_dev = e;
	mutex_unlock(&edu_lock);
	dev_info(&pdev->dev, "edu_bench: ident %#x, MSI irq %d, DMA buffer at %pad\n",
		 readl(e->regs + EDU_IDENT), e->irq, &e->buf_dma);
	return 0;

err_irq:
	free_irq(e->irq, e);
err_vectors:
	pci_free_irq_vectors(pdev);
err_buf:
	dma_free_coherent(&pdev->dev, PAGE_SIZE, e->buf, e->buf_dma);
err_unmap:
	pci_clear_master(pdev);
	pci_iounmap(pdev, e->regs);
err_release:
	pci_release_region(pdev, 0);
err_disable:
	pci_disable_device(pdev);
err_free:
	kfree(e);
	return ret;
}

static void edu_bench_remove(struct pci_dev *pdev)
{
	struct edu_bench *e = pci_get_drvdata(pdev);

	misc_deregister(&e->misc);
	/* After a running ioctl, and no new one finds it. */
	mutex_lock(&edu_lock);
	edu_dev = NULL;
	mutex_unlock(&edu_lock);
	/* No DMA may be left running into the buffer: wait out edu's timer. */
	if (readl(e->regs + EDU_DMA_CMD) & EDU_DMA_RUN)
		msleep(250);
	free_irq(e->irq, e);
	pci_free_irq_vectors(pdev);
	dma_free_coherent(&pdev->dev, PAGE_SIZE, e->buf, e->buf_dma);
	pci_clear_master(pdev);
	pci_iounmap(pdev, e->regs);
	pci_release_region(pdev, 0);
	pci_disable_device(pdev);
	kfree(e);
}

static const struct pci_device_id edu_bench_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ 0 }
};
MODULE_DEVICE_TABLE(pci, edu_bench_ids);

static struct pci_driver edu_bench_driver = {
	.name = "edu_bench",
	.id_table = edu_bench_ids,
	.probe = edu_bench_probe,
	.remove = edu_bench_remove,
};
module_pci_driver(edu_bench_driver);

MODULE_DESCRIPTION("Interrupt and DMA timing on QEMU's edu device (vfio-vmm testbed)");
MODULE_LICENSE("GPL");
