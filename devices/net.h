/* SPDX-License-Identifier: MIT */
#ifndef DEVICES_NET_H
#define DEVICES_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

/*
 * What the user asked for one network device (--net), as plain data: the
 * CLI fills it without touching the host, and the virtio-net device model
 * opens the tap and vhost-net at VM setup. Shared by vmm/ and devices/, so
 * it holds no device state. Also the MAC address rules both sides use.
 */
#define NET_MAX_QUEUE_PAIRS	16	/* 2 * 16 + 1 queues, within VIRTIO_MAX_QUEUES */
#define NET_IFNAME_MAX		(IFNAMSIZ - 1)	/* 15: the kernel's limit */

struct net_opts {
	const char *tap;	/* interface name; created when it does not exist */
	bool mac_set;
	uint8_t mac[6];		/* mac_set, else net_mac_default(tap) */
	unsigned int queues;	/* queue pairs, 1..NET_MAX_QUEUE_PAIRS; 0 means 1 */
};

/*
 * An interface name the kernel accepts (its dev_valid_name): 1 to 15
 * characters, not "." or "..", no '/', ':' or white space.
 */
bool net_ifname_ok(const char *name);

/*
 * "52:54:00:12:34:56" (or with '-'): six pairs of hex digits. -1 for
 * anything else, and for addresses a NIC cannot have: a group (multicast
 * or broadcast) address, or all zeros. *why says which, for the message.
 */
int net_mac_parse(const char *s, uint8_t mac[6], const char **why);

/* "02:xx:xx:xx:xx:xx" into buf (at least 18 bytes); returns buf. */
char *net_mac_str(const uint8_t mac[6], char *buf);

/*
 * The default MAC of a device on tap NAME: locally administered (02:...),
 * unicast, the other 40 bits a hash of the name. The same command line
 * gives the same address on every run (a DHCP lease or a neighbour entry
 * survives a restart), and two taps on one host (the only way two of our
 * devices can share a segment) get different ones unless the hash collides.
 */
void net_mac_default(const char *tap, uint8_t mac[6]);

#endif
