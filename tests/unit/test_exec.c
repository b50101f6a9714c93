// SPDX-License-Identifier: MIT
/*
 * `vfio-vmm exec`'s client (vmm/exec.c) against a scripted fake agent on a
 * socketpair: what it sends, how output lands on our stdout and stderr,
 * and every exit status (the command's, 128+N, 124, 255); plus the
 * command line.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/proto.h"
#include "vmm/exec.h"

enum script {
	S_STATUS,	/* output on both streams, then EXIT exited 3 */
	S_SIGNAL,	/* EXIT signaled 9 */
	S_TIMEOUT,	/* EXIT timed out */
	S_SILENT,	/* never answers */
	S_ERROR,	/* ERROR "cannot start x" */
	S_CLOSE,	/* closes without EXIT */
	S_GARBAGE,	/* an unknown frame type */
	S_ECHO,		/* stdin back as stdout until STDIN_EOF, then EXIT 0 */
};

struct fake {
	pthread_t thread;
	int fd;
	enum script script;
	struct agent_exec exec;
	uint8_t exec_payload[AGENT_MAX_PAYLOAD];
	size_t stdin_bytes;
	bool saw_eof;
};

static struct agent_decoder dec;

/* Next frame from the client; false at end of stream. */
static bool next_frame(int fd, struct agent_frame *f)
{
	static uint8_t buf[65536];
	static size_t pos, len;
	size_t used;
	int ret;

	for (;;) {
		if (pos == len) {
			ssize_t n = read(fd, buf, sizeof(buf));

			if (n <= 0)
				return false;
			pos = 0;
			len = (size_t)n;
		}
		ret = agent_decode(&dec, buf + pos, len - pos, &used, f);
		pos += used;
		cr_assert_geq(ret, 0, "client sent garbage: %s", agent_strerror(ret));
		if (ret == 1)
			return true;
	}
}

static void send_exit(int fd, uint32_t how, uint32_t value)
{
	uint8_t b[AGENT_HDR_SIZE + 8];

	agent_put_exit(b, how, value);
	cr_assert_eq(agent_write_all(fd, b, sizeof(b), 0), 0);
}

static void *fake_agent(void *arg)
{
	struct fake *a = arg;
	struct agent_frame f;

	agent_decoder_init(&dec);
	cr_assert(next_frame(a->fd, &f));
	cr_assert_eq(f.type, AGENT_EXEC);
	memcpy(a->exec_payload, f.payload, f.len);
	cr_assert_eq(agent_exec_parse(a->exec_payload, f.len, &a->exec), 0);
	switch (a->script) {
	case S_STATUS:
		agent_send(a->fd, AGENT_STDOUT, "out\n", 4, 0);
		agent_send(a->fd, AGENT_STDERR, "err\n", 4, 0);
		agent_send(a->fd, AGENT_STDOUT, "more\n", 5, 0);
		send_exit(a->fd, AGENT_EXITED, 3);
		break;
	case S_SIGNAL:
		send_exit(a->fd, AGENT_SIGNALED, 9);
		break;
	case S_TIMEOUT:
		send_exit(a->fd, AGENT_TIMEDOUT, 0);
		break;
	case S_SILENT:
		while (next_frame(a->fd, &f))
			;
		break;
	case S_ERROR:
		agent_send(a->fd, AGENT_ERROR, "cannot start x", 14, 0);
		break;
	case S_CLOSE:
		agent_send(a->fd, AGENT_STDOUT, "partial", 7, 0);
		break;
	case S_GARBAGE:
		agent_send(a->fd, 77, NULL, 0, 0);
		break;
	case S_ECHO:
		while (next_frame(a->fd, &f)) {
			if (f.type == AGENT_STDIN_EOF) {
				a->saw_eof = true;
				break;
			}
			cr_assert_eq(f.type, AGENT_STDIN);
			a->stdin_bytes += f.len;
			agent_send(a->fd, AGENT_STDOUT, f.payload, f.len, 0);
		}
		send_exit(a->fd, AGENT_EXITED, 0);
		break;
	}
	shutdown(a->fd, SHUT_RDWR);
	return NULL;
}

