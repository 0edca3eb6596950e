# bench/run's HTTP workloads, driven by wrk with ocsp.lua. Each result is a
# line of $out/runs.jsonl: workload, contender, round, the 1-minute load
# average when it started, and wrk's counts and latencies. Sourced by
# bench/run.

# The serials of the OCSP set before this one were used by the pool or
# asked of certctld by the "first" workload (bench/run sets it to $pool).
first_next=0

# After a "first" run of contender $1 answered by $2 (the run's JSON): the
# serials certctld was asked about are used up (the reference keeps nothing).
use_serials() {
  [[ $1 == certctl ]] || return 0
  first_next=$((first_next + $(jq .made <<< "$2") + 1))
  if (($(jq .wrapped <<< "$2") > 0)); then
    log "warning: the first-request workload ran out of fresh serials (seed more)"
  fi
}

# wrk against $url for $seconds with ocsp.lua; the caller exports BENCH_*.
# Prints the BENCH_JSON object.
wrk_json() {
  local url=$1 seconds=$2
  shift 2
  local output
  output=$(BENCH_SERIALS=$work/serials.txt BENCH_TEMPLATE=$work/request.der \
    BENCH_NONCE_TEMPLATE=$work/request-nonce.der BENCH_POOL=$pool \
    BENCH_CONNECTIONS=$connections BENCH_START=$first_next \
    wrk -t1 -c "$connections" -d "${seconds}s" --timeout 10s -s "$suite/ocsp.lua" "$@" \
    "$url" 2>&1) || die "wrk failed: $output"
  local json
  json=$(sed -n 's/^BENCH_JSON //p' <<< "$output")
  [[ -n $json ]] || die "wrk printed no result: $output"
  echo "$json"
}

# URL and path prefix of a contender for the OCSP modes.
contender_url() {
  case $1 in
    certctl | certctl-serial) echo "$pki" ;;
    openssl) echo "$ref_url" ;;
    nginx) echo "$nginx_url" ;;
  esac
}
contender_prefix() {
  case $1 in
    certctl | certctl-serial) echo "/.well-known/pki/ocsp/iss-local" ;;
    *) echo "" ;;
  esac
}

# One run: workload $1 (its mode in $mode, wrk options in $wrk_args), contender
# $2, round $3, $4 seconds, BENCH_RATE from $rate (0: closed loop). The
# reference is started afresh for every run (openssl 3.0's -multi child spins
# after a client closes a connection without a request). Appends to runs.jsonl.
run_one() {
  local workload=$1 contender=$2 round=$3 seconds=$4 load
  [[ $contender == openssl ]] && start_reference
  local run_mode=$mode
  [[ $contender == certctl-serial ]] && run_mode=serial
  [[ $contender == nginx ]] && run_mode=static
  load=$(load1)
  local json
  json=$(BENCH_MODE=$run_mode BENCH_PREFIX=$(contender_prefix "$contender") \
    BENCH_PATH=/answer.der BENCH_RATE=${rate:-0} \
    wrk_json "$(contender_url "$contender")" "$seconds" "${wrk_args[@]}")
  [[ $contender == openssl ]] && stop_reference
  [[ $run_mode == first ]] && use_serials "$contender" "$json"
  jq -c --arg w "$workload" --arg c "$contender" --argjson r "$round" \
    --argjson load "$load" --argjson rate "${rate:-0}" \
    '{workload: $w, contender: $c, round: $r, load1: $load, offered: $rate} + .' \
    <<< "$json" >> "$out/runs.jsonl"
  log "$(jq -r '"\(.workload) \(.contender) r\(.round): \(.rps|floor)/s p99 \(.p99_us)us errors \(.errors.status + .errors.read + .errors.connect + .errors.timeout)"' \
    <<< "$(tail -1 "$out/runs.jsonl")")"
}

# A short pass with every answer checked (HTTP 200, OCSP successful): the
# requests ocsp.lua builds are accepted, and certctld has the pool in memory.
check_one() {
  local workload=$1 contender=$2
  [[ $contender == openssl ]] && start_reference
  local run_mode=$mode json
  [[ $contender == certctl-serial ]] && run_mode=serial
  [[ $contender == nginx ]] && run_mode=static
  json=$(BENCH_MODE=$run_mode BENCH_PREFIX=$(contender_prefix "$contender") \
    BENCH_PATH=/answer.der BENCH_CHECK=1 BENCH_RATE=0 \
    wrk_json "$(contender_url "$contender")" "$check_seconds" "${wrk_args[@]}")
  [[ $contender == openssl ]] && stop_reference
  [[ $run_mode == first ]] && use_serials "$contender" "$json"
  local bad made
  bad=$(jq '.bad + .errors.status' <<< "$json")
  made=$(jq .requests <<< "$json")
  ((bad == 0 && made > 0)) || die "$workload/$contender: $bad of $made answers failed the check"
}

