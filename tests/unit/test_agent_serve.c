// SPDX-License-Identifier: MIT
/*
 * vfio-vmm-agent's serving (agent/serve.c) over socketpairs and AF_UNIX,
 * with real commands: output, exit statuses (a shell's 126 and 127),
 * stdin, timeouts, garbage, and a peer that goes away mid-command (the
 * command's whole process group must die).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/proto.h"
#include "agent/serve.h"

struct server {
	pthread_t thread;
	int fd;
	int ret;
};

static void *serve_thread(void *arg)
{
	struct server *s = arg;

	s->ret = agent_serve_conn(s->fd);
	close(s->fd);
	return NULL;
}

/* A connection served by agent_serve_conn() on a thread; returns our end. */
static int start_server(struct server *s)
{
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	s->fd = sv[1];
	pthread_create(&s->thread, NULL, serve_thread, s);
	return sv[0];
}

struct result {
	char out[1 << 20], err[4096];
	size_t out_len, err_len;
	uint32_t how, value;
	bool got_exit;
	char error[512];	/* an ERROR frame's text */
};

static struct result res;
static struct agent_decoder dec;

/* Reads frames until EXIT, ERROR or the end of the stream. */
static void read_result(int fd, struct result *r)
{
	static uint8_t buf[65536];
	struct agent_frame f;
	size_t used, pos, len;
	ssize_t n;
	int ret;

	memset(r, 0, sizeof(*r));
	agent_decoder_init(&dec);
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (pos = 0, len = (size_t)n; pos < len; pos += used) {
			ret = agent_decode(&dec, buf + pos, len - pos, &used, &f);
			cr_assert_geq(ret, 0, "agent sent garbage: %s", agent_strerror(ret));
			if (ret == 0)
				continue;
			switch (f.type) {
			case AGENT_STDOUT:
				cr_assert_leq(r->out_len + f.len, sizeof(r->out));
				memcpy(r->out + r->out_len, f.payload, f.len);
				r->out_len += f.len;
				break;
			case AGENT_STDERR:
				if (r->err_len + f.len < sizeof(r->err)) {
					memcpy(r->err + r->err_len, f.payload, f.len);
					r->err_len += f.len;
				}
				break;
			case AGENT_EXIT:
				cr_assert_eq(agent_exit_parse(f.payload, f.len, &r->how, &r->value), 0);
				r->got_exit = true;
				return;
			case AGENT_ERROR:
				snprintf(r->error, sizeof(r->error), "%.*s", (int)f.len, f.payload);
				return;
			default:
				cr_assert_fail("unexpected %s frame", agent_type_name(f.type));
			}
		}
	}
}

static void send_exec(int fd, uint32_t timeout_ms, char **argv)
{
	static uint8_t buf[AGENT_HDR_SIZE + AGENT_MAX_PAYLOAD];
	unsigned int argc = 0;
	int len;

	while (argv[argc])
		argc++;
	len = agent_encode_exec(buf, sizeof(buf), timeout_ms, argc, argv);
	cr_assert_gt(len, 0);
	cr_assert_eq(agent_write_all(fd, buf, (size_t)len, 0), 0);
}

/* Runs argv with no stdin; the result in res. Returns agent_serve_conn()'s value. */
static int run(uint32_t timeout_ms, char **argv)
{
	struct server s;
	int fd = start_server(&s);

	send_exec(fd, timeout_ms, argv);
	cr_assert_eq(agent_send(fd, AGENT_STDIN_EOF, NULL, 0, 0), 0);
	read_result(fd, &res);
	close(fd);
	pthread_join(s.thread, NULL);
	return s.ret;
}

static void init(void)
{
	signal(SIGPIPE, SIG_IGN);
}

TestSuite(agent_serve, .init = init, .timeout = 30);

