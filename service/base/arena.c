/* Per-request bump allocator: an inline first block, then malloc'd blocks
 * chained from `head`, all freed by arena_reset. */
#include "base/arena.h"

#include <sodium.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
	struct arena_block *next;
	size_t size;
	size_t used;
	alignas(max_align_t) char data[];
};

enum { ARENA_BLOCK_MIN = 8192, ARENA_BLOCK_MAX = 1 << 20 };

static size_t
align_up(size_t n)
{
	size_t a = alignof(max_align_t);
	return (n + a - 1) & ~(a - 1);
}

void
arena_init(struct arena *a)
{
	a->head = NULL;
	a->inline_used = 0;
}

void
arena_reset(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b != NULL) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	arena_init(a);
}

void
arena_wipe(struct arena *a)
{
	sodium_memzero(a->inline_buf, a->inline_used);
	for (struct arena_block *b = a->head; b != NULL; b = b->next)
		sodium_memzero(b->data, b->used);
}

void *
arena_alloc_raw(struct arena *a, size_t size)
{
	if (size > SIZE_MAX - sizeof(struct arena_block) - alignof(max_align_t))
		return NULL;
	size = align_up(size == 0 ? 1 : size);
	if (size <= sizeof a->inline_buf - a->inline_used) {
		void *p = a->inline_buf + a->inline_used;
		a->inline_used += size;
		return p;
	}
	struct arena_block *b = a->head;
	if (b == NULL || size > b->size - b->used) {
		/* Each block twice the last: a large request (a BatchCheck of
		 * a thousand items) takes a few mallocs, not dozens. */
		size_t want = ARENA_BLOCK_MIN;
		if (b != NULL && b->size <= ARENA_BLOCK_MAX / 2)
			want = 2 * b->size;
		else if (b != NULL)
			want = ARENA_BLOCK_MAX;
		if (size > want)
			want = size;
		if (want > SIZE_MAX - sizeof *b)
			return NULL;
		b = malloc(sizeof *b + want);
		if (b == NULL)
			return NULL;
		b->next = a->head;
		b->size = want;
		b->used = 0;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += size;
	return p;
}

void *
arena_alloc(struct arena *a, size_t size)
{
	void *p = arena_alloc_raw(a, size);
	if (p != NULL)
		memset(p, 0, size);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);
	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}
