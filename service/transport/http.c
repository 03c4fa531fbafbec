/* /healthz, /readyz and /metrics on nng's HTTP server. */
#include "transport/http.h"

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "transport/metrics.h"

struct http {
	nng_http_server *server;
	const struct http_sources *src;
};

static void
reply(nng_aio *aio, uint16_t status, const char *type, const char *body,
    size_t len)
{
	nng_http_res *res;
	int rv = nng_http_res_alloc(&res);
	if (rv == 0)
		rv = nng_http_res_set_status(res, status);
	if (rv == 0)
		rv = nng_http_res_set_header(res, "Content-Type", type);
	if (rv == 0)
		rv = nng_http_res_copy_data(res, body, len);
	if (rv != 0) {
		if (res != NULL)
			nng_http_res_free(res);
		nng_aio_finish(aio, rv);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static const struct http_sources *
sources(nng_aio *aio)
{
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	const struct http *http = nng_http_handler_get_data(h);
	return http->src;
}

static void
healthz_cb(nng_aio *aio)
{
	reply(aio, 200, "text/plain", "ok\n", 3);
}

static void
readyz_cb(nng_aio *aio)
{
	const struct http_sources *src = sources(aio);
	int64_t age = cache_sync_age_ms(src->cache);
	char body[200];
	if (age <= src->ready_within_ms) {
		int n = snprintf(body, sizeof body, "ready\n");
		reply(aio, 200, "text/plain", body, (size_t)n);
		return;
	}
	int n = snprintf(body, sizeof body,
	    "not ready: the database has not been read for %lld ms\n",
	    (long long)age);
	reply(aio, 503, "text/plain", body, (size_t)n);
}

static void
metrics_cb(nng_aio *aio)
{
	const struct http_sources *src = sources(aio);
	struct metrics_gauges g = {.methods = src->methods};
	cache_stats(src->cache, &g.cache);
	g.cache_sync_age_ms = cache_sync_age_ms(src->cache);
	workers_stats(src->workers, &g.workers);
	conns_stats(src->conns, &g.conns);
	anchor_last(src->anchor, &g.activity);
	g.replica_count = replicas_count(src->replicas);
	for (size_t i = 0; i < g.replica_count; i++)
		replicas_stats(src->replicas, i, &g.replicas[i]);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (out == NULL) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	metrics_render(out, &g);
	fclose(out);
	reply(aio, 200, "text/plain; version=0.0.4", text, len);
	free(text);
}

int
http_start(struct http **out, const char *url, const struct http_sources *src,
    char *msg, size_t msg_size)
{
	struct http *h = calloc(1, sizeof *h);
	if (h == NULL) {
		snprintf(msg, msg_size, "out of memory");
		return -1;
	}
	h->src = src;
	nng_url *u = NULL;
	int rv = nng_url_parse(&u, url);
	if (rv != 0 || strcmp(u->u_scheme, "http") != 0) {
		snprintf(msg, msg_size,
		    "--metrics-address: \"%s\" is not an http://HOST:PORT URL",
		    url);
		nng_url_free(u);
		free(h);
		return -1;
	}
	rv = nng_http_server_hold(&h->server, u);
	nng_url_free(u);
	static const struct {
		const char *path;
		void (*cb)(nng_aio *);
	} routes[] = {
	    {"/healthz", healthz_cb},
	    {"/readyz", readyz_cb},
	    {"/metrics", metrics_cb},
	};
	for (size_t i = 0; rv == 0 && i < sizeof routes / sizeof routes[0]; i++) {
		nng_http_handler *handler;
		rv = nng_http_handler_alloc(&handler, routes[i].path, routes[i].cb);
		if (rv == 0)
			rv = nng_http_handler_set_data(handler, h, NULL);
		if (rv == 0)
			rv = nng_http_server_add_handler(h->server, handler);
		else
			nng_http_handler_free(handler);
	}
	if (rv == 0)
		rv = nng_http_server_start(h->server);
	if (rv != 0) {
		snprintf(msg, msg_size, "--metrics-address: cannot serve on %s: %s",
		    url, nng_strerror(rv));
		if (h->server != NULL)
			nng_http_server_release(h->server);
		free(h);
		return -1;
	}
	log_info("metrics_listening", "{s:s}", "url", url);
	*out = h;
	return 0;
}

void
http_stop(struct http *h)
{
	if (h == NULL)
		return;
	nng_http_server_stop(h->server);
	nng_http_server_release(h->server);
	free(h);
}
