/* Connection limits for the nng socket. Every connection holds a file
 * descriptor, and nng 1.5.2 holds one as long as its peer keeps it open:
 * a client that sends half a request and stalls, or never finishes a TLS
 * handshake, would keep its descriptor for ever, and a few hundred of them
 * exhaust the process's open-file limit. This module bounds them:
 *
 * - at most `max` connections (nng pipes) at once: one more is closed as
 *   soon as its SP handshake is done, and counted as refused;
 * - a connection with no request in progress that has not delivered a
 *   whole request for `recv_timeout_ms` is closed (a stalled or idle
 *   peer; clients reconnect on their next call), and counted as timed out;
 * - on tls+tcp:// ports, a connection that is still not a pipe after
 *   `recv_timeout_ms` (its TLS handshake, or the SP one behind it, has not
 *   finished) is shut down, and counted as a timed-out handshake. nng
 *   closes unfinished SP handshakes on tcp:// and ipc:// by itself after
 *   10 s, but not unfinished TLS ones, which it cannot see as pipes: those
 *   are found in /proc/self/net/tcp{,6} and their sockets in /proc/self/fd.
 *
 * Pipes are kept in a liburcu lock-free hash table, so that noting a
 * request on the receive path costs a lookup and two atomic writes. */
#ifndef EXE_CONNS_H
#define EXE_CONNS_H

#include <nng/nng.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conns;

struct conns_options {
	size_t max;           /* connections open at once; 0: no limit */
	long recv_timeout_ms; /* see above; 0: never time out */
};

/* conns_new makes the limits; attach them to a socket with conns_attach.
 * Returns 0, or -1 when out of memory. */
int conns_new(struct conns **out, const struct conns_options *opts)
    __attribute__((warn_unused_result));

/* conns_attach registers the pipe callbacks on `sock`; before it listens.
 * Returns 0 or an nng error. */
int conns_attach(struct conns *c, nng_socket sock)
    __attribute__((warn_unused_result));

/* conns_watch_tls_port has conns_sweep look for unfinished handshakes on
 * local TCP port `port` (a tls+tcp:// listener's). At most 8 ports. */
void conns_watch_tls_port(struct conns *c, int port);

/* conns_request_begin notes that a whole request arrived on `pipe`, and
 * conns_request_end that its reply was sent or given up: a connection is
 * timed out only with nothing between the two. NULL `c` is fine. */
void conns_request_begin(struct conns *c, nng_pipe pipe);
void conns_request_end(struct conns *c, nng_pipe pipe);

/* conns_sweep closes what has timed out (see above) and logs what was
 * refused or timed out since the last sweep. With `may_close_idle` false
 * (no work item free to take a request, so one may be queued in nng
 * unseen) idle pipes are left alone this time. Run it from one thread,
 * a few times per timeout. */
void conns_sweep(struct conns *c, bool may_close_idle);

/* conns_sweep_interval_ms is how often conns_sweep should run: a quarter
 * of the timeout, within 50 ms to 1 s (1 s with no timeout, for the log). */
long conns_sweep_interval_ms(const struct conns *c);

struct conns_stats {
	uint64_t open;                 /* pipes open now */
	uint64_t refused;              /* closed at once: `max` were open */
	uint64_t timed_out;            /* pipes closed by the receive timeout */
	uint64_t handshakes_timed_out; /* TLS connections shut down */
};

/* conns_stats reads the counters; all zero for NULL `c`. */
void conns_stats(struct conns *c, struct conns_stats *out);

/* conns_free frees the limits; after the socket is closed. NULL is fine. */
void conns_free(struct conns *c);

#endif
