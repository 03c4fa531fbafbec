/* exa-echo-server: a bare nng rep0 server that replies to every request
 * with the request itself. It uses the work-item pattern of
 * service/server.c (one nng_ctx and nng_aio per item, one callback state
 * machine) with no decoding and no work, so the benchmark's `echo` op
 * measures what nng itself costs: the limit no service on nng can beat.
 *
 *   exa-echo-server --listen URL [--listen URL ...] [--items N]
 *
 * It prints "ready" on stdout once listening and stops on SIGINT/SIGTERM. */
#include <getopt.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum item_state { ITEM_RECV, ITEM_SEND };

struct item {
	nng_aio *aio;
	nng_ctx ctx;
	enum item_state state;
};

enum { MAX_LISTEN = 8 };

static void
item_cb(void *arg)
{
	struct item *it = arg;
	int rv = nng_aio_result(it->aio);
	if (it->state == ITEM_SEND) {
		if (rv != 0) /* not taken: still ours */
			nng_msg_free(nng_aio_get_msg(it->aio));
		it->state = ITEM_RECV;
		nng_ctx_recv(it->ctx, it->aio);
		return;
	}
	if (rv != 0) {
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		nng_ctx_recv(it->ctx, it->aio);
		return;
	}
	/* The received message is the reply: nothing is copied. */
	it->state = ITEM_SEND;
	nng_ctx_send(it->ctx, it->aio);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: exa-echo-server --listen URL [--listen URL ...] "
	           "[--items N]\n");
}

int
main(int argc, char **argv)
{
	const char *listen[MAX_LISTEN];
	size_t nlisten = 0, nitems = 256;
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"items", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (nlisten == MAX_LISTEN) {
				fprintf(stderr, "at most %d --listen\n",
				    MAX_LISTEN);
				return 2;
			}
			listen[nlisten++] = optarg;
			break;
		case 'i': nitems = strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (nlisten == 0 || nitems == 0) {
		usage(stderr);
		return 2;
	}

	/* Signals are taken with sigwait below, not by nng's threads. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	nng_socket sock;
	int rv = nng_rep0_open(&sock);
	if (rv != 0) {
		fprintf(stderr, "nng_rep0_open: %s\n", nng_strerror(rv));
		return 1;
	}
	struct item *items = calloc(nitems, sizeof *items);
	if (items == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	int status = 1;
	size_t ready = 0;
	for (; ready < nitems; ready++) {
		struct item *it = &items[ready];
		if ((rv = nng_aio_alloc(&it->aio, item_cb, it)) != 0)
			break;
		if ((rv = nng_ctx_open(&it->ctx, sock)) != 0) {
			nng_aio_free(it->aio);
			break;
		}
	}
	if (ready < nitems) {
		fprintf(
		    stderr, "cannot set up work items: %s\n", nng_strerror(rv));
		goto out;
	}
	for (size_t i = 0; i < nlisten; i++) {
		if ((rv = nng_listen(sock, listen[i], NULL, 0)) != 0) {
			fprintf(stderr, "cannot listen on %s: %s\n", listen[i],
			    nng_strerror(rv));
			goto out;
		}
	}
	for (size_t i = 0; i < nitems; i++) {
		items[i].state = ITEM_RECV;
		nng_ctx_recv(items[i].ctx, items[i].aio);
	}
	printf("ready\n");
	fflush(stdout);
	int sig;
	sigwait(&sigs, &sig);
	status = 0;
out:
	/* Stop every aio, then free them, then close the contexts, then the
	 * socket (STYLE.md). */
	for (size_t i = 0; i < ready; i++)
		nng_aio_stop(items[i].aio);
	for (size_t i = 0; i < ready; i++) {
		nng_aio_free(items[i].aio);
		nng_ctx_close(items[i].ctx);
	}
	nng_close(sock);
	free(items);
	return status;
}
