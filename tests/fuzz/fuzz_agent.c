// SPDX-License-Identifier: MIT
/*
 * agent/proto.c: the guest agent's decoder, fed the input as a stream split
 * at points the input itself picks (the first byte seeds the split sizes).
 * The target aborts when
 *  - agent_decode() consumes more than it was given, or returns 0 without
 *    consuming all of it,
 *  - a frame comes out longer than AGENT_MAX_PAYLOAD, with an unknown type
 *    or flags, or with a payload pointer outside the decoder's buffer,
 *  - an EXEC frame comes out that agent_exec_parse() refuses, or whose argv
 *    strings are not inside the payload and NUL-terminated there,
 *  - an error is not sticky, or its strerror is "unknown error".
 */
#include "agent/proto.h"
#include "tests/fuzz/fuzz_input.h"

static struct agent_decoder dec;

static void check_frame(const struct agent_frame *f)
{
	struct agent_exec e;

	if (f->len > AGENT_MAX_PAYLOAD)
		fuzz_fail("frame of %u bytes, over the maximum", f->len);
	if (f->type < AGENT_EXEC || f->type > AGENT_ERROR || f->flags)
		fuzz_fail("frame with type %u flags %u came out", f->type, f->flags);
	if (f->payload != dec.payload)
		fuzz_fail("payload outside the decoder's buffer");
	if (f->type != AGENT_EXEC)
		return;
	if (agent_exec_parse(f->payload, f->len, &e))
		fuzz_fail("an EXEC frame came out that agent_exec_parse refuses");
	for (uint32_t i = 0; i < e.argc; i++) {
		const uint8_t *a = (const uint8_t *)e.argv[i];

		if (a < f->payload + AGENT_EXEC_FIXED || a >= f->payload + f->len ||
		    !memchr(a, '\0', (size_t)(f->payload + f->len - a)))
			fuzz_fail("argv[%u] not a string inside the payload", i);
	}
	if (e.argv[e.argc])
		fuzz_fail("argv not NULL-terminated");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t step = size ? data[0] : 1;
	size_t pos = size ? 1 : 0;
	int err = 0;

	agent_decoder_init(&dec);
	while (pos < size) {
		size_t chunk = (size_t)(step % 37) + 1, used;
		struct agent_frame f;
		int ret;

		if (chunk > size - pos)
			chunk = size - pos;
		step = (uint8_t)(step * 31 + 7);
		for (size_t off = 0; off < chunk; off += used) {
			ret = agent_decode(&dec, data + pos + off, chunk - off, &used, &f);
			if (used > chunk - off)
				fuzz_fail("consumed %zu of %zu bytes", used, chunk - off);
			if (ret < 0) {
				if (!strcmp(agent_strerror(ret), "unknown error"))
					fuzz_fail("error %d has no name", ret);
				err = ret;
				break;
			}
			if (ret == 1)
				check_frame(&f);
			else if (off + used != chunk)
				fuzz_fail("returned 0 with %zu bytes left", chunk - off - used);
		}
		if (err) {
			struct agent_frame again;
			size_t took;

			if (agent_decode(&dec, data, size, &took, &again) != err || took)
				fuzz_fail("error %d is not sticky", err);
			break;
		}
		pos += chunk;
	}
	if (!err && agent_decoder_finish(&dec) && agent_decoder_finish(&dec) != -AGENT_ERR_TRUNCATED)
		fuzz_fail("finish says %d without an error", agent_decoder_finish(&dec));
	return 0;
}
