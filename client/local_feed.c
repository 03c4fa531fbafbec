/* The local cache's feed thread. */
#include "local_feed.h"

#include <exe/access_raw.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

enum { FEED_PAGE = 1000 };

struct local_feed {
	exa_client *client;
	struct local_cache *lc;
	int poll_ms;
	int call_timeout_ms;
	bool subscribed;
	nng_socket sub;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop; /* under lock */
	_Atomic uint64_t errors;
	/* The change at revision `known` (0: none), as feed_identity sums it
	 * up: a page whose change there is another is another history. */
	uint64_t known;
	uint64_t known_id;
	/* A read failed since the last that succeeded: the service may have
	 * reached another database since. */
	bool failed;
	struct local_change changes[FEED_PAGE];
};

static uint64_t
feed_mix(uint64_t h, const char *s)
{
	/* FNV-1a, with the terminator, so that fields do not run together. */
	for (const char *p = s != NULL ? s : "";; p++) {
		h = (h ^ (unsigned char)*p) * 1099511628211u;
		if (*p == '\0')
			return h;
	}
}

/* feed_identity sums up what tells one history's change at a revision
 * from another's: its commit time (ReadChanges gives milliseconds only)
 * and what it names. */
static uint64_t
feed_identity(const Exe__Access__V1__Change *ch)
{
	char ms[24];
	snprintf(ms, sizeof ms, "%lld", (long long)ch->changed_unix_ms);
	uint64_t h = 14695981039346656037u;
	h = feed_mix(h, ms);
	h = feed_mix(h, ch->kind);
	h = feed_mix(h, ch->workspace_id);
	h = feed_mix(h, ch->user_id);
	h = feed_mix(h, ch->api_key_id);
	h = feed_mix(h, ch->organization_id);
	if (ch->resource != NULL) {
		h = feed_mix(h, ch->resource->type);
		h = feed_mix(h, ch->resource->id);
	}
	return h;
}

static bool
feed_stopping(struct local_feed *f)
{
	pthread_mutex_lock(&f->lock);
	bool stop = f->stop;
	pthread_mutex_unlock(&f->lock);
	return stop;
}

/* feed_wait waits for a hint, the poll interval, or stop. */
static void
feed_wait(struct local_feed *f)
{
	if (f->subscribed) {
		char *buf = NULL;
		size_t len;
		if (nng_recv(f->sub, &buf, &len, NNG_FLAG_ALLOC) == 0) {
			nng_free(buf, len);
			/* Hints that came meanwhile are covered by one read. */
			while (nng_recv(f->sub, &buf, &len,
			           NNG_FLAG_ALLOC | NNG_FLAG_NONBLOCK) == 0)
				nng_free(buf, len);
		}
		return;
	}
	struct timespec until = clock_mono_after(f->poll_ms);
	pthread_mutex_lock(&f->lock);
	if (!f->stop)
		(void)pthread_cond_timedwait(&f->wake, &f->lock, &until);
	pthread_mutex_unlock(&f->lock);
}

static exa_status
feed_read(struct local_feed *f, uint64_t after, uint64_t fresh,
    bool current_only, Exe__Access__V1__ReadChangesResponse **resp,
    exa_error *err)
{
	Exe__Access__V1__ReadChangesRequest req =
	    EXE__ACCESS__V1__READ_CHANGES_REQUEST__INIT;
	req.after_revision = after;
	req.page_size = FEED_PAGE;
	req.current_only = current_only;
	req.at_least_as_fresh = fresh;
	*resp = NULL;
	return exa_client_call(f->client,
	    "exe.access.v1.AuthzService/ReadChanges", &req.base,
	    &exe__access__v1__read_changes_response__descriptor,
	    f->call_timeout_ms, (ProtobufCMessage **)resp, err);
}

