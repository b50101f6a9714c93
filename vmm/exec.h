/* SPDX-License-Identifier: MIT */
#ifndef VMM_EXEC_H
#define VMM_EXEC_H

/*
 * `vfio-vmm exec --cid N [--port P] [--timeout S] -- CMD ARGS...`: runs a
 * command in a guest through vfio-vmm-agent (agent/) over vsock, with our
 * stdin, stdout and stderr as its own, and exits with its status.
 *
 * Exit status: the command's (0-255), 128+N when signal N ended it,
 *   2    bad command line
 *   124  the timeout passed (the agent killed the command's process group)
 *   255  no connection, or the agent failed or broke the protocol
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EXEC_EXIT_USAGE		2
#define EXEC_EXIT_TIMEOUT	124
#define EXEC_EXIT_FAILED	255
/* After --timeout, how long the agent has to report the kill before we give up. */
#define EXEC_GRACE_MS		5000
#define EXEC_MAX_TIMEOUT_S	4294967u	/* the protocol's u32 milliseconds */

struct exec_opts {
	bool help;
	uint32_t cid;
	uint32_t port;
	uint32_t timeout_s;	/* 0: none */
	uint32_t grace_ms;	/* EXEC_GRACE_MS; tests shorten it */
	unsigned int argc;
	char **argv;		/* the command, NULL-terminated (points into argv) */
};

/* argv[0] is "exec". 0, or -1 with one line in err (exit 2). */
int exec_parse(int argc, char **argv, struct exec_opts *o, char *err, size_t errlen);
void exec_usage(FILE *f);

/* The three fds the command's streams are joined to. in < 0: no stdin (EOF at once). */
struct exec_io {
	int in, out, err;
};

/*
 * Runs o's command over sock, a connected stream to an agent (any kind of
 * socket: tests use socketpairs). Returns the exit status to use; on 124
 * and 255 a one-line reason is in err (without "vfio-vmm exec: ").
 */
int exec_session(int sock, const struct exec_opts *o, const struct exec_io *io, char *err,
		 size_t errlen);

/* A vsock connection to CID:port; -1 with one line in err. */
int exec_connect(uint32_t cid, uint32_t port, char *err, size_t errlen);

/* main()'s entry: the exit status, or -1 when argv[1] is not "exec". */
int exec_main(int argc, char **argv);

#endif
