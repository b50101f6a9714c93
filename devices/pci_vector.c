// SPDX-License-Identifier: MIT
/*
 * Interrupt vectors, for every PCI device: the rule that makes an eventfd
 * a guest interrupt without our process in the path.
 *
 * A vector is "active" when the guest has enabled it, not masked it, and
 * given it a valid x86 message. Active vectors own a GSI route carrying the
 * message and have their eventfd attached as an irqfd. Masking only
 * detaches the irqfd: the device (or VFIO) keeps signalling the eventfd,
 * whose count is the pending bit, and KVM delivers it on re-attach (irqfd
 * checks for an already-signalled eventfd when it is assigned); we then
 * drain the count, since that path does not.
 */
#include "devices/pci_dev.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

void pci_vector_init(struct pci_vector *v)
{
	*v = (struct pci_vector){ .fd = -1, .gsi = -1 };
}

bool pci_msi_addr_valid(uint64_t addr)
{
	/* x86 delivers MSIs written to 0xfeexxxxx; anything else is not a message. */
	return (addr >> 20) == 0xfee;
}

bool pci_vector_pending(const struct pci_vector *v)
{
	struct pollfd p = { .fd = v->fd, .events = POLLIN };

	return v->fd >= 0 && !v->attached && poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/*
 * KVM injects an eventfd signalled before its irqfd was assigned, but that
 * path leaves the eventfd's count as it was (only signals after the assign
 * are consumed, in KVM's wakeup). Left there, the interrupt just delivered
 * would show as pending in the PBA after the next mask, and be delivered a
 * second time on the next unmask. Later signals cannot be lost here: KVM's
 * wakeup consumes them under the eventfd's lock, before a read can see them.
 */
static void drain(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		trace(LOG_IRQ, "draining eventfd %d: %s", fd, strerror(errno));
}

void pci_vector_sync(struct pci_dev *dev, struct pci_vector *v, bool active, uint64_t addr,
		     uint32_t data, const char *what, unsigned int nr)
{
	const struct pci_host *h = dev->host;
	int ret;

	if (!active) {
		if (v->attached) {
			h->ops->irqfd_detach(h->opaque, v->fd, v->gsi);
			v->attached = false;
			trace(LOG_IRQ, "%s: %s vector %u masked: irqfd detached from GSI %d",
			      dev->name, what, nr, v->gsi);
		}
		return;
	}
	if (v->gsi < 0) {
		ret = h->ops->route_add(h->opaque, addr, data);
		if (ret < 0) {
			log_err_rl("%s: %s vector %u: no GSI route: %s", dev->name, what, nr,
				   ret == -ENOSPC ? "all of this VM's MSI routes are in use" :
				   strerror(-ret));
			return;
		}
		v->gsi = ret;
		trace(LOG_IRQ, "%s: %s vector %u -> GSI %d (addr %#llx data %#x)", dev->name,
		      what, nr, v->gsi, (unsigned long long)addr, data);
	} else if (v->addr != addr || v->data != data) {
		ret = h->ops->route_update(h->opaque, v->gsi, addr, data);
		if (ret < 0)
			log_err_rl("%s: %s vector %u: route update failed: %s", dev->name, what,
				   nr, strerror(-ret));
		trace(LOG_IRQ, "%s: %s vector %u GSI %d now addr %#llx data %#x", dev->name,
		      what, nr, v->gsi, (unsigned long long)addr, data);
	}
	v->addr = addr;
	v->data = data;
	if (!v->attached && v->fd >= 0) {
		ret = h->ops->irqfd_attach(h->opaque, v->fd, v->gsi, -1);
		if (ret < 0) {
			log_err_rl("%s: %s vector %u: irqfd on GSI %d failed: %s", dev->name, what,
				   nr, v->gsi, strerror(-ret));
			return;
		}
		v->attached = true;
		drain(v->fd);
	}
}

void pci_vector_release(struct pci_dev *dev, struct pci_vector *v)
{
	const struct pci_host *h = dev->host;

	if (v->attached)
		h->ops->irqfd_detach(h->opaque, v->fd, v->gsi);
	if (v->gsi >= 0)
		h->ops->route_remove(h->opaque, v->gsi);
	if (v->fd >= 0)
		close(v->fd);
	pci_vector_init(v);
}
