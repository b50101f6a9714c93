/* SPDX-License-Identifier: MIT */
#ifndef AGENT_PROTO_H
#define AGENT_PROTO_H

/*
 * The guest agent's wire protocol (docs/virtio-net.md, "The guest agent and
 * exec"): frames on a stream socket (AF_VSOCK between host and guest), each
 * an 8-byte header and a payload of at most AGENT_MAX_PAYLOAD bytes.
 *
 *   header: u16 type, u16 flags (0), u32 payload length; little-endian
 *
 *   host -> guest   EXEC       u32 timeout_ms (0: none), u32 argc, then argc
 *                              NUL-terminated strings and nothing after them
 *                   STDIN      bytes for the command's stdin (length > 0)
 *                   STDIN_EOF  empty: close the command's stdin
 *   guest -> host   STDOUT     bytes the command wrote to stdout
 *                   STDERR     bytes it wrote to stderr
 *                   EXIT       u32 how (AGENT_EXITED, _SIGNALED, _TIMEDOUT),
 *                              u32 value (status, signal number, 0)
 *                   ERROR      text (no NUL): why the agent gives up
 *
 * One EXEC per connection; it ends with EXIT or ERROR and the agent closes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_DEFAULT_PORT	1024
#define AGENT_HDR_SIZE		8
#define AGENT_MAX_PAYLOAD	65536u
#define AGENT_MAX_ARGS		256u
#define AGENT_EXEC_FIXED	8u	/* timeout_ms and argc before the strings */

enum agent_type {
	AGENT_EXEC = 1,
	AGENT_STDIN = 2,
	AGENT_STDIN_EOF = 3,
	AGENT_STDOUT = 4,
	AGENT_STDERR = 5,
	AGENT_EXIT = 6,
	AGENT_ERROR = 7,
};

enum agent_exit_how {
	AGENT_EXITED = 0,	/* value: exit status 0-255 */
	AGENT_SIGNALED = 1,	/* value: the signal that ended it */
	AGENT_TIMEDOUT = 2,	/* the timeout passed: the process group was killed */
};

/* What the decoder rejects; functions return them negated. */
enum agent_err {
	AGENT_ERR_TYPE = 1,	/* unknown frame type */
	AGENT_ERR_FLAGS,	/* a flag bit set (none is defined) */
	AGENT_ERR_LENGTH,	/* payload length over AGENT_MAX_PAYLOAD */
	AGENT_ERR_SIZE,		/* payload size wrong for the type */
	AGENT_ERR_ARGC,		/* EXEC with no arguments or more than AGENT_MAX_ARGS */
	AGENT_ERR_ARGV,		/* EXEC strings: not argc NUL-terminated ones, or bytes after */
	AGENT_ERR_TRUNCATED,	/* the stream ended inside a frame */
	AGENT_ERR_EXIT,		/* EXIT with an unknown how or an impossible value */
};

const char *agent_strerror(int err);	/* err: AGENT_ERR_* or its negation */
const char *agent_type_name(unsigned int type);

struct agent_frame {
	uint16_t type;
	uint16_t flags;
	uint32_t len;
	uint8_t *payload;	/* len bytes inside the decoder, until its next call */
};

/*
 * Incremental decoder: bytes go in as they arrive, in any split; each
 * complete frame comes out checked (type, flags, length, and the payload
 * for its type). After an error it stays failed.
 */
struct agent_decoder {
	uint8_t hdr[AGENT_HDR_SIZE];
	uint32_t hdr_have;
	uint32_t have;		/* payload bytes of the current frame */
	bool in_payload;
	int err;		/* 0, or the sticky -AGENT_ERR_* */
	struct agent_frame cur;
	uint8_t payload[AGENT_MAX_PAYLOAD];
};

void agent_decoder_init(struct agent_decoder *d);

/*
 * Consumes data[0..len) up to the end of at most one frame; *used says how
 * many bytes (never more than len). Returns 1 with a frame in *f, 0 when
 * all of data was consumed without completing one, or -AGENT_ERR_*.
 */
int agent_decode(struct agent_decoder *d, const void *data, size_t len, size_t *used,
		 struct agent_frame *f);

/* At end of stream: 0 between frames, -AGENT_ERR_TRUNCATED inside one. */
int agent_decoder_finish(const struct agent_decoder *d);

/* Checks an 8-byte header; fills type/flags/len. 0 or -AGENT_ERR_*. */
int agent_check_header(const uint8_t *hdr, struct agent_frame *f);

/* A checked EXEC payload: argv points into the payload, argv[argc] == NULL. */
struct agent_exec {
	uint32_t timeout_ms;
	uint32_t argc;
	char *argv[AGENT_MAX_ARGS + 1];
};

int agent_exec_parse(uint8_t *payload, uint32_t len, struct agent_exec *e);

/* EXIT payload: 0 or -AGENT_ERR_SIZE / -AGENT_ERR_EXIT. */
int agent_exit_parse(const uint8_t *payload, uint32_t len, uint32_t *how, uint32_t *value);

/* Encoding. out must hold AGENT_HDR_SIZE (+ payload) bytes. */
void agent_put_header(uint8_t *out, uint16_t type, uint32_t len);
void agent_put_exit(uint8_t out[AGENT_HDR_SIZE + 8], uint32_t how, uint32_t value);

/*
 * A whole EXEC frame into buf (cap bytes). Returns its size, or
 * -AGENT_ERR_ARGC (argc 0 or too many) / -AGENT_ERR_LENGTH (too long).
 */
int agent_encode_exec(uint8_t *buf, size_t cap, uint32_t timeout_ms, unsigned int argc,
		      char *const *argv);

/*
 * Writes all of buf to fd, waiting for POLLOUT when the fd is
 * non-blocking, at most until deadline_ms (CLOCK_MONOTONIC ms; 0: no
 * deadline). Returns 0, or -errno (-ETIMEDOUT at the deadline).
 */
int agent_write_all(int fd, const void *buf, size_t len, uint64_t deadline_ms);

/* A header and payload, as one write_all. */
int agent_send(int fd, uint16_t type, const void *payload, uint32_t len, uint64_t deadline_ms);

uint64_t agent_now_ms(void);

#endif
