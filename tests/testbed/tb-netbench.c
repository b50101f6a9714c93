// SPDX-License-Identifier: MIT
/*
 * tb-netbench: the network and vsock rows of the bench scenario
 * (docs/benchmarks.md, bench.net). Static: the server runs in L1, the client
 * in the L2 Linux (l2/init, tb.checks=net-bench), whichever VMM runs it.
 *
 *   tb-netbench serve TCP_PORT VSOCK_PORT
 *   tb-netbench client ADDR TCP_PORT VSOCK_PORT SECONDS [TEST,...]
 *
 * The server listens on both ports (TCP on every address, vsock on any CID)
 * and serves each connection in a child process until it is killed. The
 * client connects to ADDR (IPv4) or to CID 2 (the host) for vsock, and runs
 * each TEST for SECONDS: tcp-tx (stream to the server), tcp-rx (stream from
 * it), tcp-rr (1-byte request, 1-byte answer, one at a time, TCP_NODELAY),
 * vsock-rr (the same over AF_VSOCK), or none; the default is all four, in
 * that order. A stream is timed by its receiver, from the first byte to the
 * sender's end of stream (for tcp-tx the server sends back what it counted),
 * so bytes still in flight when the sender stops are in the figure. One line
 * per test:
 *
 *   NETBENCH test=tcp-tx secs=S bytes=N mib_s=M gbit_s=G
 *   NETBENCH test=tcp-rr secs=S trans=N tps=T lat_us_p50=A lat_us_p99=B
 *            lat_us_min=C lat_us_max=D
 *
 * then "NETBENCH done tests=N rr_trans=R" (R: the request/response
 * transactions of all RR tests, for the exits per packet). Exit status 1 on
 * any error (no connection, a short answer, a timeout of SECONDS + 30 s).
 *
 * The wire: the client's first 8 bytes are "NB1", the test letter (T: the
 * client sends, R: the server sends, P: ping-pong) and SECONDS as a
 * little-endian uint32.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define BUF		(128 * 1024)
#define MAX_LAT		(1u << 20)	/* round trips kept for the percentiles */
#define MIB		(1024.0 * 1024.0)

static unsigned char buf[BUF];

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	fprintf(stderr, "tb-netbench: %s: %s\n", what, errno ? strerror(errno) : "short transfer");
	return 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Exactly n bytes, or -1 (errno 0 at an early end of stream). */
static int read_full(int fd, void *p, size_t n)
{
	ssize_t r;

	while (n) {
		r = read(fd, p, n);
		if (r <= 0) {
			if (r == 0)
				errno = 0;
			return -1;
		}
		p = (char *)p + r;
		n -= (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const void *p, size_t n)
{
	ssize_t r;

	while (n) {
		r = write(fd, p, n);
		if (r <= 0)
			return -1;
		p = (const char *)p + r;
		n -= (size_t)r;
	}
	return 0;
}

static void set_timeout(int fd, unsigned secs)
{
	struct timeval tv = { .tv_sec = secs };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Writes for secs seconds; returns the bytes written, or -1. */
static int64_t stream_send(int fd, unsigned secs)
{
	double end = now() + secs;
	int64_t sent = 0;
	ssize_t n;

	do {
		n = write(fd, buf, sizeof(buf));
		if (n <= 0)
			return -1;
		sent += n;
	} while (now() < end);
	return sent;
}

/* Reads to the end of stream; the bytes and seconds from the first byte. */
static int stream_recv(int fd, uint64_t *bytes, double *secs)
{
	double t0 = 0;
	ssize_t n;

	*bytes = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (!*bytes)
			t0 = now();
		*bytes += (uint64_t)n;
	}
	*secs = *bytes ? now() - t0 : 0;
	return n < 0 ? -1 : 0;
}

/* ---- server ---- */

static void serve_one(int fd, int tcp)
{
	unsigned char req[8];
	uint64_t bytes;
	unsigned secs;
	double t;
	char reply[64];
	int len;

	if (tcp)
		nodelay(fd);
	set_timeout(fd, 120);
	if (read_full(fd, req, sizeof(req)) || memcmp(req, "NB1", 3)) {
		fprintf(stderr, "tb-netbench: a connection without a request\n");
		return;
	}
	secs = req[4] | req[5] << 8 | (unsigned)req[6] << 16 | (unsigned)req[7] << 24;
	if (secs > 3600)
		return;
	set_timeout(fd, secs + 30);
	switch (req[3]) {
	case 'T':
		if (stream_recv(fd, &bytes, &t))
			break;
		len = snprintf(reply, sizeof(reply), "%" PRIu64 " %.0f\n", bytes, t * 1e9);
		write_full(fd, reply, (size_t)len);
		printf("served %s-tx: received %" PRIu64 " bytes in %.3f s\n",
		       tcp ? "tcp" : "vsock", bytes, t);
		break;
	case 'R':
		if (stream_send(fd, secs) < 0)
			break;
		shutdown(fd, SHUT_WR);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		printf("served %s-rx\n", tcp ? "tcp" : "vsock");
		break;
	case 'P': {
		uint64_t n = 0;

		while (read_full(fd, buf, 1) == 0 && write_full(fd, buf, 1) == 0)
			n++;
		printf("served %s-rr: %" PRIu64 " transactions\n", tcp ? "tcp" : "vsock", n);
		break;
	}
	default:
		fprintf(stderr, "tb-netbench: unknown test '%c'\n", req[3]);
	}
	fflush(stdout);
}

static int listener(int family, unsigned port)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_vm vm = { .svm_family = AF_VSOCK, .svm_port = port, .svm_cid = VMADDR_CID_ANY };
	int fd = socket(family, SOCK_STREAM, 0), one = 1, ret;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET)
		ret = bind(fd, (struct sockaddr *)&in, sizeof(in));
	else
		ret = bind(fd, (struct sockaddr *)&vm, sizeof(vm));
	if (ret || listen(fd, 8)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int serve(unsigned tcp_port, unsigned vsock_port)
{
	struct pollfd p[2];

	p[0].fd = listener(AF_INET, tcp_port);
	if (p[0].fd < 0)
		return fail("TCP listen");
	/* Without vsock (no vhost_vsock loaded) the TCP tests still run. */
	p[1].fd = listener(AF_VSOCK, vsock_port);
	if (p[1].fd < 0)
		fprintf(stderr, "tb-netbench: no vsock listener (modprobe vhost_vsock?): %s\n",
			strerror(errno));
	p[0].events = p[1].events = POLLIN;
	signal(SIGCHLD, SIG_IGN);	/* children reaped by the kernel */
	printf("tb-netbench: serving TCP port %u, vsock port %u\n", tcp_port, vsock_port);
	fflush(stdout);
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return fail("poll");
		}
		for (int i = 0; i < 2; i++) {
			int fd;

			if (!(p[i].revents & POLLIN))
				continue;
			fd = accept(p[i].fd, NULL, NULL);
			if (fd < 0)
				continue;
			if (fork() == 0) {
				close(p[0].fd);
				if (p[1].fd >= 0)
					close(p[1].fd);
				serve_one(fd, i == 0);
				_exit(0);
			}
			close(fd);
		}
	}
}

