/* Unit tests of arena: alignment, zeroed memory, allocations past the
 * inline buffer and past one block, string copies, reuse after reset, and
 * wiping. Run under AddressSanitizer, these also show any write past what
 * was handed out. */
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "unit.h"

/* Under AddressSanitizer, let malloc of an impossible size return NULL as
 * it does without it, instead of aborting: huge_sizes_fail_cleanly asks for
 * such sizes on purpose. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static bool
aligned(const void *p)
{
	return (uintptr_t)p % alignof(max_align_t) == 0;
}

static bool
all_bytes(const void *p, unsigned char value, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		if (b[i] != value)
			return false;
	}
	return true;
}

static void
pointers_are_aligned(void)
{
	struct arena a;
	arena_init(&a);
	/* Odd sizes, through the inline buffer and into several blocks. */
	for (size_t size = 1; size < 600; size += 7) {
		void *p = arena_alloc(&a, size);
		EXPECT(p != NULL);
		if (!aligned(p)) {
			fprintf(stderr, "  %zu bytes at %p: misaligned\n", size, p);
			unit_case_failed = 1;
		}
	}
	void *big = arena_alloc(&a, 20000);
	EXPECT(big != NULL && aligned(big));
	void *after = arena_alloc(&a, 3);
	EXPECT(after != NULL && aligned(after));
	/* A double and a long double fit where max_align_t says. */
	long double *ld = arena_alloc(&a, sizeof *ld);
	EXPECT(ld != NULL);
	if (ld != NULL) {
		*ld = 1.5L;
		EXPECT(*ld == 1.5L);
	}
	arena_reset(&a);
}

static void
memory_is_zeroed(void)
{
	struct arena a;
	arena_init(&a);
	static const size_t sizes[] = {1, 16, 100, 900, 3000, 9000, 50};
	enum { N = sizeof sizes / sizeof sizes[0] };
	/* Dirty every byte, reset, and ask again: still zeroes. */
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < N; i++) {
			unsigned char *p = arena_alloc(&a, sizes[i]);
			EXPECT(p != NULL);
			if (p == NULL)
				continue;
			if (!all_bytes(p, 0, sizes[i])) {
				fprintf(stderr, "  round %d: %zu bytes not zeroed\n",
				    round, sizes[i]);
				unit_case_failed = 1;
			}
			memset(p, 0xa5, sizes[i]);
		}
		arena_reset(&a);
	}
}

static void
large_allocations(void)
{
	struct arena a;
	arena_init(&a);
	/* Past the 1 KiB inline buffer, past an 8 KiB block, and a lot of
	 * small ones that fill several blocks; each keeps its contents. */
	static const size_t sizes[] = {1000, 1025, 2000, 8192, 8193, 100000,
	    1 << 20, 24};
	enum { N = sizeof sizes / sizeof sizes[0] };
	unsigned char *ptrs[N];
	for (size_t i = 0; i < N; i++) {
		ptrs[i] = arena_alloc(&a, sizes[i]);
		EXPECT(ptrs[i] != NULL);
		if (ptrs[i] != NULL)
			memset(ptrs[i], (int)(i + 1), sizes[i]);
	}
	enum { SMALL = 5000 };
	unsigned char **small = malloc(SMALL * sizeof *small);
	if (small == NULL)
		abort();
	for (size_t i = 0; i < SMALL; i++) {
		small[i] = arena_alloc(&a, 24);
		EXPECT(small[i] != NULL);
		if (small[i] != NULL)
			memset(small[i], (int)(i % 251), 24);
	}
	for (size_t i = 0; i < N; i++) {
		if (ptrs[i] != NULL && !all_bytes(ptrs[i], (unsigned char)(i + 1),
		                           sizes[i])) {
			fprintf(stderr, "  allocation %zu (%zu bytes) overwritten\n",
			    i, sizes[i]);
			unit_case_failed = 1;
		}
	}
	for (size_t i = 0; i < SMALL; i++) {
		if (small[i] != NULL &&
		    !all_bytes(small[i], (unsigned char)(i % 251), 24)) {
			fprintf(stderr, "  small allocation %zu overwritten\n", i);
			unit_case_failed = 1;
		}
	}
	/* No two ranges overlap. */
	for (size_t i = 0; i < N; i++) {
		for (size_t k = i + 1; k < N; k++) {
			if (ptrs[i] == NULL || ptrs[k] == NULL)
				continue;
			bool apart = ptrs[i] + sizes[i] <= ptrs[k] ||
			    ptrs[k] + sizes[k] <= ptrs[i];
			EXPECT(apart);
		}
	}
	free(small);
	arena_reset(&a);
}

