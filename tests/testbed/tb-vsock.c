// SPDX-License-Identifier: MIT
/*
 * tb-vsock: the testbed's AF_VSOCK ends (busybox has none). Static, so it
 * runs in L1 and in the L2 initramfs alike.
 *
 *   tb-vsock listen PORT        accept one connection on any CID, read to
 *                               EOF, print and send back "bytes N sum S"
 *   tb-vsock connect CID PORT N send N pseudo-random bytes, half-close, read
 *                               the peer's line; exit 0 when it matches
 *                               what was sent
 *
 * S is FNV-1a (64 bits) over the bytes, enough to catch a lost, repeated
 * or damaged buffer in the data path.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int die(const char *what)
{
	fprintf(stderr, "tb-vsock: %s: %s\n", what, strerror(errno));
	return 1;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int do_listen(unsigned int port)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				 .svm_port = port };
	struct sockaddr_vm peer;
	socklen_t plen = sizeof(peer);
	uint64_t h = 0xcbf29ce484222325ull, total = 0;
	static uint8_t buf[65536];
	char line[96];
	int s, c, n;

	s = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (s < 0)
		return die("socket");
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1))
		return die("bind/listen");
	printf("listening on port %u\n", port);
	fflush(stdout);
	c = accept(s, (struct sockaddr *)&peer, &plen);
	if (c < 0)
		return die("accept");
	while ((n = (int)read(c, buf, sizeof(buf))) > 0) {
		h = fnv(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	if (n < 0)
		return die("read");
	n = snprintf(line, sizeof(line), "bytes %llu sum %016llx\n", (unsigned long long)total,
		     (unsigned long long)h);
	if (write(c, line, (size_t)n) != n)
		return die("write");
	printf("from cid %u port %u: %s", peer.svm_cid, peer.svm_port, line);
	close(c);
	close(s);
	return 0;
}

static int do_connect(unsigned int cid, unsigned int port, uint64_t size)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	struct timeval tv = { .tv_sec = 60 };
	uint64_t h = 0xcbf29ce484222325ull, x = 0x9e3779b97f4a7c15ull, sent = 0;
	static uint8_t buf[65536];
	char want[96], got[96] = "";
	double t0;
	int s, n;

	s = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (s < 0)
		return die("socket");
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&a, sizeof(a)))
		return die("connect");
	t0 = now();
	while (sent < size) {
		size_t chunk = size - sent < sizeof(buf) ? (size_t)(size - sent) : sizeof(buf);

		for (size_t i = 0; i < chunk; i += 8) {
			/* xorshift64: cheap, and no two buffers alike */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(buf + i, &x, chunk - i < 8 ? chunk - i : 8);
		}
		for (size_t off = 0; off < chunk;) {
			n = (int)write(s, buf + off, chunk - off);
			if (n <= 0)
				return die("write");
			off += (size_t)n;
		}
		h = fnv(h, buf, chunk);
		sent += chunk;
	}
	shutdown(s, SHUT_WR);
	n = (int)read(s, got, sizeof(got) - 1);
	if (n < 0)
		return die("read");
	got[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want), "bytes %llu sum %016llx\n", (unsigned long long)sent,
		 (unsigned long long)h);
	printf("sent %llu bytes in %.2fs; peer: %s", (unsigned long long)sent, now() - t0,
	       n > 0 ? got : "(nothing)\n");
	close(s);
	return strcmp(got, want) ? 2 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "listen"))
		return do_listen((unsigned int)strtoul(argv[2], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "connect"))
		return do_connect((unsigned int)strtoul(argv[2], NULL, 0),
				  (unsigned int)strtoul(argv[3], NULL, 0),
				  strtoull(argv[4], NULL, 0));
	fprintf(stderr, "usage: tb-vsock listen PORT | tb-vsock connect CID PORT BYTES\n");
	return 2;
}
