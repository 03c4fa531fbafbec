/* Cursor encoding: parts joined by a unit separator, then base64url. */
#include "rpc/paging.h"

#include <sodium.h>
#include <string.h>

#include "base/status.h"

enum { SEP = 0x1f };

int
paging_size(struct call *call, uint32_t requested, uint32_t *out)
{
	if (requested > PAGE_SIZE_MAX)
		return call_fail(call, STATUS_INVALID_ARGUMENT,
		    "page_size: %u is over the limit of %d", requested,
		    PAGE_SIZE_MAX);
	*out = requested == 0 ? PAGE_SIZE_DEFAULT : requested;
	return STATUS_OK;
}

char *
paging_encode(struct call *call, const char *const *parts, size_t n)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += strlen(parts[i]) + 1;
	char *raw = call_new(call, len);
	if (raw == NULL)
		return NULL;
	char *p = raw;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(parts[i]);
		memcpy(p, parts[i], l);
		p += l;
		*p++ = (char)SEP;
	}
	size_t out_len = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = call_new(call, out_len);
	if (out != NULL)
		sodium_bin2base64(out, out_len, (unsigned char *)raw, len,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

int
paging_decode(struct call *call, const char *token, char **parts, size_t n)
{
	size_t tlen = strlen(token);
	if (tlen == 0) {
		for (size_t i = 0; i < n; i++)
			parts[i] = NULL;
		return STATUS_OK;
	}
	if (tlen > LIMIT_PAGE_TOKEN)
		return call_fail(call, STATUS_INVALID_ARGUMENT,
		    "page_token: is %zu bytes, the limit is %d", tlen,
		    LIMIT_PAGE_TOKEN);
	char *raw = call_new(call, tlen + 1);
	size_t len = 0;
	if (raw == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	if (!validate_base64url(token, tlen) ||
	    sodium_base642bin((unsigned char *)raw, tlen, token, tlen, NULL,
	        &len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		goto bad;
	raw[len] = '\0';
	char *p = raw;
	for (size_t i = 0; i < n; i++) {
		char *sep = memchr(p, SEP, len - (size_t)(p - raw));
		if (sep == NULL)
			goto bad;
		*sep = '\0';
		if (!validate_utf8(p, (size_t)(sep - p)))
			goto bad;
		parts[i] = p;
		p = sep + 1;
	}
	if (p != raw + len)
		goto bad;
	return STATUS_OK;
bad:
	return call_fail(call, STATUS_INVALID_ARGUMENT,
	    "page_token: not a token this method returned; start again "
	    "with an empty page_token");
}
