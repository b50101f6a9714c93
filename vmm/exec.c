// SPDX-License-Identifier: MIT
/*
 * `vfio-vmm exec`: the host side of the guest agent (agent/proto.h). One
 * poll loop moves our stdin to STDIN frames and STDOUT/STDERR frames to our
 * stdout/stderr. Sends are non-blocking with one frame buffered, and the
 * socket is read whenever it has data, so neither side can block the
 * other: the agent always finds us reading its output.
 */
#include "vmm/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "agent/proto.h"
#include "util/errbuf.h"

void exec_usage(FILE *f)
{
	fprintf(f,
		"Usage: vfio-vmm exec --cid N [--port P] [--timeout S] -- CMD [ARGS...]\n"
		"\n"
		"Runs CMD in the guest with vsock context id N (vfio-vmm run --vsock cid=N)\n"
		"through vfio-vmm-agent listening there, with this command's stdin, stdout\n"
		"and stderr as its own.\n"
		"\n"
		"  --cid N        the guest's vsock context id (3-4294967294)\n"
		"  --port P       the agent's vsock port (default %d)\n"
		"  --timeout S    kill the command's process group after S seconds (exit 124)\n"
		"\n"
		"Exit status: the command's; 128+N if signal N ended it; 2 bad command line;\n"
		"124 the timeout passed; 255 no connection or the agent failed.\n",
		AGENT_DEFAULT_PORT);
}

static int parse_u32(const char *s, unsigned long min, unsigned long max, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int exec_parse(int argc, char **argv, struct exec_opts *o, char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "cid", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->port = AGENT_DEFAULT_PORT;
	o->grace_ms = EXEC_GRACE_MS;
	err[0] = '\0';
	optind = 0;
	opterr = 0;
	/* '+': the command's own options are not ours. */
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (parse_u32(optarg, 3, 0xfffffffeUL, &o->cid))
				return errf(err, errlen, "exec: --cid %s: use the guest's context id, "
					    "a number from 3 to 4294967294", optarg);
			break;
		case 'p':
			if (parse_u32(optarg, 1, 0xfffffffeUL, &o->port))
				return errf(err, errlen, "exec: --port %s: use a number from 1 to "
					    "4294967294", optarg);
			break;
		case 't':
			if (parse_u32(optarg, 1, EXEC_MAX_TIMEOUT_S, &o->timeout_s))
				return errf(err, errlen, "exec: --timeout %s: use whole seconds from 1 "
					    "to %u", optarg, EXEC_MAX_TIMEOUT_S);
			break;
		case 'h':
			o->help = true;
			return 0;
		case ':':
			return errf(err, errlen, "exec: %s needs a value; see vfio-vmm exec --help",
				    argv[optind - 1]);
		default:
			return errf(err, errlen, "exec: %s: unknown option; see vfio-vmm exec --help",
				    argv[optind - 1]);
		}
	}
	if (!o->cid)
		return errf(err, errlen, "exec: --cid N is required: the --vsock cid=N the VM "
			    "was started with");
	if (optind >= argc || !argv[optind][0])
		return errf(err, errlen, "exec: no command given; use vfio-vmm exec --cid %u -- "
			    "CMD [ARGS...]", o->cid);
	o->argc = (unsigned int)(argc - optind);
	o->argv = argv + optind;
	if (o->argc > AGENT_MAX_ARGS)
		return errf(err, errlen, "exec: %u arguments; the agent takes at most %u", o->argc,
			    AGENT_MAX_ARGS);
	return 0;
}

int exec_connect(uint32_t cid, uint32_t port, char *err, size_t errlen)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int e;

	if (fd < 0)
		return errf(err, errlen, "no vsock on this host (%s): load it with "
			    "'modprobe vhost_vsock'", strerror(errno));
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fd;
	e = errno;
	close(fd);
	/* A reset comes from the guest's kernel: the VM is there, nothing listens. */
	if (e == ECONNRESET || e == ECONNREFUSED)
		return errf(err, errlen, "cannot connect to CID %u port %u: %s; is vfio-vmm-agent "
			    "running in the guest?", cid, port, strerror(e));
	return errf(err, errlen, "cannot connect to CID %u port %u: %s; is a VM running with "
		    "--vsock cid=%u, and vfio-vmm-agent in it?", cid, port, strerror(e), cid);
}

