# bench/run's processes: certctld (dev mode, its own PostgreSQL), the
# reference `openssl ocsp`, nginx, and the machine's description. Sourced by
# bench/run; expects $work (a private temporary directory) and $build.
#
# Every process started here is recorded in $work/pids and stopped by
# stop_all, by its own PID: nothing else on the machine is touched.

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

load1() { cut -d' ' -f1 /proc/loadavg; }

# A free TCP port on 127.0.0.1 (nothing answers a connect to it).
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

# Waits until something accepts connections on 127.0.0.1:$1 (at most $2 s).
wait_port() {
  local deadline=$((SECONDS + ${2:-30}))
  while ((SECONDS < deadline)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

remember_pid() { echo "$1" >> "$work/pids"; }

stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

stop_all() {
  [[ -f $work/pids ]] || return 0
  local pid
  for pid in $(tac "$work/pids"); do stop_pid "$pid"; done
  : > "$work/pids"
}

machine_json() {
  jq -n --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    --arg kernel "$(uname -r)" --arg openssl "$(openssl version)" \
    --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg commit "$(git rev-parse --short HEAD)" \
    --argjson nproc "$(nproc)" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    '{date: $date, commit: $commit, nproc: $nproc, cpu: $cpu, kernel: $kernel,
      openssl: $openssl, load_at_start: $load}'
}

# certctld --dev in $work/dev: its own PostgreSQL cluster (unix socket in
# $work/dev/pg/run), CA and API key; both listeners on 127.0.0.1.
start_certctld() {
  api_port=$(free_port)
  pki_port=$(free_port)
  while [[ $pki_port == "$api_port" ]]; do pki_port=$(free_port); done
  export CERTCTL_DEV_DIR=$work/dev
  CERTCTL_LISTEN_API=127.0.0.1:$api_port CERTCTL_LISTEN_PKI=127.0.0.1:$pki_port \
    CERTCTL_BASE_URL=http://127.0.0.1:$pki_port CERTCTL_LOG_LEVEL=warn \
    "$build/certctld" --dev --data-dir "$work/dev" > "$work/certctld.log" 2>&1 &
  certctld_pid=$!
  remember_pid "$certctld_pid"
  local deadline=$((SECONDS + 120))
  until curl -fsS --cacert "$work/dev/ca/ca.crt" -o /dev/null \
    "https://127.0.0.1:$api_port/readyz" 2>/dev/null; do
    kill -0 "$certctld_pid" 2>/dev/null || die "certctld exited: $(tail -5 "$work/certctld.log")"
    ((SECONDS < deadline)) || die "certctld not ready after 120 s"
    sleep 0.2
  done
  database_url=$(sed -n 's/^database_url: //p' "$work/dev/certctl.yaml")
  pki=http://127.0.0.1:$pki_port
  api=https://127.0.0.1:$api_port
  log "certctld pid $certctld_pid: PKI $pki, API $api"
}

psql_bench() { psql -X -q -v ON_ERROR_STOP=1 "$database_url" "$@"; }

# openssl ocsp -multi 2 on a fresh port, answering from $work/ref/index.txt
# with a delegated P-256 responder like certctld's. Sets ref_pid, ref_url.
# (openssl 3.0's -port takes a number only: it listens on every address.)
start_reference() {
  local attempt port log
  # Three misses in a row end the run.
  for attempt in 1 2 3; do
    log=$work/ref/ocsp-$((++reference_starts)).log
    port=$(free_port)
    openssl ocsp -index "$work/ref/index.txt" -CA "$work/dev/ca/ca.crt" \
      -rsigner "$work/ref/responder.crt" -rkey "$work/ref/responder.key" \
      -ndays 4 -port "$port" -multi 2 > "$log" 2>&1 &
    ref_pid=$!
    disown "$ref_pid" # stopped with SIGKILL: no "Killed" notice from the shell
    remember_pid "$ref_pid"
    # Not wait_port: a connection closed without a request is what makes an
    # openssl 3.0 -multi child spin. Nor its log: with -multi it logs its
    # ACCEPT line only now and then (it sends its messages to syslog), so
    # the listening socket is looked up with ss instead.
    local deadline=$((SECONDS + 10))
    until [[ -n $(ss -Hltn "sport = :$port") ]]; do
      ((SECONDS < deadline)) || break
      sleep 0.02
    done
    if [[ -n $(ss -Hltn "sport = :$port") ]]; then
      ref_url=http://127.0.0.1:$port
      return 0
    fi
    log "openssl ocsp did not listen on $port within 10 s (attempt $attempt): $(tail -3 "$log")"
    stop_reference
  done
  die "openssl ocsp did not start in 3 attempts"
}
reference_starts=0

# The reference's workers are its children (-multi forks them). Killed
# outright: a child spinning after a closed connection ignores nothing, but
# the parent waits for it, so SIGTERM can take seconds.
stop_reference() {
  local children pid
  children=$(pgrep -P "$ref_pid" || true)
  for pid in "$ref_pid" $children; do kill -KILL "$pid" 2> /dev/null || true; done
  for pid in "$ref_pid" $children; do
    while kill -0 "$pid" 2> /dev/null; do sleep 0.01; done
  done
}

# nginx-light serving $work/static (the HTTP ceiling). Sets nginx_url.
start_nginx() {
  local port dir=$work/nginx
  port=$(free_port)
  mkdir -p "$dir/logs" "$dir/tmp"
  cat > "$dir/nginx.conf" <<EOF
daemon off;
user root;
worker_processes $(nproc);
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp;
  proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp;
  scgi_temp_path $dir/tmp;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location / { root $work/static; default_type application/ocsp-response; }
  }
}
EOF
  nginx -p "$dir" -c "$dir/nginx.conf" > "$dir/logs/stdout" 2>&1 &
  nginx_pid=$!
  remember_pid "$nginx_pid"
  wait_port "$port" 30 || die "nginx did not start: $(cat "$dir/logs/error.log")"
  nginx_url=http://127.0.0.1:$port
}
