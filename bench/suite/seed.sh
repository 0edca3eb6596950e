# bench/run's data: the same certificates and revocations in certctl's
# database (COPY) and in an OpenSSL CA database (index.txt), the reference's
# responder certificate, and the OCSP request templates ocsp.lua splices
# serials into. Sourced by bench/run after start_certctld.

# Writes $1 new random serials (40 hex digits, the first one 1, like
# Serial::Random's 20 bytes) as the rows of three files under $work/seed:
# certificates.tsv and revocations.tsv (COPY text format) and index.txt
# lines; every $2-th is revoked (keyCompromise, superseded or
# cessationOfOperation in turn). $3 names the batch (the files' prefix).
make_rows() {
  local count=$1 every=$2 batch=$3 dir=$work/seed
  mkdir -p "$dir"
  openssl rand -hex $((20 * count)) | fold -w 40 | sed 's/^./1/' |
    awk -v every="$every" -v batch="$batch" -v dir="$dir" \
      -v now="$(date -u +%s)" -v na="$(date -u -d '+90 days' +'%Y-%m-%d %H:%M:%S+00')" \
      -v nb="$(date -u -d '-1 day' +'%Y-%m-%d %H:%M:%S+00')" \
      -v ra="$(date -u -d '-1 hour' +'%Y-%m-%d %H:%M:%S+00')" \
      -v na_idx="$(date -u -d '+90 days' +%y%m%d%H%M%SZ)" \
      -v ra_idx="$(date -u -d '-1 hour' +%y%m%d%H%M%SZ)" '
      BEGIN { split("1 4 5", code); split("keyCompromise superseded cessationOfOperation", name) }
      {
        cn = "bench-" batch "-" NR
        print "iss-local\t" $0 "\t1\tCN=" cn "\t" nb "\t" na "\t\\\\x00\tbench" > dir "/" batch "-certificates.tsv"
        serial = toupper($0)
        if (NR % every == 0) {
          k = 1 + (NR / every) % 3
          print "iss-local\t" $0 "\t1\t" code[k] "\t" ra "\tbench" > dir "/" batch "-revocations.tsv"
          print "R\t" na_idx "\t" ra_idx "," name[k] "\t" serial "\tunknown\t/CN=" cn > dir "/" batch "-index.txt"
        } else {
          print "V\t" na_idx "\t\t" serial "\tunknown\t/CN=" cn > dir "/" batch "-index.txt"
        }
        print $0 > dir "/" batch "-serials.txt"
      }'
  touch "$dir/$batch-revocations.tsv"
}

# COPY batch $1 into certctl's database, then ANALYZE.
copy_rows() {
  local dir=$work/seed batch=$1
  psql_bench <<EOF
\copy certificates (issuer_id, serial, generation, subject, not_before, not_after, cert_der, issued_by) FROM '$dir/$batch-certificates.tsv'
\copy certificate_revocations (issuer_id, serial, generation, reason, revoked_at, revoked_by) FROM '$dir/$batch-revocations.tsv'
ANALYZE certificates;
ANALYZE certificate_revocations;
EOF
}

# The OCSP set: $1 certificates, every $2-th revoked, in both databases;
# the reference's responder (P-256, OCSPSigning, from the same CA) and the
# request templates for the first serial.
seed_ocsp_set() {
  local t0=$SECONDS
  make_rows "$1" "$2" ocsp
  copy_rows ocsp
  mkdir -p "$work/ref"
  cp "$work/seed/ocsp-index.txt" "$work/ref/index.txt"
  cp "$work/seed/ocsp-serials.txt" "$work/serials.txt"
  make_reference_responder
  local first
  first=$(head -1 "$work/serials.txt")
  openssl ocsp -issuer "$work/dev/ca/ca.crt" -serial "0x$first" -no_nonce \
    -reqout "$work/request.der" > /dev/null
  openssl ocsp -issuer "$work/dev/ca/ca.crt" -serial "0x$first" -nonce \
    -reqout "$work/request-nonce.der" > /dev/null
  log "seeded $1 certificates ($(wc -l < "$work/seed/ocsp-revocations.tsv") revoked) in $((SECONDS - t0)) s"
}

make_reference_responder() {
  local dir=$work/ref
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/responder.key" -subj "/CN=bench openssl ocsp responder" \
    -out "$dir/responder.csr" 2> /dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n%s\n' \
    'extendedKeyUsage=OCSPSigning' > "$dir/responder.ext"
  openssl x509 -req -in "$dir/responder.csr" -CA "$work/dev/ca/ca.crt" \
    -CAkey "$work/dev/ca/ca.key" -CAcreateserial -days 30 -extfile "$dir/responder.ext" \
    -out "$dir/responder.crt" 2> /dev/null
}

# More revocations for the CRL workloads: $1 revoked certificates, in
# certctl's database and appended to the reference CA's database.
seed_crl_set() {
  local t0=$SECONDS
  make_rows "$1" 1 crl
  copy_rows crl
  cat "$work/ref/index.txt" "$work/seed/crl-index.txt" > "$work/ref/crl-index.txt"
  cat > "$work/ref/ca.cnf" <<EOF
[ ca ]
default_ca = bench
[ bench ]
database = $work/ref/crl-index.txt
crlnumber = $work/ref/crlnumber
certificate = $work/dev/ca/ca.crt
private_key = $work/dev/ca/ca.key
default_md = sha256
default_crl_days = 7
unique_subject = no
EOF
  echo 01 > "$work/ref/crlnumber"
  log "seeded $1 more revocations in $((SECONDS - t0)) s"
}
