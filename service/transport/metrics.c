/* Counters and histograms, rendered for Prometheus. */
#include "transport/metrics.h"

#include <stdatomic.h>
#include <stddef.h>

#include "base/status.h"
#include "rpc/method.h"

enum {
	MAX_METHODS = 64,
	CODES = 17, /* 0 to 16 */
};

/* Latency bucket bounds in microseconds; the last bucket is +Inf. */
static const uint64_t bounds_us[] = {100, 250, 500, 1000, 2500, 5000, 10000,
    25000, 50000, 100000, 250000, 500000, 1000000};
enum { BUCKETS = sizeof bounds_us / sizeof bounds_us[0] + 1 };

/* Row MAX_METHODS holds requests that named no known method. */
static _Atomic uint64_t requests[MAX_METHODS + 1][CODES];
static _Atomic uint64_t latency[MAX_METHODS + 1][BUCKETS];
static _Atomic uint64_t latency_sum_us[MAX_METHODS + 1];

void
metrics_request(int method, int code, uint64_t micros)
{
	size_t m = method >= 0 && method < MAX_METHODS ? (size_t)method
	                                                : MAX_METHODS;
	size_t c = code >= 0 && code < CODES ? (size_t)code : STATUS_INTERNAL;
	atomic_fetch_add_explicit(&requests[m][c], 1, memory_order_relaxed);
	size_t b = 0;
	while (b < BUCKETS - 1 && micros > bounds_us[b])
		b++;
	atomic_fetch_add_explicit(&latency[m][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&latency_sum_us[m], micros,
	    memory_order_relaxed);
}

static const char *
method_label(const struct method_table *t, size_t m)
{
	return m < t->count ? t->rows[m].name : "unknown";
}

/* metrics_render_replicas writes one sample per hot standby of each
 * replica metric, labelled by its place in --read-database-url (the URL
 * itself may hold a password). */
static void
metrics_render_replicas(FILE *out, const struct metrics_gauges *g)
{
	static const struct {
		const char *name, *type, *help;
	} series[] = {
	    {"exe_access_replica_up", "gauge",
	        "1 while the hot standby answers its health checks."},
	    {"exe_access_replica_in_rotation", "gauge",
	        "1 while reads go to the standby: up and within "
	        "--read-max-lag-ms."},
	    {"exe_access_replica_revision", "gauge",
	        "The revision the standby had applied at its last check."},
	    {"exe_access_replica_lag_revisions", "gauge",
	        "Revisions the primary is ahead of the standby."},
	    {"exe_access_replica_lag_seconds", "gauge",
	        "How long ago the primary passed the standby's revision."},
	    {"exe_access_replica_reads_total", "counter",
	        "Reads the standby answered."},
	};
	for (size_t k = 0; k < sizeof series / sizeof series[0]; k++) {
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", series[k].name,
		    series[k].help, series[k].name, series[k].type);
		for (size_t i = 0; i < g->replica_count; i++) {
			const struct replica_stats *r = &g->replicas[i];
			fprintf(out, "%s{replica=\"%zu\"} ", series[k].name, i);
			switch (k) {
			case 0: fprintf(out, "%d\n", r->up ? 1 : 0); break;
			case 1: fprintf(out, "%d\n", r->in_rotation ? 1 : 0); break;
			case 2:
				fprintf(out, "%llu\n",
				    (unsigned long long)r->revision);
				break;
			case 3:
				fprintf(out, "%llu\n",
				    (unsigned long long)r->lag_revisions);
				break;
			case 4:
				fprintf(out, "%.3f\n", (double)r->lag_ms / 1000.0);
				break;
			default:
				fprintf(out, "%llu\n", (unsigned long long)r->reads);
			}
		}
	}
}

