-- wrk script: each request answers the question an open test attempt is serving now.
-- entries.lua (written by quiz_bench.py) defines `entries` = {{cookie=, csrf=, tab=, attempt=, question=}, ...}:
-- entry a (1-based) is an attempt whose questions have the ids (a-1)*N+1 .. a*N in order (N =
-- BENCH_QUESTIONS); `question` is the one it serves now (0: the attempt is finished).
-- wrk does not tell which connection a response came on, so each thread keeps a stack of attempts
-- with no answer in flight: a request takes one, and its response (which carries the next
-- question's id) puts it back. An attempt is never answered by two requests at once, and one that
-- finished is not used again.
local entries = dofile(os.getenv("BENCH_ENTRIES"))
local per_attempt = tonumber(os.getenv("BENCH_QUESTIONS"))
local thread_count = tonumber(os.getenv("BENCH_THREADS"))
local report_path = os.getenv("BENCH_REPORT")

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  ready = {}        -- stack of attempt indices with no answer in flight
  next_question = {}
  for a = 1, #entries do
    if (a - 1) % thread_count == id and entries[a].question > 0 then
      next_question[a] = entries[a].question
    end
  end
  for a = #entries, 1, -1 do  -- the lowest index on top, so attempts are used up one after another
    if next_question[a] then table.insert(ready, a) end
  end
  answered, finished, refused, unreadable, starved = 0, 0, 0, 0, 0
end

function request()
  local a = table.remove(ready)
  if a == nil then
    -- Every attempt of this thread is in flight or finished: the bench prepared too few.
    starved = starved + 1
    return wrk.format("GET", "/api/ping", {["Cookie"] = entries[1].cookie})
  end
  local e = entries[a]
  local qid = next_question[a]
  -- The right option of the benchmark's questions is shown second; every 5th answer is wrong.
  local choice = (qid % 5 == 0) and 0 or 1
  local body = string.format('{"tab":"%s","question":%d,"choice":[%d]}', e.tab, qid, choice)
  local headers = {["Content-Type"] = "application/json", ["Cookie"] = e.cookie, ["X-CSRFToken"] = e.csrf}
  return wrk.format("POST", string.format("/quiz/api/attempts/%d/answer", e.attempt), headers, body)
end

function response(status, headers, body)
  if status ~= 200 then
    refused = refused + 1  -- its attempt cannot be told from the body: it is not used again
    return
  end
  local state = body:match('"state":%s*"(%a+)"')
  if state == "question" then
    local at = body:find('"question":', 1, true)
    local qid = at and tonumber(body:match('"id":%s*(%d+)', at))
    if qid == nil then
      unreadable = unreadable + 1
      return
    end
    answered = answered + 1
    local a = math.floor((qid - 1) / per_attempt) + 1
    next_question[a] = qid
    table.insert(ready, a)
  elseif state == "finished" then
    answered = answered + 1
    finished = finished + 1
  elseif body:find('"ok"', 1, true) == nil then  -- a starved request's ping answer is not counted
    unreadable = unreadable + 1
  end
end

function done(summary, latency, requests)
  local totals = {answered = 0, finished = 0, refused = 0, unreadable = 0, starved = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do totals[key] = totals[key] + (thread:get(key) or 0) end
  end
  local out = io.open(report_path, "w")
  out:write(string.format('{"answered": %d, "finished": %d, "refused": %d, "unreadable": %d, "starved": %d}\n',
    totals.answered, totals.finished, totals.refused, totals.unreadable, totals.starved))
  out:close()
end
