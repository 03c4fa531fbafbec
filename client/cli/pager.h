/* pager: the list commands' paging. A List* request is sent page after
 * page (page_size and page_token set through the request's descriptor, as
 * every list request names them alike) until next_page_token comes back
 * empty; with --page-size or --page-token only that one page is fetched
 * and its next token printed. Items go to a row callback (human output)
 * or into one JSON document: the last response with its list field
 * holding every item fetched. */
#ifndef EXA_CLI_PAGER_H
#define EXA_CLI_PAGER_H

#include <exe/access.h>

#include "args.h"
#include "cli.h"
#include "output.h"

/* One item, for human output: adds its row to the table. */
typedef void (*pager_row_fn)(
    struct cli *cli, struct output_table *t, const ProtobufCMessage *item);

struct pager {
	const char *list_field; /* the response's repeated field: "members" */
	const char *method;     /* "exe.access.v1.WorkspaceService/ListMembers" */
	const ProtobufCMessageDescriptor *response; /* the method's response */
	const char *const *headers; /* the table's header line, NULL-ended */
	pager_row_fn row;           /* not used with --json */
	const char *empty;          /* printed instead of an empty table */
};

/* pager_run fetches the pages of `request` (whose page_size and
 * page_token it sets) and, in human mode, feeds every item to p->row,
 * prints the table (p->headers, or p->empty when no row came) and, after
 * a single page, the next page's token; with --json it prints the
 * document. Returns 0 or the exit status after reporting. */
int pager_run(struct cli *cli, const struct cli_args *a,
    ProtobufCMessage *request, const struct pager *p)
    __attribute__((warn_unused_result));

#endif
