/* nng rep0 server: listeners, work items and their state machine. */
#include "transport/server.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/secrets.h"
#include "base/status.h"
#include "rpc/method.h"
#include "rpc/pipeline.h"
#include "store/db.h"
#include "store/replicas.h"
#include "transport/metrics.h"
#include "transport/probe.h"

/* The largest --tls-key file read: far over any PEM private key (an RSA
 * key of 16384 bits is 13 KiB). */
enum { SERVER_TLS_KEY_MAX = 64 * 1024 };

enum item_state {
	ITEM_IDLE, /* not receiving: before start, or drained */
	ITEM_RECV, /* waiting for a request */
	ITEM_WORK, /* decoding, queued for or running on a database worker */
	ITEM_SEND, /* reply handed to nng */
};

struct item {
	struct server *srv;
	nng_aio *aio;
	nng_ctx ctx;
	enum item_state state;
	bool in_metrics; /* in the request metrics (an empty probe is not) */
	int replica;     /* the standby its job is queued on; -1: the primary */
	nng_pipe pipe;   /* the connection the request came on */
	struct job job;
	struct call call;
};

/* A listener, kept so the watchdog can restart it (see probe.h). */
struct listener {
	char url[512];
	nng_listener l;
	bool probe;   /* its transport has nng#1518 */
	int failures; /* consecutive failed probes */
};

enum { MAX_LISTENERS = 8 };

struct server {
	nng_socket sock;
	bool sock_open;
	const struct server_options *opts;
	struct listener listeners[MAX_LISTENERS];
	size_t listener_count;
	pthread_t watchdog;
	bool watchdog_running;
	bool watch_probes; /* some listener is probed (probe.h) */
	pthread_mutex_t watchdog_lock;
	pthread_cond_t watchdog_wake;
	bool stopping;
	struct item *items;
	size_t count;
	size_t max_bytes;
	struct workers *workers;
	struct replicas *replicas; /* NULL: every call goes to the primary */
	/* Guards every item's state and `draining`, so a drain never races
	 * an item between "receiving" and "working". */
	pthread_mutex_t lock;
	pthread_cond_t idle;
	size_t busy;      /* items in ITEM_WORK or ITEM_SEND */
	size_t receiving; /* items in ITEM_RECV: each will run its callback */
	bool draining;
};

/* item_recv arms the next receive, or parks the item when draining.
 * Called with srv->lock held. */
static void
item_recv_locked(struct item *it)
{
	struct server *srv = it->srv;
	if (srv->draining) {
		it->state = ITEM_IDLE;
		return;
	}
	it->state = ITEM_RECV;
	srv->receiving++;
	nng_ctx_recv(it->ctx, it->aio);
}

static void
item_done(struct item *it)
{
	struct server *srv = it->srv;
	conns_request_end(srv->opts->conns, it->pipe);
	pipeline_end(&it->call);
	pthread_mutex_lock(&srv->lock);
	srv->busy--;
	if (srv->busy == 0 && srv->receiving == 0)
		pthread_cond_broadcast(&srv->idle);
	item_recv_locked(it);
	pthread_mutex_unlock(&srv->lock);
}

static void
item_reply(struct item *it)
{
	struct server *srv = it->srv;
	struct envelope_reply reply;
	pipeline_reply(&it->call, srv->max_bytes, &reply);
	if (reply.code != STATUS_OK && reply.code != STATUS_UNIMPLEMENTED)
		log_debug("request_failed", "{s:s, s:s, s:s}", "method",
		    it->call.method != NULL ? it->call.method->name : "",
		    "code", status_name(reply.code), "message", reply.message);
	if (reply.code == STATUS_INTERNAL)
		log_error("request_internal_error", "{s:s, s:s}", "method",
		    it->call.method != NULL ? it->call.method->name : "",
		    "message", reply.message);

	uint64_t now_ns = clock_mono_ns();
	if (it->in_metrics)
		metrics_request(it->call.method != NULL
		        ? (int)method_index(it->call.svc->methods, it->call.method)
		        : -1,
		    reply.code, (now_ns - it->call.started_ns) / 1000);

	nng_msg *msg;
	size_t size = envelope_reply_size(&reply);
	if (nng_msg_alloc(&msg, size) != 0) {
		log_error("reply_alloc_failed", "{s:i}", "bytes", (int)size);
		item_done(it);
		return;
	}
	envelope_reply_pack(&reply, nng_msg_body(msg));
	it->state = ITEM_SEND;
	nng_aio_set_msg(it->aio, msg);
	nng_ctx_send(it->ctx, it->aio);
}

