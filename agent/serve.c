// SPDX-License-Identifier: MIT
/*
 * vfio-vmm-agent's work: one connection runs one command. The command gets
 * a session of its own, so that everything it starts is one process group
 * to kill when the peer goes away, sends garbage, or the timeout passes.
 * Output is forwarded as it comes (poll over the pipes, the socket and a
 * pidfd for the exit); the peer's stdin frames are written to the command
 * with no more than one frame buffered, so a command that does not read
 * its stdin slows the peer down instead of growing the agent.
 */
#include "agent/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/proto.h"

/* ---- logging, rate-limited across forked children ---- */

struct log_state {
	uint64_t window_start;	/* ms */
	unsigned int printed;
	unsigned long long suppressed;
};

static struct log_state log_local, *log_st = &log_local;
static FILE *log_out;

void agent_log_setup(FILE *out)
{
	void *p = mmap(NULL, sizeof(*log_st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);

	log_out = out;
	if (p != MAP_FAILED)
		log_st = p;
}

void agent_log(const char *fmt, ...)
{
	FILE *out = log_out ? log_out : stderr;
	uint64_t now = agent_now_ms(), start;
	unsigned long long sup;
	char line[512];
	va_list ap;

	start = __atomic_load_n(&log_st->window_start, __ATOMIC_RELAXED);
	if (now - start >= AGENT_LOG_INTERVAL_MS &&
	    __atomic_compare_exchange_n(&log_st->window_start, &start, now, false,
					__ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		__atomic_store_n(&log_st->printed, 0, __ATOMIC_RELAXED);
		sup = __atomic_exchange_n(&log_st->suppressed, 0, __ATOMIC_RELAXED);
		if (sup)
			fprintf(out, "vfio-vmm-agent: %llu more lines suppressed in the last %d s\n",
				sup, AGENT_LOG_INTERVAL_MS / 1000);
	}
	if (__atomic_fetch_add(&log_st->printed, 1, __ATOMIC_RELAXED) >= AGENT_LOG_BURST) {
		__atomic_fetch_add(&log_st->suppressed, 1, __ATOMIC_RELAXED);
		return;
	}
	/* One write per line: the children share the log. */
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(out, "vfio-vmm-agent: %s\n", line);
	fflush(out);
}

/* ---- one connection ---- */

struct conn {
	int sock;
	pid_t pid;
	int pidfd;		/* -1: poll with a short timeout and waitpid(WNOHANG) */
	int in_fd, out_fd, err_fd;	/* our ends of the command's pipes; -1 once closed */
	bool stdin_eof;		/* STDIN_EOF seen: close in_fd once pending is written */
	bool stdin_gone;	/* the command closed its stdin: discard the rest */
	size_t pend_off, pend_len;
	size_t rpos, rlen;	/* socket bytes read but not yet decoded */
	uint64_t deadline;	/* ms; 0: no timeout */
	const char *cmd;	/* argv[0], for the log */
	struct agent_decoder dec;
	uint8_t pending[AGENT_MAX_PAYLOAD];	/* stdin bytes the command has not taken */
	uint8_t rbuf[AGENT_MAX_PAYLOAD];
	uint8_t obuf[AGENT_MAX_PAYLOAD];
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Best effort, short: the peer may not be reading at all. */
static void send_error(struct conn *c, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	agent_send(c->sock, AGENT_ERROR, text, (uint32_t)n, agent_now_ms() + 1000);
}

/* Reads until a whole EXEC frame is in, at most AGENT_EXEC_WAIT_MS. */
static int read_exec(struct conn *c, struct agent_exec *e)
{
	uint64_t deadline = agent_now_ms() + AGENT_EXEC_WAIT_MS;
	struct agent_frame f;
	size_t used;
	int ret;

	for (;;) {
		while (c->rpos < c->rlen) {
			ret = agent_decode(&c->dec, c->rbuf + c->rpos, c->rlen - c->rpos, &used, &f);
			c->rpos += used;
			if (ret < 0) {
				agent_log("bad frame before EXEC: %s; connection dropped",
					  agent_strerror(ret));
				send_error(c, "bad frame: %s", agent_strerror(ret));
				return -1;
			}
			if (ret == 1 && f.type != AGENT_EXEC) {
				agent_log("%s frame before EXEC; connection dropped",
					  agent_type_name(f.type));
				send_error(c, "expected EXEC first, got %s", agent_type_name(f.type));
				return -1;
			}
			if (ret == 1)
				return agent_exec_parse(f.payload, f.len, e);	/* checked: 0 */
		}
		struct pollfd pfd = { .fd = c->sock, .events = POLLIN };
		uint64_t now = agent_now_ms();
		ssize_t n;

		if (now >= deadline) {
			agent_log("no EXEC within %d s; connection dropped", AGENT_EXEC_WAIT_MS / 1000);
			send_error(c, "no EXEC within %d s", AGENT_EXEC_WAIT_MS / 1000);
			return -1;
		}
		if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
			continue;
		n = read(c->sock, c->rbuf, sizeof(c->rbuf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			agent_log("connection closed before a whole EXEC (%s)",
				  n < 0 ? strerror(errno) : "end of stream");
			return -1;
		}
		c->rpos = 0;
		c->rlen = (size_t)n;
	}
}

static void child_exec(struct agent_exec *e, int in_r, int out_w, int err_w)
{
	sigset_t none;
	int err;

	setsid();
	if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		_exit(126);
	/* Nothing of the agent's (the socket, other pipes) leaks into the command. */
	syscall(SYS_close_range, 3, ~0u, 0);
	signal(SIGPIPE, SIG_DFL);	/* ignored signals would stay ignored across exec */
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(e->argv[0], e->argv);
	err = errno;
	/* As a shell says it, with a shell's statuses: 127 not found, 126 not runnable. */
	dprintf(2, "vfio-vmm-agent: %s: %s\n", e->argv[0],
		err == ENOENT ? "command not found" : strerror(err));
	_exit(err == ENOENT ? 127 : 126);
}

static int start_command(struct conn *c, struct agent_exec *e)
{
	int in[2], out[2], err[2];

	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return -errno;
	}
	if (pipe2(err, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return -errno;
	}
	c->pid = fork();
	if (c->pid == 0)
		child_exec(e, in[0], out[1], err[1]);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	c->in_fd = in[1];
	c->out_fd = out[0];
	c->err_fd = err[0];
	if (c->pid < 0) {
		int ret = -errno;

		close_fd(&c->in_fd);
		close_fd(&c->out_fd);
		close_fd(&c->err_fd);
		return ret;
	}
	fcntl(c->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(c->err_fd, F_SETFL, O_NONBLOCK);
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	return 0;
}

static void kill_command(struct conn *c)
{
	kill(-c->pid, SIGKILL);	/* its session's process group */
	kill(c->pid, SIGKILL);	/* in case it had not reached setsid() yet */
}

/* Forwards what one pipe has now. 0 ok (or pipe closed), -1 the peer is gone. */
static int forward(struct conn *c, int *fd, uint16_t type)
{
	ssize_t n = read(*fd, c->obuf, sizeof(c->obuf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		close_fd(fd);
		return 0;
	}
	return agent_send(c->sock, type, c->obuf, (uint32_t)n, c->deadline) ? -1 : 0;
}

/* Writes pending stdin bytes; closes the pipe after STDIN_EOF once all are out. */
static void flush_stdin(struct conn *c)
{
	while (c->in_fd >= 0 && c->pend_off < c->pend_len) {
		ssize_t n = write(c->in_fd, c->pending + c->pend_off, c->pend_len - c->pend_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {		/* EPIPE: the command closed its stdin */
			close_fd(&c->in_fd);
			c->stdin_gone = true;
			break;
		}
		c->pend_off += (size_t)n;
	}
	if (c->pend_off == c->pend_len)
		c->pend_off = c->pend_len = 0;
	if (c->stdin_eof && !c->pend_len)
		close_fd(&c->in_fd);
}

/*
 * Decodes what was read from the peer, as far as the command takes its
 * stdin. Returns 0, or -1 on garbage (logged, ERROR sent).
 */
static int take_input(struct conn *c)
{
	struct agent_frame f;
	size_t used;
	int ret;

	while (c->rpos < c->rlen && !c->pend_len) {
		ret = agent_decode(&c->dec, c->rbuf + c->rpos, c->rlen - c->rpos, &used, &f);
		c->rpos += used;
		if (ret < 0) {
			agent_log("bad frame while running %s: %s; killed it", c->cmd,
				  agent_strerror(ret));
			send_error(c, "bad frame: %s", agent_strerror(ret));
			return -1;
		}
		if (ret == 0)
			break;
		if (f.type == AGENT_STDIN && !c->stdin_eof) {
			if (c->stdin_gone)
				continue;
			memcpy(c->pending, f.payload, f.len);
			c->pend_len = f.len;
			flush_stdin(c);
		} else if (f.type == AGENT_STDIN_EOF && !c->stdin_eof) {
			c->stdin_eof = true;
			flush_stdin(c);
		} else {
			agent_log("unexpected %s frame while running %s; killed it",
				  agent_type_name(f.type), c->cmd);
			send_error(c, "unexpected %s frame", agent_type_name(f.type));
			return -1;
		}
	}
	return 0;
}

/* Reads from the peer. Returns 0, or -1 when it closed or sent garbage (logged). */
static int read_peer(struct conn *c)
{
	ssize_t n = read(c->sock, c->rbuf, sizeof(c->rbuf));
	int ret;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		ret = agent_decoder_finish(&c->dec);
		agent_log("connection closed while %s ran%s%s; killed its process group", c->cmd,
			  ret ? ": " : "", ret ? agent_strerror(ret) : "");
		return -1;
	}
	c->rpos = 0;
	c->rlen = (size_t)n;
	return take_input(c);
}

static bool reaped(struct conn *c, int *status)
{
	pid_t r;

	do
		r = waitpid(c->pid, status, WNOHANG);
	while (r < 0 && errno == EINTR);
	return r == c->pid;
}

/* After the exit: what the command wrote before it ended is still in the pipes. */
static int drain(struct conn *c)
{
	for (int i = 0; i < 64 && (c->out_fd >= 0 || c->err_fd >= 0); i++) {
		int out = c->out_fd, err = c->err_fd;

		if (c->out_fd >= 0 && forward(c, &c->out_fd, AGENT_STDOUT))
			return -1;
		if (c->err_fd >= 0 && forward(c, &c->err_fd, AGENT_STDERR))
			return -1;
		/* Both empty (EAGAIN): anything later is from what it left behind. */
		if (out == c->out_fd && err == c->err_fd) {
			struct pollfd p[2] = { { .fd = c->out_fd, .events = POLLIN },
					       { .fd = c->err_fd, .events = POLLIN } };

			if (poll(p, 2, 0) <= 0)
				break;
		}
	}
	return 0;
}

enum { PF_SOCK, PF_OUT, PF_ERR, PF_IN, PF_PID, PF_N };

/* Runs until the command ends (0, *status set) or the connection fails (-1). */
static int supervise(struct conn *c, int *status, bool *timed_out)
{
	for (;;) {
		struct pollfd p[PF_N];
		bool want_sock = c->rpos == c->rlen;
		int wait = c->pidfd >= 0 ? -1 : 50;
		uint64_t now = agent_now_ms();

		if (c->deadline) {
			if (now >= c->deadline) {
				kill_command(c);
				while (waitpid(c->pid, status, 0) < 0 && errno == EINTR)
					;
				*timed_out = true;
				return 0;
			}
			if (wait < 0 || c->deadline - now < (uint64_t)wait)
				wait = (int)(c->deadline - now);
		}
		/*
		 * The socket is read only once the last read is decoded, and that
		 * only as far as the command takes its stdin; meanwhile only a
		 * hang-up is watched for.
		 */
		p[PF_SOCK] = (struct pollfd){ .fd = c->sock,
					     .events = want_sock ? POLLIN : POLLRDHUP };
		p[PF_OUT] = (struct pollfd){ .fd = c->out_fd, .events = POLLIN };
		p[PF_ERR] = (struct pollfd){ .fd = c->err_fd, .events = POLLIN };
		p[PF_IN] = (struct pollfd){ .fd = c->pend_len ? c->in_fd : -1, .events = POLLOUT };
		p[PF_PID] = (struct pollfd){ .fd = c->pidfd, .events = POLLIN };
		if (poll(p, PF_N, wait) < 0 && errno != EINTR)
			return -1;
		if ((p[PF_OUT].revents && forward(c, &c->out_fd, AGENT_STDOUT)) ||
		    (p[PF_ERR].revents && forward(c, &c->err_fd, AGENT_STDERR))) {
			agent_log("cannot send %s's output: the peer is gone; killed it", c->cmd);
			return -1;
		}
		if (p[PF_IN].revents) {
			flush_stdin(c);
			if (!c->pend_len && take_input(c))
				return -1;
		}
		if (want_sock && (p[PF_SOCK].revents & (POLLIN | POLLHUP | POLLERR)) && read_peer(c))
			return -1;
		if (!want_sock && (p[PF_SOCK].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
			agent_log("connection closed while %s ran; killed its process group", c->cmd);
			return -1;
		}
		if ((c->pidfd < 0 || p[PF_PID].revents) && reaped(c, status))
			return 0;
	}
}

/*
 * Our side is done: say so, and wait (briefly) for the peer to close, so
 * no close of ours with its unread stdin frames can reset the connection
 * before the EXIT frame is read.
 */
static void linger_close(struct conn *c)
{
	uint64_t end = agent_now_ms() + 2000;

	shutdown(c->sock, SHUT_WR);
	for (uint64_t now = agent_now_ms(); now < end; now = agent_now_ms()) {
		struct pollfd pfd = { .fd = c->sock, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			return;
		n = read(c->sock, c->rbuf, sizeof(c->rbuf));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return;
	}
}

static int run_conn(struct conn *c)
{
	struct agent_exec e;
	uint8_t exit_frame[AGENT_HDR_SIZE + 8];
	bool timed_out = false;
	int status = 0, ret;

	if (read_exec(c, &e))
		return -1;
	c->cmd = e.argv[0];
	c->deadline = e.timeout_ms ? agent_now_ms() + e.timeout_ms : 0;
	ret = start_command(c, &e);
	if (ret) {
		agent_log("cannot start %s: %s", c->cmd, strerror(-ret));
		send_error(c, "cannot start %s: %s", c->cmd, strerror(-ret));
		return -1;
	}
	/* Frames that came with the EXEC (stdin) are in rbuf already. */
	if (take_input(c) || supervise(c, &status, &timed_out) || drain(c)) {
		kill_command(c);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -1;
	}
	if (timed_out)
		agent_put_exit(exit_frame, AGENT_TIMEDOUT, 0);
	else if (WIFSIGNALED(status))
		agent_put_exit(exit_frame, AGENT_SIGNALED, (uint32_t)WTERMSIG(status));
	else
		agent_put_exit(exit_frame, AGENT_EXITED, (uint32_t)WEXITSTATUS(status));
	/* What it left running keeps running unless it timed out (killed above). */
	if (agent_write_all(c->sock, exit_frame, sizeof(exit_frame), agent_now_ms() + 10000)) {
		agent_log("cannot send %s's exit status: the peer is gone", c->cmd);
		return -1;
	}
	linger_close(c);
	return 0;
}

int agent_serve_conn(int fd)
{
	struct conn *c = calloc(1, sizeof(*c));
	int ret;

	if (!c) {
		agent_log("out of memory for a connection");
		return -1;
	}
	c->sock = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	c->pid = -1;
	c->pidfd = c->in_fd = c->out_fd = c->err_fd = -1;
	agent_decoder_init(&c->dec);
	ret = run_conn(c);
	close_fd(&c->pidfd);
	close_fd(&c->in_fd);
	close_fd(&c->out_fd);
	close_fd(&c->err_fd);
	free(c);
	return ret;
}

/* ---- the accept loop ---- */

int agent_serve_loop(int listen_fd, volatile sig_atomic_t *stop, agent_peer_ok_fn peer_ok)
{
	unsigned int children = 0;

	signal(SIGPIPE, SIG_IGN);
	while (!*stop) {
		struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		char why[128];
		pid_t pid;
		int fd;

		while (children && waitpid(-1, NULL, WNOHANG) > 0)
			children--;
		if (children >= AGENT_MAX_CONNS) {
			usleep(100 * 1000);
			continue;
		}
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		fd = accept4(listen_fd, (struct sockaddr *)&sa, &salen, SOCK_CLOEXEC);
		if (fd < 0) {
			switch (errno) {
			case EINTR:
			case EAGAIN:
			case ECONNABORTED:
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				agent_log("accept: %s; retrying", strerror(errno));
				usleep(100 * 1000);
				continue;
			}
			return -errno;
		}
		if (peer_ok && !peer_ok((struct sockaddr *)&sa, salen, why, sizeof(why))) {
			agent_log("connection refused: %s", why);
			close(fd);
			continue;
		}
		pid = fork();
		if (pid == 0) {
			close(listen_fd);
			_exit(agent_serve_conn(fd) ? 1 : 0);
		}
		if (pid < 0)
			agent_log("cannot fork for a connection: %s", strerror(errno));
		else
			children++;
		close(fd);
	}
	return 0;
}
