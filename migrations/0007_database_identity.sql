-- certctl schema, version 7: a database identity (issue 11).
--
-- Responder key files are named after the database that wrote them
-- ({issuer}-g{N}-{serial}.db-{identity}.key), and certctl writes, retires or
-- reuses only files that carry its own database's identity. A restored copy
-- of production (a staging database on the same host, a scratch restore) then
-- can not overwrite or retire production's live key, although its rows name
-- production's files.
--
-- A copy made by pg_dump, CREATE DATABASE ... TEMPLATE or a file-level copy
-- carries this table's row, so the identity alone would be copied too. It is
-- therefore bound to the physical database: the cluster's system identifier
-- and the database's OID, which no copy keeps (a streaming replica that is
-- promoted keeps both, and stays the same database). certctl_database_id()
-- returns the identity, first replacing it with a fresh random one when the
-- row was made for another physical database: a copy gets its own identity
-- the first time it needs one, and never uses the one it was copied with.

CREATE FUNCTION certctl_physical_database() RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    system_id text;
BEGIN
    BEGIN
        SELECT system_identifier::text INTO system_id FROM pg_control_system();
    EXCEPTION WHEN insufficient_privilege THEN
        system_id := 'unknown';  -- some managed services hide it; the OID still differs
    END;
    RETURN system_id || '/' ||
        (SELECT oid::text FROM pg_database WHERE datname = current_database());
END $$;

CREATE FUNCTION certctl_new_database_id() RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT substr(encode(sha256(convert_to(gen_random_uuid()::text || clock_timestamp()::text,
                                           'UTF8')), 'hex'), 1, 16)
$$;

CREATE TABLE database_identity (
    id           smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    database_id  text NOT NULL CHECK (database_id ~ '^[0-9a-f]{16}$'),
    bound_to     text NOT NULL,  -- certctl_physical_database() when it was made
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- The identity this database was copied with, when it replaced one.
    copied_from  text CHECK (copied_from ~ '^[0-9a-f]{16}$')
);

INSERT INTO database_identity (database_id, bound_to)
    VALUES (certctl_new_database_id(), certctl_physical_database());