static struct item *
item_of(struct job *job)
{
	return (struct item *)((char *)job - offsetof(struct item, job));
}

/* item_submit queues the item's call: a pure read to a standby in
 * rotation that has applied the revision it asks for, if there is one;
 * anything else to the primary. */
static void
item_submit(struct item *it)
{
	struct server *srv = it->srv;
	const struct method *m = it->call.method;
	it->job.group = m->handle_many != NULL ? m : NULL;
	it->replica = -1;
	if (srv->replicas != NULL && !(m->flags & METHOD_WRITES))
		it->replica = replicas_pick(srv->replicas,
		    it->call.at_least_as_fresh);
	it->call.on_replica = it->replica >= 0;
	workers_submit(it->replica >= 0
	        ? replicas_workers(srv->replicas, it->replica)
	        : srv->workers,
	    &it->job);
}

/* item_standby_done finishes a call run on a standby: true when it was
 * answered there, false when it has been queued for the primary instead
 * (then the item is no longer this thread's to touch). */
static bool
item_standby_done(struct item *it, PGconn *conn)
{
	struct server *srv = it->srv;
	switch (pipeline_standby_result(&it->call)) {
	case PIPELINE_ANSWERED:
		if (it->call.code == STATUS_OK)
			replicas_served(srv->replicas, it->replica);
		return true;
	case PIPELINE_STANDBY_FAILED:
		/* Out of rotation at once; the monitor puts it back when it
		 * answers again. */
		if (conn == NULL || db_conn_lost(conn))
			replicas_failed(srv->replicas, it->replica);
		break;
	case PIPELINE_TO_PRIMARY:
		break;
	}
	it->replica = -1;
	workers_submit(srv->workers, &it->job);
	return false;
}

static bool
item_job_run(struct job *job, PGconn *conn, bool last)
{
	struct item *it = item_of(job);
	/* The call's statements run within its time budget. */
	db_set_deadline(conn, it->call.deadline_ms);
	pipeline_run(&it->call, conn);
	db_set_deadline(conn, 0);
	if (it->replica >= 0) {
		if (item_standby_done(it, conn))
			item_reply(it);
		return false;
	}
	if (!last && pipeline_retryable(&it->call, db_conn_lost(conn)))
		return true;
	item_reply(it);
	return false;
}

/* Calls of one method that waited for a worker together (Checks the
 * cache could not answer) are decided together: one statement for all. */
static bool
item_jobs_run_many(struct job **jobs, size_t n, PGconn *conn, bool last)
{
	struct call *calls[WORKERS_GROUP_MAX];
	/* One statement answers them all: it runs until the latest of their
	 * deadlines (each call is refused at its own before it starts). */
	int64_t deadline = 0;
	for (size_t i = 0; i < n; i++) {
		calls[i] = &item_of(jobs[i])->call;
		int64_t d = calls[i]->deadline_ms;
		deadline = i == 0 || (deadline != 0 && (d == 0 || d > deadline))
		    ? d
		    : deadline;
	}
	db_set_deadline(conn, deadline);
	pipeline_run_many(calls, n, conn);
	db_set_deadline(conn, 0);
	if (item_of(jobs[0])->replica >= 0) {
		/* One by one: some may be answered here, others need the
		 * primary. */
		for (size_t i = 0; i < n; i++) {
			struct item *it = item_of(jobs[i]);
			if (item_standby_done(it, conn))
				item_reply(it);
		}
		return false;
	}
	if (!last && pipeline_retryable_many(calls, n, db_conn_lost(conn)))
		return true;
	for (size_t i = 0; i < n; i++)
		item_reply(item_of(jobs[i]));
	return false;
}