/* ---- client ---- */

struct target {
	const char *addr;
	unsigned tcp_port, vsock_port, secs;
};

static int connect_to(const struct target *t, int tcp, char test)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((uint16_t)t->tcp_port) };
	struct sockaddr_vm vm = { .svm_family = AF_VSOCK, .svm_port = t->vsock_port,
				  .svm_cid = VMADDR_CID_HOST };
	unsigned char req[8] = { 'N', 'B', '1', (unsigned char)test, (unsigned char)t->secs,
				 (unsigned char)(t->secs >> 8), 0, 0 };
	int fd = socket(tcp ? AF_INET : AF_VSOCK, SOCK_STREAM, 0), ret;

	if (fd < 0)
		return -1;
	set_timeout(fd, t->secs + 30);
	if (tcp) {
		if (inet_pton(AF_INET, t->addr, &in.sin_addr) != 1) {
			errno = EINVAL;
			close(fd);
			return -1;
		}
		nodelay(fd);
		ret = connect(fd, (struct sockaddr *)&in, sizeof(in));
	} else {
		ret = connect(fd, (struct sockaddr *)&vm, sizeof(vm));
	}
	if (ret || write_full(fd, req, sizeof(req))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void report_stream(const char *name, uint64_t bytes, double secs)
{
	double bps = secs > 0 ? (double)bytes / secs : 0;

	printf("NETBENCH test=%s secs=%.3f bytes=%" PRIu64 " mib_s=%.2f gbit_s=%.4f\n",
	       name, secs, bytes, bps / MIB, bps * 8 / 1e9);
	fflush(stdout);
}

static int run_tx(const struct target *t, const char *name)
{
	char reply[64] = "";
	unsigned long long bytes = 0;
	double ns = 0;
	ssize_t n;
	int fd = connect_to(t, 1, 'T');

	if (fd < 0)
		return fail(name);
	if (stream_send(fd, t->secs) < 0)
		return fail(name);
	shutdown(fd, SHUT_WR);
	n = read(fd, reply, sizeof(reply) - 1);
	close(fd);
	reply[n > 0 ? n : 0] = '\0';
	if (sscanf(reply, "%llu %lf", &bytes, &ns) != 2 || !bytes || ns <= 0) {
		fprintf(stderr, "tb-netbench: %s: the server answered '%s'\n", name, reply);
		return 1;
	}
	report_stream(name, bytes, ns / 1e9);
	return 0;
}

static int run_rx(const struct target *t, const char *name)
{
	uint64_t bytes;
	double secs;
	int fd = connect_to(t, 1, 'R');

	if (fd < 0 || stream_recv(fd, &bytes, &secs))
		return fail(name);
	close(fd);
	if (!bytes) {
		fprintf(stderr, "tb-netbench: %s: nothing arrived\n", name);
		return 1;
	}
	report_stream(name, bytes, secs);
	return 0;
}

static int run_rr(const struct target *t, const char *name, int tcp, double *lat,
		  uint64_t *total)
{
	uint64_t n = 0;
	size_t nlat = 0;
	double t0, end, a, b;
	int fd = connect_to(t, tcp, 'P');

	if (fd < 0)
		return fail(name);
	buf[0] = 'x';
	t0 = a = now();
	end = t0 + t->secs;
	do {
		if (write_full(fd, buf, 1) || read_full(fd, buf, 1))
			return fail(name);
		b = now();
		if (nlat < MAX_LAT)
			lat[nlat++] = b - a;
		a = b;
		n++;
	} while (b < end);
	close(fd);
	qsort(lat, nlat, sizeof(*lat), cmp_double);
	printf("NETBENCH test=%s secs=%.3f trans=%" PRIu64 " tps=%.1f lat_us_p50=%.1f "
	       "lat_us_p99=%.1f lat_us_min=%.1f lat_us_max=%.1f\n", name, b - t0, n,
	       (double)n / (b - t0), lat[nlat / 2] * 1e6, lat[nlat * 99 / 100] * 1e6,
	       lat[0] * 1e6, lat[nlat - 1] * 1e6);
	fflush(stdout);
	*total += n;
	return 0;
}

static const char *const tests[] = { "tcp-tx", "tcp-rx", "tcp-rr", "vsock-rr" };
#define NTESTS	(sizeof(tests) / sizeof(tests[0]))

static int find_test(const char *name)
{
	for (size_t i = 0; i < NTESTS; i++)
		if (!strcmp(name, tests[i]))
			return (int)i;
	return -1;
}

/* 0 when every name in the comma-separated list is a test or "none". */
static int check_list(const char *list)
{
	char *names = strdup(list), *name, *save;
	int bad = !names;

	for (name = names ? strtok_r(names, ",", &save) : NULL; name && !bad;
	     name = strtok_r(NULL, ",", &save))
		bad = find_test(name) < 0 && strcmp(name, "none");
	free(names);
	return bad;
}

static int client(const struct target *t, const char *list)
{
	char *names = strdup(list), *name, *save;
	uint64_t rr = 0;
	double *lat = malloc(MAX_LAT * sizeof(*lat));
	int rc = 0, ran = 0;

	if (!names || !lat)
		return fail("allocating buffers");
	for (name = strtok_r(names, ",", &save); name && !rc; name = strtok_r(NULL, ",", &save)) {
		switch (find_test(name)) {
		case 0: rc = run_tx(t, name); break;
		case 1: rc = run_rx(t, name); break;
		case 2: rc = run_rr(t, name, 1, lat, &rr); break;
		case 3: rc = run_rr(t, name, 0, lat, &rr); break;
		default: continue;	/* none */
		}
		ran++;
	}
	if (!rc)
		printf("NETBENCH done tests=%d rr_trans=%" PRIu64 "\n", ran, rr);
	free(names);
	free(lat);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: tb-netbench serve TCP_PORT VSOCK_PORT\n"
		"       tb-netbench client ADDR TCP_PORT VSOCK_PORT SECONDS "
		"[tcp-tx,tcp-rx,tcp-rr,vsock-rr|none]\n");
	return 2;
}

static int port(const char *s, unsigned *v)
{
	char *end;
	unsigned long x = strtoul(s, &end, 10);

	*v = (unsigned)x;
	return *end || !*s || x == 0 || x > 65535;
}

int main(int argc, char **argv)
{
	struct target t = { 0 };
	const char *list = "tcp-tx,tcp-rx,tcp-rr,vsock-rr";
	char *end;
	unsigned long secs;

	memset(buf, 0x5a, sizeof(buf));
	if (argc == 4 && !strcmp(argv[1], "serve")) {
		if (port(argv[2], &t.tcp_port) || port(argv[3], &t.vsock_port))
			return usage();
		return serve(t.tcp_port, t.vsock_port);
	}
	if ((argc != 6 && argc != 7) || strcmp(argv[1], "client"))
		return usage();
	t.addr = argv[2];
	if (port(argv[3], &t.tcp_port) || port(argv[4], &t.vsock_port))
		return usage();
	secs = strtoul(argv[5], &end, 10);
	if (*end || !*argv[5] || secs == 0 || secs > 3600)
		return usage();
	t.secs = (unsigned)secs;
	if (argc == 7)
		list = argv[6];
	if (check_list(list))
		return usage();
	return client(&t, list);
}