Test(agent_serve, output_and_status)
{
	char *argv[] = { "/bin/sh", "-c", "echo hi; echo err >&2; exit 3", NULL };

	cr_assert_eq(run(0, argv), 0);
	cr_assert(res.got_exit, "no EXIT (error '%s')", res.error);
	cr_assert_eq(res.how, AGENT_EXITED);
	cr_assert_eq(res.value, 3);
	cr_assert_eq(res.out_len, 3);
	cr_assert_eq(memcmp(res.out, "hi\n", 3), 0);
	cr_assert_eq(res.err_len, 4);
	cr_assert_eq(memcmp(res.err, "err\n", 4), 0);
}

Test(agent_serve, path_lookup_and_zero)
{
	char *argv[] = { "true", NULL };

	cr_assert_eq(run(0, argv), 0);
	cr_assert(res.got_exit);
	cr_assert_eq(res.how, AGENT_EXITED);
	cr_assert_eq(res.value, 0);
}

Test(agent_serve, not_found_127)
{
	char *argv[] = { "no-such-command-here", "x", NULL };

	cr_assert_eq(run(0, argv), 0);
	cr_assert(res.got_exit);
	cr_assert_eq(res.how, AGENT_EXITED);
	cr_assert_eq(res.value, 127);
	cr_assert(strstr(res.err, "no-such-command-here: command not found"), "stderr: %s",
		  res.err);
}

Test(agent_serve, not_executable_126)
{
	char path[] = "/tmp/agent-noexec-XXXXXX";
	int fd = mkstemp(path);
	char *argv[] = { path, NULL };

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	chmod(path, 0644);
	cr_assert_eq(run(0, argv), 0);
	unlink(path);
	cr_assert(res.got_exit);
	cr_assert_eq(res.value, 126);
	cr_assert(strstr(res.err, "Permission denied"), "stderr: %s", res.err);
}

Test(agent_serve, killed_by_signal)
{
	char *argv[] = { "/bin/sh", "-c", "kill -TERM $$", NULL };

	cr_assert_eq(run(0, argv), 0);
	cr_assert(res.got_exit);
	cr_assert_eq(res.how, AGENT_SIGNALED);
	cr_assert_eq(res.value, SIGTERM);
}

Test(agent_serve, timeout_kills_group)
{
	char *argv[] = { "/bin/sh", "-c", "sleep 30 & echo $!; sleep 30", NULL };
	uint64_t t0 = agent_now_ms();
	pid_t bg;

	cr_assert_eq(run(300, argv), 0);
	cr_assert(res.got_exit);
	cr_assert_eq(res.how, AGENT_TIMEDOUT);
	cr_assert_lt(agent_now_ms() - t0, 5000);
	bg = (pid_t)atoi(res.out);
	cr_assert_gt(bg, 1);
	/* The background sleep was in the group: dead (reaped by init, or a zombie of ours). */
	for (int i = 0; i < 100 && kill(bg, 0) == 0; i++)
		usleep(20000);
	cr_assert(kill(bg, 0) < 0 || waitpid(bg, NULL, WNOHANG) == bg,
		  "background child %d survived the timeout", bg);
}

struct feeder {
	int fd;
	size_t len;
	const uint8_t *data;
};

static void *feed_stdin(void *arg)
{
	struct feeder *f = arg;

	for (size_t off = 0; off < f->len; off += 10000) {
		size_t n = f->len - off < 10000 ? f->len - off : 10000;

		if (agent_send(f->fd, AGENT_STDIN, f->data + off, (uint32_t)n, 0))
			return NULL;
	}
	agent_send(f->fd, AGENT_STDIN_EOF, NULL, 0, 0);
	return NULL;
}

Test(agent_serve, stdin_through_cat)
{
	static uint8_t data[300000];
	char *argv[] = { "cat", NULL };
	struct server s;
	struct feeder f;
	pthread_t t;
	int fd;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	fd = start_server(&s);
	send_exec(fd, 0, argv);
	f = (struct feeder){ fd, sizeof(data), data };
	pthread_create(&t, NULL, feed_stdin, &f);
	read_result(fd, &res);
	pthread_join(t, NULL);
	close(fd);
	pthread_join(s.thread, NULL);
	cr_assert(res.got_exit, "error '%s'", res.error);
	cr_assert_eq(res.value, 0);
	cr_assert_eq(res.out_len, sizeof(data));
	cr_assert_eq(memcmp(res.out, data, sizeof(data)), 0);
	cr_assert_eq(s.ret, 0);
}

