// SPDX-License-Identifier: MIT
/* Interface names and MAC addresses for --net (see net.h). */
#include "devices/net.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool net_ifname_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NET_IFNAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (; *name; name++)
		if (*name == '/' || *name == ':' || isspace((unsigned char)*name))
			return false;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int net_mac_parse(const char *s, uint8_t mac[6], const char **why)
{
	uint8_t m[6];
	char sep = 0;

	*why = "not six hex pairs like 02:12:34:56:78:9a";
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = hexval(p[0]), lo = hexval(p[1]);

		if (hi < 0 || lo < 0)
			return -1;
		if (i < 5) {
			if (p[2] != ':' && p[2] != '-')
				return -1;
			if (sep && p[2] != sep)
				return -1;
			sep = p[2];
		}
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	if (m[0] & 1) {
		*why = "a multicast or broadcast address (the first byte is odd); a NIC needs a unicast one";
		return -1;
	}
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5])) {
		*why = "all zeros is no address";
		return -1;
	}
	memcpy(mac, m, 6);
	*why = NULL;
	return 0;
}

char *net_mac_str(const uint8_t mac[6], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

void net_mac_default(const char *tap, uint8_t mac[6])
{
	/* FNV-1a over the name, 64 bits. */
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)tap; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	/* A final mix (MurmurHash3's), so names differing in the last letter differ everywhere. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	mac[0] = 0x02;	/* locally administered, unicast */
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * (i - 1)));
}