static void
item_cb(void *arg)
{
	struct item *it = arg;
	struct server *srv = it->srv;
	int rv = nng_aio_result(it->aio);

	if (it->state == ITEM_SEND) {
		if (rv != 0) {
			/* The reply was not taken (the caller went away): it is
			 * still ours to free. */
			nng_msg_free(nng_aio_get_msg(it->aio));
			log_debug("reply_not_sent", "{s:s}", "reason",
			    nng_strerror(rv));
		}
		item_done(it);
		return;
	}

	/* ITEM_RECV. A drain waits for this callback (srv->receiving): a
	 * request that arrived as the drain began is still answered. */
	pthread_mutex_lock(&srv->lock);
	srv->receiving--;
	if (rv != 0) {
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED || srv->draining) {
			it->state = ITEM_IDLE;
			if (srv->busy == 0 && srv->receiving == 0)
				pthread_cond_broadcast(&srv->idle);
		} else {
			log_warn("recv_failed", "{s:s}", "reason", nng_strerror(rv));
			item_recv_locked(it);
		}
		pthread_mutex_unlock(&srv->lock);
		return;
	}
	it->state = ITEM_WORK;
	srv->busy++;
	pthread_mutex_unlock(&srv->lock);

	it->call.started_ns = clock_mono_ns();
	nng_msg *msg = nng_aio_get_msg(it->aio);
	it->pipe = nng_msg_get_pipe(msg);
	conns_request_begin(srv->opts->conns, it->pipe);
	/* An empty request is the listener watchdog's probe (probe.h). */
	it->in_metrics = nng_msg_len(msg) > 0;
	enum pipeline_next next = pipeline_begin(&it->call, nng_msg_body(msg),
	    nng_msg_len(msg), srv->max_bytes);
	/* The request may carry a secret: leave none in freed memory. */
	sodium_memzero(nng_msg_body(msg), nng_msg_len(msg));
	nng_msg_free(msg);
	if (next == PIPELINE_NEEDS_DB)
		item_submit(it);
	else
		item_reply(it);
}

static void
server_close(struct server *srv)
{
	if (srv->watchdog_running) {
		pthread_mutex_lock(&srv->watchdog_lock);
		srv->stopping = true;
		pthread_cond_signal(&srv->watchdog_wake);
		pthread_mutex_unlock(&srv->watchdog_lock);
		pthread_join(srv->watchdog, NULL);
	}
	for (size_t i = 0; i < srv->count; i++) {
		if (srv->items[i].aio != NULL)
			nng_aio_stop(srv->items[i].aio);
	}
	for (size_t i = 0; i < srv->count; i++) {
		struct item *it = &srv->items[i];
		if (it->aio != NULL)
			nng_aio_free(it->aio);
		if (nng_ctx_id(it->ctx) > 0)
			nng_ctx_close(it->ctx);
		pipeline_end(&it->call);
	}
	if (srv->sock_open)
		nng_close(srv->sock);
	pthread_cond_destroy(&srv->idle);
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->watchdog_wake);
	pthread_mutex_destroy(&srv->watchdog_lock);
	free(srv->items);
	free(srv);
}

/* read_file returns a NUL-terminated copy of a (small) file, or NULL. */
static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while (out != NULL && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		fwrite(chunk, 1, n, out);
	fclose(f);
	if (out != NULL)
		fclose(out);
	return buf;
}

/* listen_tls starts a tls+tcp:// listener presenting the configured
 * certificate. */
static int
listen_tls(struct server *srv, const char *url,
    const struct server_options *opts, nng_listener *out, char *msg,
    size_t msg_size)
{
	char *cert = read_file(opts->tls_cert_file);
	/* The private key only ever in guarded memory, wiped as soon as nng
	 * has parsed it into its own (mbedtls keeps the parsed key, and
	 * zeroes it when the configuration is freed). */
	char *key = NULL;
	size_t key_len;
	int err = secret_file_read(opts->tls_key_file, SERVER_TLS_KEY_MAX, &key,
	    &key_len);
	nng_tls_config *cfg = NULL;
	nng_listener l;
	int rv = cert == NULL || err != 0 ? NNG_ENOENT : 0;
	if (cert == NULL)
		snprintf(msg, msg_size, "cannot read %s", opts->tls_cert_file);
	else if (err != 0)
		snprintf(msg, msg_size, "--tls-key: cannot read %s: %s",
		    opts->tls_key_file, err == EFBIG
		        ? "larger than any PEM private key"
		        : strerror(err));
	if (rv == 0 && (rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER)) == 0 &&
	    (rv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0)
		snprintf(msg, msg_size,
		    "--tls-cert/--tls-key: not a usable PEM certificate and "
		    "key: %s", nng_strerror(rv));
	if (key != NULL)
		sodium_free(key);
	free(cert);
	if (rv == 0 && (rv = nng_listener_create(&l, srv->sock, url)) == 0 &&
	    (rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg)) == 0 &&
	    (rv = nng_listener_start(l, 0)) == 0) {
		*out = l;
		/* Its unfinished TLS handshakes are invisible to nng's pipe
		 * events: the connection limits look for them by port. */
		int port;
		if (opts->conns != NULL &&
		    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0)
			conns_watch_tls_port(opts->conns, port);
	}
	if (rv != 0 && msg[0] == '\0')
		snprintf(msg, msg_size, "cannot listen on %s: %s", url,
		    nng_strerror(rv));
	if (cfg != NULL)
		nng_tls_config_free(cfg); /* the listener holds its own reference */
	return rv;
}

