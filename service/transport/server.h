/* The nng transport: one rep0 socket listening on every configured URL,
 * served by a pool of work items {nng_ctx, nng_aio, state, call} driven by
 * one callback state machine (as in nng's demo/async/server.c). Callbacks
 * decode and validate inline and hand database work to the worker pool;
 * replies are sent from whichever thread finished the call. */
#ifndef EXE_SERVER_H
#define EXE_SERVER_H

#include <stddef.h>

#include "rpc/call.h"
#include "store/replicas.h"
#include "store/workers.h"
#include "transport/conns.h"

struct server;

struct server_options {
	const char *const *listen;
	size_t listen_count;
	size_t items;     /* requests served at once */
	size_t max_bytes; /* largest request and response */
	const char *tls_cert_file; /* for tls+tcp:// URLs */
	const char *tls_key_file;
	long probe_interval_ms;    /* listener watchdog (probe.h); 0: off */
	/* Hot standbys for pure reads (replicas.h); NULL: none. Stop them
	 * before the primary's workers: a read a standby cannot serve is
	 * handed to the primary's. */
	struct replicas *replicas;
	/* Connection limits (conns.h); NULL: none. Must outlive the
	 * server. */
	struct conns *conns;
};

/* server_start opens the socket, starts listening on every URL and starts
 * receiving, and a watchdog thread that restarts an ipc:// or tls+tcp://
 * listener which stops completing connections (probe.h) and sweeps the
 * connections that timed out (conns.h). `opts` must outlive the
 * server. Returns 0, or -1 with the reason in `msg` (nothing is left
 * open). */
int server_start(struct server **out, const struct server_options *opts,
    struct workers *workers, const struct service_ctx *svc, char *msg,
    size_t msg_size) __attribute__((warn_unused_result));

/* server_drain stops taking new requests and waits up to `timeout_ms` for
 * every request already received to be answered. Returns how many were
 * still unanswered at the end (0 on a clean drain). */
size_t server_drain(struct server *srv, long timeout_ms);

/* server_free stops every aio, frees the items, closes the contexts and the
 * socket. Call after server_drain and after the database workers have
 * stopped (a job replies through its item). NULL is fine. */
void server_free(struct server *srv);

#endif
