/* pager: fetching every page of a List* method, or one. */
#include "pager.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* A field of `m` by its .proto name, which must exist with this type. */
static const ProtobufCFieldDescriptor *
field(const ProtobufCMessageDescriptor *d, const char *name, ProtobufCType type)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(d, name);
	return f != NULL && f->type == type ? f : NULL;
}

int
pager_run(struct cli *cli, const struct cli_args *a, ProtobufCMessage *request,
    const struct pager *p)
{
	const ProtobufCFieldDescriptor *size_f =
	    field(request->descriptor, "page_size", PROTOBUF_C_TYPE_UINT32);
	const ProtobufCFieldDescriptor *token_f =
	    field(request->descriptor, "page_token", PROTOBUF_C_TYPE_STRING);
	if (size_f == NULL || token_f == NULL)
		return cli_fail(EXA_INTERNAL, "%s is not a paged request",
		    request->descriptor->name);

	uint64_t page_size = 0;
	const char *size_arg = args_get(a, FLAG_PAGE_SIZE);
	int rc = cli_u64_arg(cli, "--page-size", size_arg, 1, 1000,
	    "a number from 1 to 1000", &page_size);
	if (rc != 0)
		return rc;
	bool one_page = size_arg != NULL || args_has(a, FLAG_PAGE_TOKEN);
	char *token = strdup(
	    args_has(a, FLAG_PAGE_TOKEN) ? args_get(a, FLAG_PAGE_TOKEN) : "");
	json_t *items = NULL;
	struct output_table *table = NULL;
	if (cli->json) {
		items = json_array();
	} else {
		size_t ncols = 0;
		while (p->headers[ncols] != NULL)
			ncols++;
		table = output_table_new(ncols, p->headers);
	}
	char *base = (char *)request;
	ProtobufCMessage *last = NULL;
	if (token == NULL || (items == NULL && table == NULL)) {
		rc = cli_fail(EXA_INTERNAL, "out of memory");
		goto out;
	}

	*(uint32_t *)(base + size_f->offset) = (uint32_t)page_size;
	for (;;) {
		*(char **)(base + token_f->offset) = token;
		ProtobufCMessage *resp = NULL;
		exa_error err;
		if (exa_client_call(cli_client(cli), p->method, request,
		        p->response, 0, &resp, &err) != EXA_OK) {
			rc = cli_fail_call(cli, &err, NULL);
			goto out;
		}
		exa_free(last);
		last = resp;
		const ProtobufCFieldDescriptor *list_f = field(
		    resp->descriptor, p->list_field, PROTOBUF_C_TYPE_MESSAGE);
		const ProtobufCFieldDescriptor *next_f = field(resp->descriptor,
		    "next_page_token", PROTOBUF_C_TYPE_STRING);
		if (list_f == NULL || next_f == NULL) {
			rc = cli_fail(EXA_INTERNAL, "%s has no %s",
			    resp->descriptor->name, p->list_field);
			goto out;
		}
		const char *rbase = (const char *)resp;
		size_t n = *(const size_t *)(rbase + list_f->quantifier_offset);
		ProtobufCMessage *const *list =
		    *(ProtobufCMessage *const *const *)(rbase + list_f->offset);
		for (size_t i = 0; i < n; i++) {
			if (items != NULL) {
				if (json_array_append_new(items,
				        json_from_message(list[i])) != 0) {
					rc = cli_fail(
					    EXA_INTERNAL, "out of memory");
					goto out;
				}
			} else {
				p->row(cli, table, list[i]);
			}
		}
		const char *next = *(char *const *)(rbase + next_f->offset);
		if (next == NULL)
			next = "";
		if (!one_page && next[0] != '\0' && strcmp(next, token) == 0) {
			/* It would loop forever; say so rather than print a
			 * list silently cut short. */
			rc = cli_fail(EXA_INTERNAL,
			    "%s: the service returned the same page token "
			    "twice",
			    resp->descriptor->name);
			goto out;
		}
		bool done = one_page || next[0] == '\0';
		free(token);
		token = strdup(next);
		if (token == NULL) {
			rc = cli_fail(EXA_INTERNAL, "out of memory");
			goto out;
		}
		if (done)
			break;
	}

	if (cli->json) {
		json_t *doc = json_from_message(last);
		/* Every page is in the document: nothing follows it. */
		if (doc != NULL && !one_page)
			json_object_set_new(
			    doc, "next_page_token", json_string(""));
		if (doc != NULL)
			json_object_set(doc, p->list_field, items);
		rc = json_print(doc);
	} else {
		if (output_table_rows(table) == 0)
			printf("%s\n", p->empty);
		else
			output_table_print(table, stdout, 0);
		if (one_page && token[0] != '\0')
			printf("\nnext page: --page-token %s\n", token);
	}
out:
	*(const char **)(base + token_f->offset) = protobuf_c_empty_string;
	json_decref(items);
	output_table_free(table);
	exa_free(last);
	free(token);
	return rc;
}
