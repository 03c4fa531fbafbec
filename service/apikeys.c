/* Not built yet: every method answers UNIMPLEMENTED. */
#include "apikeys.h"

#include "dispatch.h"
#include "status.h"

int
apikeys_rotate_validate(struct call *call)
{
	(void)call;
	return STATUS_OK;
}

int
apikeys_rotate(struct call *call)
{
	return call_fail(call, STATUS_UNIMPLEMENTED,
	    "%s is not implemented yet", call->method->name);
}

int
apikeys_get_validate(struct call *call)
{
	(void)call;
	return STATUS_OK;
}

int
apikeys_get(struct call *call)
{
	return call_fail(call, STATUS_UNIMPLEMENTED,
	    "%s is not implemented yet", call->method->name);
}
