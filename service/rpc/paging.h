/* Paging for every list: a page size with a default and a maximum, and an
 * opaque cursor. A cursor is the sort key of the last row of a page
 * (keyset paging: stable under concurrent inserts, no OFFSET scans),
 * encoded as base64url so callers treat it as an opaque string. */
#ifndef EXE_PAGING_H
#define EXE_PAGING_H

#include <stddef.h>
#include <stdint.h>

#include "rpc/call.h"

enum { PAGING_MAX_PARTS = 4 };

/* paging_size turns a requested page size into the one to use: 0 gives
 * PAGE_SIZE_DEFAULT; above PAGE_SIZE_MAX is INVALID_ARGUMENT. */
int paging_size(struct call *call, uint32_t requested, uint32_t *out)
    __attribute__((warn_unused_result));

/* paging_encode returns a cursor holding `n` key parts, in the arena. */
char *paging_encode(struct call *call, const char *const *parts, size_t n);

/* paging_decode splits a cursor made by paging_encode with `n` parts into
 * `parts` (arena strings). An empty token sets every part to NULL. A token
 * that is not one of ours is INVALID_ARGUMENT naming page_token. */
int paging_decode(struct call *call, const char *token, char **parts, size_t n)
    __attribute__((warn_unused_result));

#endif
