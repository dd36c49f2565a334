-- wrk script for bench/run.py: one static request from the environment, a JSON summary at the end.
--   BENCH_METHOD   GET or POST (default GET)
--   BENCH_BODY     the request body (default none)
--   BENCH_HEADERS  "Name: value" lines separated by "\n"
-- The request stays static (no request() function), so wrk never calls Lua per request.

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body ~= nil and body ~= "" then
   wrk.body = body
end
for line in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\n]+") do
   local name, value = string.match(line, "^([^:]+):%s*(.*)$")
   if name ~= nil then
      wrk.headers[name] = value
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d,'
         .. ' "write_errors": %d, "status_errors": %d, "timeouts": %d, "p50_us": %d,'
         .. ' "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean))
end
