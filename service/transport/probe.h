/* Listener probes: does a listener still complete new connections?
 *
 * nng 1.5.2 (Debian 12's) has a bug (nng#1518, fixed in 1.6.0): a peer
 * that connects to an ipc:// (or tls+tcp://) listener and goes away before
 * the SP handshake leaves that listener accepting nothing more, so every
 * new client hangs. The server probes such listeners and restarts one that
 * stops completing connections. */
#ifndef EXE_PROBE_H
#define EXE_PROBE_H

#include <stdbool.h>

/* probe_listener dials `url` from a throwaway socket, sends an empty
 * request and says whether the reply came within `timeout_ms` each for
 * sending and receiving. A tls+tcp:// URL is dialed without verifying the
 * certificate (it is our own). */
bool probe_listener(const char *url, int timeout_ms);

/* probe_needed says whether listeners of this URL's transport need the
 * probe (ipc:// and tls+tcp://; tcp:// does not have the bug). */
bool probe_needed(const char *url);

#endif
