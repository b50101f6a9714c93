// SPDX-License-Identifier: MIT
/*
 * vfio-vmm-agent: the guest side of `vfio-vmm exec`. Listens on AF_VSOCK
 * (port 1024 unless --port says otherwise) for connections from the host
 * (CID 2) only, and runs what each asks for, as the user the agent runs as
 * (root, in a guest's init). Built static, so it can be copied into any
 * guest's initramfs. See docs/virtio-net.md, "The guest agent and exec".
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "agent/proto.h"
#include "agent/serve.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * Only the host may connect: a guest's own processes reach its vsock
 * ports through loopback (CID 1, with vsock_loopback loaded), and must not
 * get root by asking the agent.
 */
static bool host_only(const struct sockaddr *sa, socklen_t len, char *why, size_t whylen)
{
	const struct sockaddr_vm *svm = (const struct sockaddr_vm *)sa;

	if (len < sizeof(*svm) || sa->sa_family != AF_VSOCK) {
		snprintf(why, whylen, "not a vsock peer");
		return false;
	}
	if (svm->svm_cid != VMADDR_CID_HOST) {
		snprintf(why, whylen, "peer CID %u is not the host (2)", svm->svm_cid);
		return false;
	}
	return true;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vfio-vmm-agent [--port P]\n"
		"\n"
		"Runs commands the host sends with `vfio-vmm exec --cid N -- CMD...`:\n"
		"listens on vsock port P (default %d) for the host (CID 2) only, one\n"
		"process per connection, and streams each command's stdout, stderr and\n"
		"exit status back. Every command runs as this agent's user: start it\n"
		"only in guests whose host may run anything in them.\n",
		AGENT_DEFAULT_PORT);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				    .svm_port = AGENT_DEFAULT_PORT };
	struct sigaction sa = { .sa_handler = on_term };
	unsigned long port;
	char *end;
	int c, fd, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			port = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || port == 0 || port >= VMADDR_PORT_ANY) {
				fprintf(stderr, "vfio-vmm-agent: --port %s: use a number from 1 "
					"to 4294967294\n", optarg);
				return 2;
			}
			addr.svm_port = (unsigned int)port;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "vfio-vmm-agent: %s: unknown option; see --help\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vfio-vmm-agent: unexpected argument '%s'; see --help\n",
			argv[optind]);
		return 2;
	}
	/* Commands find what a login shell would. */
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);
	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "vfio-vmm-agent: no vsock in this kernel (%s): load "
			"vmw_vsock_virtio_transport, and give the VM --vsock cid=N\n", strerror(errno));
		return 1;
	}
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 16)) {
		fprintf(stderr, "vfio-vmm-agent: cannot listen on vsock port %u: %s\n",
			addr.svm_port, strerror(errno));
		close(fd);
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	agent_log_setup(stderr);
	agent_log("listening on vsock port %u", addr.svm_port);
	ret = agent_serve_loop(fd, &stop, host_only);
	close(fd);
	if (ret) {
		agent_log("accept failed: %s; exiting", strerror(-ret));
		return 1;
	}
	return 0;
}
