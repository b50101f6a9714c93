// SPDX-License-Identifier: MIT
#include "vmm/memslots.h"

#include <errno.h>
#include <stdlib.h>

int memslots_init(struct memslots *s, uint32_t nr)
{
	s->nr = nr;
	s->used = 0;
	s->bits = calloc((nr + 63) / 64 ? (nr + 63) / 64 : 1, sizeof(uint64_t));
	pthread_mutex_init(&s->lock, NULL);
	return s->bits ? 0 : -ENOMEM;
}

void memslots_destroy(struct memslots *s)
{
	free(s->bits);
	s->bits = NULL;
	s->nr = s->used = 0;
	pthread_mutex_destroy(&s->lock);
}

int memslots_alloc(struct memslots *s)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&s->lock);
	for (uint32_t w = 0; s->used < s->nr && w < (s->nr + 63) / 64; w++) {
		uint32_t slot;

		if (s->bits[w] == ~0ull)
			continue;
		slot = w * 64 + (uint32_t)__builtin_ctzll(~s->bits[w]);
		if (slot >= s->nr)
			break;
		s->bits[w] |= 1ull << (slot % 64);
		s->used++;
		ret = (int)slot;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void memslots_free(struct memslots *s, uint32_t slot)
{
	pthread_mutex_lock(&s->lock);
	if (slot < s->nr && (s->bits[slot / 64] & (1ull << (slot % 64)))) {
		s->bits[slot / 64] &= ~(1ull << (slot % 64));
		s->used--;
	}
	pthread_mutex_unlock(&s->lock);
}
