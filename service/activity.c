/* Not built yet: every method answers UNIMPLEMENTED. */
#include "activity.h"

#include "dispatch.h"
#include "status.h"

int
activity_record_validate(struct call *call)
{
	(void)call;
	return STATUS_OK;
}

int
activity_record(struct call *call)
{
	return call_fail(call, STATUS_UNIMPLEMENTED,
	    "%s is not implemented yet", call->method->name);
}

int
activity_list_validate(struct call *call)
{
	(void)call;
	return STATUS_OK;
}

int
activity_list(struct call *call)
{
	return call_fail(call, STATUS_UNIMPLEMENTED,
	    "%s is not implemented yet", call->method->name);
}
