/* The pub0 socket of --publish. */
#include "transport/publish.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "exe/access/v1/authz.pb-c.h"

struct publisher {
	nng_socket sock;
};

int
publisher_open(struct publisher **out, const char *url, char *msg,
    size_t size)
{
	if (strncmp(url, "ipc://", 6) != 0 && strncmp(url, "tcp://", 6) != 0) {
		snprintf(msg, size, "--publish: \"%s\" is not an ipc:// or "
		    "tcp:// URL", url);
		return -1;
	}
	struct publisher *p = calloc(1, sizeof *p);
	if (p == NULL) {
		snprintf(msg, size, "out of memory");
		return -1;
	}
	int rv = nng_pub0_open(&p->sock);
	if (rv == 0)
		rv = nng_listen(p->sock, url, NULL, 0);
	if (rv != 0) {
		snprintf(msg, size, "--publish %s: %s", url, nng_strerror(rv));
		nng_close(p->sock);
		free(p);
		return -1;
	}
	log_info("publishing", "{s:s}", "url", url);
	*out = p;
	return 0;
}

void
publisher_revision(void *arg, uint64_t revision)
{
	struct publisher *p = arg;
	Exe__Access__V1__ChangeHint hint = EXE__ACCESS__V1__CHANGE_HINT__INIT;
	hint.revision = revision;
	uint8_t buf[16];
	size_t len = exe__access__v1__change_hint__pack(&hint, buf);
	/* pub0 never blocks: a subscriber that cannot keep up loses hints,
	 * and reads the log at its own interval. */
	(void)nng_send(p->sock, buf, len, NNG_FLAG_NONBLOCK);
}

void
publisher_close(struct publisher *p)
{
	if (p == NULL)
		return;
	nng_close(p->sock);
	free(p);
}
