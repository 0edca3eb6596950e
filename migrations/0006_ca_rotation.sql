-- CA key rotation (issue 10): `certctl-admin ca rotate` adds a CA generation
-- and makes it active, step by step, each step recorded in a journal before
-- it is taken, so that a rotation killed at any step can be resumed or
-- aborted.

-- A generation being rotated in is "pending": registered (its responder and
-- first CRL are made before issuance switches to it), never used to issue.
ALTER TABLE ca_generations DROP CONSTRAINT ca_generations_state_check;
ALTER TABLE ca_generations ADD CONSTRAINT ca_generations_state_check
    CHECK (state IN ('active', 'retired', 'pending'));

-- The certificates above a sub-CA's own, up to its root (PEM, issuer of the
-- generation's certificate first); empty for a self-signed CA. Issued
-- certificates are returned with the generation's certificate and this chain.
ALTER TABLE ca_generations ADD COLUMN chain_pem text NOT NULL DEFAULT '';

-- One row per rotation. The new generation's number is taken when the
-- rotation starts and never given again, also when the rotation is aborted
-- (its key file stays: no file is ever deleted).
CREATE TABLE ca_rotations (
    id              bigserial PRIMARY KEY,
    issuer_id       text NOT NULL REFERENCES issuers (id),
    mode            text NOT NULL CHECK (mode IN ('generate', 'import', 'sub-ca')),
    state           text NOT NULL
        CHECK (state IN ('running', 'awaiting-signature', 'completed', 'aborted')),
    from_generation integer NOT NULL,
    to_generation   integer NOT NULL CHECK (to_generation > from_generation),
    old_cert_sha256 text NOT NULL,
    -- The new CA certificate once it is known (generate: made with the key;
    -- import: given; sub-CA: once signed), its chain, and the sub-CA's CSR.
    new_cert_pem    text NOT NULL DEFAULT '',
    new_chain_pem   text NOT NULL DEFAULT '',
    csr_pem         text NOT NULL DEFAULT '',
    -- Where the new generation's files go (next to the old key, never over a
    -- file), and where the operator's files came from.
    key_path        text NOT NULL,
    cert_path       text NOT NULL,
    source_key_path text NOT NULL DEFAULT '',
    csr_path        text NOT NULL DEFAULT '',
    backup_dir      text NOT NULL,
    backup_path     text NOT NULL DEFAULT '',
    -- What generate mode makes: key type, validity, subject (JSON).
    parameters      text NOT NULL DEFAULT '{}',
    -- Serials of the short-lived certificates the verify step issued.
    test_serials    text[] NOT NULL DEFAULT '{}',
    started_by      text NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (issuer_id, to_generation)
);
-- A second rotation of an issuer while one is unfinished is refused.
CREATE UNIQUE INDEX ca_rotations_one_unfinished ON ca_rotations (issuer_id)
    WHERE state IN ('running', 'awaiting-signature');

-- The journal: a step's row is written (begun_at) before the step is taken,
-- and done_at is set once it is done (in the step's own transaction when the
-- step is a database change).
CREATE TABLE ca_rotation_steps (
    rotation_id bigint NOT NULL REFERENCES ca_rotations (id),
    position    integer NOT NULL,
    step        text NOT NULL,
    attempts    integer NOT NULL DEFAULT 1,
    begun_at    timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz,
    detail      text NOT NULL DEFAULT '',
    PRIMARY KEY (rotation_id, step)
);
