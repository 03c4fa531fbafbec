/* Connection limits: pipes counted and timed in a lock-free table, and
 * unfinished TLS handshakes found through /proc (see conns.h). */
#define _GNU_SOURCE /* readlinkat, F_DUPFD_CLOEXEC under -std=c11 */
#include "transport/conns.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <urcu/urcu-bp.h>
#include <urcu/rculfhash.h>

#include "base/clock.h"
#include "base/log.h"

enum { CONNS_TLS_PORTS_MAX = 8 };

/* Where a TCP connection comes from: address bytes as they sit in memory
 * (network order), port in host order. */
struct conns_endpoint {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
};

struct conns_pipe {
	struct cds_lfht_node node;
	struct rcu_head rcu;
	uint32_t id;
	_Atomic int64_t last_ms; /* when it opened or last delivered a request */
	atomic_int in_flight;    /* requests received and not yet answered */
	bool tcp;                /* `from` is set */
	struct conns_endpoint from;
};

/* A TLS connection that was not a pipe at the last sweep. */
struct conns_pending {
	unsigned long inode;
	int64_t first_ms;
};

struct conns {
	size_t max;
	long recv_timeout_ms;
	struct cds_lfht *pipes;
	atomic_size_t open;
	_Atomic uint64_t refused, timed_out, handshakes_timed_out;
	int tls_ports[CONNS_TLS_PORTS_MAX];
	size_t tls_port_count;
	/* Owned by the sweeping thread. */
	struct conns_pending *pending;
	size_t pending_count;
	uint64_t logged_refused, logged_timed_out, logged_handshakes;
};

static unsigned long
conns_hash(uint32_t id)
{
	uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15u;
	return (unsigned long)(h ^ (h >> 29));
}

static int
conns_match(struct cds_lfht_node *node, const void *key)
{
	const struct conns_pipe *p =
	    caa_container_of(node, struct conns_pipe, node);
	return p->id == *(const uint32_t *)key;
}

/* conns_find returns the entry of pipe `id`; inside a read-side section. */
static struct conns_pipe *
conns_find(struct conns *c, uint32_t id)
{
	struct cds_lfht_iter iter;
	cds_lfht_lookup(c->pipes, conns_hash(id), conns_match, &id, &iter);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&iter);
	return n != NULL ? caa_container_of(n, struct conns_pipe, node) : NULL;
}

static void
conns_pipe_free(struct rcu_head *head)
{
	free(caa_container_of(head, struct conns_pipe, rcu));
}

/* conns_remote reads where a TCP pipe comes from; false for other
 * transports. */
static bool
conns_remote(nng_pipe pipe, struct conns_endpoint *out)
{
	nng_sockaddr sa;
	if (nng_pipe_get_addr(pipe, NNG_OPT_REMADDR, &sa) != 0)
		return false;
	memset(out, 0, sizeof *out);
	if (sa.s_family == NNG_AF_INET) {
		out->family = 4;
		memcpy(out->addr, &sa.s_in.sa_addr, 4);
		out->port = ntohs(sa.s_in.sa_port);
		return true;
	}
	if (sa.s_family == NNG_AF_INET6) {
		out->family = 6;
		memcpy(out->addr, sa.s_in6.sa_addr, 16);
		out->port = ntohs(sa.s_in6.sa_port);
		return true;
	}
	return false;
}

static void
conns_add_cb(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	(void)ev;
	struct conns *c = arg;
	size_t was = atomic_fetch_add(&c->open, 1);
	struct conns_pipe *p = NULL;
	if (c->max == 0 || was < c->max)
		p = calloc(1, sizeof *p);
	if (p == NULL) {
		/* Closed before the socket sees it: nng reports nothing more
		 * of this pipe. */
		atomic_fetch_sub(&c->open, 1);
		atomic_fetch_add(&c->refused, 1);
		nng_pipe_close(pipe);
		return;
	}
	cds_lfht_node_init(&p->node);
	p->id = nng_pipe_id(pipe);
	atomic_store(&p->last_ms, clock_mono_ms());
	p->tcp = conns_remote(pipe, &p->from);
	urcu_bp_read_lock();
	cds_lfht_add(c->pipes, conns_hash(p->id), &p->node);
	urcu_bp_read_unlock();
}

