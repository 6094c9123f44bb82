// SPDX-License-Identifier: MIT
/*
 * The library's own commands on a caller's ring.
 *
 * A ring and its completions belong to the application; the library may
 * interpret only a completion it can prove it queued itself.  Every
 * command the library waits for (sync calls, the ring probe) or finishes
 * at reap (requests, attribute-road commands) holds a slot in a table the
 * library keeps for that ring, and its user_data names the slot:
 *
 *	bits 63..32  "nvme" (NVMETA_TAG_USER_DATA)
 *	bits 31..16  the slot's generation
 *	bits 15..0   the slot's index
 *
 * A completion is the library's only when the mark matches, the index is
 * inside the ring's table, and that slot is in flight with that
 * generation: an application's own value in the same range is returned
 * to it as it is, never dereferenced and never dropped.  A slot is taken
 * when its command is queued and given back when its completion is taken,
 * so no tag repeats while a command that carries it may still complete.
 *
 * A command a call waits for needs no slot while it is the ring's only
 * command in flight with the tag NVMETA_TAG_WAITED (generation 0, which
 * no slot's tag has; one call at a time waits on a ring): the common
 * case then claims and gives back nothing.  When such a command is
 * abandoned (its submission failed, or the queue filled while waiting),
 * the table counts it and nvmeta_reap() drops one completion with that
 * tag for each; until then the calls on that ring take slots again.
 *
 * A table has as many slots as the ring's completion queue has entries:
 * more of the library's commands in flight than the queue can hold would
 * overflow it anyway.  Tables are found by the ring's descriptor and made
 * on a ring's first tagged command (nvmeta_ring_init() and
 * nvmeta_ring_setup() make them at once, so the hot path never
 * allocates); nvmeta_ring_exit() frees one, and a table whose ring was
 * closed is replaced when its descriptor number comes back with another
 * mapping, or at once by nvmeta_ring_init() and nvmeta_ring_setup().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* Rings with descriptors below 1024 * 1024: the directory has a chunk of
 * 1024 table pointers for each 1024 descriptors, made on first use. */
#define DIR_CHUNK	1024u
#define DIR_CHUNKS	1024u

static _Atomic(struct nvmeta_tags *) *_Atomic dir[DIR_CHUNKS];

/* The ring a table belongs to: its completion ring's mapping and size,
 * which a new ring under a recycled descriptor number does not share
 * while the old one is mapped. */
static bool tags_match(const struct nvmeta_tags *t, const struct io_uring *ring)
{
	return t && t->id == (const void *)ring->cq.khead &&
	       t->entries == ring->cq.ring_entries;
}

static _Atomic(struct nvmeta_tags *) *dir_entry(int fd, bool make)
{
	_Atomic(struct nvmeta_tags *) *chunk, *none = NULL;
	unsigned int n = (unsigned int)fd;

	if (fd < 0 || n >= DIR_CHUNK * DIR_CHUNKS)
		return NULL;
	chunk = atomic_load_explicit(&dir[n / DIR_CHUNK], memory_order_acquire);
	if (chunk || !make)
		return chunk ? &chunk[n % DIR_CHUNK] : NULL;
	chunk = calloc(DIR_CHUNK, sizeof(*chunk));
	if (!chunk)
		return NULL;
	/* Another thread may have made it first: keep theirs. */
	if (!atomic_compare_exchange_strong(&dir[n / DIR_CHUNK], &none, chunk)) {
		free(chunk);
		chunk = none;
	}
	return &chunk[n % DIR_CHUNK];
}

struct nvmeta_tags *nvmeta_tags_find(const struct io_uring *ring)
{
	_Atomic(struct nvmeta_tags *) *e = dir_entry(ring->ring_fd, false);
	struct nvmeta_tags *t;

	if (!e)
		return NULL;
	t = atomic_load_explicit(e, memory_order_acquire);
	return tags_match(t, ring) ? t : NULL;
}

static struct nvmeta_tags *tags_make(const struct io_uring *ring)
{
	unsigned int entries = ring->cq.ring_entries, i;
	struct nvmeta_tags *t;

	t = calloc(1, sizeof(*t) + (size_t)entries * sizeof(t->slot[0]));
	if (!t)
		return NULL;
	t->id = ring->cq.khead;
	t->entries = entries;
	for (i = 0; i < entries; i++)
		t->slot[i].next_free = i + 1;
	return t;
}

int nvmeta_tags_attach(const struct io_uring *ring, bool fresh, struct nvmeta_tags **out)
{
	_Atomic(struct nvmeta_tags *) *e;
	struct nvmeta_tags *t, *old;

	*out = fresh ? NULL : nvmeta_tags_find(ring);
	if (*out)
		return 0;
	if (ring->ring_fd < 0 || (unsigned int)ring->ring_fd >= DIR_CHUNK * DIR_CHUNKS)
		return nvmeta_fail(-EBADF, "ring fd %d: nvmeta keeps track of rings whose descriptor is open and below %u",
				   ring->ring_fd, DIR_CHUNK * DIR_CHUNKS);
	if (ring->cq.ring_entries > NVMETA_TAG_INDEX_MASK + 1)
		return nvmeta_fail(-EINVAL, "ring of %u completion entries: nvmeta's tags index at most %u",
				   ring->cq.ring_entries, NVMETA_TAG_INDEX_MASK + 1);
	e = dir_entry(ring->ring_fd, true);
	t = e ? tags_make(ring) : NULL;
	if (!t)
		return nvmeta_fail(-ENOMEM, "no memory for the table of nvmeta's commands on ring fd %d",
				   ring->ring_fd);
	/* A table that does not match belongs to a ring closed before this
	 * one took its descriptor number: nothing of it can complete here. */
	old = atomic_exchange_explicit(e, t, memory_order_acq_rel);
	free(old);
	*out = t;
	return 0;
}