# Workload $1 (ocsp.lua mode $2, extra wrk options after), contenders
# alternated round by round: the first contender goes first in odd rounds.
alternate() {
  local workload=$1 contenders=$2
  mode=$3
  shift 3
  wrk_args=("$@")
  local c round order
  for c in $contenders; do check_one "$workload" "$c"; done
  for round in $(seq 1 "$rounds"); do
    order=$contenders
    ((round % 2 == 0)) && order=$(tr ' ' '\n' <<< "$contenders" | tac | tr '\n' ' ')
    for c in $order; do rate=0 run_one "$workload" "$c" "$round" "$seconds"; done
  done
}

# Median requests/s of a workload's contender so far.
median_rps() {
  jq -s --arg w "$1" --arg c "$2" \
    '[.[] | select(.workload == $w and .contender == $c and .offered == 0) | .rps] | sort
     | if length == 0 then 0 else .[(length - 1) / 2 | floor] end' "$out/runs.jsonl"
}

# Latency against offered load: fractions of each contender's median peak,
# one run per point, contenders alternated at each point.
sweep() {
  local workload=$1 contenders=$2
  mode=$3
  shift 3
  wrk_args=("$@")
  local f c peak
  for f in $sweep_fractions; do
    for c in $contenders; do
      peak=$(median_rps "$workload" "$c")
      rate=$(awk -v p="$peak" -v f="$f" 'BEGIN { r = int(p * f); print (r < 1 ? 1 : r) }') \
        run_one "$workload" "$c" 0 "$sweep_seconds"
    done
  done
}

ocsp_workloads() {
  curl -fsS -o "$work/static/answer.der" "$pki/.well-known/pki/ocsp/iss-local/$(
    base64 -w0 "$work/request.der" | sed 's|+|%2B|g; s|/|%2F|g; s|=|%3D|g')"
  alternate ocsp_get "certctl openssl" get
  alternate ocsp_get_close "certctl openssl" get -H "Connection: close"
  alternate ocsp_post "certctl openssl" post
  alternate ocsp_post_nonce "certctl openssl" nonce
  alternate ocsp_first "certctl openssl" first
  alternate ocsp_serial_vs_get "certctl-serial certctl" get
  alternate http_ceiling "nginx certctl" get
  sweep ocsp_get "certctl openssl" get
  sweep ocsp_post "certctl openssl" post
  sweep ocsp_post_nonce "certctl openssl" nonce
}

# With --perf: certctld's profile (perf record -g) during one more run of
# each OCSP workload, summarized in $out/perf-<workload>.txt (the top
# symbols, self time) for docs/performance.md's hot spots.
profile_workloads() {
  command -v perf > /dev/null || die "--perf needs perf (Debian: linux-perf)"
  local spec workload run_mode
  for spec in ocsp_get:get ocsp_post_nonce:nonce ocsp_first:first ocsp_serial:serial; do
    workload=${spec%%:*} run_mode=${spec#*:}
    perf record -q -g -p "$certctld_pid" -o "$work/perf.data" -- sleep "$seconds" \
      > /dev/null 2>&1 &
    local recorder=$!
    local json
    json=$(BENCH_MODE=$run_mode BENCH_PREFIX=/.well-known/pki/ocsp/iss-local BENCH_RATE=0 \
      wrk_json "$pki" "$seconds")
    wait "$recorder" || true
    [[ $run_mode == first ]] && use_serials certctl "$json"
    perf report -i "$work/perf.data" --stdio --no-children -g none --percent-limit 1 \
      --sort dso,symbol 2> /dev/null | grep -v '^#' | grep -v '^$' | cut -c1-150 |
      sed 's/ *$//' | head -40 > "$out/perf-$workload.txt" || true # head closes the pipe
    log "profiled $workload ($(jq -r '.rps | floor' <<< "$json")/s): $out/perf-$workload.txt"
  done
}
