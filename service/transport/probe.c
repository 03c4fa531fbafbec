/* A throwaway req0 socket, one empty request, a bounded wait. */
#include "transport/probe.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <string.h>

bool
probe_needed(const char *url)
{
	return strncmp(url, "ipc://", 6) == 0 || strncmp(url, "tls+", 4) == 0;
}

bool
probe_listener(const char *url, int timeout_ms)
{
	nng_socket s;
	nng_dialer d;
	nng_tls_config *cfg = NULL;
	bool ok = false;
	if (nng_req0_open(&s) != 0)
		return false;
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, timeout_ms);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms);
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	int rv = nng_dialer_create(&d, s, url);
	/* One attempt: a probe refused (the service at --max-connections)
	 * must not redial, as nng 1.5.2 leaks a dialer closed in the middle
	 * of a redial. */
	if (rv == 0)
		rv = nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, 3600 * 1000);
	if (rv == 0)
		rv = nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, 3600 * 1000);
	if (rv == 0 && strncmp(url, "tls+", 4) == 0) {
		rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT);
		if (rv == 0)
			rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_NONE);
		if (rv == 0)
			rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
	}
	if (rv == 0)
		rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	/* A completed handshake is not enough: with nng#1518 the client's
	 * side completes while the server never takes the connection. Only
	 * a reply proves the listener serves. The service answers an empty
	 * request at once, without counting it. */
	nng_msg *msg = NULL;
	if (rv == 0 && nng_msg_alloc(&msg, 0) == 0) {
		if (nng_sendmsg(s, msg, 0) != 0) {
			nng_msg_free(msg);
		} else if (nng_recvmsg(s, &msg, 0) == 0) {
			nng_msg_free(msg);
			ok = true;
		}
	}
	nng_close(s);
	if (cfg != NULL)
		nng_tls_config_free(cfg);
	return ok;
}
