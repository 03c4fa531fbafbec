/* Not built yet: every method answers UNIMPLEMENTED. */
#include "resources.h"

#include "dispatch.h"
#include "status.h"

int
resources_register_validate(struct call *call)
{
	(void)call;
	return STATUS_OK;
}

int
resources_register(struct call *call)
{
	return call_fail(call, STATUS_UNIMPLEMENTED,
	    "%s is not implemented yet", call->method->name);
}

int
resources_delete_validate(struct call *call)
{
	(void)call;
	return STATUS_OK;
}

int
resources_delete(struct call *call)
{
	return call_fail(call, STATUS_UNIMPLEMENTED,
	    "%s is not implemented yet", call->method->name);
}

int
resources_list_validate(struct call *call)
{
	(void)call;
	return STATUS_OK;
}

int
resources_list(struct call *call)
{
	return call_fail(call, STATUS_UNIMPLEMENTED,
	    "%s is not implemented yet", call->method->name);
}