/* start_listener (re)starts listener `li` on its URL. */
static int
start_listener(struct server *srv, struct listener *li, char *msg,
    size_t msg_size)
{
	msg[0] = '\0';
	int rv;
	if (strncmp(li->url, "tls+", 4) == 0)
		rv = listen_tls(srv, li->url, srv->opts, &li->l, msg, msg_size);
	else if ((rv = nng_listen(srv->sock, li->url, &li->l, 0)) != 0)
		snprintf(msg, msg_size, "cannot listen on %s: %s", li->url,
		    nng_strerror(rv));
	return rv;
}

/* watchdog_probe probes the listeners whose transport can stall, and
 * restarts one that failed two probes in a row. */
static void
watchdog_probe(struct server *srv)
{
	for (size_t i = 0; i < srv->listener_count; i++) {
		struct listener *li = &srv->listeners[i];
		if (!li->probe)
			continue;
		struct conns_stats before, after;
		conns_stats(srv->opts->conns, &before);
		if (probe_listener(li->url, 1000)) {
			li->failures = 0;
			continue;
		}
		/* Refused because --max-connections were open: the listener
		 * works, it is the limit that closed the probe. */
		conns_stats(srv->opts->conns, &after);
		if (after.refused != before.refused)
			continue;
		if (++li->failures < 2)
			continue;
		/* Stalled: start it afresh. Clients reconnect. */
		char msg[512];
		nng_listener_close(li->l);
		int rv = start_listener(srv, li, msg, sizeof msg);
		log_warn("listener_restarted", "{s:s, s:s}", "url", li->url,
		    "result", rv == 0 ? "ok" : msg);
		li->failures = 0;
	}
}

/* watchdog_main probes the listeners every probe interval (probe.h) and
 * sweeps the connections every sweep interval (conns.h). */
static void *
watchdog_main(void *arg)
{
	struct server *srv = arg;
	long probe_every = srv->watch_probes ? srv->opts->probe_interval_ms : 0;
	long sweep_every = srv->opts->conns != NULL
	    ? conns_sweep_interval_ms(srv->opts->conns)
	    : 0;
	long tick = probe_every > 0 && (sweep_every == 0 || probe_every < sweep_every)
	    ? probe_every
	    : sweep_every;
	int64_t next_probe = clock_mono_ms() + probe_every;
	for (;;) {
		struct timespec until = clock_mono_after(tick);
		pthread_mutex_lock(&srv->watchdog_lock);
		while (!srv->stopping &&
		    pthread_cond_timedwait(&srv->watchdog_wake,
		        &srv->watchdog_lock, &until) == 0)
			;
		bool stop = srv->stopping;
		pthread_mutex_unlock(&srv->watchdog_lock);
		if (stop)
			break;
		if (sweep_every > 0) {
			/* With no item receiving, a request may wait in nng
			 * for one, unseen: no idle connection is closed then. */
			pthread_mutex_lock(&srv->lock);
			bool free_item = srv->receiving > 0;
			pthread_mutex_unlock(&srv->lock);
			conns_sweep(srv->opts->conns, free_item);
		}
		if (probe_every > 0 && clock_mono_ms() >= next_probe) {
			watchdog_probe(srv);
			next_probe = clock_mono_ms() + probe_every;
		}
	}
	return NULL;
}

