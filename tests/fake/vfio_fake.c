// SPDX-License-Identifier: MIT
/*
 * Fake VFIO device and fake VM for the vfio unit tests and fuzz targets (see the header).
 * The region info replies are built as the kernel builds them, uapi
 * capability chain included, and parsed by vfio_region_parse, so the
 * parsing the testbed relies on runs here too.
 */
#include "tests/fake/vfio_fake.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>

#define H100_MSIX_TABLE	0xb90000u

static int load_fixture(const char *dir, const char *model, void *buf, size_t len)
{
	char path[512];
	size_t got;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s-config.bin", dir, model);
	fp = fopen(path, "rb");
	if (!fp) {
		fprintf(stderr, "fake_vfio: cannot open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	got = fread(buf, 1, len, fp);
	fclose(fp);
	if (got != len) {
		fprintf(stderr, "fake_vfio: %s is short (%zu of %zu bytes)\n", path, got, len);
		return -EINVAL;
	}
	return 0;
}

static int load_sizes(struct fake_vfio *f, const char *dir, const char *model)
{
	unsigned long long start, end, flags;
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s-resource.txt", dir, model);
	fp = fopen(path, "r");
	if (!fp) {
		fprintf(stderr, "fake_vfio: cannot open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	/* Lines: BAR0..BAR5, then the ROM. */
	for (int i = 0; i < 7 && fscanf(fp, "%llx %llx %llx", &start, &end, &flags) == 3; i++)
		f->sizes[i] = end ? end - start + 1 : 0;
	fclose(fp);
	return 0;
}

int fake_vfio_load(struct fake_vfio *f, const char *dir, const char *model, bool msix_mappable)
{
	int ret;

	memset(f, 0, sizeof(*f));
	ret = load_fixture(dir, model, f->cfg, sizeof(f->cfg));
	if (!ret)
		ret = load_sizes(f, dir, model);
	if (ret)
		return ret;
	memcpy(f->cfg_orig, f->cfg, sizeof(f->cfg));
	f->sizes[VFIO_PCI_CFG_INDEX] = sizeof(f->cfg);
	/* The H100 has no option ROM; give the fake one to exercise the ROM BAR. */
	f->sizes[VFIO_PCI_ROM_INDEX] = sizeof(f->rom);
	for (unsigned int i = 0; i < sizeof(f->rom); i++)
		f->rom[i] = i * 7;
	f->rom[0] = 0x55;
	f->rom[1] = 0xaa;
	f->msix_mappable = msix_mappable;
	f->bar0 = calloc(1, FAKE_BAR0_SIZE);
	if (!f->bar0) {
		fprintf(stderr, "fake_vfio: no memory for BAR0\n");
		return -ENOMEM;
	}
	return 0;
}

void fake_vfio_free(struct fake_vfio *f)
{
	free(f->bar0);
	f->bar0 = NULL;
}

static int fake_get_info(void *h, struct vfio_dev_info *info)
{
	info->flags = VFIO_DEVICE_FLAGS_PCI |
		      (((struct fake_vfio *)h)->no_reset ? 0 : VFIO_DEVICE_FLAGS_RESET);
	info->num_regions = VFIO_PCI_NUM_REGIONS;
	info->num_irqs = VFIO_PCI_NUM_IRQS;
	return 0;
}

/* Builds the reply the kernel would give, caps and all, then parses it. */
static int fake_region_info(void *h, uint32_t index, struct vfio_region *r)
{
	struct fake_vfio *f = h;
	union {
		struct vfio_region_info info;
		uint8_t raw[512];
	} buf;
	struct vfio_region_info *info = &buf.info;
	uint32_t at = sizeof(*info);

	memset(&buf, 0, sizeof(buf));
	info->argsz = sizeof(buf);
	info->index = index;
	info->offset = (uint64_t)index << 40;
	info->size = index < VFIO_PCI_REGIONS ? f->sizes[index] : 0;
	if (info->size)
		info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	if (index < VFIO_PCI_ROM_INDEX && info->size)
		info->flags |= VFIO_REGION_INFO_FLAG_MMAP;
	if (index == VFIO_PCI_ROM_INDEX)
		info->flags &= ~VFIO_REGION_INFO_FLAG_WRITE;
	if (index == 0 && f->msix_mappable) {
		struct vfio_info_cap_header *c = (void *)(buf.raw + at);

		c->id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE;
		c->version = 1;
		info->flags |= VFIO_REGION_INFO_FLAG_CAPS;
		info->cap_offset = at;
	} else if (index == 0) {
		/* Old kernels: everything but the page(s) of the MSI-X table. */
		struct vfio_region_info_cap_sparse_mmap *sp = (void *)(buf.raw + at);

		sp->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
		sp->header.version = 1;
		sp->nr_areas = 2;
		sp->areas[0].offset = 0;
		sp->areas[0].size = H100_MSIX_TABLE;
		sp->areas[1].offset = H100_MSIX_TABLE + 0x1000;
		sp->areas[1].size = FAKE_BAR0_SIZE - sp->areas[1].offset;
		if (f->nr_areas) {
			sp->nr_areas = f->nr_areas;
			for (unsigned int k = 0; k < f->nr_areas; k++) {
				sp->areas[k].offset = f->areas[k].offset;
				sp->areas[k].size = f->areas[k].size;
			}
		}
		info->flags |= VFIO_REGION_INFO_FLAG_CAPS;
		info->cap_offset = at;
	}
	return vfio_region_parse(info, sizeof(buf), r);
}

static uint8_t *fake_backing(struct fake_vfio *f, uint32_t index, uint64_t off, size_t len)
{
	if (index == VFIO_PCI_CFG_INDEX && off + len <= sizeof(f->cfg))
		return f->cfg + off;
	if (index == 0 && off + len <= FAKE_BAR0_SIZE)
		return f->bar0 + off;
	if (index == VFIO_PCI_ROM_INDEX && off + len <= sizeof(f->rom))
		return f->rom + off;
	return NULL;
}

static ssize_t fake_read(void *h, const struct vfio_region *r, uint64_t off, void *buf,
			 size_t len)
{
	uint8_t *p = fake_backing(h, r->index, off, len);

	if (!p) {
		if (off >= r->size || r->size - off < len)
			return -EINVAL;
		memset(buf, 0x5a, len);	/* big BARs: a recognizable pattern */
		return len;
	}
	memcpy(buf, p, len);
	return len;
}

static ssize_t fake_write(void *h, const struct vfio_region *r, uint64_t off, const void *buf,
			  size_t len)
{
	struct fake_vfio *f = h;
	uint8_t *p = fake_backing(f, r->index, off, len);

	if (r->index == VFIO_PCI_ROM_INDEX)
		return -EINVAL;
	if (r->index == VFIO_PCI_CFG_INDEX)
		f->cfg_writes++;
	if (!p)
		return off < r->size && r->size - off >= len ? (ssize_t)len : -EINVAL;
	memcpy(p, buf, len);
	return len;
}

static void *fake_mmap(void *h, const struct vfio_region *r, uint64_t off, uint64_t size)
{
	struct fake_vfio *f = h;
	void *p;

	(void)r;
	(void)off;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	f->mmaps++;
	return p;
}

static void fake_munmap(void *h, void *addr, uint64_t size)
{
	(void)h;
	munmap(addr, size);
}

static int fake_irq_info(void *h, uint32_t index, struct vfio_irq *irq)
{
	static const uint32_t counts[VFIO_PCI_NUM_IRQS] = { 1, 16, 9, 1, 1 };

	if (index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	irq->index = index;
	irq->count = counts[index];
	if (index == VFIO_PCI_INTX_IRQ_INDEX && ((struct fake_vfio *)h)->no_intx)
		irq->count = 0;
	irq->flags = VFIO_IRQ_INFO_EVENTFD |
		     (index == VFIO_PCI_INTX_IRQ_INDEX ? VFIO_IRQ_INFO_MASKABLE |
							 VFIO_IRQ_INFO_AUTOMASKED
						       : VFIO_IRQ_INFO_NORESIZE);
	return 0;
}

static int fake_set_irqs(void *h, uint32_t index, uint32_t flags, uint32_t start,
			 uint32_t count, const int32_t *fds)
{
	struct fake_vfio *f = h;
	struct fake_set_irqs *c;

	/* Long (fuzz) runs keep only the recent half of the history. */
	if (f->nr_calls == FAKE_MAX_CALLS) {
		memmove(f->calls, f->calls + FAKE_MAX_CALLS / 2,
			FAKE_MAX_CALLS / 2 * sizeof(f->calls[0]));
		f->nr_calls = FAKE_MAX_CALLS / 2;
	}
	c = &f->calls[f->nr_calls++];
	*c = (struct fake_set_irqs){ index, flags, start, count, { 0 } };
	for (uint32_t i = 0; fds && i < count && i < 16; i++)
		c->fds[i] = fds[i];
	/* As L1's vfio-pci answered: no MSI/MSI-X vectors for a function in D3hot. */
	if (fds && count && (index == VFIO_PCI_MSI_IRQ_INDEX || index == VFIO_PCI_MSIX_IRQ_INDEX) &&
	    (f->cfg[0x40 + PCI_PM_CTRL] & PCI_PM_CTRL_STATE_MASK) == 3)
		return -EINVAL;
	return 0;
}

static int fake_reset(void *h)
{
	struct fake_vfio *f = h;

	f->resets++;
	/* Like vfio-pci, which puts the function in D0 before resetting it. */
	for (uint8_t pos = f->cfg[PCI_CAPABILITY_LIST], hops = 0; pos && hops < 48;
	     pos = f->cfg[pos + 1], hops++)
		if (f->cfg[pos] == PCI_CAP_ID_PM)
			f->cfg[pos + PCI_PM_CTRL] &= ~PCI_PM_CTRL_STATE_MASK;
	return f->reset_ret;
}

const struct vfio_dev_ops fake_vfio_ops = {
	.get_info = fake_get_info,
	.region_info = fake_region_info,
	.region_read = fake_read,
	.region_write = fake_write,
	.region_mmap = fake_mmap,
	.region_munmap = fake_munmap,
	.irq_info = fake_irq_info,
	.set_irqs = fake_set_irqs,
	.reset = fake_reset,
};

void fake_host_init(struct fake_host *h)
{
	memset(h, 0, sizeof(*h));
	h->next_gsi = 24;
	h->intx_gsi = 10;
	h->pci = (struct pci_host){ .ops = &fake_host_ops, .opaque = h };
}

static struct fake_event *record(struct fake_host *h, enum fake_ev ev)
{
	const unsigned int cap = sizeof(h->ev) / sizeof(h->ev[0]);

	/* No assert here: it would unwind with the device lock held. */
	if (h->nr == cap) {
		memmove(h->ev, h->ev + cap / 2, cap / 2 * sizeof(h->ev[0]));
		h->nr = cap / 2;
	}
	h->ev[h->nr] = (struct fake_event){ .ev = ev };
	return &h->ev[h->nr++];
}

/* A map or unmap of one BAR piece at gpa. */
static void record_piece(void *o, enum fake_ev ev, const struct pci_bar_piece *p, uint64_t gpa)
{
	struct fake_event *e = record(o, ev);

	e->bar = p->bar;
	e->offset = p->offset;
	e->size = p->size;
	e->gpa = gpa;
	e->direct = p->direct;
}

static int host_map(void *o, struct pci_bar_piece *p, uint64_t gpa)
{
	record_piece(o, EV_MAP, p, gpa);
	((struct fake_host *)o)->mapped++;
	return 0;
}

static void host_unmap(void *o, struct pci_bar_piece *p, uint64_t gpa)
{
	record_piece(o, EV_UNMAP, p, gpa);
	((struct fake_host *)o)->mapped--;
}

static int host_route_add(void *o, uint64_t addr, uint32_t data)
{
	struct fake_host *h = o;
	struct fake_event *e = record(h, EV_ROUTE_ADD);

	e->addr = addr;
	e->data = data;
	e->gsi = h->next_gsi++;
	h->routes++;
	return e->gsi;
}

static int host_route_update(void *o, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct fake_event *e = record(o, EV_ROUTE_UPDATE);

	e->gsi = gsi;
	e->addr = addr;
	e->data = data;
	return 0;
}

static int host_route_remove(void *o, uint32_t gsi)
{
	struct fake_host *h = o;

	record(h, EV_ROUTE_REMOVE)->gsi = gsi;
	h->routes--;
	return 0;
}

static int host_attach(void *o, int fd, uint32_t gsi, int resample_fd)
{
	struct fake_host *h = o;
	struct fake_event *e = record(h, EV_ATTACH);

	e->fd = fd;
	e->gsi = gsi;
	e->resample_fd = resample_fd;
	h->attached++;
	return 0;
}

static int host_detach(void *o, int fd, uint32_t gsi)
{
	struct fake_host *h = o;
	struct fake_event *e = record(h, EV_DETACH);

	e->fd = fd;
	e->gsi = gsi;
	h->attached--;
	return 0;
}

static int host_ioeventfd(void *o, bool assign, bool io, uint64_t gpa, uint32_t len, int fd)
{
	struct fake_host *h = o;
	struct fake_event *e;

	if (assign && h->ioeventfd_ret)
		return h->ioeventfd_ret;
	e = record(h, assign ? EV_IOEVENTFD : EV_IOEVENTFD_OFF);
	e->gpa = gpa;
	e->size = len;
	e->fd = fd;
	e->direct = io;
	return 0;
}

static int host_intx_gsi(void *o, uint8_t devfn, uint8_t pin)
{
	(void)devfn;
	return pin ? ((struct fake_host *)o)->intx_gsi : -1;
}

const struct pci_host_ops fake_host_ops = {
	.bar_map = host_map,
	.bar_unmap = host_unmap,
	.route_add = host_route_add,
	.route_update = host_route_update,
	.route_remove = host_route_remove,
	.irqfd_attach = host_attach,
	.irqfd_detach = host_detach,
	.ioeventfd = host_ioeventfd,
	.intx_gsi = host_intx_gsi,
};

unsigned int fake_count(const struct fake_host *h, enum fake_ev ev, unsigned int from)
{
	unsigned int n = 0;

	for (unsigned int i = from; i < h->nr; i++)
		n += h->ev[i].ev == ev;
	return n;
}

const struct fake_event *fake_last(const struct fake_host *h, enum fake_ev ev)
{
	for (unsigned int i = h->nr; i-- > 0;)
		if (h->ev[i].ev == ev)
			return &h->ev[i];
	return NULL;
}

uint32_t cfg_rd(struct vfio_pci_dev *d, uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	vfio_pci_cfg_read(d, off, &v, len);
	return v;
}

void cfg_wr(struct vfio_pci_dev *d, uint32_t off, uint32_t len, uint32_t v)
{
	vfio_pci_cfg_write(d, off, &v, len);
}

int fake_pci_setup(struct vfio_pci_dev *d, struct fake_vfio *f, struct fake_host *h,
		   const char *dir, const char *model, bool msix_mappable)
{
	int ret = fake_vfio_load(f, dir, model, msix_mappable);

	if (ret)
		return ret;
	fake_host_init(h);
	ret = vfio_pci_init(d, &fake_vfio_ops, f, model, &h->pci);
	if (ret)
		fake_vfio_free(f);
	return ret;
}

void msix_entry_write(struct vfio_pci_dev *d, unsigned int v, unsigned int dw, uint32_t val)
{
	vfio_pci_bar_write(d, 0, FAKE_MSIX_TABLE + 16 * v + 4 * dw, &val, 4);
}

uint32_t msix_entry_read(struct vfio_pci_dev *d, unsigned int v, unsigned int dw)
{
	uint32_t val = 0;

	vfio_pci_bar_read(d, 0, FAKE_MSIX_TABLE + 16 * v + 4 * dw, &val, 4);
	return val;
}
