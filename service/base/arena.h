/* A bump allocator for the lifetime of one request. Handlers build their
 * response messages in it; everything is released at once when the reply
 * has been packed. Allocation never fails silently: on out-of-memory the
 * functions return NULL and the caller answers INTERNAL. */
#ifndef EXE_ARENA_H
#define EXE_ARENA_H

#include <stdalign.h>
#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
	/* Bytes of the first block live inside the owning object, so most
	 * requests never call malloc for their responses. */
	alignas(max_align_t) char inline_buf[1024];
	size_t inline_used;
};

/* arena_init prepares an empty arena. */
void arena_init(struct arena *a);

/* arena_reset frees every block and makes the arena empty again. */
void arena_reset(struct arena *a);

/* arena_wipe zeroes every byte handed out so far, for an arena that held
 * a secret; call before arena_reset. */
void arena_wipe(struct arena *a);

/* arena_alloc returns `size` zeroed bytes aligned for any object, owned by
 * the arena, or NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t size);

/* arena_alloc_raw is arena_alloc without the zeroing, for memory the
 * caller writes whole before reading (a decoder's output). */
void *arena_alloc_raw(struct arena *a, size_t size);

/* arena_strndup copies `len` bytes of `s` and a NUL into the arena. */
char *arena_strndup(struct arena *a, const char *s, size_t len);

/* arena_strdup copies the NUL-terminated string `s` into the arena. */
char *arena_strdup(struct arena *a, const char *s);

#endif
