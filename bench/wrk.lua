-- POSTs the GraphQL body (or bodies) in $BODY_FILE with the key in $API_KEY, and counts a
-- response as an error when it is not 200 or carries GraphQL errors.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("API_KEY")
-- One body per line: with several, each request takes one at random (a
-- write spread over many chats, as an inbox's are).
local bodies = {}
for line in io.lines(os.getenv("BODY_FILE")) do
  if line ~= "" then
    table.insert(bodies, line)
  end
end
wrk.body = bodies[1]
if #bodies > 1 then
  request = function()
    return wrk.format(nil, nil, nil, bodies[math.random(#bodies)])
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  errors = 0
  -- Threads would otherwise draw the same sequence.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local failed = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("errors")
  end
  io.write(string.format("RESULT %d %.6f %.3f %.3f %d\n", summary.requests,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000, failed))
end
