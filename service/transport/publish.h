/* The change hint publisher (--publish URL): an nng pub0 socket on which
 * each new revision the change-log feeder reads is sent as a ChangeHint,
 * so that subscribers (the client library's local cache) need not poll.
 * A hint only: pub0 drops messages a slow subscriber cannot take, and
 * correctness never depends on it, exactly like LISTEN/NOTIFY. */
#ifndef EXE_PUBLISH_H
#define EXE_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

struct publisher;

/* publisher_open listens on `url` (ipc:// or tcp://). Returns 0, or -1
 * with the reason in `msg`. */
int publisher_open(struct publisher **out, const char *url, char *msg,
    size_t size) __attribute__((warn_unused_result));

/* publisher_revision sends a hint for `revision`; never blocks. It has the
 * signature of the feeder's callback (cache_feed_fn): `arg` is the
 * publisher. */
void publisher_revision(void *arg, uint64_t revision);

/* publisher_close closes the socket. NULL is fine. */
void publisher_close(struct publisher *p);

#endif
