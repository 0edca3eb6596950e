-- certctl schema, version 2: cached OCSP answers keyed by the CertID's hash
-- algorithm too.
--
-- A signed OCSP answer carries the CertID the client sent, and a SHA-1 CertID
-- differs from a SHA-256 one for the same certificate; an answer cached for one
-- must never be served for the other. Rows written before this migration were
-- all SHA-1 answers.
ALTER TABLE ocsp_response_cache
    ADD COLUMN cert_id_hash text NOT NULL DEFAULT 'sha1'
        CHECK (cert_id_hash ~ '^[a-z0-9-]{1,32}$');
ALTER TABLE ocsp_response_cache ALTER COLUMN cert_id_hash DROP DEFAULT;
ALTER TABLE ocsp_response_cache DROP CONSTRAINT ocsp_response_cache_pkey;
ALTER TABLE ocsp_response_cache ADD PRIMARY KEY (issuer_id, serial, cert_id_hash);