static void
huge_sizes_fail_cleanly(void)
{
	/* Sizes no machine can give are NULL, never a short allocation. */
	struct arena a;
	arena_init(&a);
	EXPECT(arena_alloc(&a, SIZE_MAX) == NULL);
	EXPECT(arena_alloc(&a, SIZE_MAX - 1) == NULL);
	EXPECT(arena_alloc(&a, SIZE_MAX - alignof(max_align_t) + 1) == NULL);
	EXPECT(arena_alloc(&a, SIZE_MAX - alignof(max_align_t)) == NULL);
	EXPECT(arena_alloc(&a, SIZE_MAX - 4096) == NULL);
	EXPECT(arena_alloc(&a, SIZE_MAX / 2) == NULL);
	/* The arena still works afterwards. */
	char *s = arena_strdup(&a, "still fine");
	EXPECT_STR(s, "still fine");
	arena_reset(&a);
}

static void
zero_size(void)
{
	struct arena a;
	arena_init(&a);
	void *p = arena_alloc(&a, 0);
	void *q = arena_alloc(&a, 0);
	EXPECT(p != NULL && q != NULL);
	EXPECT(aligned(p) && aligned(q));
	arena_reset(&a);
}

static void
string_copies(void)
{
	struct arena a;
	arena_init(&a);
	const char *src = "caf\xc3\xa9 au lait";
	char *d = arena_strdup(&a, src);
	EXPECT_STR(d, src);
	EXPECT(d != src);
	EXPECT(aligned(d));

	char *n = arena_strndup(&a, "abcdef", 3);
	EXPECT_STR(n, "abc");
	char *empty = arena_strndup(&a, "abcdef", 0);
	EXPECT_STR(empty, "");
	char *e2 = arena_strdup(&a, "");
	EXPECT_STR(e2, "");

	/* strndup copies exactly `len` bytes: the source need not be
	 * NUL-terminated, and bytes after `len` are not read. */
	char *unterminated = malloc(4);
	if (unterminated == NULL)
		abort();
	memcpy(unterminated, "wxyz", 4);
	char *w = arena_strndup(&a, unterminated, 4);
	EXPECT_STR(w, "wxyz");
	free(unterminated);

	/* A long string lands in a block of its own. */
	char *long_src = malloc(20001);
	if (long_src == NULL)
		abort();
	memset(long_src, 'q', 20000);
	long_src[20000] = '\0';
	char *l = arena_strdup(&a, long_src);
	EXPECT(l != NULL && strcmp(l, long_src) == 0);
	free(long_src);

	/* Earlier copies survive later ones. */
	EXPECT_STR(d, src);
	EXPECT_STR(n, "abc");
	arena_reset(&a);
}

static void
reset_reuses_memory(void)
{
	struct arena a;
	arena_init(&a);
	void *first = arena_alloc(&a, 16);
	for (int i = 0; i < 100; i++)
		EXPECT(arena_alloc(&a, 500) != NULL);
	EXPECT(a.head != NULL);
	arena_reset(&a);
	EXPECT(a.head == NULL);
	EXPECT_INT(a.inline_used, 0);
	/* The inline buffer is handed out again from its start. */
	void *again = arena_alloc(&a, 16);
	EXPECT(again == first);
	EXPECT(all_bytes(again, 0, 16));
	/* Resetting an empty arena, or twice, is harmless. */
	arena_reset(&a);
	arena_reset(&a);
	EXPECT(arena_alloc(&a, 8) != NULL);
	arena_reset(&a);
}

