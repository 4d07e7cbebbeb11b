-- wrk script: each request is the next heartbeat of one of many playbacks.
-- entries.lua (written by heartbeat_bench.py) defines `entries` = {{cookie=, csrf=, token=}, ...}.
local entries = dofile(os.getenv("BENCH_ENTRIES"))
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local counter = 0

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)

  seq = {}
  started = {}
end

function request()
  counter = counter + 1
  local n = #entries
  local index = ((counter * #threads + id) % n) + 1
  local e = entries[index]
  local s = (seq[index] or 0) + 1
  seq[index] = s
  local position = 0
  if started[index] == nil then started[index] = os.time() else position = os.time() - started[index] end
  local body = string.format(
    '{"playback":"%s","seq":%d,"position":%d,"playing":true,"buffering":false,"visible":true,"focused":true,"rate":1,"interacted":true}',
    e.token, s, position)
  local headers = {["Content-Type"] = "application/json", ["Cookie"] = e.cookie, ["X-CSRFToken"] = e.csrf}
  return wrk.format("POST", "/api/player/heartbeat", headers, body)
end

function delay()
  return delay_ms
end
