// SPDX-License-Identifier: MIT
/*
 * tb-nvmevirt: the few NVMe admin commands the sriov scenario needs to give
 * a VF of QEMU's nvme a working controller (L1 has no nvme-cli). Runs in L1
 * against the PF's character device, through the nvme driver's admin
 * passthrough ioctl (NVME_IOCTL_ADMIN_CMD).
 *
 *   tb-nvmevirt /dev/nvmeN show              this controller's CNTLID, its
 *                                            flexible resources, and every
 *                                            secondary controller
 *   tb-nvmevirt /dev/nvmeN release           give up the primary's flexible
 *                                            queues and interrupts (takes
 *                                            effect at the PF's next FLR)
 *   tb-nvmevirt /dev/nvmeN online VFN NVQ NVI
 *                                            assign NVQ queues and NVI
 *                                            interrupts to VF number VFN's
 *                                            secondary controller, then
 *                                            bring it online
 *   tb-nvmevirt /dev/nvmeN offline VFN       take it offline again
 *
 * A VF's controller starts offline with no resources: QEMU then refuses to
 * enable it (CSTS.RDY never comes), and Linux's nvme driver on the VF fails.
 * The commands are Identify (opcode 06h) with CNS 01h (controller), 14h
 * (primary controller capabilities) and 15h (secondary controller list),
 * and Virtualization Management (1Ch): CDW10 = action | resource type << 8
 * | CNTLID << 16, CDW11 = number of resources.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/nvme_ioctl.h>

#define OP_IDENTIFY	0x06
#define OP_VIRT_MGMT	0x1c
#define CNS_CTRL	0x01
#define CNS_PRI_CAP	0x14
#define CNS_SEC_LIST	0x15
#define ACT_PRI_FLEX	0x1	/* primary flexible allocation */
#define ACT_SEC_OFFLINE	0x7
#define ACT_SEC_ASSIGN	0x8
#define ACT_SEC_ONLINE	0x9
#define RT_VQ		0	/* queue resources */
#define RT_VI		1	/* interrupt resources */

static uint8_t buf[4096] __attribute__((aligned(4096)));

static unsigned int le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static unsigned long le32(const uint8_t *p)
{
	return le16(p) | (unsigned long)le16(p + 2) << 16;
}

/* One admin command; 0 on success, else the NVMe status (>0) or -errno. */
static int admin(int fd, uint8_t op, uint32_t cdw10, uint32_t cdw11, void *data, uint32_t len,
		 uint32_t *result)
{
	struct nvme_passthru_cmd c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.opcode = op;
	c.cdw10 = cdw10;
	c.cdw11 = cdw11;
	c.addr = (uintptr_t)data;
	c.data_len = len;
	c.timeout_ms = 10000;
	ret = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &c);
	if (ret < 0)
		return -errno;
	if (result)
		*result = c.result;
	return ret;
}

static int identify(int fd, uint8_t cns, uint16_t cntid)
{
	memset(buf, 0, sizeof(buf));
	return admin(fd, OP_IDENTIFY, cns | (uint32_t)cntid << 16, 0, buf, sizeof(buf), NULL);
}

static void fail(const char *what, int ret)
{
	if (ret < 0)
		fprintf(stderr, "tb-nvmevirt: %s: %s\n", what, strerror(-ret));
	else
		fprintf(stderr, "tb-nvmevirt: %s: NVMe status %#x (SCT %u SC %#x)\n", what, ret,
			(ret >> 8) & 7, ret & 0xff);
	exit(1);
}

static unsigned int own_cntlid(int fd)
{
	int ret = identify(fd, CNS_CTRL, 0);

	if (ret)
		fail("Identify Controller", ret);
	return le16(buf + 78);
}

struct sec_ctrl {
	unsigned int scid, pcid, online, vfn, nvq, nvi;
};