static void
wipe_zeroes_everything(void)
{
	struct arena a;
	arena_init(&a);
	static const size_t sizes[] = {40, 700, 2000, 9000, 100};
	enum { N = sizeof sizes / sizeof sizes[0] };
	char *ptrs[N];
	for (size_t i = 0; i < N; i++) {
		ptrs[i] = arena_alloc(&a, sizes[i]);
		EXPECT(ptrs[i] != NULL);
		if (ptrs[i] != NULL)
			memset(ptrs[i], 'S', sizes[i]);
	}
	char *copy = arena_strdup(&a, "exa_live_secretsecretsecret");
	arena_wipe(&a);
	for (size_t i = 0; i < N; i++) {
		if (ptrs[i] != NULL && !all_bytes(ptrs[i], 0, sizes[i])) {
			fprintf(stderr, "  allocation %zu not wiped\n", i);
			unit_case_failed = 1;
		}
	}
	EXPECT(copy != NULL && all_bytes(copy, 0, 28));
	arena_reset(&a);

	/* Wiping an empty arena is harmless. */
	arena_wipe(&a);
	arena_reset(&a);
}

/* Raw allocations keep every byte they were given, apart from each other,
 * aligned, through the inline buffer and a run of growing blocks; the
 * zeroing ones between them still come back zeroed; a wipe clears all. */
static void
raw_allocations_keep_their_bytes(void)
{
	struct arena a;
	arena_init(&a);
	enum { N = 400 };
	unsigned char *ptrs[N];
	size_t sizes[N];
	for (size_t i = 0; i < N; i++) {
		sizes[i] = 1 + (i * 37) % 700 + (i % 50 == 0 ? 30000 : 0);
		if (i % 3 == 0) {
			ptrs[i] = arena_alloc(&a, sizes[i]);
			EXPECT(ptrs[i] != NULL);
			if (ptrs[i] != NULL)
				EXPECT(all_bytes(ptrs[i], 0, sizes[i]));
		} else {
			ptrs[i] = arena_alloc_raw(&a, sizes[i]);
			EXPECT(ptrs[i] != NULL);
		}
		if (ptrs[i] == NULL)
			continue;
		EXPECT(aligned(ptrs[i]));
		memset(ptrs[i], (int)(i % 251) + 1, sizes[i]);
	}
	for (size_t i = 0; i < N; i++) {
		if (ptrs[i] != NULL &&
		    !all_bytes(ptrs[i], (unsigned char)(i % 251 + 1), sizes[i])) {
			fprintf(stderr, "  allocation %zu overwritten\n", i);
			unit_case_failed = 1;
		}
	}
	EXPECT(arena_alloc_raw(&a, SIZE_MAX) == NULL);
	EXPECT(arena_alloc_raw(&a, 0) != NULL);
	arena_wipe(&a);
	for (size_t i = 0; i < N; i++) {
		if (ptrs[i] != NULL && !all_bytes(ptrs[i], 0, sizes[i])) {
			fprintf(stderr, "  allocation %zu not wiped\n", i);
			unit_case_failed = 1;
		}
	}
	arena_reset(&a);
}

static const struct unit_case cases[] = {
	{"pointers_are_aligned", pointers_are_aligned},
	{"memory_is_zeroed", memory_is_zeroed},
	{"large_allocations", large_allocations},
	{"huge_sizes_fail_cleanly", huge_sizes_fail_cleanly},
	{"zero_size", zero_size},
	{"string_copies", string_copies},
	{"reset_reuses_memory", reset_reuses_memory},
	{"wipe_zeroes_everything", wipe_zeroes_everything},
	{"raw_allocations_keep_their_bytes", raw_allocations_keep_their_bytes},
};

UNIT_MAIN(cases)
