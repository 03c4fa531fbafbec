-- bench/datagen.sql: loads a tenant population for the benchmark suite into
-- a database whose schema exe-accessd has migrated (and that holds no users
-- yet), fast, and prints how long it took.
--
--   psql -X -v users=10000 -f bench/datagen.sql DBURL      (small scale)
--   psql -X -v users=1000000 -f bench/datagen.sql DBURL    (large scale)
--
-- Proportions, for U users (U a multiple of 100):
--   U users, each with a personal workspace, an admin membership in it and
--     an API key row (random key_hash);
--   U/100 organisations, each with one admin; U/10 team workspaces (10 per
--     organisation), each with a current API key and 40 members: one admin,
--     29 members, 10 read-only; so every user is in 4 teams and there are
--     5U memberships in all;
--   U resources (experiments, datasets, projects), half in teams;
--   U/20 grants: one team resource in ten gives a read-only member of its
--     team the member role on it.
-- At U = 1,000,000: 100,000 teams in 10,000 organisations, 5,000,000
-- memberships, 1,000,000 resources.
--
-- It keeps the schema's invariants (every user has a personal workspace with
-- an admin membership; every team has an admin; usernames and emails are
-- unique), and every constraint is checked: the primary keys, unique and
-- foreign keys and indexes of the tables it fills are dropped, the rows
-- inserted with INSERT ... SELECT generate_series, and then all of them are
-- rebuilt from their own definitions (sorting once is much faster than
-- 5,000,000 index insertions and foreign-key triggers). Ids are computed
-- from the row number (pg_temp.id below), so no join is needed to find a
-- user's or a team's id. revision_counter and change_log get no rows:
-- the service's cache starts empty, so no invalidation is owed.
\set ON_ERROR_STOP on
\if :{?users}
\else
\set users 10000
\endif
\pset footer off
\timing off

SELECT clock_timestamp() AS t_start \gset

BEGIN;
SET LOCAL maintenance_work_mem = '512MB';
SET LOCAL max_parallel_maintenance_workers = 2;
SET LOCAL synchronous_commit = off;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM users) THEN
        RAISE EXCEPTION 'datagen: the database already has users; load into a fresh one';
    END IF;
END $$;

