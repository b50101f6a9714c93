// SPDX-License-Identifier: MIT
/*
 * The vhost ioctls shared by virtio-net and virtio-vsock (see vhost.h).
 * Each one is traced under --trace vhost with its decoded arguments.
 */
#include "devices/virtio/vhost.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vhost.h>

#include "util/log.h"

static int real_open(void *ctx, const char *path, int flags)
{
	int fd;

	(void)ctx;
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int real_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	int ret;

	(void)ctx;
	ret = ioctl(fd, req, arg);
	return ret < 0 ? -errno : ret;
}

static void real_close(void *ctx, int fd)
{
	(void)ctx;
	close(fd);
}

const struct vhost_sys vhost_sys_real = {
	.open = real_open,
	.ioctl = real_ioctl,
	.close = real_close,
};

int vhost_open(const struct vhost_sys *s, const char *path, uint64_t *features)
{
	int fd, ret;

	fd = s->open(s->ctx, path, O_RDWR);
	if (fd < 0)
		return fd;
	/* Binds the device to this process: its worker uses our mm to reach guest RAM. */
	ret = vhost_ioctl(s, fd, VHOST_SET_OWNER, NULL);
	if (!ret)
		ret = vhost_ioctl(s, fd, VHOST_GET_FEATURES, features);
	if (ret < 0) {
		s->close(s->ctx, fd);
		return ret;
	}
	trace(LOG_VHOST, "%s: fd %d, VHOST_SET_OWNER, VHOST_GET_FEATURES %#llx", path, fd,
	      (unsigned long long)*features);
	return fd;
}

int vhost_set_features(const struct vhost_sys *s, int fd, uint64_t features)
{
	trace(LOG_VHOST, "fd %d: VHOST_SET_FEATURES %#llx", fd, (unsigned long long)features);
	return vhost_ioctl(s, fd, VHOST_SET_FEATURES, &features);
}

int vhost_set_mem_table(const struct vhost_sys *s, int fd, const struct guest_mem *mem)
{
	struct vhost_memory *vm;
	int ret;

	vm = calloc(1, sizeof(*vm) + GUEST_MEM_MAX_REGIONS * sizeof(vm->regions[0]));
	if (!vm)
		return -ENOMEM;
	vm->nregions = mem->nr;
	for (unsigned int i = 0; i < mem->nr; i++) {
		vm->regions[i] = (struct vhost_memory_region){
			.guest_phys_addr = mem->r[i].gpa,
			.memory_size = mem->r[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)mem->r[i].hva,
		};
		trace(LOG_VHOST, "fd %d: VHOST_SET_MEM_TABLE [%u] gpa %#llx size %#llx at %p", fd, i,
		      (unsigned long long)mem->r[i].gpa, (unsigned long long)mem->r[i].size,
		      (void *)mem->r[i].hva);
	}
	ret = vhost_ioctl(s, fd, VHOST_SET_MEM_TABLE, vm);
	free(vm);
	return ret < 0 ? ret : 0;
}

/* Host address of a ring the transport already found wholly in RAM. */
static uint64_t ring_hva(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	return (uint64_t)(uintptr_t)guest_mem_ptr(mem, gpa, len);
}

int vhost_vring_start(const struct vhost_sys *s, int fd, unsigned int idx,
		      const struct virtio_queue *q, const struct guest_mem *mem)
{
	uint32_t n = q->vq.size;
	struct vhost_vring_state num = { .index = idx, .num = n };
	struct vhost_vring_state base = { .index = idx, .num = 0 };
	struct vhost_vring_file kick = { .index = idx, .fd = q->kick_fd };
	struct vhost_vring_file call = { .index = idx, .fd = q->call_fd };
	struct vhost_vring_addr addr = {
		.index = idx,
		.desc_user_addr = ring_hva(mem, q->vq.desc_gpa, 16ull * n),
		.avail_user_addr = ring_hva(mem, q->vq.avail_gpa, 6 + 2ull * n),
		.used_user_addr = ring_hva(mem, q->vq.used_gpa, 6 + 8ull * n),
	};
	int ret;

	if (!addr.desc_user_addr || !addr.avail_user_addr || !addr.used_user_addr)
		return -EFAULT;
	ret = vhost_ioctl(s, fd, VHOST_SET_VRING_NUM, &num);
	if (!ret)
		ret = vhost_ioctl(s, fd, VHOST_SET_VRING_BASE, &base);
	if (!ret)
		ret = vhost_ioctl(s, fd, VHOST_SET_VRING_ADDR, &addr);
	if (!ret)
		ret = vhost_ioctl(s, fd, VHOST_SET_VRING_KICK, &kick);
	if (!ret)
		ret = vhost_ioctl(s, fd, VHOST_SET_VRING_CALL, &call);
	trace(LOG_VHOST,
	      "fd %d: vring %u: NUM %u, BASE 0, ADDR desc %#llx avail %#llx used %#llx "
	      "(gpa %#llx %#llx %#llx), KICK fd %d, CALL fd %d: %s",
	      fd, idx, n, (unsigned long long)addr.desc_user_addr,
	      (unsigned long long)addr.avail_user_addr, (unsigned long long)addr.used_user_addr,
	      (unsigned long long)q->vq.desc_gpa, (unsigned long long)q->vq.avail_gpa,
	      (unsigned long long)q->vq.used_gpa, q->kick_fd, q->call_fd,
	      ret < 0 ? strerror(-ret) : "ok");
	return ret < 0 ? ret : 0;
}

int vhost_vring_stop(const struct vhost_sys *s, int fd, unsigned int idx, uint16_t *base)
{
	struct vhost_vring_state st = { .index = idx };
	struct vhost_vring_file none = { .index = idx, .fd = VHOST_FILE_UNBIND };
	int ret, r;

	ret = vhost_ioctl(s, fd, VHOST_GET_VRING_BASE, &st);
	if (!ret && base)
		*base = (uint16_t)st.num;
	r = vhost_ioctl(s, fd, VHOST_SET_VRING_KICK, &none);
	if (!ret)
		ret = r;
	r = vhost_ioctl(s, fd, VHOST_SET_VRING_CALL, &none);
	if (!ret)
		ret = r;
	trace(LOG_VHOST, "fd %d: vring %u: GET_VRING_BASE %u, KICK and CALL unbound: %s", fd, idx,
	      st.num, ret < 0 ? strerror(-ret) : "ok");
	return ret < 0 ? ret : 0;
}