struct session {
	int sock;
	const struct exec_io *io;
	uint8_t *obuf;		/* one frame to send (the first time: EXEC and STDIN_EOF) */
	size_t opos, olen;
	bool stdin_open;
	bool send_failed;	/* the agent stopped reading: what it says next explains */
	struct agent_decoder dec;
	uint8_t rbuf[AGENT_MAX_PAYLOAD];
};

/* Sends what is buffered, as far as the socket takes it now. */
static void send_some(struct session *s)
{
	while (s->opos < s->olen && !s->send_failed) {
		ssize_t n = send(s->sock, s->obuf + s->opos, s->olen - s->opos,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			s->send_failed = true;
			break;
		}
		s->opos += (size_t)n;
	}
	if (s->opos == s->olen || s->send_failed)
		s->opos = s->olen = 0;
}

/* Our stdin to one STDIN frame, or STDIN_EOF at its end. */
static void read_stdin(struct session *s)
{
	ssize_t n = read(s->io->in, s->obuf + AGENT_HDR_SIZE, AGENT_MAX_PAYLOAD);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		agent_put_header(s->obuf, AGENT_STDIN_EOF, 0);
		s->olen = AGENT_HDR_SIZE;
		s->stdin_open = false;
	} else {
		agent_put_header(s->obuf, AGENT_STDIN, (uint32_t)n);
		s->olen = AGENT_HDR_SIZE + (size_t)n;
	}
	s->opos = 0;
	send_some(s);
}

/*
 * Handles one frame from the agent. Returns -1 to go on, or the exit
 * status (err set for 124 and 255).
 */
static int take_frame(struct session *s, const struct exec_opts *o, struct agent_frame *f,
		      char *err, size_t errlen)
{
	uint32_t how, value;

	switch (f->type) {
	case AGENT_STDOUT:
	case AGENT_STDERR:
		/* Our own stdout closed (| head): the usual SIGPIPE ends us. */
		agent_write_all(f->type == AGENT_STDOUT ? s->io->out : s->io->err, f->payload,
				f->len, 0);
		return -1;
	case AGENT_EXIT:
		agent_exit_parse(f->payload, f->len, &how, &value);	/* checked by the decoder */
		if (how == AGENT_EXITED)
			return (int)value;
		if (how == AGENT_SIGNALED)
			return 128 + (int)value;
		errf(err, errlen, "%s: timed out after %u s; the agent killed it", o->argv[0],
		     o->timeout_s);
		return EXEC_EXIT_TIMEOUT;
	case AGENT_ERROR:
		errf(err, errlen, "the agent refused: %.*s", (int)(f->len > 400 ? 400 : f->len),
		     (const char *)f->payload);
		return EXEC_EXIT_FAILED;
	}
	errf(err, errlen, "protocol error: the agent sent a %s frame", agent_type_name(f->type));
	return EXEC_EXIT_FAILED;
}

