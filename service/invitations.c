/* Not built yet: every method answers UNIMPLEMENTED. */
#include "invitations.h"

#include "dispatch.h"
#include "status.h"

int
invitations_create_validate(struct call *call)
{
	(void)call;
	return STATUS_OK;
}

int
invitations_create(struct call *call)
{
	return call_fail(call, STATUS_UNIMPLEMENTED,
	    "%s is not implemented yet", call->method->name);
}

int
invitations_list_validate(struct call *call)
{
	(void)call;
	return STATUS_OK;
}

int
invitations_list(struct call *call)
{
	return call_fail(call, STATUS_UNIMPLEMENTED,
	    "%s is not implemented yet", call->method->name);
}

int
invitations_revoke_validate(struct call *call)
{
	(void)call;
	return STATUS_OK;
}

int
invitations_revoke(struct call *call)
{
	return call_fail(call, STATUS_UNIMPLEMENTED,
	    "%s is not implemented yet", call->method->name);
}

int
invitations_answer_validate(struct call *call)
{
	(void)call;
	return STATUS_OK;
}

int
invitations_accept(struct call *call)
{
	return call_fail(call, STATUS_UNIMPLEMENTED,
	    "%s is not implemented yet", call->method->name);
}

int
invitations_decline(struct call *call)
{
	return call_fail(call, STATUS_UNIMPLEMENTED,
	    "%s is not implemented yet", call->method->name);
}
