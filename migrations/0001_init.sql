-- certctl schema, version 1.
--
-- Serials are stored in their one canonical text form (lowercase hex, no
-- leading zeros); the CHECK constraints below refuse anything else so that a
-- serial written by hand can never miss a lookup.

CREATE TABLE issuers (
    id           text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    display_name text NOT NULL,
    -- Bumped in the transaction of every revocation; a live OCSP signing reads
    -- it before signing and writes its answer back only if it is unchanged.
    revocation_epoch bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- A CA generation is one CA certificate and key of an issuer. Rotating the CA
-- key adds a generation; a generation is never overwritten.
CREATE TABLE ca_generations (
    issuer_id     text NOT NULL REFERENCES issuers (id),
    generation    integer NOT NULL CHECK (generation >= 1),
    state         text NOT NULL CHECK (state IN ('active', 'retired')),
    cert_pem      text NOT NULL,
    cert_sha256   text NOT NULL UNIQUE CHECK (cert_sha256 ~ '^[0-9a-f]{64}$'),
    key_path      text NOT NULL,
    subject       text NOT NULL,
    not_before    timestamptz NOT NULL,
    not_after     timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    retired_at    timestamptz,
    PRIMARY KEY (issuer_id, generation)
);
CREATE UNIQUE INDEX ca_generations_one_active ON ca_generations (issuer_id)
    WHERE state = 'active';

-- The last CRL number used per generation. Only ever goes up (trigger below).
CREATE TABLE crl_numbers (
    issuer_id   text NOT NULL,
    generation  integer NOT NULL,
    last_number bigint NOT NULL DEFAULT 0 CHECK (last_number >= 0),
    PRIMARY KEY (issuer_id, generation),
    FOREIGN KEY (issuer_id, generation) REFERENCES ca_generations (issuer_id, generation)
);

CREATE FUNCTION crl_numbers_only_increase() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.last_number <= OLD.last_number THEN
        RAISE EXCEPTION 'CRL number for %/g% must increase (% -> %)',
            OLD.issuer_id, OLD.generation, OLD.last_number, NEW.last_number
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER crl_numbers_only_increase BEFORE UPDATE ON crl_numbers
    FOR EACH ROW EXECUTE FUNCTION crl_numbers_only_increase();

CREATE TABLE certificates (
    issuer_id    text NOT NULL,
    serial       text NOT NULL CHECK (serial ~ '^[1-9a-f][0-9a-f]{0,39}$'),
    generation   integer NOT NULL,
    subject      text NOT NULL,
    sans         text[] NOT NULL DEFAULT '{}',
    not_before   timestamptz NOT NULL,
    not_after    timestamptz NOT NULL,
    cert_der     bytea NOT NULL,
    issued_at    timestamptz NOT NULL DEFAULT now(),
    issued_by    text NOT NULL,
    PRIMARY KEY (issuer_id, serial),
    FOREIGN KEY (issuer_id, generation) REFERENCES ca_generations (issuer_id, generation)
);
CREATE INDEX certificates_serial ON certificates (serial);
CREATE INDEX certificates_issuer_generation ON certificates (issuer_id, generation);
CREATE INDEX certificates_not_after ON certificates (not_after);
CREATE INDEX certificates_issued_at ON certificates (issuer_id, issued_at, serial);

-- RFC 5280 §5.3.1 reason codes; 7 is unused by the standard.
CREATE TABLE certificate_revocations (
    issuer_id   text NOT NULL,
    serial      text NOT NULL,
    generation  integer NOT NULL,
    reason      smallint NOT NULL CHECK (reason IN (0, 1, 2, 3, 4, 5, 6, 8, 9, 10)),
    revoked_at  timestamptz NOT NULL DEFAULT now(),
    revoked_by  text NOT NULL,
    PRIMARY KEY (issuer_id, serial),
    FOREIGN KEY (issuer_id, serial) REFERENCES certificates (issuer_id, serial)
);
CREATE INDEX certificate_revocations_generation
    ON certificate_revocations (issuer_id, generation, serial);

-- One cached CRL per CA generation.
CREATE TABLE crl_cache (
    issuer_id              text NOT NULL,
    generation             integer NOT NULL,
    crl_der                bytea NOT NULL,
    crl_number             bigint NOT NULL,
    this_update            timestamptz NOT NULL,
    next_update            timestamptz NOT NULL,
    generated_at           timestamptz NOT NULL DEFAULT now(),
    generation_duration_ms integer NOT NULL DEFAULT 0,
    revoked_count          integer NOT NULL DEFAULT 0,
    PRIMARY KEY (issuer_id, generation),
    FOREIGN KEY (issuer_id, generation) REFERENCES ca_generations (issuer_id, generation)
);
CREATE INDEX crl_cache_next_update ON crl_cache (next_update);

CREATE TABLE crl_generation_events (
    id            bigserial PRIMARY KEY,
    issuer_id     text NOT NULL,
    generation    integer NOT NULL,
    started_at    timestamptz NOT NULL,
    succeeded     boolean NOT NULL,
    error         text,
    duration_ms   integer NOT NULL,
    revoked_count integer,
    crl_number    bigint,
    crl_size      integer,
    trigger       text NOT NULL,
    runner        text NOT NULL
);
CREATE INDEX crl_generation_events_issuer ON crl_generation_events (issuer_id, started_at DESC);

-- The current delegated OCSP responder certificate per CA generation.
CREATE TABLE ocsp_responder_certs (
    issuer_id     text NOT NULL,
    generation    integer NOT NULL,
    serial_number text NOT NULL,
    cert_subject  text NOT NULL,
    cert_pem      text NOT NULL,
    not_before    timestamptz NOT NULL,
    not_after     timestamptz NOT NULL,
    key_path      text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer_id, generation),
    FOREIGN KEY (issuer_id, generation) REFERENCES ca_generations (issuer_id, generation)
);
CREATE INDEX ocsp_responder_certs_not_after ON ocsp_responder_certs (not_after);