/* Reads and handles what the agent sent. -1 to go on, or the exit status. */
static int read_agent(struct session *s, const struct exec_opts *o, char *err, size_t errlen)
{
	struct agent_frame f;
	size_t pos, used;
	ssize_t n = recv(s->sock, s->rbuf, sizeof(s->rbuf), MSG_DONTWAIT);
	int ret;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return -1;
	if (n <= 0) {
		errf(err, errlen, "the agent closed the connection before %s's exit status%s%s",
		     o->argv[0], n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		return EXEC_EXIT_FAILED;
	}
	for (pos = 0; pos < (size_t)n; pos += used) {
		ret = agent_decode(&s->dec, s->rbuf + pos, (size_t)n - pos, &used, &f);
		if (ret < 0) {
			errf(err, errlen, "protocol error from the agent: %s", agent_strerror(ret));
			return EXEC_EXIT_FAILED;
		}
		if (ret == 1 && (ret = take_frame(s, o, &f, err, errlen)) >= 0)
			return ret;
	}
	return -1;
}

int exec_session(int sock, const struct exec_opts *o, const struct exec_io *io, char *err,
		 size_t errlen)
{
	uint64_t deadline = 0;
	struct session *s;
	int ret = -1;

	err[0] = '\0';
	s = calloc(1, sizeof(*s));
	if (s)
		s->obuf = malloc(2 * AGENT_HDR_SIZE + AGENT_MAX_PAYLOAD);	/* EXEC + EOF */
	if (!s || !s->obuf) {
		if (s)
			free(s);
		errf(err, errlen, "out of memory");
		return EXEC_EXIT_FAILED;
	}
	s->sock = sock;
	s->io = io;
	s->stdin_open = io->in >= 0;
	agent_decoder_init(&s->dec);
	ret = agent_encode_exec(s->obuf, AGENT_HDR_SIZE + AGENT_MAX_PAYLOAD,
				o->timeout_s * 1000, o->argc, o->argv);
	if (ret < 0) {
		errf(err, errlen, "%s: the command line is longer than the agent takes (%u bytes)",
		     o->argv[0], AGENT_MAX_PAYLOAD);
		ret = EXEC_EXIT_USAGE;
		goto out;
	}
	s->olen = (size_t)ret;
	ret = -1;
	if (!s->stdin_open) {
		/* No stdin: EOF goes out with the EXEC. */
		agent_put_header(s->obuf + s->olen, AGENT_STDIN_EOF, 0);
		s->olen += AGENT_HDR_SIZE;
	}
	if (o->timeout_s)
		deadline = agent_now_ms() + (uint64_t)o->timeout_s * 1000 + o->grace_ms;
	send_some(s);
	while (ret < 0) {
		struct pollfd p[2] = {
			{ .fd = sock, .events = POLLIN | (s->olen ? POLLOUT : 0) },
			{ .fd = s->stdin_open && !s->olen ? io->in : -1, .events = POLLIN },
		};
		int wait = -1;

		if (deadline) {
			uint64_t now = agent_now_ms();

			if (now >= deadline) {
				errf(err, errlen, "%s: no exit status from the agent %u ms after the "
				     "%u s timeout; gave up", o->argv[0], o->grace_ms, o->timeout_s);
				ret = EXEC_EXIT_TIMEOUT;
				break;
			}
			wait = (int)(deadline - now);
		}
		if (poll(p, 2, wait) < 0 && errno != EINTR) {
			errf(err, errlen, "poll: %s", strerror(errno));
			ret = EXEC_EXIT_FAILED;
			break;
		}
		if (p[0].revents & POLLOUT)
			send_some(s);
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
			ret = read_agent(s, o, err, errlen);
		if (ret < 0 && p[1].revents)
			read_stdin(s);
	}
out:
	free(s->obuf);
	free(s);
	return ret;
}

int exec_main(int argc, char **argv)
{
	struct exec_opts o;
	struct exec_io io = { .in = STDIN_FILENO, .out = STDOUT_FILENO, .err = STDERR_FILENO };
	char err[512];
	int fd, ret;

	if (argc < 2 || strcmp(argv[1], "exec"))
		return -1;
	if (exec_parse(argc - 1, argv + 1, &o, err, sizeof(err))) {
		fprintf(stderr, "vfio-vmm %s\n", err);
		return EXEC_EXIT_USAGE;
	}
	if (o.help) {
		exec_usage(stdout);
		return 0;
	}
	fd = exec_connect(o.cid, o.port, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "vfio-vmm exec: %s\n", err);
		return EXEC_EXIT_FAILED;
	}
	/* A closed stdin (<&-) is an empty one. */
	if (fcntl(STDIN_FILENO, F_GETFL) < 0)
		io.in = -1;
	ret = exec_session(fd, &o, &io, err, sizeof(err));
	close(fd);
	if (err[0])
		fprintf(stderr, "vfio-vmm exec: %s\n", err);
	return ret;
}
