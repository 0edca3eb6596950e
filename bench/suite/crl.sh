# bench/run's CRL and issuance workloads. Results go to $out/runs.jsonl
# like the HTTP ones (workload, contender, round, load1, plus their own
# fields). Sourced by bench/run after seed_crl_set.

admin() { "$build/certctl-admin" --dev "$@"; }

crl_etag() {
  curl -fsS -I "$pki/.well-known/pki/crl/iss-local" |
    sed -n 's/^[Ee][Tt][Aa][Gg]: *"\(.*\)".*/\1/p' | tr -d '\r'
}

record() { # workload contender round json-object
  jq -c --arg w "$1" --arg c "$2" --argjson r "$3" --argjson load "$(load1)" \
    '{workload: $w, contender: $c, round: $r, load1: $load} + .' <<< "$4" \
    >> "$out/runs.jsonl"
}

# /usr/bin/time's wall seconds and peak RSS (KB) of a command, as JSON.
timed() {
  local t
  t=$(/usr/bin/time -f '%e %M' "$@" 2>&1 > /dev/null | tail -1) ||
    die "$* failed: $t"
  awk '{ printf "{\"seconds\":%s,\"max_rss_kb\":%s}", $1, $2 }' <<< "$t"
}

# certctl-admin crl regenerate, then at once a GET: its time to first byte
# (whichever CRL it got), and how long until certctld serves the new one.
regenerate_certctl() {
  local round=$1 json number ttfb t0 waited new_etag
  json=$(timed "$build/certctl-admin" --dev crl regenerate iss-local)
  number=$(psql_bench -tA -c \
    "SELECT crl_number FROM crl_cache WHERE issuer_id = 'iss-local' AND generation = 1")
  t0=$(date +%s%N)
  ttfb=$(curl -fsS -o "$work/crl.der" -w '%{time_starttransfer}' \
    "$pki/.well-known/pki/crl/iss-local")
  new_etag="iss-local-g1-n$number"
  until [[ $(crl_etag) == "$new_etag" ]]; do
    (($(date +%s%N) - t0 < 60000000000)) || die "certctld still serves an old CRL after 60 s"
    sleep 0.01
  done
  waited=$((($(date +%s%N) - t0) / 1000000))
  json=$(jq -c --argjson ttfb "$ttfb" --argjson waited "$waited" \
    --argjson size "$(psql_bench -tA -c "SELECT length(crl_der) FROM crl_cache WHERE issuer_id = 'iss-local' AND generation = 1")" \
    '. + {ttfb_ms: ($ttfb * 1000), new_served_after_ms: $waited, der_bytes: $size}' <<< "$json")
  record crl_regenerate certctl "$round" "$json"
  log "crl_regenerate certctl r$round: $(jq -r '"\(.seconds) s, \(.max_rss_kb / 1024 | floor) MB; GET ttfb \(.ttfb_ms) ms, new CRL served after \(.new_served_after_ms) ms"' <<< "$json")"
}

regenerate_openssl() {
  local round=$1 json
  json=$(timed openssl ca -batch -config "$work/ref/ca.cnf" -gencrl -out "$work/ref/crl.pem")
  json=$(jq -c --argjson size "$(openssl crl -in "$work/ref/crl.pem" -outform DER | wc -c)" \
    '. + {der_bytes: $size}' <<< "$json")
  record crl_regenerate openssl "$round" "$json"
  log "crl_regenerate openssl r$round: $(jq -r '"\(.seconds) s, \(.max_rss_kb / 1024 | floor) MB"' <<< "$json")"
}

crl_regenerate() {
  local round
  for round in $(seq 1 "$rounds"); do
    if [[ ,$only, == *,crl-serve,* ]]; then
      regenerate_certctl "$round"
    elif ((round % 2)); then
      regenerate_certctl "$round"
      regenerate_openssl "$round"
    else
      regenerate_openssl "$round"
      regenerate_certctl "$round"
    fi
  done
}

# certctld's resident memory while 8 clients GET the big CRL at once (each
# twice): the peak (VmHWM, reset first) over the resident size before.
crl_parallel_gets() {
  local status=/proc/$certctld_pid/status before peak size
  crl_etag > /dev/null # the current CRL is loaded
  echo 5 > "/proc/$certctld_pid/clear_refs"
  before=$(awk '/^VmRSS/ { print $2 }' "$status")
  local clients=()
  for _ in 1 2; do
    clients=()
    for _ in $(seq 1 8); do
      curl -fsS -o /dev/null "$pki/.well-known/pki/crl/iss-local" &
      clients+=($!)
    done
    wait "${clients[@]}"
  done
  peak=$(awk '/^VmHWM/ { print $2 }' "$status")
  size=$(wc -c < "$work/crl.der")
  record crl_8_parallel_gets certctl 1 "$(jq -nc --argjson b "$before" --argjson p "$peak" \
    --argjson s "$size" '{rss_before_kb: $b, rss_peak_kb: $p, der_bytes: $s,
      rise_of_crl_size: (($p - $b) * 1024 / $s)}')"
  log "8 parallel GETs: RSS $((before / 1024)) -> $((peak / 1024)) MB, CRL $((size / 1048576)) MB"
}

# Issuance through the API, the same CSR each time (certctl only: the
# reference has no API).
issuance() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$work/issue.key" -subj "/CN=bench.example" \
    -addext "subjectAltName=DNS:bench.example" -out "$work/issue.csr" 2> /dev/null
  local round json output
  for round in $(seq 1 "$rounds"); do
    output=$(BENCH_CSR=$work/issue.csr BENCH_API_KEY_FILE=$work/dev/api-key \
      wrk -t1 -c "$connections" -d "${seconds}s" --timeout 10s -s "$suite/issue.lua" \
      "$api" 2>&1) || die "wrk failed: $output"
    json=$(sed -n 's/^BENCH_JSON //p' <<< "$output")
    [[ $(jq '.errors.status' <<< "$json") == 0 ]] || die "issuance failed: $output"
    record issuance certctl "$round" "$(jq -c '. + {offered: 0}' <<< "$json")"
    log "issuance r$round: $(jq -r '.rps | floor' <<< "$json")/s"
  done
}
