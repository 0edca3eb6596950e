-- certctl schema, version 3: the audit chain is keyed, and computed by certctl.
--
-- Until now the database computed each row's hash with audit_event_digest():
-- an unkeyed SHA-256, so whoever could write to the table could rewrite a row
-- and recompute every later hash, and a verification that called the function
-- trusted the very database it was checking. From here on certctl computes
-- each row's hash itself, HMAC-SHA256 under the audit key, which is not in the
-- database (core/include/certctl/audit/chain.h), and no function stored here
-- takes part in computing or checking it.
--
-- Rows already written keep their unkeyed hashes (chain_version 1) and are
-- never rewritten. The first keyed row covers the hash of the last of them, so
-- a change to them made after this migration shows; one made before it, with
-- the hashes recomputed, cannot be told from the original.
ALTER TABLE audit_events
    ADD COLUMN chain_version smallint NOT NULL DEFAULT 1 CHECK (chain_version IN (1, 2)),
    ADD COLUMN seq bigint,
    ADD COLUMN key_id text;
ALTER TABLE audit_events ALTER COLUMN chain_version DROP DEFAULT;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_keyed_columns
    CHECK ((chain_version = 2) = (seq IS NOT NULL AND key_id IS NOT NULL));
CREATE UNIQUE INDEX audit_events_seq ON audit_events (seq);

DROP TRIGGER audit_events_chain ON audit_events;
DROP FUNCTION audit_events_chain();
DROP FUNCTION audit_event_digest(bytea, audit_events);

-- Every insert must extend the head of the chain: the next position, the head's
-- hash, a higher id. certctl's append path takes the same lock and meets these
-- by construction; this trigger turns a writer that forgot the lock into an
-- error instead of a fork. It is no defence against the database's owner (who
-- can disable it, or meet it with a forged row): the key is.
CREATE FUNCTION audit_events_extend_head() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_id bigint;
    head_seq bigint;
    head_hash bytea;
    next_seq bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('certctl:audit-chain', 0));
    SELECT id, seq, hash INTO head_id, head_seq, head_hash
        FROM audit_events ORDER BY id DESC LIMIT 1;
    IF head_id IS NULL THEN
        next_seq := 1;
    ELSIF head_seq IS NULL THEN
        SELECT count(*) + 1 INTO next_seq FROM audit_events;
    ELSE
        next_seq := head_seq + 1;
    END IF;
    IF NEW.chain_version IS DISTINCT FROM 2 OR NEW.seq IS DISTINCT FROM next_seq
            OR NEW.prev_hash IS DISTINCT FROM coalesce(head_hash, '\x'::bytea)
            OR NEW.id <= coalesce(head_id, 0) THEN
        RAISE EXCEPTION 'audit_events: an insert must extend the chain head '
            '(position %, after row %)', next_seq, head_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_events_extend_head BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_extend_head();
