-- certctl schema, version 8: a digest with each cached OCSP answer (issue 13).
--
-- Serving a row of ocsp_response_cache after a restart used to cost a parse
-- of the stored OCSPResponse and a check of its signature, more than signing
-- a fresh one. certctl now stores, with each answer it writes, the SHA-256 of
-- what the row says and what it was signed for (the CertID as the client
-- sent it, the certificate status, the responder's serial, thisUpdate,
-- nextUpdate and the response bytes; see core/src/ops/ocsp_engine.cc,
-- CachedAnswerDigest). A row is served when the digest, recomputed from the
-- row and the request, matches and the responder serial is the current
-- responder's: a corrupt, hand-edited or foreign row does not match and is
-- signed afresh. Rows written before this version have no digest and are
-- still checked the old way (parse and signature).
ALTER TABLE ocsp_response_cache ADD COLUMN answer_digest bytea
    CHECK (answer_digest IS NULL OR length(answer_digest) = 32);