static void
conns_remove_cb(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	(void)ev;
	struct conns *c = arg;
	urcu_bp_read_lock();
	struct conns_pipe *p = conns_find(c, nng_pipe_id(pipe));
	if (p != NULL && cds_lfht_del(c->pipes, &p->node) == 0) {
		atomic_fetch_sub(&c->open, 1);
		urcu_bp_call_rcu(&p->rcu, conns_pipe_free);
	}
	urcu_bp_read_unlock();
}

int
conns_new(struct conns **out, const struct conns_options *opts)
{
	struct conns *c = calloc(1, sizeof *c);
	if (c == NULL)
		return -1;
	c->max = opts->max;
	c->recv_timeout_ms = opts->recv_timeout_ms;
	c->pipes = cds_lfht_new_flavor(1024, 1024, 0,
	    CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, &urcu_bp_flavor, NULL);
	if (c->pipes == NULL) {
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int
conns_attach(struct conns *c, nng_socket sock)
{
	int rv = nng_pipe_notify(sock, NNG_PIPE_EV_ADD_PRE, conns_add_cb, c);
	if (rv == 0)
		rv = nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, conns_remove_cb,
		    c);
	return rv;
}

void
conns_watch_tls_port(struct conns *c, int port)
{
	for (size_t i = 0; i < c->tls_port_count; i++)
		if (c->tls_ports[i] == port)
			return;
	if (c->tls_port_count < CONNS_TLS_PORTS_MAX && port > 0)
		c->tls_ports[c->tls_port_count++] = port;
}

void
conns_request_begin(struct conns *c, nng_pipe pipe)
{
	if (c == NULL)
		return;
	urcu_bp_read_lock();
	struct conns_pipe *p = conns_find(c, nng_pipe_id(pipe));
	if (p != NULL) {
		atomic_fetch_add(&p->in_flight, 1);
		atomic_store_explicit(&p->last_ms, clock_mono_ms(),
		    memory_order_relaxed);
	}
	urcu_bp_read_unlock();
}

void
conns_request_end(struct conns *c, nng_pipe pipe)
{
	if (c == NULL)
		return;
	urcu_bp_read_lock();
	struct conns_pipe *p = conns_find(c, nng_pipe_id(pipe));
	if (p != NULL) {
		/* The timeout runs from the reply: a peer waiting for a slow
		 * answer has delivered its request. */
		atomic_store_explicit(&p->last_ms, clock_mono_ms(),
		    memory_order_relaxed);
		atomic_fetch_sub(&p->in_flight, 1);
	}
	urcu_bp_read_unlock();
}

/* conns_idle_expired says whether `p` has had nothing in progress and
 * delivered no request since `before`. */
static bool
conns_idle_expired(struct conns_pipe *p, int64_t before)
{
	return atomic_load(&p->in_flight) == 0 &&
	    atomic_load_explicit(&p->last_ms, memory_order_relaxed) < before;
}

/* conns_sweep_idle closes the pipes that timed out. */
static void
conns_sweep_idle(struct conns *c, int64_t now)
{
	int64_t before = now - c->recv_timeout_ms;
	size_t cap = atomic_load(&c->open) + 16, n = 0;
	uint32_t *ids = malloc(cap * sizeof *ids);
	if (ids == NULL)
		return;
	struct cds_lfht_iter iter;
	struct conns_pipe *p;
	urcu_bp_read_lock();
	cds_lfht_for_each_entry(c->pipes, &iter, p, node) {
		if (n < cap && conns_idle_expired(p, before))
			ids[n++] = p->id;
	}
	urcu_bp_read_unlock();
	for (size_t i = 0; i < n; i++) {
		/* Looked at again: a request may have arrived meanwhile. */
		urcu_bp_read_lock();
		p = conns_find(c, ids[i]);
		bool expired = p != NULL && conns_idle_expired(p, before);
		urcu_bp_read_unlock();
		if (expired && nng_pipe_close((nng_pipe){.id = ids[i]}) == 0)
			atomic_fetch_add(&c->timed_out, 1);
	}
	free(ids);
}

static int
conns_endpoint_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct conns_endpoint));
}

