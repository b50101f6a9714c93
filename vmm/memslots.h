/* SPDX-License-Identifier: MIT */
#ifndef VMM_MEMSLOTS_H
#define VMM_MEMSLOTS_H

/*
 * KVM memslot numbers. KVM has a fixed number of them per VM
 * (KVM_CAP_NR_MEMSLOTS), and a guest decides how often BAR pieces come and
 * go (decode on/off, BAR moves, FLR, power states), so a freed number must
 * be handed out again: we always take the lowest free one.
 */
#include <pthread.h>
#include <stdint.h>

struct memslots {
	uint32_t nr;		/* slots KVM gives this VM */
	uint32_t used;
	uint64_t *bits;		/* one bit per slot, set while in use */
	pthread_mutex_t lock;	/* vCPUs of different devices map concurrently */
};

int memslots_init(struct memslots *s, uint32_t nr);
void memslots_destroy(struct memslots *s);
/* The lowest free slot number, or -ENOSPC when all nr are in use. */
int memslots_alloc(struct memslots *s);
/* Gives back a slot from memslots_alloc; anything else is ignored. */
void memslots_free(struct memslots *s, uint32_t slot);

#endif
