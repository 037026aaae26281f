-- wrk script of `make bench` (bench/load.py sets the environment):
--   BENCH_COOKIE  Cookie header (the session of the bench user), optional
--   BENCH_AUTH    Authorization header (an API token), optional
--   BENCH_METHOD  GET (default) or POST; BENCH_BODY the JSON body of a POST
-- At the end one line WRKJSON{...} with the counts and latency percentiles (us).
local cookie = os.getenv("BENCH_COOKIE")
local auth = os.getenv("BENCH_AUTH")
if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
if os.getenv("BENCH_METHOD") == "POST" then
  wrk.method = "POST"
  wrk.body = os.getenv("BENCH_BODY")
  wrk.headers["Content-Type"] = "application/json"
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON{"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p95_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"err_status":%d,' ..
    '"err_timeout":%d,"err_connect":%d,"err_read":%d,"err_write":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean, e.status, e.timeout,
    e.connect, e.read, e.write))
end