/* stdin frames after the command stopped reading are dropped, not fatal. */
Test(agent_serve, stdin_ignored_by_command)
{
	static uint8_t data[200000];
	char *argv[] = { "/bin/sh", "-c", "exec 0<&-; sleep 0.2; echo done", NULL };
	struct server s;
	struct feeder f;
	pthread_t t;
	int fd = start_server(&s);

	send_exec(fd, 0, argv);
	f = (struct feeder){ fd, sizeof(data), data };
	pthread_create(&t, NULL, feed_stdin, &f);
	read_result(fd, &res);
	close(fd);
	pthread_join(t, NULL);
	pthread_join(s.thread, NULL);
	cr_assert(res.got_exit, "error '%s'", res.error);
	cr_assert_eq(res.value, 0);
	cr_assert_eq(res.out_len, 5);
}

static char log_buf[8192];

static FILE *log_to_buffer(void)
{
	FILE *f = fmemopen(log_buf, sizeof(log_buf), "w");

	cr_assert_not_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	agent_log_setup(f);
	return f;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

Test(agent_serve, garbage_first)
{
	struct server s;
	uint8_t hdr[AGENT_HDR_SIZE];
	FILE *log = log_to_buffer();
	int fd = start_server(&s);

	agent_put_header(hdr, 42, 0);
	cr_assert_eq(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	read_result(fd, &res);
	close(fd);
	pthread_join(s.thread, NULL);
	fclose(log);
	cr_assert_eq(s.ret, -1);
	cr_assert_str_eq(res.error, "bad frame: unknown frame type");
	cr_assert_eq(lines(log_buf), 1, "log: %s", log_buf);
	cr_assert(strstr(log_buf, "unknown frame type"), "log: %s", log_buf);
}

Test(agent_serve, oversized_and_wrong_first_frame)
{
	struct server s;
	uint8_t hdr[AGENT_HDR_SIZE];
	int fd = start_server(&s);

	agent_put_header(hdr, AGENT_STDOUT, AGENT_MAX_PAYLOAD + 1);
	cr_assert_eq(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	read_result(fd, &res);
	close(fd);
	pthread_join(s.thread, NULL);
	cr_assert_eq(s.ret, -1);
	cr_assert_str_eq(res.error, "bad frame: payload length over the maximum");

	fd = start_server(&s);
	cr_assert_eq(agent_send(fd, AGENT_STDIN, "x", 1, 0), 0);
	read_result(fd, &res);
	close(fd);
	pthread_join(s.thread, NULL);
	cr_assert_eq(s.ret, -1);
	cr_assert_str_eq(res.error, "expected EXEC first, got STDIN");
}

/* Garbage after the command started: killed, ERROR, -1. */
Test(agent_serve, garbage_mid_command)
{
	char *argv[] = { "/bin/sh", "-c", "echo $$; exec sleep 30", NULL };
	struct server s;
	uint8_t hdr[AGENT_HDR_SIZE];
	char line[32] = "";
	int fd = start_server(&s);
	pid_t pid;

	send_exec(fd, 0, argv);
	agent_put_header(hdr, AGENT_EXIT, 8);	/* a guest->host frame, from the host */
	cr_assert_eq(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	cr_assert_eq(write(fd, "\0\0\0\0\0\0\0\0", 8), 8);
	read_result(fd, &res);
	close(fd);
	pthread_join(s.thread, NULL);
	cr_assert_eq(s.ret, -1);
	cr_assert_str_eq(res.error, "unexpected EXIT frame");
	memcpy(line, res.out, res.out_len < sizeof(line) - 1 ? res.out_len : sizeof(line) - 1);
	pid = (pid_t)atoi(line);
	if (pid > 1)	/* it may not have printed before the garbage arrived */
		cr_assert(kill(pid, 0) < 0, "the command %d is still running", pid);
}

/* Reads one STDOUT frame's text (the pids the command prints). */
static void read_stdout_line(int fd, char *line, size_t size)
{
	uint8_t hdr[AGENT_HDR_SIZE];
	struct agent_frame f;
	ssize_t n;

	cr_assert_eq(read(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	cr_assert_eq(agent_check_header(hdr, &f), 0);
	cr_assert_eq(f.type, AGENT_STDOUT);
	cr_assert_lt(f.len, size);
	n = read(fd, line, f.len);
	cr_assert_eq(n, (ssize_t)f.len);
	line[n] = '\0';
}

Test(agent_serve, peer_closes_mid_command)
{
	char *argv[] = { "/bin/sh", "-c", "sleep 30 & echo $$ $!; wait", NULL };
	struct server s;
	char line[64];
	FILE *log = log_to_buffer();
	int fd = start_server(&s);
	int sh, bg;

	send_exec(fd, 0, argv);
	read_stdout_line(fd, line, sizeof(line));
	cr_assert_eq(sscanf(line, "%d %d", &sh, &bg), 2, "'%s'", line);
	cr_assert_eq(kill(sh, 0), 0);
	cr_assert_eq(kill(bg, 0), 0);
	close(fd);
	pthread_join(s.thread, NULL);
	fclose(log);
	cr_assert_eq(s.ret, -1);
	/* The shell is reaped by the agent; its background sleep is gone too. */
	cr_assert(kill(sh, 0) < 0, "the command survived its connection");
	for (int i = 0; i < 100 && kill(bg, 0) == 0 && waitpid(bg, NULL, WNOHANG) != bg; i++)
		usleep(20000);
	cr_assert(kill(bg, 0) < 0, "its background child survived");
	cr_assert_eq(lines(log_buf), 1, "log: %s", log_buf);
	cr_assert(strstr(log_buf, "connection closed while /bin/sh ran"), "log: %s", log_buf);
}

/* ---- the accept loop, over AF_UNIX ---- */

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
	return fd;
}

Test(agent_serve, loop_survives_garbage)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *argv[] = { "/bin/sh", "-c", "echo served", NULL };
	static volatile sig_atomic_t never;
	int lfd, fd;
	pid_t loop;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/agent-test-%d.sock", getpid());
	unlink(sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(lfd, 8), 0);
	loop = fork();
	if (loop == 0)
		_exit(agent_serve_loop(lfd, &never, NULL) ? 1 : 0);

	/* garbage, an oversized frame, a half header then close, a silent close */
	fd = unix_connect(sa.sun_path);
	cr_assert_eq(write(fd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	read_result(fd, &res);
	cr_assert_str_eq(res.error, "bad frame: unknown frame type");
	close(fd);
	fd = unix_connect(sa.sun_path);
	cr_assert_eq(write(fd, "\x01\0\0\0\xff\xff\xff\xff", 8), 8);
	read_result(fd, &res);
	cr_assert_str_eq(res.error, "bad frame: payload length over the maximum");
	close(fd);
	fd = unix_connect(sa.sun_path);
	cr_assert_eq(write(fd, "\x01\0", 2), 2);
	close(fd);
	close(unix_connect(sa.sun_path));

	/* and a good one is still served */
	fd = unix_connect(sa.sun_path);
	send_exec(fd, 0, argv);
	agent_send(fd, AGENT_STDIN_EOF, NULL, 0, 0);
	read_result(fd, &res);
	close(fd);
	kill(loop, SIGKILL);
	waitpid(loop, NULL, 0);
	unlink(sa.sun_path);
	cr_assert(res.got_exit, "error '%s'", res.error);
	cr_assert_eq(res.value, 0);
	cr_assert_eq(res.out_len, 7);
	cr_assert_eq(memcmp(res.out, "served\n", 7), 0);
}
