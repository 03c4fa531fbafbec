/* cmd_resources: the resources registered in workspaces and the activity
 * log (WorkspaceService RegisterResource, DeleteResource, ListResources,
 * RecordActivity, ListActivity, VerifyActivity; AuthzService
 * LookupResources). */
#ifndef EXA_CLI_CMD_RESOURCES_H
#define EXA_CLI_CMD_RESOURCES_H

#include "args.h"
#include "cli.h"

/* Each returns the exit status (see cli.h). */
int cmd_resource_register(struct cli *cli, const struct cli_args *a);
int cmd_resource_delete(struct cli *cli, const struct cli_args *a);
int cmd_resource_list(struct cli *cli, const struct cli_args *a);
int cmd_resource_lookup(struct cli *cli, const struct cli_args *a);
int cmd_activity_record(struct cli *cli, const struct cli_args *a);
int cmd_activity_list(struct cli *cli, const struct cli_args *a);
int cmd_activity_verify(struct cli *cli, const struct cli_args *a);

#endif