-- id(kind, n): the n-th id of a kind: the kind's 8 hex digits, then 48 bits
-- that are a bijective scramble of n (a multiplication by an odd constant
-- mod 2^48, its halves swapped), so the ids' order, and so the indexes'
-- order, is unrelated to the rows' order, as with random UUIDs. Plain
-- arithmetic and text, so the planner inlines it: md5 costs twice as much.
CREATE FUNCTION pg_temp.id(kind text, n bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE
    RETURN (kind || '-0000-4000-8000-' || lpad(to_hex(
        (((n * 2654435761) & 16777215) << 24)
        | (((n * 2654435761) & 281474976710655) >> 24)), 12, '0'))::uuid;
CREATE FUNCTION pg_temp.user_id(n bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE RETURN pg_temp.id('a0000001', n);
CREATE FUNCTION pg_temp.org_id(n bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE RETURN pg_temp.id('a0000002', n);
CREATE FUNCTION pg_temp.personal_id(n bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE RETURN pg_temp.id('a0000003', n);
CREATE FUNCTION pg_temp.team_id(n bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE RETURN pg_temp.id('a0000004', n);
CREATE FUNCTION pg_temp.key_id(n bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE RETURN pg_temp.id('a0000005', n);
CREATE FUNCTION pg_temp.team_key_id(n bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE RETURN pg_temp.id('a0000006', n);

CREATE TEMP TABLE scale ON COMMIT DROP AS
SELECT :users::bigint AS u,
       greatest(1, :users::bigint / 10) AS t,
       greatest(1, :users::bigint / 100) AS o,
       40 AS per_team;

-- The constraints and indexes of the tables we fill, and the foreign keys
-- that point at them, to drop now and rebuild after.
CREATE TEMP TABLE ddl ON COMMIT DROP AS
WITH filled AS (
    SELECT unnest(ARRAY['users', 'organizations', 'organization_admins',
                        'workspaces', 'memberships', 'api_keys',
                        'resources', 'grants']::regclass[]) AS rel)
SELECT CASE c.contype WHEN 'f' THEN 1 ELSE 2 END AS drop_order,
       CASE c.contype WHEN 'f' THEN 3 ELSE 1 END AS create_order,
       format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass,
              c.conname) AS drop_sql,
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass,
              c.conname, pg_get_constraintdef(c.oid)) AS create_sql
FROM pg_constraint c
WHERE c.contype IN ('p', 'u', 'f')
  AND (c.conrelid IN (SELECT rel FROM filled)
       OR c.confrelid IN (SELECT rel FROM filled))
UNION ALL
SELECT 3, 2, format('DROP INDEX %s', i.indexrelid::regclass),
       pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid IN (SELECT rel FROM filled)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conindid = i.indexrelid
                    AND c.contype IN ('p', 'u', 'x'));

SELECT drop_sql FROM ddl ORDER BY drop_order \gexec

SELECT clock_timestamp() AS t_rows \gset

INSERT INTO users (id, username, email, display_name)
SELECT pg_temp.user_id(i), 'user' || i, 'user' || i || '@bench.example',
       'Bench User ' || i
FROM scale, generate_series(0, scale.u - 1) AS i;

INSERT INTO organizations (id, name)
SELECT pg_temp.org_id(i), 'Organisation ' || i
FROM scale, generate_series(0, scale.o - 1) AS i;

-- Team j's first member (its admin) is user (j * 40) mod U; organisation o
-- is administered by the admin of its first team, team o.
INSERT INTO organization_admins (organization_id, user_id)
SELECT pg_temp.org_id(i), pg_temp.user_id((i * scale.per_team) % scale.u)
FROM scale, generate_series(0, scale.o - 1) AS i;

INSERT INTO workspaces (id, kind, name, owner_user_id)
SELECT pg_temp.personal_id(i), 'personal', 'user' || i || '''s workspace',
       pg_temp.user_id(i)
FROM scale, generate_series(0, scale.u - 1) AS i;

INSERT INTO workspaces (id, kind, name, organization_id)
SELECT pg_temp.team_id(j), 'team', 'Team ' || j, pg_temp.org_id(j % scale.o)
FROM scale, generate_series(0, scale.t - 1) AS j;

INSERT INTO memberships (workspace_id, user_id, role)
SELECT pg_temp.personal_id(i), pg_temp.user_id(i), 'admin'
FROM scale, generate_series(0, scale.u - 1) AS i;

-- Team j's members are users j*40 .. j*40+39 (mod U): distinct within a
-- team, and each user lands in 4 teams.
INSERT INTO memberships (workspace_id, user_id, role)
SELECT pg_temp.team_id(j), pg_temp.user_id((j * scale.per_team + k) % scale.u),
       CASE WHEN k = 0 THEN 'admin' WHEN k < 30 THEN 'member'
            ELSE 'read_only' END
FROM scale, generate_series(0, scale.t - 1) AS j,
     generate_series(0, scale.per_team - 1) AS k;

-- One current key per workspace; the secret is never stored, so random
-- bytes stand in for its keyed hash.
INSERT INTO api_keys (id, workspace_id, key_hash, display_prefix)
SELECT pg_temp.key_id(i), pg_temp.personal_id(i),
       sha256(uuid_send(gen_random_uuid()) || int8send(i)),
       'exa_live_' || lpad(to_hex((i * 2654435761) & 65535), 4, '0')
FROM scale, generate_series(0, scale.u - 1) AS i;

INSERT INTO api_keys (id, workspace_id, key_hash, display_prefix)
SELECT pg_temp.team_key_id(j), pg_temp.team_id(j),
       sha256(uuid_send(gen_random_uuid()) || int8send(-1 - j)),
       'exa_live_' || lpad(to_hex((j * 40503) & 65535), 4, '0')
FROM scale, generate_series(0, scale.t - 1) AS j;

INSERT INTO resources (type, external_id, workspace_id, name,
                       created_by_user)
SELECT (ARRAY['experiment', 'dataset', 'project'])[r % 3 + 1], 'res-' || r,
       CASE WHEN r % 2 = 0 THEN pg_temp.team_id((r / 2) % scale.t)
            ELSE pg_temp.personal_id(r % scale.u) END,
       'Resource ' || r,
       CASE WHEN r % 2 = 0
            THEN pg_temp.user_id(((r / 2) % scale.t * scale.per_team) % scale.u)
            ELSE pg_temp.user_id(r % scale.u) END
FROM scale, generate_series(0, scale.u - 1) AS r;

-- One team resource in ten is granted: a read-only member of its team
-- (members 30 to 39 of it, in turn) holds the member role on it.
INSERT INTO grants (resource_type, resource_id, user_id, workspace_id, role,
                    granted_by_user)
SELECT (ARRAY['experiment', 'dataset', 'project'])[r % 3 + 1], 'res-' || r,
       pg_temp.user_id(((r / 2) % scale.t * scale.per_team
                        + 30 + (r / 20) % 10) % scale.u),
       pg_temp.team_id((r / 2) % scale.t), 'member',
       pg_temp.user_id(((r / 2) % scale.t * scale.per_team) % scale.u)
FROM scale, generate_series(0, scale.u - 1, 20) AS r;

SELECT clock_timestamp() AS t_keys \gset

SELECT create_sql FROM ddl ORDER BY create_order \gexec

-- The invariants, checked rather than assumed.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM users u
               WHERE NOT EXISTS (
                   SELECT 1 FROM workspaces w
                   JOIN memberships m ON m.workspace_id = w.id
                   WHERE w.owner_user_id = u.id AND m.user_id = u.id
                     AND m.role = 'admin')) THEN
        RAISE EXCEPTION 'datagen: a user without an administered personal workspace';
    END IF;
    IF EXISTS (SELECT 1 FROM workspaces w
               WHERE w.kind = 'team' AND NOT EXISTS (
                   SELECT 1 FROM memberships m
                   WHERE m.workspace_id = w.id AND m.role = 'admin')) THEN
        RAISE EXCEPTION 'datagen: a team without an admin';
    END IF;
END $$;

COMMIT;

SELECT clock_timestamp() AS t_vacuum \gset
VACUUM (ANALYZE) users, organizations, organization_admins, workspaces,
    memberships, api_keys, resources, grants;

SELECT format('datagen: %s users, %s organisations, %s workspaces '
              '(%s teams), %s memberships, %s API keys, %s resources, '
              '%s grants '
              'loaded in %s s (rows %s s, keys and constraints %s s, '
              'vacuum and analyze %s s)',
              (SELECT count(*) FROM users),
              (SELECT count(*) FROM organizations),
              (SELECT count(*) FROM workspaces),
              (SELECT count(*) FROM workspaces WHERE kind = 'team'),
              (SELECT count(*) FROM memberships),
              (SELECT count(*) FROM api_keys),
              (SELECT count(*) FROM resources),
              (SELECT count(*) FROM grants),
              round(extract(epoch FROM clock_timestamp()
                                       - :'t_start'::timestamptz), 1),
              round(extract(epoch FROM :'t_keys'::timestamptz
                                       - :'t_rows'::timestamptz), 1),
              round(extract(epoch FROM :'t_vacuum'::timestamptz
                                       - :'t_keys'::timestamptz), 1),
              round(extract(epoch FROM clock_timestamp()
                                       - :'t_vacuum'::timestamptz), 1))
       AS summary \gset
\echo :summary