/* conns_parse_hex_addr reads the address of a /proc/net/tcp{,6} line: 8
 * hex digits per 32-bit word, each word as it sits in memory. */
static bool
conns_parse_hex_addr(const char *hex, uint8_t *addr, size_t words)
{
	if (strlen(hex) != words * 8)
		return false;
	for (size_t w = 0; w < words; w++) {
		char word[9];
		memcpy(word, hex + 8 * w, 8);
		word[8] = '\0';
		uint32_t v = (uint32_t)strtoul(word, NULL, 16);
		memcpy(addr + 4 * w, &v, 4);
	}
	return true;
}

/* conns_not_pipes lists (in *out, *n) the inodes of established
 * connections to the watched ports whose far end is no pipe's. */
static void
conns_not_pipes(struct conns *c, const char *path, int family,
    const struct conns_endpoint *known, size_t known_count,
    unsigned long **out, size_t *n, size_t *cap)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	char line[512];
	if (fgets(line, sizeof line, f) == NULL) { /* the header */
		fclose(f);
		return;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char lhex[33], rhex[33];
		unsigned lport, rport, state;
		unsigned long inode;
		if (sscanf(line,
		        " %*u: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %x %*s %*s "
		        "%*s %*u %*u %lu",
		        lhex, &lport, rhex, &rport, &state, &inode) != 6 ||
		    state != 1 /* TCP_ESTABLISHED */ || inode == 0)
			continue;
		bool watched = false;
		for (size_t i = 0; i < c->tls_port_count; i++)
			watched |= (unsigned)c->tls_ports[i] == lport;
		if (!watched)
			continue;
		struct conns_endpoint from;
		memset(&from, 0, sizeof from);
		from.family = (uint8_t)family;
		from.port = (uint16_t)rport;
		if (!conns_parse_hex_addr(rhex, from.addr, family == 4 ? 1 : 4))
			continue;
		if (bsearch(&from, known, known_count, sizeof *known,
		        conns_endpoint_cmp) != NULL)
			continue;
		if (*n == *cap) {
			size_t grown = *cap ? 2 * *cap : 64;
			unsigned long *g = realloc(*out, grown * sizeof *g);
			if (g == NULL)
				break;
			*out = g;
			*cap = grown;
		}
		(*out)[(*n)++] = inode;
	}
	fclose(f);
}

static int
conns_inode_cmp(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;
	return x < y ? -1 : x > y;
}

/* conns_shut_sockets shuts down every socket of this process whose inode
 * is in `inodes` (sorted). The socket is checked on a duplicate of its
 * descriptor, so a descriptor closed and reused meanwhile is never
 * touched; nng sees the end of the stream and closes its own. */
static uint64_t
conns_shut_sockets(const unsigned long *inodes, size_t n)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return 0;
	uint64_t shut = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char link[64];
		ssize_t len = readlinkat(dirfd(d), e->d_name, link,
		    sizeof link - 1);
		unsigned long inode;
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &inode) != 1 ||
		    bsearch(&inode, inodes, n, sizeof *inodes,
		        conns_inode_cmp) == NULL)
			continue;
		int fd = fcntl(atoi(e->d_name), F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    st.st_ino == inode && shutdown(fd, SHUT_RDWR) == 0)
			shut++;
		close(fd);
	}
	closedir(d);
	return shut;
}

/* conns_sweep_handshakes shuts down connections to the TLS ports that
 * have not become pipes within the timeout. */
