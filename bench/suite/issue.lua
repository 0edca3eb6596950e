-- wrk script of bench/run: issuance through the API. Every request POSTs
-- the same CSR (BENCH_CSR, a PEM file) to /api/v1/certificates with the API
-- key read from BENCH_API_KEY_FILE (a file, so the key is on no command
-- line). done() prints "BENCH_JSON {...}" like ocsp.lua.

local function read_file(path)
  local f = assert(io.open(path, "rb"), "cannot read " .. tostring(path))
  local data = f:read("*a")
  f:close()
  return data
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == "\n" then return "\\n" end
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

local req

function init(args)
  local key = read_file(os.getenv("BENCH_API_KEY_FILE")):gsub("%s+$", "")
  local body = '{"csr":' .. json_string(read_file(os.getenv("BENCH_CSR"))) ..
               ',"validity_days":30}'
  req = wrk.format("POST", "/api/v1/certificates", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key,
  }, body)
end

function request()
  return req
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"mean_us":%.1f,"made":0,"bad":0,"wrapped":0,"errors":{"connect":%d,' ..
    '"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