static const char *
feed_text(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* feed_catch_up reads the log to its end; false when it must start
 * afresh (the revision it stood at is pruned, or not written).
 *
 * After a failover to an asynchronous standby the service's database may
 * stand past the cache's revision with other changes at the revisions it
 * applied (others wrote there first), which the count does not show:
 * each read starts one change early, at the applied revision, when the
 * change there is known, and another change there means another history:
 * the cache starts afresh where the log stands. Answers taken past the
 * applied revision cannot be checked that way; after a failed read they
 * are dropped with the rest. */
static bool
feed_catch_up(struct local_feed *f)
{
	struct local_change *changes = f->changes;
	for (;;) {
		Exe__Access__V1__ReadChangesResponse *resp;
		exa_error err;
		/* Taken before the read: the database reached it then. A
		 * replica behind it hands the read to the primary. */
		uint64_t seen = local_cache_seen(f->lc);
		uint64_t applied = local_cache_applied(f->lc);
		bool check = applied > 0 && f->known == applied;
		exa_status rc = feed_read(f, check ? applied - 1 : applied,
		    seen, false, &resp, &err);
		if (rc == EXA_FAILED_PRECONDITION) {
			f->known = 0;
			f->failed = false;
			return false;
		}
		if (rc != EXA_OK) {
			atomic_fetch_add(&f->errors, 1);
			f->failed = true;
			return true;
		}
		size_t n = resp->n_changes < FEED_PAGE
		    ? resp->n_changes
		    : FEED_PAGE;
		size_t first = 0;
		if (check) {
			const Exe__Access__V1__Change *at =
			    n > 0 ? resp->changes[0] : NULL;
			if (at != NULL && at->revision == applied &&
			    feed_identity(at) == f->known_id) {
				first = 1;
			} else if (resp->revision >= applied) {
				/* The count says nothing; the history does. */
				f->known = 0;
				f->failed = false;
				local_cache_resync(f->lc, resp->revision);
				exa_free(resp);
				return true;
			}
		}
		if (f->failed && seen > applied && resp->revision >= seen) {
			f->known = 0;
			f->failed = false;
			local_cache_resync(f->lc, resp->revision);
			exa_free(resp);
			return true;
		}
		f->failed = false;
		for (size_t i = first; i < n; i++) {
			const Exe__Access__V1__Change *ch = resp->changes[i];
			changes[i - first] = (struct local_change){
			    .kind = ch->kind,
			    .workspace_id = feed_text(ch->workspace_id),
			    .user_id = feed_text(ch->user_id),
			    .api_key_id = feed_text(ch->api_key_id)};
		}
		bool more = resp->next_page_token[0] != '\0';
		if (!more && resp->revision < seen) {
			/* The log ends before an answer the cache holds: the
			 * database lost it (a standby promoted without the last
			 * writes), and no change will ever drop it. */
			local_cache_resync(f->lc, resp->revision);
			exa_free(resp);
			return true;
		}
		local_cache_apply(
		    f->lc, changes, n - first, resp->revision, !more);
		if (n > first &&
		    local_cache_applied(f->lc) == resp->changes[n - 1]->revision) {
			f->known = resp->changes[n - 1]->revision;
			f->known_id = feed_identity(resp->changes[n - 1]);
		}
		exa_free(resp);
		if (!more || feed_stopping(f))
			return true;
	}
}

static void *
feed_main(void *arg)
{
	struct local_feed *f = arg;
	bool need_base = true;
	while (!feed_stopping(f)) {
		if (need_base) {
			Exe__Access__V1__ReadChangesResponse *resp;
			exa_error err;
			if (feed_read(f, 0, 0, true, &resp, &err) == EXA_OK) {
				local_cache_resync(f->lc, resp->revision);
				exa_free(resp);
				need_base = false;
				f->known = 0;
				f->failed = false;
			} else {
				atomic_fetch_add(&f->errors, 1);
			}
		}
		if (!need_base && !feed_catch_up(f))
			need_base = true;
		if (!need_base)
			feed_wait(f);
		else if (!feed_stopping(f))
			feed_wait(f);
	}
	return NULL;
}

int
local_feed_start(struct local_feed **out, exa_client *c,
    struct local_cache *lc, const char *subscribe, int poll_ms,
    int call_timeout_ms, exa_error *err)
{
	struct local_feed *f = calloc(1, sizeof *f);
	if (f == NULL)
		goto oom;
	f->client = c;
	f->lc = lc;
	f->poll_ms = poll_ms;
	f->call_timeout_ms = call_timeout_ms;
	pthread_mutex_init(&f->lock, NULL);
	clock_cond_init(&f->wake);
	if (subscribe != NULL) {
		int rv = nng_sub0_open(&f->sub);
		if (rv == 0)
			rv = nng_socket_set(f->sub, NNG_OPT_SUB_SUBSCRIBE, "", 0);
		if (rv == 0)
			rv = nng_socket_set_ms(f->sub, NNG_OPT_RECVTIMEO, poll_ms);
		if (rv == 0)
			rv = nng_dial(f->sub, subscribe, NULL, NNG_FLAG_NONBLOCK);
		if (rv != 0) {
			nng_close(f->sub);
			pthread_cond_destroy(&f->wake);
			pthread_mutex_destroy(&f->lock);
			free(f);
			if (err != NULL) {
				err->code = EXA_INVALID_ARGUMENT;
				snprintf(err->message, sizeof err->message,
				    "local_cache_subscribe: %s: %s", subscribe,
				    nng_strerror(rv));
			}
			return -1;
		}
		f->subscribed = true;
	}
	if (pthread_create(&f->thread, NULL, feed_main, f) != 0) {
		if (f->subscribed)
			nng_close(f->sub);
		pthread_cond_destroy(&f->wake);
		pthread_mutex_destroy(&f->lock);
		free(f);
		goto oom;
	}
	*out = f;
	return 0;
oom:
	if (err != NULL) {
		err->code = EXA_INTERNAL;
		snprintf(err->message, sizeof err->message,
		    "cannot start the local cache's feed");
	}
	return -1;
}

void
local_feed_stop(struct local_feed *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->lock);
	if (f->subscribed)
		nng_close(f->sub); /* wakes a waiting receive */
	pthread_join(f->thread, NULL);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

uint64_t
local_feed_errors(struct local_feed *f)
{
	return f != NULL ? atomic_load(&f->errors) : 0;
}
