-- Shared by every workload script: parameters, per-thread status counts, percentiles printed in done().
-- run.py sets BENCH_PARAMS (a Lua file defining P, the ids/branches/tokens of this run).
P = dofile(os.getenv("BENCH_PARAMS"))
math.randomseed(os.time())

local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", counter)
  thread:set("nthreads", 0)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  statuses = {}
  sent = 0
  math.randomseed(os.time() + (tid or 0) * 7919)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function pick(list)
  return list[math.random(#list)]
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
    end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, string.format('"%s": %d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "rps": %.2f, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, ' ..
    '"max_ms": %.3f, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, "statuses": {%s}}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ", ")))
end

function get(path, headers)
  return wrk.format("GET", path, headers)
end

function post_json(path, headers, body)
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", path, headers, body)
end
