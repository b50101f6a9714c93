// SPDX-License-Identifier: MIT
/*
 * tb-xfer: the testbed's data mover for the net scenario, over TCP or
 * AF_VSOCK (busybox has no vsock, and its nc writes 1 KiB at a time).
 * Static, so it runs in L1 and in the L2 initramfs alike.
 *
 *   tb-xfer listen  tcp|vsock PORT       send|recv BYTES
 *   tb-xfer connect tcp|vsock ADDR PORT  send|recv BYTES
 *
 * ADDR is an IPv4 address, or a CID for vsock (listen takes any). The
 * sender writes BYTES of a fixed pseudo-random stream (xorshift64) and
 * half-closes; the receiver regenerates the same stream and compares every
 * byte as it arrives, then answers with one line, "ok N" or what went
 * wrong, which the sender prints too. Both print one line:
 *   sent|received N bytes in T s (R MB/s): ok | MISMATCH at byte K | ...
 * and exit 0 only when all BYTES arrived intact.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define BLOCK	65536

struct stream {
	uint64_t x;
	uint8_t buf[BLOCK];
	size_t len, off;	/* bytes in buf, next unused */
};

static void stream_init(struct stream *s)
{
	s->x = 0x9e3779b97f4a7c15ull;
	s->len = s->off = 0;
}

static void stream_fill(struct stream *s)
{
	for (size_t i = 0; i < BLOCK; i += 8) {
		s->x ^= s->x << 13;
		s->x ^= s->x >> 7;
		s->x ^= s->x << 17;
		memcpy(s->buf + i, &s->x, 8);
	}
	s->len = BLOCK;
	s->off = 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int die(const char *what)
{
	fprintf(stderr, "tb-xfer: %s: %s\n", what, strerror(errno));
	return 1;
}

static void report(const char *verb, uint64_t n, double t, const char *verdict)
{
	printf("%s %llu bytes in %.2f s (%.1f MB/s): %s\n", verb, (unsigned long long)n, t,
	       t > 0 ? (double)n / t / 1e6 : 0.0, verdict);
	fflush(stdout);
}

static int do_send(int fd, uint64_t size)
{
	static struct stream s;
	uint64_t sent = 0;
	char reply[128] = "";
	double t0 = now();
	ssize_t n;

	stream_init(&s);
	while (sent < size) {
		size_t chunk;

		if (s.off == s.len)
			stream_fill(&s);
		chunk = s.len - s.off;
		if (chunk > size - sent)
			chunk = (size_t)(size - sent);
		n = write(fd, s.buf + s.off, chunk);
		if (n <= 0)
			return die("write");
		s.off += (size_t)n;
		sent += (uint64_t)n;
	}
	shutdown(fd, SHUT_WR);
	n = read(fd, reply, sizeof(reply) - 1);
	reply[n > 0 ? n : 0] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	report("sent", sent, now() - t0, n > 0 ? reply : "no answer from the receiver");
	return strncmp(reply, "ok ", 3) ? 2 : 0;
}

static int do_recv(int fd, uint64_t size)
{
	static struct stream s;
	static uint8_t buf[BLOCK];
	uint64_t got = 0, bad = UINT64_MAX;
	char verdict[128];
	double t0 = now(), t;
	ssize_t n;
	int len;

	stream_init(&s);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (size_t i = 0; i < (size_t)n && bad == UINT64_MAX;) {
			size_t k;

			if (s.off == s.len)
				stream_fill(&s);
			k = s.len - s.off < (size_t)n - i ? s.len - s.off : (size_t)n - i;
			if (got + i >= size)
				break;		/* more than was to come: counted, not compared */
			if (k > size - (got + i))
				k = (size_t)(size - (got + i));
			if (memcmp(buf + i, s.buf + s.off, k)) {
				for (size_t j = 0; j < k; j++)
					if (buf[i + j] != s.buf[s.off + j]) {
						bad = got + i + j;
						break;
					}
			}
			s.off += k;
			i += k;
		}
		got += (uint64_t)n;
	}
	t = now() - t0;
	if (n < 0)
		len = snprintf(verdict, sizeof(verdict), "read failed after %llu bytes: %s",
			       (unsigned long long)got, strerror(errno));
	else if (bad != UINT64_MAX)
		len = snprintf(verdict, sizeof(verdict), "MISMATCH at byte %llu",
			       (unsigned long long)bad);
	else if (got != size)
		len = snprintf(verdict, sizeof(verdict), "%s: %llu of %llu bytes",
			       got < size ? "SHORT" : "LONG", (unsigned long long)got,
			       (unsigned long long)size);
	else
		len = snprintf(verdict, sizeof(verdict), "ok %llu", (unsigned long long)got);
	report("received", got, t, verdict);
	verdict[len++] = '\n';
	if (write(fd, verdict, (size_t)len) != len)
		return die("write");
	return strncmp(verdict, "ok ", 3) ? 2 : 0;
}

static int make_addr(bool vsock, const char *addr, unsigned int port,
		     struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (vsock) {
		struct sockaddr_vm *v = (struct sockaddr_vm *)ss;

		v->svm_family = AF_VSOCK;
		v->svm_cid = addr ? (unsigned int)strtoul(addr, NULL, 0) : VMADDR_CID_ANY;
		v->svm_port = port;
		*len = sizeof(*v);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		in->sin_addr.s_addr = htonl(INADDR_ANY);
		if (addr && inet_pton(AF_INET, addr, &in->sin_addr) != 1) {
			fprintf(stderr, "tb-xfer: %s: not an IPv4 address\n", addr);
			return -1;
		}
		*len = sizeof(*in);
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool listening, vsock, sending;
	struct sockaddr_storage ss;
	struct timeval tv = { .tv_sec = 120 };
	socklen_t len;
	uint64_t size;
	int s, fd, one = 1, a = 3;	/* argv[a]: the port */

	if (argc < 6)
		goto usage;
	listening = !strcmp(argv[1], "listen");
	if (!listening && strcmp(argv[1], "connect"))
		goto usage;
	vsock = !strcmp(argv[2], "vsock");
	if (!vsock && strcmp(argv[2], "tcp"))
		goto usage;
	if (argc != (listening ? 6 : 7))
		goto usage;
	if (!listening)
		a++;
	if (make_addr(vsock, listening ? NULL : argv[3], (unsigned int)strtoul(argv[a], NULL, 0),
		      &ss, &len))
		return 2;
	a++;
	sending = !strcmp(argv[a], "send");
	if (!sending && strcmp(argv[a], "recv"))
		goto usage;
	size = strtoull(argv[a + 1], NULL, 0);

	s = socket(vsock ? AF_VSOCK : AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return die("socket");
	if (listening) {
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&ss, len) || listen(s, 1))
			return die("bind/listen");
		fd = accept(s, NULL, NULL);
		if (fd < 0)
			return die("accept");
		close(s);
	} else {
		if (connect(s, (struct sockaddr *)&ss, len))
			return die("connect");
		fd = s;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return sending ? do_send(fd, size) : do_recv(fd, size);
usage:
	fprintf(stderr, "usage: tb-xfer listen tcp|vsock PORT send|recv BYTES\n"
			"       tb-xfer connect tcp|vsock ADDR PORT send|recv BYTES\n");
	return 2;
}
