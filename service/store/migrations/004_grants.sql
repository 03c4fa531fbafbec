-- Per-resource grants: a workspace admin gives a user (a member of the
-- workspace, or a guest who is not) a role on one registered resource.
-- On that resource the user acts with the stronger of their workspace
-- role and the grant; a grant is not a membership.

CREATE TABLE grants (
    resource_type text NOT NULL,
    resource_id text NOT NULL,
    user_id uuid NOT NULL REFERENCES users,
    -- The resource's workspace, kept here so that a check finds whether a
    -- user holds any grant in a workspace with one index probe. Resources
    -- never move between workspaces.
    workspace_id uuid NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('admin', 'member', 'read_only')),
    granted_by_user uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (resource_type, resource_id, user_id),
    -- A grant goes with its resource.
    FOREIGN KEY (resource_type, resource_id)
        REFERENCES resources (type, external_id) ON DELETE CASCADE
);
-- A user's grants (ListUserGrants, LookupResources) and their grants in a
-- workspace (checks, and removal from the workspace).
CREATE INDEX grants_user ON grants (user_id, resource_type, resource_id);
CREATE INDEX grants_workspace_user ON grants (workspace_id, user_id);