static char out_buf[1 << 20], err_buf[4096], msg[512];

/* Reads a whole temporary file back. */
static size_t slurp(FILE *f, char *buf, size_t size)
{
	size_t n;

	fflush(f);
	rewind(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	return n;
}

static size_t out_len;

/* Runs argv against a fake with script; stdin from in_fd (-1: none). */
static int run(struct fake *a, enum script script, uint32_t timeout_s, int in_fd, char **argv)
{
	struct exec_opts o = { .cid = 3, .port = AGENT_DEFAULT_PORT, .timeout_s = timeout_s,
			       .grace_ms = 300, .argv = argv };
	FILE *out = tmpfile(), *err = tmpfile();
	struct exec_io io = { .in = in_fd, .out = fileno(out), .err = fileno(err) };
	int sv[2], ret;

	while (argv[o.argc])
		o.argc++;
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	a->fd = sv[1];
	a->script = script;
	pthread_create(&a->thread, NULL, fake_agent, a);
	ret = exec_session(sv[0], &o, &io, msg, sizeof(msg));
	close(sv[0]);
	pthread_join(a->thread, NULL);
	close(sv[1]);
	out_len = slurp(out, out_buf, sizeof(out_buf));
	slurp(err, err_buf, sizeof(err_buf));
	fclose(out);
	fclose(err);
	return ret;
}

static void init(void)
{
	signal(SIGPIPE, SIG_IGN);
}

TestSuite(exec, .init = init, .timeout = 30);

Test(exec, status_and_streams)
{
	static struct fake a;
	char *argv[] = { "/bin/sh", "-c", "exit 3", NULL };

	cr_assert_eq(run(&a, S_STATUS, 0, -1, argv), 3);
	cr_assert_str_eq(out_buf, "out\nmore\n");
	cr_assert_str_eq(err_buf, "err\n");
	cr_assert_str_eq(msg, "");
	cr_assert_eq(a.exec.argc, 3);
	cr_assert_str_eq(a.exec.argv[2], "exit 3");
	cr_assert_eq(a.exec.timeout_ms, 0);
}

Test(exec, signal_is_128_plus)
{
	static struct fake a;
	char *argv[] = { "sleep", "9", NULL };

	cr_assert_eq(run(&a, S_SIGNAL, 0, -1, argv), 137);
}

Test(exec, timeout_124_and_sent)
{
	static struct fake a;
	char *argv[] = { "sleep", "30", NULL };

	cr_assert_eq(run(&a, S_TIMEOUT, 2, -1, argv), EXEC_EXIT_TIMEOUT);
	cr_assert_eq(a.exec.timeout_ms, 2000);
	cr_assert(strstr(msg, "timed out after 2 s"), "%s", msg);
}

Test(exec, silent_agent_gives_up_after_grace)
{
	static struct fake a;
	char *argv[] = { "sleep", "30", NULL };
	uint64_t t0 = agent_now_ms(), took;

	cr_assert_eq(run(&a, S_SILENT, 1, -1, argv), EXEC_EXIT_TIMEOUT);
	took = agent_now_ms() - t0;
	cr_assert(took >= 1300 && took < 5000, "gave up after %llu ms", (unsigned long long)took);
	cr_assert(strstr(msg, "no exit status from the agent"), "%s", msg);
}

Test(exec, agent_error_255)
{
	static struct fake a;
	char *argv[] = { "x", NULL };

	cr_assert_eq(run(&a, S_ERROR, 0, -1, argv), EXEC_EXIT_FAILED);
	cr_assert_str_eq(msg, "the agent refused: cannot start x");
}

Test(exec, closed_without_exit_255)
{
	static struct fake a;
	char *argv[] = { "x", NULL };

	cr_assert_eq(run(&a, S_CLOSE, 0, -1, argv), EXEC_EXIT_FAILED);
	cr_assert_str_eq(out_buf, "partial");
	cr_assert(strstr(msg, "closed the connection before x's exit status"), "%s", msg);
}

Test(exec, garbage_255)
{
	static struct fake a;
	char *argv[] = { "x", NULL };

	cr_assert_eq(run(&a, S_GARBAGE, 0, -1, argv), EXEC_EXIT_FAILED);
	cr_assert_str_eq(msg, "protocol error from the agent: unknown frame type");
}

struct pipe_feed {
	int fd;
	size_t len;
};

static void *write_pipe(void *arg)
{
	struct pipe_feed *p = arg;
	char chunk[4096];

	for (size_t off = 0; off < p->len; off += sizeof(chunk)) {
		for (size_t i = 0; i < sizeof(chunk); i++)
			chunk[i] = (char)('a' + (off / sizeof(chunk) + i) % 26);
		cr_assert_eq(write(p->fd, chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
	}
	close(p->fd);
	return NULL;
}

Test(exec, stdin_forwarded_then_eof)
{
	static struct fake a;
	char *argv[] = { "cat", NULL };
	struct pipe_feed p;
	pthread_t t;
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	p = (struct pipe_feed){ fds[1], 512 * 1024 };
	pthread_create(&t, NULL, write_pipe, &p);
	cr_assert_eq(run(&a, S_ECHO, 0, fds[0], argv), 0);
	pthread_join(t, NULL);
	close(fds[0]);
	cr_assert(a.saw_eof);
	cr_assert_eq(a.stdin_bytes, p.len);
	cr_assert_eq(out_len, p.len);
	cr_assert_eq(out_buf[4096], 'b');
}

Test(exec, no_stdin_sends_eof_at_once)
{
	static struct fake a;
	char *argv[] = { "cat", NULL };

	cr_assert_eq(run(&a, S_ECHO, 0, -1, argv), 0);
	cr_assert(a.saw_eof);
	cr_assert_eq(a.stdin_bytes, 0);
}

/* ---- the command line ---- */

static int parse(const char *line, struct exec_opts *o, char *err)
{
	static char copy[512];
	static char *argv[32];
	int argc = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	for (char *t = strtok(copy, " "); t; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	return exec_parse(argc, argv, o, err, 512);
}

Test(exec, parse_good)
{
	struct exec_opts o;
	char err[512];

	cr_assert_eq(parse("exec --cid 3 -- ls -l /", &o, err), 0, "%s", err);
	cr_assert_eq(o.cid, 3);
	cr_assert_eq(o.port, AGENT_DEFAULT_PORT);
	cr_assert_eq(o.timeout_s, 0);
	cr_assert_eq(o.argc, 3);
	cr_assert_str_eq(o.argv[1], "-l");
	cr_assert_null(o.argv[3]);
	/* after the command, options are the command's */
	cr_assert_eq(parse("exec --cid 7 --port 5000 --timeout 2 ls --cid", &o, err), 0);
	cr_assert_eq(o.port, 5000);
	cr_assert_eq(o.timeout_s, 2);
	cr_assert_eq(o.argc, 2);
	cr_assert_str_eq(o.argv[1], "--cid");
	cr_assert_eq(parse("exec --help", &o, err), 0);
	cr_assert(o.help);
}

Test(exec, parse_bad)
{
	static const struct { const char *line, *msg; } cases[] = {
		{ "exec -- ls", "--cid N is required" },
		{ "exec --cid 3", "no command given" },
		{ "exec --cid 3 --", "no command given" },
		{ "exec --cid 2 -- ls", "--cid 2: use the guest's context id" },
		{ "exec --cid x -- ls", "--cid x:" },
		{ "exec --cid 3 --port 0 -- ls", "--port 0: use a number" },
		{ "exec --cid 3 --timeout 0 -- ls", "--timeout 0: use whole seconds" },
		{ "exec --cid 3 --timeout 1.5 -- ls", "--timeout 1.5:" },
		{ "exec --cid 3 --timeout 4294968 -- ls", "--timeout 4294968:" },
		{ "exec --cid 3 --bogus -- ls", "--bogus: unknown option" },
		{ "exec --cid", "--cid needs a value" },
	};
	struct exec_opts o;
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(parse(cases[i].line, &o, err), -1, "%s", cases[i].line);
		cr_assert(strstr(err, cases[i].msg), "%s: '%s'", cases[i].line, err);
		cr_assert_null(strchr(err, '\n'));
	}
}
