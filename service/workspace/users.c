/* Sign-up and user look-ups: input rules, the API key minted at sign-up,
 * who may read whom (for an actor, or as the service), and the responses.
 * The SQL lives in store/users.c. */
#include "workspace/users.h"

#include <sodium.h>
#include <string.h>

#include "base/secrets.h"
#include "base/status.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/validate.h"
#include "store/db.h"
#include "store/users.h"
#include "workspace/actor.h"

int
users_create_validate(struct call *call)
{
	const Exe__Access__V1__CreateUserRequest *req =
	    (const Exe__Access__V1__CreateUserRequest *)call->request;
	int rc = validate_username("username", req->username, call->message,
	    sizeof call->message);
	if (rc == STATUS_OK)
		rc = validate_email("email", req->email, call->message,
		    sizeof call->message);
	if (rc == STATUS_OK)
		rc = validate_text("display_name", req->display_name,
		    LIMIT_DISPLAY_NAME, false, call->message,
		    sizeof call->message);
	call->code = rc;
	return rc;
}

int
users_create(struct call *call)
{
	const Exe__Access__V1__CreateUserRequest *req =
	    (const Exe__Access__V1__CreateUserRequest *)call->request;
	Exe__Access__V1__CreateUserResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__CreateUserResponse,
	    exe__access__v1__create_user_response__init);
	char *secret = call_secret(call, SECRET_API_KEY_LEN + 1);
	if (resp == NULL || secret == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	secret_generate(SECRET_API_KEY, secret);
	struct secret_stored stored;
	secret_stored_form(secret, call->svc->hash_key, &stored);

	struct new_user u = {
	    .username = req->username,
	    .email = req->email,
	    .display_name = req->display_name,
	    .key_hash_hex = stored.hash_hex,
	    .key_display = stored.display,
	};
	int rc = store_user_create(call, &u, resp);
	if (rc == STATUS_OK) {
		resp->api_key = secret;
		call->response = &resp->base;
	}
	return rc;
}

/* users_reader is the user a look-up reads for: the actor (validated a
 * user), or NULL for the service. */
static const char *
users_reader(const Exe__Access__V1__Principal *actor)
{
	return actor != NULL ? actor->user_id : NULL;
}

int
users_get_validate(struct call *call)
{
	const Exe__Access__V1__GetUserRequest *req =
	    (const Exe__Access__V1__GetUserRequest *)call->request;
	int rc = validate_uuid("user_id", req->user_id, true, call->message,
	    sizeof call->message);
	if (rc == STATUS_OK)
		rc = actor_or_service(call, req->actor, "read users");
	call->code = rc;
	return rc;
}

int
users_get(struct call *call)
{
	const Exe__Access__V1__GetUserRequest *req =
	    (const Exe__Access__V1__GetUserRequest *)call->request;
	Exe__Access__V1__GetUserResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__GetUserResponse, exe__access__v1__get_user_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	int rc = store_user_get(call, USER_BY_ID, req->user_id,
	    users_reader(req->actor), &resp->user);
	if (rc == STATUS_OK)
		call->response = &resp->base;
	return rc;
}

int
users_find_validate(struct call *call)
{
	const Exe__Access__V1__FindUserRequest *req =
	    (const Exe__Access__V1__FindUserRequest *)call->request;
	int rc;
	switch (req->by_case) {
	case EXE__ACCESS__V1__FIND_USER_REQUEST__BY_USERNAME:
		rc = validate_text("username", req->username, LIMIT_USERNAME,
		    true, call->message, sizeof call->message);
		break;
	case EXE__ACCESS__V1__FIND_USER_REQUEST__BY_EMAIL:
		rc = validate_text("email", req->email, LIMIT_EMAIL, true,
		    call->message, sizeof call->message);
		break;
	default:
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "by: give a username or an email");
	}
	if (rc == STATUS_OK)
		rc = actor_or_service(call, req->actor, "read users");
	call->code = rc;
	return rc;
}

int
users_find(struct call *call)
{
	const Exe__Access__V1__FindUserRequest *req =
	    (const Exe__Access__V1__FindUserRequest *)call->request;
	Exe__Access__V1__FindUserResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__FindUserResponse,
	    exe__access__v1__find_user_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	const char *reader = users_reader(req->actor);
	int rc = req->by_case == EXE__ACCESS__V1__FIND_USER_REQUEST__BY_USERNAME
	    ? store_user_get(call, USER_BY_USERNAME, req->username, reader,
	          &resp->user)
	    : store_user_get(call, USER_BY_EMAIL, req->email, reader,
	          &resp->user);
	if (rc == STATUS_OK)
		call->response = &resp->base;
	return rc;
}
