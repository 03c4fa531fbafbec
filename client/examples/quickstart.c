/* quickstart: sign a user up and list their workspaces.
 *
 *   exa-quickstart [URL] USERNAME EMAIL
 *
 * URL defaults to $EXE_ACCESS_URL, then tcp://127.0.0.1:7400; the caller
 * token comes from $EXE_ACCESS_TOKEN. */
#include <exe/access.h>
#include <exe/access_raw.h>
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s [URL] USERNAME EMAIL\n", argv[0]);
		return 2;
	}
	const char *url = getenv("EXE_ACCESS_URL");
	if (argc == 4)
		url = argv[1];
	if (url == NULL)
		url = "tcp://127.0.0.1:7400";
	const char *username = argv[argc - 2];
	const char *email = argv[argc - 1];

	exa_client *client;
	exa_error err;
	if (exa_client_open(url, getenv("EXE_ACCESS_TOKEN"), NULL, &client,
	        &err) != EXA_OK) {
		fprintf(stderr, "open: %s\n", err.message);
		return 1;
	}

	Exe__Access__V1__CreateUserRequest create =
	    EXE__ACCESS__V1__CREATE_USER_REQUEST__INIT;
	create.username = (char *)username;
	create.email = (char *)email;
	Exe__Access__V1__CreateUserResponse *user;
	if (exa_create_user(client, &create, &user, &err) != EXA_OK) {
		fprintf(stderr, "create user: %s: %s\n",
		    exa_status_name(err.code), err.message);
		exa_client_close(client);
		return 1;
	}
	printf("created user %s (%s)\n", user->user->username, user->user->id);
	printf("API key of \"%s\" (shown once): %s\n",
	    user->personal_workspace->name, user->api_key);

	Exe__Access__V1__ListWorkspacesRequest list =
	    EXE__ACCESS__V1__LIST_WORKSPACES_REQUEST__INIT;
	list.user_id = user->user->id;
	Exe__Access__V1__ListWorkspacesResponse *ws;
	if (exa_list_workspaces(client, &list, &ws, &err) != EXA_OK) {
		fprintf(stderr, "list workspaces: %s\n", err.message);
		exa_free(user);
		exa_client_close(client);
		return 1;
	}
	printf("workspaces of %s:\n", user->user->username);
	for (size_t i = 0; i < ws->n_workspaces; i++) {
		const Exe__Access__V1__WorkspaceEntry *e = ws->workspaces[i];
		printf("  %-40s %-8s %-9s %s\n", e->workspace->name,
		    e->workspace->kind ==
		            EXE__ACCESS__V1__WORKSPACE_KIND__WORKSPACE_KIND_PERSONAL
		        ? "personal"
		        : "team",
		    e->role == EXE__ACCESS__V1__ROLE__ROLE_ADMIN ? "admin"
		    : e->role == EXE__ACCESS__V1__ROLE__ROLE_MEMBER ? "member"
		                                                   : "read_only",
		    e->workspace->id);
	}
	exa_free(ws);
	exa_free(user);
	exa_client_close(client);
	return 0;
}
