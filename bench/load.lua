-- The wrk script of bench/load.py (one wrk process per request type).
-- One script for every type: LOAD_ENTRIES names a file of "path<TAB>auth<TAB>range<TAB>size"
-- lines; auth 1 sends the member's token, range > 0 asks a random range of that many bytes
-- inside size bytes. done() prints one JSON line.

local entries = {}
local token = os.getenv("LOAD_TOKEN")
for line in io.lines(os.getenv("LOAD_ENTRIES")) do
  local path, auth, range, size = line:match("^(.-)\t(%d)\t(%d+)\t(%d+)$")
  table.insert(entries, {path, auth == "1", tonumber(range), tonumber(size)})
end
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0))
  statuses = {}
end

function request()
  local e = entries[math.random(1, #entries)]
  local headers = {}
  if e[2] then headers["Authorization"] = "Bearer " .. token end
  if e[3] > 0 then
    local start = math.random(0, e[4] - e[3])
    headers["Range"] = "bytes=" .. start .. "-" .. (start + e[3] - 1)
  end
  return wrk.format("GET", e[1], headers)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses") or {}) do
      merged[code] = (merged[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(merged) do table.insert(parts, string.format('"%s": %d', code, n)) end
  io.write(string.format(
    'LOAD {"requests": %d, "bytes": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, '
    .. '"p99_us": %d, "max_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, '
    .. '"timeout": %d, "statuses": {%s}}\n',
    summary.requests, summary.bytes, summary.duration, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    table.concat(parts, ", ")))
end
