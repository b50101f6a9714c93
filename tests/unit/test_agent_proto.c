// SPDX-License-Identifier: MIT
/*
 * The agent's framing (agent/proto.c): frames round-trip whole and split at
 * every byte; each kind of garbage is refused with its own error and the
 * decoder never consumes past what it was given.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "agent/proto.h"

static struct agent_decoder dec;

/* Feeds buf in pieces of step bytes; collects up to max frames' types/lengths. */
static int feed(const uint8_t *buf, size_t len, size_t step, struct agent_frame *frames,
		int max, int *nframes)
{
	size_t pos = 0;

	*nframes = 0;
	while (pos < len) {
		size_t chunk = len - pos < step ? len - pos : step, off = 0;

		while (off < chunk) {
			struct agent_frame f;
			size_t used;
			int ret = agent_decode(&dec, buf + pos + off, chunk - off, &used, &f);

			cr_assert_leq(used, chunk - off, "consumed past the input");
			off += used;
			if (ret < 0)
				return ret;
			if (ret == 1) {
				cr_assert_lt(*nframes, max);
				cr_assert_leq(f.len, AGENT_MAX_PAYLOAD);
				frames[(*nframes)++] = f;
				/* the payload is only valid until the next call: keep a copy */
				frames[*nframes - 1].payload = f.len ? malloc(f.len) : NULL;
				if (f.len)
					memcpy(frames[*nframes - 1].payload, f.payload, f.len);
			} else {
				cr_assert_eq(off, chunk, "returned 0 without consuming everything");
			}
		}
		pos += chunk;
	}
	return 0;
}

static size_t put(uint8_t *out, uint16_t type, const void *payload, uint32_t len)
{
	agent_put_header(out, type, len);
	memcpy(out + AGENT_HDR_SIZE, payload, len);
	return AGENT_HDR_SIZE + len;
}

static uint8_t stream[4 * AGENT_MAX_PAYLOAD];

Test(agent_proto, round_trip_every_split)
{
	char *argv[] = { "/bin/sh", "-c", "echo hi; exit 3", NULL };
	struct agent_frame fr[8];
	struct agent_exec e;
	uint32_t how, value;
	size_t len;
	int n, ret;

	ret = agent_encode_exec(stream, sizeof(stream), 2500, 3, argv);
	cr_assert_gt(ret, 0);
	len = (size_t)ret;
	len += put(stream + len, AGENT_STDIN, "abc", 3);
	len += put(stream + len, AGENT_STDIN_EOF, "", 0);
	len += put(stream + len, AGENT_STDOUT, "hi\n", 3);
	len += put(stream + len, AGENT_STDERR, "oops", 4);
	agent_put_exit(stream + len, AGENT_EXITED, 3);
	len += AGENT_HDR_SIZE + 8;
	len += put(stream + len, AGENT_ERROR, "bad", 3);

	for (size_t step = 1; step <= len; step = step < 16 ? step + 1 : step * 2) {
		agent_decoder_init(&dec);
		cr_assert_eq(feed(stream, len, step, fr, 8, &n), 0, "step %zu", step);
		cr_assert_eq(n, 7, "step %zu: %d frames", step, n);
		cr_assert_eq(agent_decoder_finish(&dec), 0);
		cr_assert_eq(fr[0].type, AGENT_EXEC);
		cr_assert_eq(agent_exec_parse(fr[0].payload, fr[0].len, &e), 0);
		cr_assert_eq(e.timeout_ms, 2500);
		cr_assert_eq(e.argc, 3);
		cr_assert_str_eq(e.argv[0], "/bin/sh");
		cr_assert_str_eq(e.argv[2], "echo hi; exit 3");
		cr_assert_null(e.argv[3]);
		cr_assert_eq(fr[1].type, AGENT_STDIN);
		cr_assert_eq(fr[1].len, 3);
		cr_assert_eq(memcmp(fr[1].payload, "abc", 3), 0);
		cr_assert_eq(fr[2].type, AGENT_STDIN_EOF);
		cr_assert_eq(fr[2].len, 0);
		cr_assert_eq(fr[3].type, AGENT_STDOUT);
		cr_assert_eq(fr[4].type, AGENT_STDERR);
		cr_assert_eq(memcmp(fr[4].payload, "oops", 4), 0);
		cr_assert_eq(fr[5].type, AGENT_EXIT);
		cr_assert_eq(agent_exit_parse(fr[5].payload, fr[5].len, &how, &value), 0);
		cr_assert_eq(how, AGENT_EXITED);
		cr_assert_eq(value, 3);
		cr_assert_eq(fr[6].type, AGENT_ERROR);
		for (int i = 0; i < n; i++)
			free(fr[i].payload);
	}
}

