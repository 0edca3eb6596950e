-- wrk script of bench/run: OCSP requests for many serials, built here from
-- one DER template by splicing in each serial (and nonce), so any number of
-- distinct requests costs no process per request. Every serial of the set
-- has 40 hex digits starting with 1 (20 bytes), so all requests have the
-- same length and the serial sits at the same offset.
--
-- Environment:
--   BENCH_MODE      get | post | nonce | first | serial | static
--                     get     GET PREFIX/<base64 request>, a pool of serials
--                     post    POST the DER request (no nonce), the same pool
--                     nonce   POST with a fresh 16-byte nonce (signed live)
--                     first   POST for serials never asked before:
--                             BENCH_START, BENCH_START+1, ...
--                     serial  GET PREFIX/serial/<hex> (certctl only)
--                     static  GET BENCH_PATH (nginx's copy of one answer)
--   BENCH_SERIALS   file of hex serials, one a line
--   BENCH_TEMPLATE  DER request (no nonce) for the first serial of the file
--   BENCH_NONCE_TEMPLATE  the same with a nonce (its last 16 bytes)
--   BENCH_POOL      how many serials the pool modes cycle through
--   BENCH_PREFIX    path prefix ("/.well-known/pki/ocsp/iss-local", "" for
--                   openssl ocsp)
--   BENCH_RATE      offered load in requests/s over all connections (0: as
--                   fast as the server answers)
--   BENCH_CONNECTIONS  the -c given to wrk (to spread BENCH_RATE)
--   BENCH_CHECK     1: check every answer is HTTP 200 with a successful
--                   OCSP response (slower; the set-up pass only)
-- done() prints one line "BENCH_JSON {...}" with the counts and latencies.

local mode = os.getenv("BENCH_MODE") or "get"
local prefix = os.getenv("BENCH_PREFIX") or ""
local pool = tonumber(os.getenv("BENCH_POOL") or "1000")
local start = tonumber(os.getenv("BENCH_START") or "0")
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local connections = tonumber(os.getenv("BENCH_CONNECTIONS") or "1")
local check = os.getenv("BENCH_CHECK") == "1"

local function read_file(path)
  local f = assert(io.open(path, "rb"), "cannot read " .. tostring(path))
  local data = f:read("*a")
  f:close()
  return data
end

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if #line > 0 then lines[#lines + 1] = line end
  end
  return lines
end

local function unhex(hex)
  return (hex:gsub("..", function(b) return string.char(tonumber(b, 16)) end))
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(data)
  local out = {}
  for i = 1, #data, 3 do
    local a, b, c = data:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local s = {}
    for k = 1, 4 do
      local v = math.floor(n / 64 ^ (4 - k)) % 64
      s[k] = b64chars:sub(v + 1, v + 1)
    end
    if not b then s[3] = "=" end
    if not c then s[4] = "=" end
    out[#out + 1] = table.concat(s)
  end
  return table.concat(out)
end

local function urlencode(s)
  return (s:gsub("[+/=]", function(c) return string.format("%%%02X", c:byte()) end))
end

local serials, template, serial_at
local requests = {}
local next_index = 0
counter = 0  -- requests made by this thread (read by done())
bad = 0      -- answers that failed the check
wrapped = 0  -- "first" requests that had to reuse a serial

-- `template` with the serial replaced (and a fresh nonce when asked).
local function request_der(hex, with_nonce)
  local der = template
  der = der:sub(1, serial_at - 1) .. unhex(hex) .. der:sub(serial_at + 20)
  if with_nonce then
    local nonce = {}
    for k = 1, 16 do nonce[k] = string.char(math.random(0, 255)) end
    der = der:sub(1, #der - 16) .. table.concat(nonce)
  end
  return der
end

local post_headers = { ["Content-Type"] = "application/ocsp-request" }

local function format(hex)
  if mode == "get" then
    return wrk.format("GET", prefix .. "/" .. urlencode(base64(request_der(hex, false))))
  elseif mode == "serial" then
    return wrk.format("GET", prefix .. "/serial/" .. hex)
  else
    local path = prefix == "" and "/" or prefix
    return wrk.format("POST", path, post_headers, request_der(hex, mode == "nonce"))
  end
end

function init(args)
  math.randomseed(os.time() + start)
  if mode == "static" then
    requests[1] = wrk.format("GET", os.getenv("BENCH_PATH"))
    return
  end
  serials = read_lines(os.getenv("BENCH_SERIALS"))
  template = read_file(os.getenv(mode == "nonce" and "BENCH_NONCE_TEMPLATE" or "BENCH_TEMPLATE"))
  serial_at = template:find(unhex(serials[1]), 1, true)
  assert(serial_at, "the template does not hold the first serial")
  if mode == "first" or mode == "nonce" then return end
  for i = 1, math.min(pool, #serials) do requests[i] = format(serials[i]) end
end

function request()
  counter = counter + 1
  if mode == "first" then
    local i = start + counter
    if i > #serials then
      -- Out of fresh serials: wrap (bench/run reports it; harmless for the
      -- reference, which keeps no answers).
      wrapped = wrapped + 1
      i = pool + 1 + (i - pool - 1) % (#serials - pool)
    end
    return format(serials[i])
  elseif mode == "nonce" then
    return format(serials[(counter % pool) + 1])
  end
  next_index = next_index % #requests + 1
  return requests[next_index]
end

if rate > 0 then
  -- Each connection waits before its next request, so that all of them
  -- together offer about BENCH_RATE requests/s (closed loop: a slow answer
  -- delays the next request of its connection).
  local wait_ms = math.max(1, math.floor(connections * 1000 / rate + 0.5))
  function delay() return wait_ms end
end

if check then
  -- OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, ... }: after the
  -- SEQUENCE header (2 to 4 bytes), 0a 01 00 is "successful".
  function response(status, headers, body)
    local ok = status == 200 and body:byte(1) == 0x30
    if ok then
      local len = body:byte(2)
      local at = len < 128 and 3 or 3 + (len - 128)
      ok = body:sub(at, at + 2) == "\10\1\0"
    end
    if not ok then bad = bad + 1 end
  end
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests_unused)
  local made, failed, reused = 0, 0, 0
  for _, t in ipairs(threads) do
    made = made + (t:get("counter") or 0)
    failed = failed + (t:get("bad") or 0)
    reused = reused + (t:get("wrapped") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"mean_us":%.1f,"made":%d,"bad":%d,"wrapped":%d,"errors":{"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    made, failed, reused, e.connect, e.read, e.write, e.status, e.timeout))
end
