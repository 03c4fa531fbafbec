/* Status codes used from storage up to the wire: the gRPC canonical codes,
 * carried in RpcResponse.code. 0 is OK; a function that can fail returns
 * one of these and writes its results only on success. */
#ifndef EXE_STATUS_H
#define EXE_STATUS_H

enum status {
	STATUS_OK = 0,
	STATUS_INVALID_ARGUMENT = 3,
	STATUS_DEADLINE_EXCEEDED = 4,
	STATUS_NOT_FOUND = 5,
	STATUS_ALREADY_EXISTS = 6,
	STATUS_PERMISSION_DENIED = 7,
	STATUS_RESOURCE_EXHAUSTED = 8,
	STATUS_FAILED_PRECONDITION = 9,
	STATUS_ABORTED = 10,
	STATUS_UNIMPLEMENTED = 12,
	STATUS_INTERNAL = 13,
	STATUS_UNAVAILABLE = 14,
	STATUS_UNAUTHENTICATED = 16,
};

/* status_name returns the upper-case name of a code ("NOT_FOUND"), or
 * "UNKNOWN" for a number that is not one of the codes above. */
const char *status_name(int code);

#endif