void nvmeta_tags_detach(const struct io_uring *ring)
{
	_Atomic(struct nvmeta_tags *) *e = dir_entry(ring->ring_fd, false);
	struct nvmeta_tags *t;

	if (!e)
		return;
	t = atomic_load_explicit(e, memory_order_acquire);
	if (!tags_match(t, ring))
		return;
	atomic_store_explicit(e, NULL, memory_order_release);
	free(t);
}

int nvmeta_tag_claim(struct nvmeta_tags *t, enum nvmeta_tag_kind kind, void *owner,
		     uint64_t *tag)
{
	struct nvmeta_tag_slot *s;
	uint32_t i = t->free;

	if (i >= t->entries)
		return nvmeta_fail(-EBUSY, "%u commands of nvmeta's are in flight on this ring (%u of them abandoned), as many as its completion queue holds: reap first",
				   t->entries, t->abandoned);
	s = &t->slot[i];
	t->free = s->next_free;
	s->kind = kind;
	s->owner = owner;
	/* Generation 0 is NVMETA_TAG_WAITED's. */
	if (!++s->gen)
		s->gen = 1;
	*tag = NVMETA_TAG_USER_DATA | (uint64_t)s->gen << 16 | i;
	return 0;
}

struct nvmeta_tag_slot *nvmeta_tag_slot(struct nvmeta_tags *t, uint64_t user_data)
{
	uint32_t i = user_data & NVMETA_TAG_INDEX_MASK;
	struct nvmeta_tag_slot *s;

	if (!t || !NVMETA_IS_TAG_USER_DATA(user_data) || i >= t->entries)
		return NULL;
	s = &t->slot[i];
	if (s->kind == NVMETA_TAG_FREE || s->gen != (uint16_t)(user_data >> 16))
		return NULL;
	return s;
}

/* An SQE for @own's command, and its place in the submission ring. */
static inline bool take_sqe(struct io_uring *ring, struct nvmeta_own *own)
{
	own->pos = ring->sq.sqe_tail;
	own->sqe = io_uring_get_sqe(ring);
	return own->sqe;
}

static int sq_full(void)
{
	return nvmeta_fail(-EBUSY, "submission queue full: submit and reap first");
}

int nvmeta_tag_sqe(struct io_uring *ring, enum nvmeta_tag_kind kind, void *owner,
		   struct nvmeta_own *own)
{
	int ret;

	ret = nvmeta_tags_attach(ring, false, &own->tags);
	if (!ret)
		ret = nvmeta_tag_claim(own->tags, kind, owner, &own->tag);
	if (ret)
		return ret;
	if (take_sqe(ring, own))
		return 0;
	nvmeta_tag_release(own->tags, nvmeta_tag_slot(own->tags, own->tag));
	return sq_full();
}

NVMETA_HOT int nvmeta_tag_waited(struct io_uring *ring, struct nvmeta_own *own)
{
	struct nvmeta_tags *t = nvmeta_tags_find(ring);

	/* A command of the ring's own tagged NVMETA_TAG_WAITED may still
	 * complete: this one needs a slot's tag, or it could take that
	 * completion for its own. */
	if (!t || t->waited_abandoned)
		return nvmeta_tag_sqe(ring, NVMETA_TAG_SYNC, NULL, own);
	own->tags = t;
	own->tag = NVMETA_TAG_WAITED;
	return take_sqe(ring, own) ? 0 : sq_full();
}

void nvmeta_own_abandon(struct nvmeta_own *own)
{
	if (own->tag == NVMETA_TAG_WAITED)
		own->tags->waited_abandoned++;
	else
		nvmeta_tag_abandon(own->tags, &own->tags->slot[own->tag & NVMETA_TAG_INDEX_MASK]);
}

void nvmeta_tag_release(struct nvmeta_tags *t, struct nvmeta_tag_slot *s)
{
	if (s->kind == NVMETA_TAG_ABANDONED)
		t->abandoned--;
	s->kind = NVMETA_TAG_FREE;
	s->owner = NULL;
	s->next_free = t->free;
	t->free = (uint32_t)(s - t->slot);
}

void nvmeta_tag_abandon(struct nvmeta_tags *t, struct nvmeta_tag_slot *s)
{
	if (s->kind == NVMETA_TAG_ABANDONED)
		return;
	s->kind = NVMETA_TAG_ABANDONED;
	s->owner = NULL;
	t->abandoned++;
}
