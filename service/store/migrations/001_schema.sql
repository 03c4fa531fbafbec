-- The schema of SPEC §1: users, organisations, workspaces, memberships,
-- invitations, API keys, resources, activity and the change log.
-- Constraints here protect the rules even against a buggy caller.

-- Times travel on the wire as milliseconds since the Unix epoch.
CREATE FUNCTION unix_ms(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT
    RETURN (extract(epoch FROM t) * 1000)::bigint;

-- The revision counter: one row, bumped by every write transaction. Its row
-- lock serializes the bump, so revisions become visible in commit order and
-- a reader of change_log never sees revision N+1 before revision N.
CREATE TABLE revision_counter (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    value bigint NOT NULL
);
INSERT INTO revision_counter VALUES (true, 0);

-- One row per write, read by every replica to invalidate its cache (SPEC §4).
CREATE TABLE change_log (
    revision bigint PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    kind text NOT NULL,
    organization_id uuid,
    workspace_id uuid,
    user_id uuid,
    api_key_id uuid,
    resource_type text,
    resource_id text
);

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username text NOT NULL CHECK (length(username) BETWEEN 1 AND 64),
    email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    display_name text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Usernames and emails are unique whatever their case.
CREATE UNIQUE INDEX users_username_ci ON users (lower(username));
CREATE UNIQUE INDEX users_email_ci ON users (lower(email));

CREATE TABLE organizations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE organization_admins (
    organization_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_admins_user ON organization_admins (user_id);

CREATE TABLE workspaces (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind IN ('personal', 'team')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    organization_id uuid REFERENCES organizations,
    -- A personal workspace has exactly one owner; a user has exactly one
    -- personal workspace.
    owner_user_id uuid UNIQUE REFERENCES users,
    settings jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'personal' AND owner_user_id IS NOT NULL
                AND organization_id IS NULL)
        OR (kind = 'team' AND organization_id IS NOT NULL
                AND owner_user_id IS NULL))
);
CREATE INDEX workspaces_organization ON workspaces (organization_id);

CREATE TABLE memberships (
    workspace_id uuid NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users,
    role text NOT NULL CHECK (role IN ('admin', 'member', 'read_only')),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- One role per user per workspace.
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE invitations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    invitee_username text,
    invitee_email text,
    role text NOT NULL CHECK (role IN ('admin', 'member', 'read_only')),
    -- Keyed hash of the single-use token; the token itself is never stored.
    token_hash bytea NOT NULL UNIQUE,
    state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'accepted', 'declined', 'revoked')),
    invited_by uuid REFERENCES users,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    closed_at timestamptz,
    closed_by uuid REFERENCES users,
    CHECK ((invitee_username IS NULL) <> (invitee_email IS NULL))
);
CREATE INDEX invitations_workspace ON invitations (workspace_id, created_at);

CREATE TABLE api_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    -- Keyed hash of the secret; the secret itself is never stored.
    key_hash bytea NOT NULL UNIQUE,
    display_prefix text NOT NULL,
    read_only boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    -- NULL while current; set when rotated (now, or the end of the grace).
    expires_at timestamptz
);
-- A workspace has one current key at a time.
CREATE UNIQUE INDEX api_keys_current ON api_keys (workspace_id)
    WHERE expires_at IS NULL;

CREATE TABLE resources (
    type text NOT NULL CHECK (type IN ('experiment', 'dataset', 'project')),
    external_id text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
    workspace_id uuid NOT NULL REFERENCES workspaces ON DELETE CASCADE,
    name text NOT NULL DEFAULT '',
    created_by_user uuid REFERENCES users,
    created_by_key uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (type, external_id)
);
CREATE INDEX resources_workspace ON resources (workspace_id, type, external_id);

-- Who did what, where and when (SPEC R7). No foreign keys on purpose:
-- records outlive the member's removal and the workspace's deletion.
CREATE TABLE activity (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Where it happened: a workspace, or (for organisation changes) only
    -- an organisation.
    workspace_id uuid,
    organization_id uuid,
    actor_user_id uuid,
    actor_api_key_id uuid,
    action text NOT NULL,
    resource_type text,
    resource_id text,
    detail text NOT NULL DEFAULT '',
    revision bigint NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    CHECK (actor_user_id IS NOT NULL OR actor_api_key_id IS NOT NULL),
    CHECK (workspace_id IS NOT NULL OR organization_id IS NOT NULL)
);
CREATE INDEX activity_workspace ON activity (workspace_id, id DESC);
CREATE INDEX activity_organization ON activity (organization_id, id DESC);