void
metrics_render(FILE *out, const struct metrics_gauges *g)
{
	const struct method_table *t = g->methods;
	size_t rows = t->count < MAX_METHODS ? t->count : MAX_METHODS;
	fprintf(out, "# HELP exe_access_requests_total Requests answered, by "
	             "method and status code.\n"
	             "# TYPE exe_access_requests_total counter\n");
	for (size_t m = 0; m <= MAX_METHODS; m++) {
		if (m >= rows && m != MAX_METHODS)
			continue;
		for (size_t c = 0; c < CODES; c++) {
			uint64_t n = atomic_load(&requests[m][c]);
			if (n > 0)
				fprintf(out,
				    "exe_access_requests_total{method=\"%s\","
				    "code=\"%s\"} %llu\n",
				    method_label(t, m), status_name((int)c),
				    (unsigned long long)n);
		}
	}
	fprintf(out, "# HELP exe_access_request_duration_seconds Time from "
	             "receiving a request to handing its reply to nng.\n"
	             "# TYPE exe_access_request_duration_seconds histogram\n");
	for (size_t m = 0; m <= MAX_METHODS; m++) {
		if (m >= rows && m != MAX_METHODS)
			continue;
		uint64_t total = 0;
		for (size_t b = 0; b < BUCKETS; b++)
			total += atomic_load(&latency[m][b]);
		if (total == 0)
			continue;
		uint64_t cumulative = 0;
		for (size_t b = 0; b < BUCKETS; b++) {
			cumulative += atomic_load(&latency[m][b]);
			if (b < BUCKETS - 1)
				fprintf(out,
				    "exe_access_request_duration_seconds_bucket{"
				    "method=\"%s\",le=\"%g\"} %llu\n",
				    method_label(t, m), (double)bounds_us[b] / 1e6,
				    (unsigned long long)cumulative);
			else
				fprintf(out,
				    "exe_access_request_duration_seconds_bucket{"
				    "method=\"%s\",le=\"+Inf\"} %llu\n",
				    method_label(t, m), (unsigned long long)cumulative);
		}
		fprintf(out,
		    "exe_access_request_duration_seconds_sum{method=\"%s\"} "
		    "%.6f\n"
		    "exe_access_request_duration_seconds_count{method=\"%s\"} "
		    "%llu\n",
		    method_label(t, m), (double)atomic_load(&latency_sum_us[m]) / 1e6,
		    method_label(t, m), (unsigned long long)cumulative);
	}
	fprintf(out,
	    "# HELP exe_access_cache_hits_total Cache lookups answered.\n"
	    "# TYPE exe_access_cache_hits_total counter\n"
	    "exe_access_cache_hits_total %llu\n"
	    "# HELP exe_access_cache_misses_total Cache lookups not answered.\n"
	    "# TYPE exe_access_cache_misses_total counter\n"
	    "exe_access_cache_misses_total %llu\n"
	    "# HELP exe_access_cache_evictions_total Entries evicted for room.\n"
	    "# TYPE exe_access_cache_evictions_total counter\n"
	    "exe_access_cache_evictions_total %llu\n"
	    "# HELP exe_access_cache_entries Entries in the cache.\n"
	    "# TYPE exe_access_cache_entries gauge\n"
	    "exe_access_cache_entries %llu\n"
	    "# HELP exe_access_cache_revision Newest change-log revision the "
	    "cache has applied.\n"
	    "# TYPE exe_access_cache_revision gauge\n"
	    "exe_access_cache_revision %llu\n"
	    "# HELP exe_access_change_log_lag_seconds Time since the change log "
	    "was last read.\n"
	    "# TYPE exe_access_change_log_lag_seconds gauge\n"
	    "exe_access_change_log_lag_seconds %.3f\n"
	    "# HELP exe_access_db_pool_connections Database worker "
	    "connections.\n"
	    "# TYPE exe_access_db_pool_connections gauge\n"
	    "exe_access_db_pool_connections %zu\n"
	    "# HELP exe_access_db_pool_in_use Workers running a call.\n"
	    "# TYPE exe_access_db_pool_in_use gauge\n"
	    "exe_access_db_pool_in_use %zu\n"
	    "# HELP exe_access_db_pool_waiting Calls waiting for a worker.\n"
	    "# TYPE exe_access_db_pool_waiting gauge\n"
	    "exe_access_db_pool_waiting %zu\n"
	    "# HELP exe_access_db_grouped_calls_total Calls answered with "
	    "others by one database statement.\n"
	    "# TYPE exe_access_db_grouped_calls_total counter\n"
	    "exe_access_db_grouped_calls_total %llu\n",
	    (unsigned long long)g->cache.hits, (unsigned long long)g->cache.misses,
	    (unsigned long long)g->cache.evictions,
	    (unsigned long long)g->cache.entries,
	    (unsigned long long)g->cache.revision,
	    (double)g->cache_sync_age_ms / 1000.0, g->workers.total,
	    g->workers.busy, g->workers.queued,
	    (unsigned long long)g->workers.grouped);
	fprintf(out,
	    "# HELP exe_access_connections Connections open (nng pipes).\n"
	    "# TYPE exe_access_connections gauge\n"
	    "exe_access_connections %llu\n"
	    "# HELP exe_access_connections_refused_total Connections closed "
	    "at once because --max-connections were open.\n"
	    "# TYPE exe_access_connections_refused_total counter\n"
	    "exe_access_connections_refused_total %llu\n"
	    "# HELP exe_access_connections_timed_out_total Connections closed "
	    "for delivering no whole request within --recv-timeout-ms.\n"
	    "# TYPE exe_access_connections_timed_out_total counter\n"
	    "exe_access_connections_timed_out_total %llu\n"
	    "# HELP exe_access_tls_handshakes_timed_out_total tls+tcp:// "
	    "connections shut down with their handshake not done within "
	    "--recv-timeout-ms.\n"
	    "# TYPE exe_access_tls_handshakes_timed_out_total counter\n"
	    "exe_access_tls_handshakes_timed_out_total %llu\n",
	    (unsigned long long)g->conns.open,
	    (unsigned long long)g->conns.refused,
	    (unsigned long long)g->conns.timed_out,
	    (unsigned long long)g->conns.handshakes_timed_out);
	if (g->activity.known)
		fprintf(out,
		    "# HELP exe_access_activity_chain_length Records in the "
		    "activity log's hash chain at the last read "
		    "(--activity-anchor-interval-s).\n"
		    "# TYPE exe_access_activity_chain_length gauge\n"
		    "exe_access_activity_chain_length %llu\n"
		    "# HELP exe_access_activity_chain_head The chain's head at "
		    "that read: the hash of its newest record (label) and its "
		    "place (value), to keep elsewhere.\n"
		    "# TYPE exe_access_activity_chain_head gauge\n"
		    "exe_access_activity_chain_head{hash=\"%s\"} %llu\n",
		    (unsigned long long)g->activity.count, g->activity.hash_hex,
		    (unsigned long long)g->activity.count);
	if (g->replica_count > 0)
		metrics_render_replicas(out, g);
}