-- Every responder certificate that was ever current, with why it was replaced.
CREATE TABLE ocsp_responder_cert_history (
    id            bigserial PRIMARY KEY,
    issuer_id     text NOT NULL,
    generation    integer NOT NULL,
    serial_number text NOT NULL,
    cert_subject  text NOT NULL,
    cert_pem      text NOT NULL,
    not_before    timestamptz NOT NULL,
    not_after     timestamptz NOT NULL,
    key_path      text NOT NULL,
    created_at    timestamptz NOT NULL,
    replaced_at   timestamptz,
    replaced_reason text
);
CREATE INDEX ocsp_responder_cert_history_issuer
    ON ocsp_responder_cert_history (issuer_id, generation, created_at DESC);

-- Signed OCSP answers shared by all replicas. cert_status: 0 good, 1 revoked,
-- 2 unknown.
CREATE TABLE ocsp_response_cache (
    issuer_id        text NOT NULL,
    serial           text NOT NULL,
    generation       integer NOT NULL,
    cert_status      smallint NOT NULL CHECK (cert_status IN (0, 1, 2)),
    response_der     bytea NOT NULL,
    this_update      timestamptz NOT NULL,
    next_update      timestamptz NOT NULL,
    produced_at      timestamptz NOT NULL DEFAULT now(),
    responder_serial text NOT NULL,
    revocation_epoch bigint NOT NULL,
    PRIMARY KEY (issuer_id, serial)
);
CREATE INDEX ocsp_response_cache_next_update ON ocsp_response_cache (next_update);
CREATE INDEX ocsp_response_cache_responder ON ocsp_response_cache (issuer_id, responder_serial);

-- Who holds which operation lock since when, so that a refused command can
-- name the holder. The lock itself is a PostgreSQL advisory lock; a row here
-- whose backend no longer holds it is stale and ignored.
CREATE TABLE operation_locks (
    name        text PRIMARY KEY,
    holder      text NOT NULL,
    host        text NOT NULL,
    pid         integer NOT NULL,
    backend_pid integer NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now()
);

-- The append-only audit log. Each row carries the SHA-256 of its content and
-- of the previous row's hash, computed by the database under a lock so that
-- concurrent writers form one chain.
CREATE TABLE audit_events (
    id           bigint PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    host         text NOT NULL,
    action       text NOT NULL,
    target       text NOT NULL DEFAULT '',
    outcome      text NOT NULL CHECK (outcome IN ('started', 'succeeded', 'failed')),
    command_line text NOT NULL DEFAULT '',
    parameters   jsonb NOT NULL DEFAULT '{}',
    detail       text NOT NULL DEFAULT '',
    duration_ms  integer,
    correlation_id text NOT NULL DEFAULT '',
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL
);
CREATE SEQUENCE audit_events_id_seq OWNED BY audit_events.id;
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);
CREATE INDEX audit_events_action ON audit_events (action, occurred_at);

-- The digest of one audit row; `audit verify` recomputes it for every row.
CREATE FUNCTION audit_event_digest(prev bytea, e audit_events) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(prev || convert_to(concat_ws(E'\x1f',
        e.id::text,
        to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        e.actor, e.host, e.action, e.target, e.outcome, e.command_line,
        e.parameters::text, e.detail, coalesce(e.duration_ms::text, ''),
        e.correlation_id), 'UTF8'))
$$;

CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_hash bytea;
BEGIN
    -- One writer at a time extends the chain; held until commit.
    PERFORM pg_advisory_xact_lock(hashtextextended('certctl:audit-chain', 0));
    SELECT hash INTO last_hash FROM audit_events ORDER BY id DESC LIMIT 1;
    NEW.id := nextval('audit_events_id_seq');
    NEW.occurred_at := date_trunc('microseconds', clock_timestamp());
    NEW.prev_hash := coalesce(last_hash, '\x'::bytea);
    NEW.hash := audit_event_digest(NEW.prev_hash, NEW);
    RETURN NEW;
END $$;
CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_chain();

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Proof that a CERTCTL_CONFIG_ENCRYPTION_KEY is the one the database was set
-- up with: HMAC-SHA256(key, 'certctl key check' || salt), never the key.
CREATE TABLE config_encryption_key_check (
    id          smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    algorithm   text NOT NULL,
    salt        bytea NOT NULL,
    check_value bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