/* The secondary controller list; returns how many entries (at most max). */
static unsigned int sec_list(int fd, struct sec_ctrl *out, unsigned int max)
{
	unsigned int n, i;
	int ret = identify(fd, CNS_SEC_LIST, 0);

	if (ret)
		fail("Identify Secondary Controller List", ret);
	n = buf[0];
	if (n > 127)
		n = 127;
	for (i = 0; i < n && i < max; i++) {
		const uint8_t *e = buf + 32 * (i + 1);

		out[i].scid = le16(e);
		out[i].pcid = le16(e + 2);
		out[i].online = e[4] & 1;
		out[i].vfn = le16(e + 8);
		out[i].nvq = le16(e + 10);
		out[i].nvi = le16(e + 12);
	}
	return i;
}

static int cmd_show(int fd)
{
	struct sec_ctrl s[127];
	unsigned int cntlid = own_cntlid(fd), n, i;
	int ret;

	printf("cntlid %u\n", cntlid);
	ret = identify(fd, CNS_PRI_CAP, cntlid);
	if (ret)
		fail("Identify Primary Controller Capabilities", ret);
	printf("primary: vq flexible total %lu, allocated to primary %u (after reset), private %u; "
	       "vi flexible total %lu, allocated to primary %u (after reset), private %u\n",
	       le32(buf + 32), le16(buf + 40), le16(buf + 42), le32(buf + 64), le16(buf + 72),
	       le16(buf + 74));
	n = sec_list(fd, s, 127);
	for (i = 0; i < n; i++)
		printf("secondary scid %u pcid %u vfn %u %s nvq %u nvi %u\n", s[i].scid, s[i].pcid,
		       s[i].vfn, s[i].online ? "online" : "offline", s[i].nvq, s[i].nvi);
	return 0;
}

static void virt_mgmt(int fd, unsigned int act, unsigned int rt, unsigned int cntlid,
		      unsigned int nr, const char *what)
{
	uint32_t result = 0;
	int ret = admin(fd, OP_VIRT_MGMT, act | rt << 8 | cntlid << 16, nr, NULL, 0, &result);

	if (ret)
		fail(what, ret);
	printf("%s: cntlid %u act %u rt %u nr %u: ok (result %u)\n", what, cntlid, act, rt, nr,
	       result);
}

static unsigned int find_vf(int fd, unsigned int vfn)
{
	struct sec_ctrl s[127];
	unsigned int n = sec_list(fd, s, 127);

	for (unsigned int i = 0; i < n; i++)
		if (s[i].vfn == vfn)
			return s[i].scid;
	fprintf(stderr, "tb-nvmevirt: no secondary controller for VF number %u (%u listed)\n",
		vfn, n);
	exit(1);
}

static unsigned int num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (!*s || *end || v > 0xffff) {
		fprintf(stderr, "tb-nvmevirt: '%s' is not a number from 0 to 65535\n", s);
		exit(2);
	}
	return (unsigned int)v;
}

int main(int argc, char **argv)
{
	unsigned int scid, cntlid;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: tb-nvmevirt /dev/nvmeN show|release|online VFN NVQ NVI|"
			"offline VFN\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "tb-nvmevirt: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (!strcmp(argv[2], "show"))
		return cmd_show(fd);
	if (!strcmp(argv[2], "release")) {
		cntlid = own_cntlid(fd);
		virt_mgmt(fd, ACT_PRI_FLEX, RT_VQ, cntlid, 0, "primary flexible VQ");
		virt_mgmt(fd, ACT_PRI_FLEX, RT_VI, cntlid, 0, "primary flexible VI");
		return 0;
	}
	if (!strcmp(argv[2], "online") && argc == 6) {
		scid = find_vf(fd, num(argv[3]));
		virt_mgmt(fd, ACT_SEC_ASSIGN, RT_VQ, scid, num(argv[4]), "assign VQ");
		virt_mgmt(fd, ACT_SEC_ASSIGN, RT_VI, scid, num(argv[5]), "assign VI");
		virt_mgmt(fd, ACT_SEC_ONLINE, 0, scid, 0, "online");
		return 0;
	}
	if (!strcmp(argv[2], "offline") && argc == 4) {
		scid = find_vf(fd, num(argv[3]));
		virt_mgmt(fd, ACT_SEC_OFFLINE, 0, scid, 0, "offline");
		return 0;
	}
	fprintf(stderr, "tb-nvmevirt: unknown command or wrong arguments: %s\n", argv[2]);
	return 2;
}
