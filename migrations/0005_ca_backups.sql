-- certctl schema, version 5: the CA backups `certctl-admin ca backup` wrote.
--
-- A backup is a directory of files (CA certificates and keys of every
-- generation, responder keys, trust bundles) and its manifest. The files are
-- not in the database; what is recorded here is that a complete, verified
-- backup was written, where, by whom, and which generation (by certificate
-- fingerprint) it holds, so that `ca status` can say whether the key of each
-- generation has a backup and `ca backup --verify` can tell a recorded
-- backup from one it never saw. A row is written only after the manifest:
-- a backup killed half-way is never recorded.

CREATE TABLE ca_backups (
    id              bigserial PRIMARY KEY,
    issuer_id       text NOT NULL REFERENCES issuers (id),
    directory       text NOT NULL,
    -- SHA-256 of manifest.json as written: identifies this backup's content
    -- (not unique: two backups of one state within a second have the same).
    manifest_sha256 text NOT NULL CHECK (manifest_sha256 ~ '^[0-9a-f]{64}$'),
    file_count      integer NOT NULL CHECK (file_count >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL,
    host            text NOT NULL
);
CREATE INDEX ca_backups_issuer ON ca_backups (issuer_id, created_at DESC);
CREATE INDEX ca_backups_manifest ON ca_backups (manifest_sha256);

-- The CA generations a backup holds (certificate and key), one row each.
CREATE TABLE ca_backup_generations (
    backup_id   bigint NOT NULL REFERENCES ca_backups (id),
    issuer_id   text NOT NULL,
    generation  integer NOT NULL,
    cert_sha256 text NOT NULL CHECK (cert_sha256 ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (backup_id, generation),
    FOREIGN KEY (issuer_id, generation) REFERENCES ca_generations (issuer_id, generation)
);
CREATE INDEX ca_backup_generations_generation
    ON ca_backup_generations (issuer_id, generation);
