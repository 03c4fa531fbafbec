/* The token file, its table, and authentication against it. */
#include "rpc/tokens.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/secrets.h"

struct entry {
	struct caller caller;
	unsigned char hash[SECRET_HASH_BYTES];
};

struct table {
	struct entry *entries;
	size_t count;
};

/* Requests in flight per caller name: a small open-addressed table that
 * only grows (names are few, and a name's count must outlive reloads). */
enum { INFLIGHT_SLOTS = 1024 };

struct inflight {
	_Atomic int used; /* set (release) once `name` is written */
	char name[TOKENS_NAME_MAX + 1];
	_Atomic unsigned count;
};

struct tokens {
	char *path;
	pthread_rwlock_t lock;
	struct table table;
	pthread_mutex_t slots_lock; /* only for claiming a new slot */
	struct inflight slots[INFLIGHT_SLOTS];
};

const char *
tokens_scope_name(enum token_scope scope)
{
	return scope == TOKEN_SCOPE_ADMIN ? "admin" : "check";
}

void
tokens_hash(const char *token, char *hash_hex)
{
	unsigned char h[SECRET_HASH_BYTES];
	secret_hash(token, strlen(token), NULL, h);
	sodium_bin2hex(hash_hex, TOKENS_HASH_HEX + 1, h, sizeof h);
}

void
tokens_mint(char *token, char *hash_hex)
{
	secret_generate(SECRET_CALLER_TOKEN, token);
	tokens_hash(token, hash_hex);
}

/* parse reads the file into `out`. */
static int
parse(const char *path, struct table *out, char *msg, size_t msg_size)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(msg, msg_size, "--token-file: cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	struct table t = {NULL, 0};
	size_t cap = 0;
	char line[512];
	int lineno = 0;
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
		lineno++;
		char *p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		char name[TOKENS_NAME_MAX + 2], scope[16], hex[TOKENS_HASH_HEX + 2];
		char extra[2];
		int n = sscanf(p, "%65s %15s %65s %1s", name, scope, hex, extra);
		struct entry e;
		memset(&e, 0, sizeof e);
		size_t hash_len = 0;
		if (n != 3 || strlen(name) > TOKENS_NAME_MAX) {
			snprintf(msg, msg_size,
			    "%s:%d: expected `name scope hash` (name at most %d "
			    "characters)", path, lineno, TOKENS_NAME_MAX);
			rc = -1;
		} else if (strcmp(scope, "check") != 0 &&
		    strcmp(scope, "admin") != 0) {
			snprintf(msg, msg_size,
			    "%s:%d: scope \"%s\" is not check or admin", path,
			    lineno, scope);
			rc = -1;
		} else if (strlen(hex) != TOKENS_HASH_HEX ||
		    sodium_hex2bin(e.hash, sizeof e.hash, hex, strlen(hex), NULL,
		        &hash_len, NULL) != 0 ||
		    hash_len != sizeof e.hash) {
			snprintf(msg, msg_size,
			    "%s:%d: the hash must be 64 hex digits (see "
			    "exe-accessd --mint-token)", path, lineno);
			rc = -1;
		} else {
			if (t.count == cap) {
				cap = cap ? 2 * cap : 8;
				struct entry *grown =
				    realloc(t.entries, cap * sizeof *grown);
				if (grown == NULL) {
					snprintf(msg, msg_size, "out of memory");
					rc = -1;
					break;
				}
				t.entries = grown;
			}
			snprintf(e.caller.name, sizeof e.caller.name, "%.*s",
			    TOKENS_NAME_MAX, name);
			e.caller.scope = strcmp(scope, "admin") == 0
			    ? TOKEN_SCOPE_ADMIN
			    : TOKEN_SCOPE_CHECK;
			t.entries[t.count++] = e;
		}
	}
	fclose(f);
	if (rc != 0) {
		free(t.entries);
		return rc;
	}
	*out = t;
	return 0;
}

int
tokens_open(struct tokens **out, const char *path, char *msg, size_t msg_size)
{
	struct tokens *t = calloc(1, sizeof *t);
	if (t == NULL || (t->path = strdup(path)) == NULL) {
		free(t);
		snprintf(msg, msg_size, "out of memory");
		return -1;
	}
	if (parse(path, &t->table, msg, msg_size) != 0) {
		free(t->path);
		free(t);
		return -1;
	}
	pthread_rwlock_init(&t->lock, NULL);
	pthread_mutex_init(&t->slots_lock, NULL);
	*out = t;
	return 0;
}

