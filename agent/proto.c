// SPDX-License-Identifier: MIT
/*
 * The agent's framing: an incremental decoder that trusts nothing it is
 * given (the peer may be anything that can open the port), and the encoders
 * the agent and `vfio-vmm exec` share. See proto.h for the format.
 */
#include "agent/proto.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const err_names[] = {
	[AGENT_ERR_TYPE] = "unknown frame type",
	[AGENT_ERR_FLAGS] = "reserved flag bits set",
	[AGENT_ERR_LENGTH] = "payload length over the maximum",
	[AGENT_ERR_SIZE] = "payload size wrong for the frame type",
	[AGENT_ERR_ARGC] = "EXEC argument count is 0 or over the maximum",
	[AGENT_ERR_ARGV] = "EXEC arguments are not argc NUL-terminated strings",
	[AGENT_ERR_TRUNCATED] = "the stream ended inside a frame",
	[AGENT_ERR_EXIT] = "EXIT with an unknown kind or value",
};

const char *agent_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err <= 0 || (size_t)err >= sizeof(err_names) / sizeof(err_names[0]) ||
	    !err_names[err])
		return "unknown error";
	return err_names[err];
}

const char *agent_type_name(unsigned int type)
{
	static const char *const names[] = {
		[AGENT_EXEC] = "EXEC", [AGENT_STDIN] = "STDIN", [AGENT_STDIN_EOF] = "STDIN_EOF",
		[AGENT_STDOUT] = "STDOUT", [AGENT_STDERR] = "STDERR", [AGENT_EXIT] = "EXIT",
		[AGENT_ERROR] = "ERROR",
	};

	if (type >= sizeof(names) / sizeof(names[0]) || !names[type])
		return "unknown";
	return names[type];
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int agent_check_header(const uint8_t *hdr, struct agent_frame *f)
{
	f->type = get_le16(hdr);
	f->flags = get_le16(hdr + 2);
	f->len = get_le32(hdr + 4);
	f->payload = NULL;
	if (f->type < AGENT_EXEC || f->type > AGENT_ERROR)
		return -AGENT_ERR_TYPE;
	if (f->flags)
		return -AGENT_ERR_FLAGS;
	if (f->len > AGENT_MAX_PAYLOAD)
		return -AGENT_ERR_LENGTH;
	/* Sizes the type fixes are refused before any payload is waited for. */
	switch (f->type) {
	case AGENT_EXEC:
		return f->len < AGENT_EXEC_FIXED ? -AGENT_ERR_SIZE : 0;
	case AGENT_STDIN_EOF:
		return f->len ? -AGENT_ERR_SIZE : 0;
	case AGENT_EXIT:
		return f->len != 8 ? -AGENT_ERR_SIZE : 0;
	case AGENT_STDIN:
		return f->len ? 0 : -AGENT_ERR_SIZE;
	}
	return 0;
}

int agent_exec_parse(uint8_t *payload, uint32_t len, struct agent_exec *e)
{
	uint32_t pos = AGENT_EXEC_FIXED;

	if (len < AGENT_EXEC_FIXED || len > AGENT_MAX_PAYLOAD)
		return -AGENT_ERR_SIZE;
	e->timeout_ms = get_le32(payload);
	e->argc = get_le32(payload + 4);
	if (e->argc == 0 || e->argc > AGENT_MAX_ARGS)
		return -AGENT_ERR_ARGC;
	for (uint32_t i = 0; i < e->argc; i++) {
		const uint8_t *nul;

		if (pos >= len)
			return -AGENT_ERR_ARGV;		/* fewer strings than argc */
		nul = memchr(payload + pos, '\0', len - pos);
		if (!nul)
			return -AGENT_ERR_ARGV;		/* the last one runs off the end */
		e->argv[i] = (char *)payload + pos;
		pos = (uint32_t)(nul - payload) + 1;
	}
	if (pos != len || !e->argv[0][0])
		return -AGENT_ERR_ARGV;			/* bytes after, or an empty command */
	e->argv[e->argc] = NULL;
	return 0;
}

int agent_exit_parse(const uint8_t *payload, uint32_t len, uint32_t *how, uint32_t *value)
{
	if (len != 8)
		return -AGENT_ERR_SIZE;
	*how = get_le32(payload);
	*value = get_le32(payload + 4);
	switch (*how) {
	case AGENT_EXITED:
		return *value <= 255 ? 0 : -AGENT_ERR_EXIT;
	case AGENT_SIGNALED:
		return *value >= 1 && *value <= 127 ? 0 : -AGENT_ERR_EXIT;
	case AGENT_TIMEDOUT:
		return *value == 0 ? 0 : -AGENT_ERR_EXIT;
	}
	return -AGENT_ERR_EXIT;
}

/* The payload checks a complete frame gets before it is handed out. */
static int check_payload(struct agent_frame *f)
{
	struct agent_exec e;
	uint32_t how, value;

	switch (f->type) {
	case AGENT_EXEC:
		return agent_exec_parse(f->payload, f->len, &e);
	case AGENT_EXIT:
		return agent_exit_parse(f->payload, f->len, &how, &value);
	}
	return 0;
}

void agent_decoder_init(struct agent_decoder *d)
{
	d->hdr_have = 0;
	d->have = 0;
	d->in_payload = false;
	d->err = 0;
}

int agent_decode(struct agent_decoder *d, const void *data, size_t len, size_t *used,
		 struct agent_frame *f)
{
	const uint8_t *in = data;
	size_t pos = 0, n;

	*used = 0;
	if (d->err)
		return d->err;
	if (!d->in_payload) {
		n = AGENT_HDR_SIZE - d->hdr_have;
		if (n > len)
			n = len;
		memcpy(d->hdr + d->hdr_have, in, n);
		d->hdr_have += (uint32_t)n;
		pos = n;
		*used = pos;
		if (d->hdr_have < AGENT_HDR_SIZE)
			return 0;
		d->err = agent_check_header(d->hdr, &d->cur);
		if (d->err)
			return d->err;
		d->in_payload = true;
		d->have = 0;
	}
	n = d->cur.len - d->have;
	if (n > len - pos)
		n = len - pos;
	memcpy(d->payload + d->have, in + pos, n);
	d->have += (uint32_t)n;
	pos += n;
	*used = pos;
	if (d->have < d->cur.len)
		return 0;
	d->cur.payload = d->payload;
	d->err = check_payload(&d->cur);
	if (d->err)
		return d->err;
	d->in_payload = false;
	d->hdr_have = 0;
	*f = d->cur;
	return 1;
}

int agent_decoder_finish(const struct agent_decoder *d)
{
	if (d->err)
		return d->err;
	return d->hdr_have || d->in_payload ? -AGENT_ERR_TRUNCATED : 0;
}

void agent_put_header(uint8_t *out, uint16_t type, uint32_t len)
{
	put_le16(out, type);
	put_le16(out + 2, 0);
	put_le32(out + 4, len);
}

void agent_put_exit(uint8_t out[AGENT_HDR_SIZE + 8], uint32_t how, uint32_t value)
{
	agent_put_header(out, AGENT_EXIT, 8);
	put_le32(out + AGENT_HDR_SIZE, how);
	put_le32(out + AGENT_HDR_SIZE + 4, value);
}

int agent_encode_exec(uint8_t *buf, size_t cap, uint32_t timeout_ms, unsigned int argc,
		      char *const *argv)
{
	size_t len = AGENT_EXEC_FIXED, n;

	if (argc == 0 || argc > AGENT_MAX_ARGS || !argv[0][0])
		return -AGENT_ERR_ARGC;
	for (unsigned int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (len > AGENT_MAX_PAYLOAD || AGENT_HDR_SIZE + len > cap)
		return -AGENT_ERR_LENGTH;
	agent_put_header(buf, AGENT_EXEC, (uint32_t)len);
	put_le32(buf + AGENT_HDR_SIZE, timeout_ms);
	put_le32(buf + AGENT_HDR_SIZE + 4, argc);
	len = AGENT_HDR_SIZE + AGENT_EXEC_FIXED;
	for (unsigned int i = 0; i < argc; i++) {
		n = strlen(argv[i]) + 1;
		memcpy(buf + len, argv[i], n);
		len += n;
	}
	return (int)len;
}

uint64_t agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int agent_write_all(int fd, const void *buf, size_t len, uint64_t deadline_ms)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int wait = -1;

			if (deadline_ms) {
				uint64_t now = agent_now_ms();

				if (now >= deadline_ms)
					return -ETIMEDOUT;
				wait = (int)(deadline_ms - now);
			}
			if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

int agent_send(int fd, uint16_t type, const void *payload, uint32_t len, uint64_t deadline_ms)
{
	uint8_t hdr[AGENT_HDR_SIZE];
	int ret;

	agent_put_header(hdr, type, len);
	ret = agent_write_all(fd, hdr, sizeof(hdr), deadline_ms);
	if (!ret && len)
		ret = agent_write_all(fd, payload, len, deadline_ms);
	return ret;
}
