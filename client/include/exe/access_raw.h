/* libexeaccess: one typed call per RPC method of exe.access.v1, for tools
 * that administer ExE Access (the exe-access CLI is one). A backend that
 * only asks "may this principal do this?" needs <exe/access.h> alone.
 *
 *     Exe__Access__V1__GetUserRequest req = EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
 *     req.user_id = id;
 *     Exe__Access__V1__GetUserResponse *resp;
 *     if (exa_get_user(client, &req, &resp, &err) == EXA_OK) { ...; exa_free(resp); }
 *
 * Each is exa_<method in snake_case> (Check's is exa_authz_check), takes
 * the method's request message and returns its response message, to be
 * freed with exa_free; the list is expanded from the .proto services
 * (exe/access/v1/methods.h), so it always has every method. */
#ifndef EXE_ACCESS_RAW_H
#define EXE_ACCESS_RAW_H

#include <exe/access.h>
#include <exe/access/v1/methods.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EXA_METHOD_DECL(Svc, svc, Method, method, fn, Req, req, Resp, resp)  \
	exa_status exa_##fn(exa_client *c,                                    \
	    const Exe__Access__V1__##Req *request,                            \
	    Exe__Access__V1__##Resp **response, exa_error *err);

EXA_METHOD_LIST(EXA_METHOD_DECL)

#undef EXA_METHOD_DECL

#ifdef __cplusplus
}
#endif

#endif
