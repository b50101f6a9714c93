/* SPDX-License-Identifier: MIT */
#ifndef AGENT_SERVE_H
#define AGENT_SERVE_H

/*
 * What vfio-vmm-agent does with a connection, on any stream socket (the
 * daemon's are AF_VSOCK; the unit tests use socketpairs and AF_UNIX).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>

/* A connection that has not sent its EXEC within this long is dropped. */
#define AGENT_EXEC_WAIT_MS	10000
/* At most this many connections (forked children) at once; more wait. */
#define AGENT_MAX_CONNS		64
/* Log lines per AGENT_LOG_INTERVAL_MS, over all connections, then a count. */
#define AGENT_LOG_BURST		10
#define AGENT_LOG_INTERVAL_MS	10000

/*
 * Where log lines go ("vfio-vmm-agent: ..."), rate-limited across the
 * forked children through a shared mapping. Call once before serving.
 */
void agent_log_setup(FILE *out);
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Serves one connection on fd: reads the EXEC, runs its argv in a new
 * session (own process group) with pipes for stdin, stdout and stderr,
 * streams output as it comes, and sends EXIT. On garbage, on a peer that
 * closes mid-command or the timeout, the command's process group is killed
 * (SIGKILL). Returns 0 when EXIT was sent, -1 for a bad connection (one log
 * line). Does not close fd.
 */
int agent_serve_conn(int fd);

/*
 * peer_ok: may this peer run commands? false: the connection is closed
 * after one log line naming why (in why).
 */
typedef bool (*agent_peer_ok_fn)(const struct sockaddr *sa, socklen_t len, char *why,
				 size_t whylen);

/*
 * Accepts on listen_fd until *stop, one forked child per connection
 * running agent_serve_conn(). Returns 0 when stopped, -errno when accept
 * fails for good. SIGPIPE is ignored from here on.
 */
int agent_serve_loop(int listen_fd, volatile sig_atomic_t *stop, agent_peer_ok_fn peer_ok);

#endif
