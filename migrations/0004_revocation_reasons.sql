-- certctl schema, version 4: revocation reasons a complete CRL can carry.
--
-- Until now certificate_revocations accepted every RFC 5280 reason, and the
-- API recorded what it was given. Two of them must not appear in the complete
-- CRLs certctl publishes:
--   8 removeFromCRL: RFC 5280 §5.3.1 allows it only in delta CRLs, where it
--     takes a held certificate off the list. Listed in a complete CRL it makes
--     `openssl verify -crl_check` accept the certificate while OCSP says
--     "revoked".
--   10 aACompromise: for attribute certificates, which certctl does not issue.
-- certificateHold (6) stays valid here: rows that hold it are revocations a
-- relying party honours, and certctl has no release. The API refuses it for
-- new revocations (see certctld(8)).
--
-- Existing rows are converted, never deleted: a revoked certificate stays
-- revoked, now with reason unspecified (0). The original reason remains in the
-- certificate.revoke audit event. The cached CRLs of the generations concerned
-- and the cached OCSP answers of the certificates concerned are dropped, and
-- the issuer's revocation epoch is bumped, so that no replica serves or writes
-- back an answer signed from the old row; the CRL is signed afresh on the next
-- request or scheduler run (its number keeps going up), the OCSP answers on
-- the next request. A NOTIFY tells running certctld processes to drop their
-- in-memory copies when this transaction commits.
--
-- On a database without such rows this only replaces the CHECK constraint.

CREATE TEMPORARY TABLE revocation_reason_fix ON COMMIT DROP AS
    SELECT issuer_id, serial, generation, reason
    FROM certificate_revocations
    WHERE reason IN (8, 10);

UPDATE certificate_revocations r SET reason = 0
    FROM revocation_reason_fix f
    WHERE r.issuer_id = f.issuer_id AND r.serial = f.serial;

DELETE FROM crl_cache c
    USING (SELECT DISTINCT issuer_id, generation FROM revocation_reason_fix) f
    WHERE c.issuer_id = f.issuer_id AND c.generation = f.generation;

DELETE FROM ocsp_response_cache o
    USING revocation_reason_fix f
    WHERE o.issuer_id = f.issuer_id AND o.serial = f.serial;

UPDATE issuers i SET revocation_epoch = revocation_epoch + 1
    WHERE i.id IN (SELECT DISTINCT issuer_id FROM revocation_reason_fix);

SELECT pg_notify('certctl_invalidate', '{"issuer":"","scope":"all","serial":""}')
    WHERE EXISTS (SELECT 1 FROM revocation_reason_fix);

ALTER TABLE certificate_revocations
    DROP CONSTRAINT certificate_revocations_reason_check;
ALTER TABLE certificate_revocations
    ADD CONSTRAINT certificate_revocations_reason_check
    CHECK (reason IN (0, 1, 2, 3, 4, 5, 6, 9));