int
server_start(struct server **out, const struct server_options *opts,
    struct workers *workers, const struct service_ctx *svc, char *msg,
    size_t msg_size)
{
	struct server *srv = calloc(1, sizeof *srv);
	if (srv == NULL) {
		snprintf(msg, msg_size, "out of memory");
		return -1;
	}
	pthread_mutex_init(&srv->lock, NULL);
	clock_cond_init(&srv->idle);
	pthread_mutex_init(&srv->watchdog_lock, NULL);
	clock_cond_init(&srv->watchdog_wake);
	srv->opts = opts;
	srv->workers = workers;
	srv->replicas = opts->replicas;
	srv->max_bytes = opts->max_bytes;
	srv->items = calloc(opts->items, sizeof *srv->items);
	if (srv->items == NULL) {
		snprintf(msg, msg_size, "out of memory");
		server_close(srv);
		return -1;
	}
	srv->count = opts->items;

	int rv = nng_rep0_open(&srv->sock);
	if (rv != 0) {
		snprintf(msg, msg_size, "cannot open socket: %s", nng_strerror(rv));
		server_close(srv);
		return -1;
	}
	srv->sock_open = true;
	if (opts->conns != NULL && (rv = conns_attach(opts->conns, srv->sock)) != 0) {
		snprintf(msg, msg_size, "cannot watch connections: %s",
		    nng_strerror(rv));
		server_close(srv);
		return -1;
	}
	/* Requests up to twice the limit are read and answered
	 * RESOURCE_EXHAUSTED; larger ones make nng drop the connection
	 * before buffering them. */
	nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ,
	    opts->max_bytes * 2 + 65536);

	for (size_t i = 0; i < srv->count; i++) {
		struct item *it = &srv->items[i];
		it->srv = srv;
		it->call.svc = svc;
		it->job.run = item_job_run;
		it->job.run_many = item_jobs_run_many;
		arena_init(&it->call.arena);
		if ((rv = nng_aio_alloc(&it->aio, item_cb, it)) != 0 ||
		    (rv = nng_ctx_open(&it->ctx, srv->sock)) != 0) {
			snprintf(msg, msg_size, "cannot set up work items: %s",
			    nng_strerror(rv));
			server_close(srv);
			return -1;
		}
	}
	for (size_t i = 0; i < opts->listen_count && i < MAX_LISTENERS; i++) {
		struct listener *li = &srv->listeners[i];
		snprintf(li->url, sizeof li->url, "%s", opts->listen[i]);
		li->probe = probe_needed(li->url);
		if (start_listener(srv, li, msg, msg_size) != 0) {
			server_close(srv);
			return -1;
		}
		srv->listener_count++;
		log_info("listening", "{s:s}", "url", opts->listen[i]);
	}
	pthread_mutex_lock(&srv->lock);
	for (size_t i = 0; i < srv->count; i++)
		item_recv_locked(&srv->items[i]);
	pthread_mutex_unlock(&srv->lock);
	for (size_t i = 0; i < srv->listener_count; i++)
		srv->watch_probes |= srv->listeners[i].probe;
	srv->watch_probes &= opts->probe_interval_ms > 0;
	if (srv->watch_probes || opts->conns != NULL) {
		if (pthread_create(&srv->watchdog, NULL, watchdog_main, srv) != 0) {
			snprintf(msg, msg_size, "cannot start the watchdog thread");
			server_close(srv);
			return -1;
		}
		srv->watchdog_running = true;
	}
	*out = srv;
	return 0;
}

size_t
server_drain(struct server *srv, long timeout_ms)
{
	struct timespec until = clock_mono_after(timeout_ms);

	pthread_mutex_lock(&srv->lock);
	srv->draining = true;
	/* Items waiting for a request stop waiting; items with a request
	 * finish it and then park themselves (item_recv_locked). */
	for (size_t i = 0; i < srv->count; i++) {
		if (srv->items[i].state == ITEM_RECV)
			nng_aio_cancel(srv->items[i].aio);
	}
	while (srv->busy > 0 || srv->receiving > 0) {
		if (pthread_cond_timedwait(&srv->idle, &srv->lock, &until) ==
		    ETIMEDOUT)
			break;
	}
	size_t left = srv->busy;
	pthread_mutex_unlock(&srv->lock);
	return left;
}

void
server_free(struct server *srv)
{
	if (srv != NULL)
		server_close(srv);
}
