-- The tamper-evident activity log: every record takes the next place in one
-- chain of all records (chain_seq), carries the hash of the record before
-- it (prev_hash), the place of the previous record of its workspace, or of
-- its organisation for organisation records (scope_prev), and its own hash:
-- keyed BLAKE2b over its canonical encoding (service/base/chain.h). The
-- service computes the hashes with a key the database never sees.
--
-- The records written before this migration are chained here, in the order
-- they were written (id): this file numbers them, and the service hashes
-- them in the same transaction, before it commits (migrate.c runs the step
-- of this migration; store/chain.c, chain_seal_existing). Later records
-- must be written in the chain (the activity_chained constraint below).

-- Wait for writes in flight (they hold this row to COMMIT), so that every
-- record written before this migration is numbered by it.
SELECT value FROM revision_counter FOR UPDATE;

-- Times in the chain's encoding: microseconds since the Unix epoch, exact
-- (extract returns numeric).
CREATE FUNCTION unix_us(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT
    RETURN (extract(epoch FROM t) * 1000000)::bigint;

-- The chain's head lives in the row every write already locks: its length
-- and the hash of its newest record (32 zero bytes while it is empty).
ALTER TABLE revision_counter
    ADD COLUMN activity_count bigint NOT NULL DEFAULT 0,
    ADD COLUMN activity_head bytea NOT NULL
        DEFAULT decode(repeat('00', 32), 'hex');

ALTER TABLE activity
    ADD COLUMN chain_seq bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN scope_prev bigint,
    ADD COLUMN hash bytea;

WITH o AS (
    SELECT id, row_number() OVER (ORDER BY id) AS seq,
           coalesce(workspace_id, organization_id) AS scope
    FROM activity),
 p AS (
    SELECT id, seq,
           coalesce(lag(seq) OVER (PARTITION BY scope ORDER BY seq), 0)
               AS scope_prev
    FROM o)
UPDATE activity a SET chain_seq = p.seq, scope_prev = p.scope_prev
FROM p WHERE a.id = p.id;

-- From now on no record is written outside the chain: an older service
-- version's insert (during a rolling upgrade) fails instead of leaving a
-- record that nothing proves. NOT VALID: the records above get their hashes
-- in this transaction, from the service, and are checked then.
ALTER TABLE activity ADD CONSTRAINT activity_chained
    CHECK (chain_seq IS NOT NULL AND prev_hash IS NOT NULL
           AND scope_prev IS NOT NULL AND hash IS NOT NULL) NOT VALID;

CREATE UNIQUE INDEX activity_chain_seq ON activity (chain_seq);
-- Records outside the chain (only if someone dropped the constraint), found
-- at once by VerifyActivity.
CREATE INDEX activity_unchained ON activity (id) WHERE chain_seq IS NULL;

-- The newest record of each workspace (or organisation) in the chain.
-- prev_seq is scratch: a write sets it to the last_seq it replaces, to read
-- that back in the same statement.
CREATE TABLE activity_scopes (
    scope uuid PRIMARY KEY,
    last_seq bigint NOT NULL,
    prev_seq bigint NOT NULL DEFAULT 0
);
INSERT INTO activity_scopes (scope, last_seq)
SELECT coalesce(workspace_id, organization_id), max(chain_seq)
FROM activity GROUP BY 1;

UPDATE revision_counter SET activity_count = (SELECT count(*) FROM activity);