int
tokens_reload(struct tokens *t, char *msg, size_t msg_size)
{
	struct table fresh;
	if (parse(t->path, &fresh, msg, msg_size) != 0)
		return -1;
	pthread_rwlock_wrlock(&t->lock);
	struct table old = t->table;
	t->table = fresh;
	pthread_rwlock_unlock(&t->lock);
	free(old.entries);
	return 0;
}

size_t
tokens_count(struct tokens *t)
{
	pthread_rwlock_rdlock(&t->lock);
	size_t n = t->table.count;
	pthread_rwlock_unlock(&t->lock);
	return n;
}

bool
tokens_authenticate(struct tokens *t, const char *token, struct caller *out)
{
	if (token == NULL ||
	    !secret_well_formed(SECRET_CALLER_TOKEN, token, strlen(token)))
		return false;
	unsigned char h[SECRET_HASH_BYTES];
	secret_hash(token, strlen(token), NULL, h);
	bool found = false;
	pthread_rwlock_rdlock(&t->lock);
	/* Look at every entry, so the time taken says nothing about which
	 * one matched. */
	for (size_t i = 0; i < t->table.count; i++) {
		if (sodium_memcmp(h, t->table.entries[i].hash, sizeof h) == 0 &&
		    !found) {
			*out = t->table.entries[i].caller;
			found = true;
		}
	}
	pthread_rwlock_unlock(&t->lock);
	return found;
}

/* find_slot looks for the caller's counter among the published slots. */
static struct inflight *
find_slot(struct tokens *t, const char *name, size_t start, bool *full)
{
	for (size_t i = 0; i < INFLIGHT_SLOTS; i++) {
		struct inflight *s = &t->slots[(start + i) % INFLIGHT_SLOTS];
		if (!atomic_load_explicit(&s->used, memory_order_acquire)) {
			*full = false;
			return NULL;
		}
		if (strcmp(s->name, name) == 0)
			return s;
	}
	*full = true;
	return NULL;
}

/* slot finds (or claims) the caller's counter. Slots are claimed under a
 * mutex, published with a release store, and never released, so a found
 * slot stays valid. NULL past INFLIGHT_SLOTS names (then: not limited). */
static struct inflight *
slot(struct tokens *t, const char *name)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */
	for (const char *p = name; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	size_t start = (size_t)(h % INFLIGHT_SLOTS);
	bool full;
	struct inflight *s = find_slot(t, name, start, &full);
	if (s != NULL || full)
		return s;
	pthread_mutex_lock(&t->slots_lock);
	s = find_slot(t, name, start, &full);
	if (s == NULL && !full) {
		for (size_t i = 0; i < INFLIGHT_SLOTS; i++) {
			struct inflight *e = &t->slots[(start + i) % INFLIGHT_SLOTS];
			if (!atomic_load_explicit(&e->used, memory_order_relaxed)) {
				snprintf(e->name, sizeof e->name, "%s", name);
				atomic_store_explicit(&e->used, 1,
				    memory_order_release);
				s = e;
				break;
			}
		}
	}
	pthread_mutex_unlock(&t->slots_lock);
	return s;
}

bool
tokens_acquire(struct tokens *t, const struct caller *caller, unsigned limit)
{
	/* Counted also with no limit (0), so that tokens_release, which
	 * cannot tell, always gives back what was taken. */
	struct inflight *s = slot(t, caller->name);
	if (s == NULL)
		return true;
	if (atomic_fetch_add(&s->count, 1) >= limit && limit != 0) {
		atomic_fetch_sub(&s->count, 1);
		return false;
	}
	return true;
}

void
tokens_release(struct tokens *t, const struct caller *caller)
{
	struct inflight *s = slot(t, caller->name);
	if (s != NULL)
		atomic_fetch_sub(&s->count, 1);
}

void
tokens_close(struct tokens *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->slots_lock);
	pthread_rwlock_destroy(&t->lock);
	free(t->table.entries);
	free(t->path);
	free(t);
}