Test(agent_proto, max_payload_passes_one_more_fails)
{
	struct agent_frame fr[2];
	int n;

	memset(stream, 'x', sizeof(stream));
	agent_put_header(stream, AGENT_STDOUT, AGENT_MAX_PAYLOAD);
	agent_decoder_init(&dec);
	cr_assert_eq(feed(stream, AGENT_HDR_SIZE + AGENT_MAX_PAYLOAD, 4096, fr, 2, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(fr[0].len, AGENT_MAX_PAYLOAD);
	free(fr[0].payload);

	agent_put_header(stream, AGENT_STDOUT, AGENT_MAX_PAYLOAD + 1);
	agent_decoder_init(&dec);
	cr_assert_eq(feed(stream, sizeof(stream), 4096, fr, 2, &n), -AGENT_ERR_LENGTH);
	cr_assert_eq(n, 0);
	agent_put_header(stream, AGENT_STDOUT, 0xffffffffu);
	agent_decoder_init(&dec);
	cr_assert_eq(feed(stream, AGENT_HDR_SIZE, 1, fr, 2, &n), -AGENT_ERR_LENGTH);
}

/* One frame of garbage: the error, and nothing decoded after it (sticky). */
static void expect_garbage(size_t len, int err)
{
	struct agent_frame fr[2], f;
	size_t used;
	int n;

	/* a good frame after the bad one must not come out */
	len += put(stream + len, AGENT_STDOUT, "ok", 2);
	agent_decoder_init(&dec);
	cr_assert_eq(feed(stream, len, len, fr, 2, &n), err, "%s", agent_strerror(err));
	cr_assert_eq(n, 0);
	cr_assert_eq(agent_decode(&dec, stream, len, &used, &f), err);
	cr_assert_eq(used, 0);
	cr_assert_eq(agent_decoder_finish(&dec), err);
	/* and byte by byte too */
	agent_decoder_init(&dec);
	cr_assert_eq(feed(stream, len, 1, fr, 2, &n), err);
}

Test(agent_proto, unknown_type)
{
	agent_put_header(stream, 0, 0);
	expect_garbage(AGENT_HDR_SIZE, -AGENT_ERR_TYPE);
	agent_put_header(stream, 8, 2);
	expect_garbage(AGENT_HDR_SIZE + 2, -AGENT_ERR_TYPE);
	agent_put_header(stream, 0x4745, 0);	/* "GET /" */
	expect_garbage(AGENT_HDR_SIZE, -AGENT_ERR_TYPE);
}

Test(agent_proto, flags_set)
{
	agent_put_header(stream, AGENT_STDOUT, 1);
	stream[2] = 0x01;
	expect_garbage(AGENT_HDR_SIZE + 1, -AGENT_ERR_FLAGS);
}

Test(agent_proto, wrong_sizes)
{
	agent_put_header(stream, AGENT_STDIN_EOF, 1);
	expect_garbage(AGENT_HDR_SIZE + 1, -AGENT_ERR_SIZE);
	agent_put_header(stream, AGENT_EXIT, 4);
	expect_garbage(AGENT_HDR_SIZE + 4, -AGENT_ERR_SIZE);
	agent_put_header(stream, AGENT_STDIN, 0);
	expect_garbage(AGENT_HDR_SIZE, -AGENT_ERR_SIZE);
	agent_put_header(stream, AGENT_EXEC, 7);
	expect_garbage(AGENT_HDR_SIZE + 7, -AGENT_ERR_SIZE);
}

Test(agent_proto, bad_exit)
{
	agent_put_exit(stream, 3, 0);
	expect_garbage(AGENT_HDR_SIZE + 8, -AGENT_ERR_EXIT);
	agent_put_exit(stream, AGENT_EXITED, 256);
	expect_garbage(AGENT_HDR_SIZE + 8, -AGENT_ERR_EXIT);
	agent_put_exit(stream, AGENT_SIGNALED, 0);
	expect_garbage(AGENT_HDR_SIZE + 8, -AGENT_ERR_EXIT);
}

/* An EXEC frame from raw argc and string bytes. */
static size_t raw_exec(uint32_t argc, const char *strs, uint32_t slen)
{
	uint8_t p[AGENT_EXEC_FIXED + 64];

	memset(p, 0, AGENT_EXEC_FIXED);
	memcpy(p + 4, &argc, 4);	/* the test hosts are little-endian, like the wire */
	memcpy(p + AGENT_EXEC_FIXED, strs, slen);
	return put(stream, AGENT_EXEC, p, AGENT_EXEC_FIXED + slen);
}

Test(agent_proto, argv_garbage)
{
	/* the last string without its NUL */
	expect_garbage(raw_exec(2, "ls\0-l", 5), -AGENT_ERR_ARGV);
	/* fewer strings than argc */
	expect_garbage(raw_exec(3, "ls\0-l\0", 6), -AGENT_ERR_ARGV);
	/* bytes after the last string */
	expect_garbage(raw_exec(1, "ls\0-l\0", 6), -AGENT_ERR_ARGV);
	/* an empty command */
	expect_garbage(raw_exec(1, "\0", 1), -AGENT_ERR_ARGV);
	/* no argument at all */
	expect_garbage(raw_exec(0, "", 0), -AGENT_ERR_ARGC);
	/* too many */
	expect_garbage(raw_exec(AGENT_MAX_ARGS + 1, "ls\0", 3), -AGENT_ERR_ARGC);
	expect_garbage(raw_exec(0xffffffffu, "ls\0", 3), -AGENT_ERR_ARGC);
}

Test(agent_proto, max_args)
{
	char *argv[AGENT_MAX_ARGS + 2];
	struct agent_frame fr[2];
	struct agent_exec e;
	int n, len;

	for (unsigned int i = 0; i < AGENT_MAX_ARGS + 1; i++)
		argv[i] = "a";
	argv[AGENT_MAX_ARGS + 1] = NULL;
	len = agent_encode_exec(stream, sizeof(stream), 0, AGENT_MAX_ARGS, argv);
	cr_assert_gt(len, 0);
	agent_decoder_init(&dec);
	cr_assert_eq(feed(stream, (size_t)len, 7, fr, 2, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(agent_exec_parse(fr[0].payload, fr[0].len, &e), 0);
	cr_assert_eq(e.argc, AGENT_MAX_ARGS);
	free(fr[0].payload);
	cr_assert_eq(agent_encode_exec(stream, sizeof(stream), 0, AGENT_MAX_ARGS + 1, argv),
		     -AGENT_ERR_ARGC);
	cr_assert_eq(agent_encode_exec(stream, sizeof(stream), 0, 0, argv), -AGENT_ERR_ARGC);
}

Test(agent_proto, encode_too_long)
{
	static char big[AGENT_MAX_PAYLOAD];
	char *argv[] = { "echo", big, NULL };

	memset(big, 'y', sizeof(big) - 1);
	cr_assert_eq(agent_encode_exec(stream, sizeof(stream), 0, 2, argv), -AGENT_ERR_LENGTH);
	/* fits the protocol but not the caller's buffer */
	big[100] = '\0';
	cr_assert_eq(agent_encode_exec(stream, 64, 0, 2, argv), -AGENT_ERR_LENGTH);
}

Test(agent_proto, truncated)
{
	struct agent_frame fr[2];
	size_t len = put(stream, AGENT_STDOUT, "hello", 5);
	int n;

	for (size_t cut = 1; cut < len; cut++) {
		agent_decoder_init(&dec);
		cr_assert_eq(feed(stream, cut, 1, fr, 2, &n), 0);
		cr_assert_eq(n, 0);
		cr_assert_eq(agent_decoder_finish(&dec), -AGENT_ERR_TRUNCATED, "cut at %zu", cut);
	}
	agent_decoder_init(&dec);
	cr_assert_eq(agent_decoder_finish(&dec), 0);
}

Test(agent_proto, strerror_names_each)
{
	for (int e = AGENT_ERR_TYPE; e <= AGENT_ERR_EXIT; e++)
		cr_assert_str_neq(agent_strerror(-e), "unknown error", "error %d", e);
	cr_assert_str_eq(agent_strerror(999), "unknown error");
	cr_assert_str_eq(agent_type_name(AGENT_EXIT), "EXIT");
	cr_assert_str_eq(agent_type_name(99), "unknown");
}