static void
conns_sweep_handshakes(struct conns *c, int64_t now)
{
	/* Where every TCP pipe comes from, sorted. */
	size_t cap = atomic_load(&c->open) + 16, known_count = 0;
	struct conns_endpoint *known = calloc(cap, sizeof *known);
	if (known == NULL)
		return;
	struct cds_lfht_iter iter;
	struct conns_pipe *p;
	urcu_bp_read_lock();
	cds_lfht_for_each_entry(c->pipes, &iter, p, node) {
		if (known_count < cap && p->tcp)
			known[known_count++] = p->from;
	}
	urcu_bp_read_unlock();
	qsort(known, known_count, sizeof *known, conns_endpoint_cmp);

	unsigned long *found = NULL;
	size_t n = 0, found_cap = 0;
	conns_not_pipes(c, "/proc/self/net/tcp", 4, known, known_count, &found,
	    &n, &found_cap);
	conns_not_pipes(c, "/proc/self/net/tcp6", 6, known, known_count,
	    &found, &n, &found_cap);
	free(known);

	/* Carry over when each was first seen; expire the old ones. */
	struct conns_pending *next = n > 0 ? calloc(n, sizeof *next) : NULL;
	unsigned long *expired = n > 0 ? calloc(n, sizeof *expired) : NULL;
	size_t expired_count = 0;
	if (n > 0 && (next == NULL || expired == NULL))
		n = 0; /* out of memory: start again next time */
	for (size_t i = 0; i < n; i++) {
		next[i].inode = found[i];
		next[i].first_ms = now;
		for (size_t j = 0; j < c->pending_count; j++)
			if (c->pending[j].inode == found[i])
				next[i].first_ms = c->pending[j].first_ms;
		if (now - next[i].first_ms >= c->recv_timeout_ms)
			expired[expired_count++] = found[i];
	}
	free(found);
	free(c->pending);
	c->pending = next;
	c->pending_count = n;
	if (expired_count > 0) {
		qsort(expired, expired_count, sizeof *expired, conns_inode_cmp);
		atomic_fetch_add(&c->handshakes_timed_out,
		    conns_shut_sockets(expired, expired_count));
	}
	free(expired);
}

void
conns_sweep(struct conns *c, bool may_close_idle)
{
	int64_t now = clock_mono_ms();
	if (c->recv_timeout_ms > 0 && may_close_idle)
		conns_sweep_idle(c, now);
	if (c->recv_timeout_ms > 0 && c->tls_port_count > 0)
		conns_sweep_handshakes(c, now);
	struct conns_stats st;
	conns_stats(c, &st);
	if (st.refused != c->logged_refused ||
	    st.timed_out != c->logged_timed_out ||
	    st.handshakes_timed_out != c->logged_handshakes) {
		log_warn("connections_closed", "{s:I, s:I, s:I, s:I, s:I}",
		    "refused", (json_int_t)(st.refused - c->logged_refused),
		    "timed_out", (json_int_t)(st.timed_out - c->logged_timed_out),
		    "handshakes_timed_out",
		    (json_int_t)(st.handshakes_timed_out - c->logged_handshakes),
		    "open", (json_int_t)st.open, "max", (json_int_t)c->max);
		c->logged_refused = st.refused;
		c->logged_timed_out = st.timed_out;
		c->logged_handshakes = st.handshakes_timed_out;
	}
}

long
conns_sweep_interval_ms(const struct conns *c)
{
	if (c->recv_timeout_ms <= 0)
		return 1000; /* still logs what was refused */
	long t = c->recv_timeout_ms / 4;
	return t < 50 ? 50 : t > 1000 ? 1000 : t;
}

void
conns_stats(struct conns *c, struct conns_stats *out)
{
	memset(out, 0, sizeof *out);
	if (c == NULL)
		return;
	out->open = atomic_load(&c->open);
	out->refused = atomic_load(&c->refused);
	out->timed_out = atomic_load(&c->timed_out);
	out->handshakes_timed_out = atomic_load(&c->handshakes_timed_out);
}

void
conns_free(struct conns *c)
{
	if (c == NULL)
		return;
	struct cds_lfht_iter iter;
	struct conns_pipe *p;
	urcu_bp_read_lock();
	cds_lfht_for_each_entry(c->pipes, &iter, p, node) {
		if (cds_lfht_del(c->pipes, &p->node) == 0)
			urcu_bp_call_rcu(&p->rcu, conns_pipe_free);
	}
	urcu_bp_read_unlock();
	urcu_bp_barrier();
	cds_lfht_destroy(c->pipes, NULL);
	free(c->pending);
	free(c);
}
