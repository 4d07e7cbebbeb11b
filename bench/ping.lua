-- wrk script: the no-op JSON endpoint with the same session cookie a learner sends.
local entries = dofile(os.getenv("BENCH_ENTRIES"))
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
function request()
  return wrk.format("GET", "/api/ping", {["Cookie"] = entries[1].cookie})
end
function delay()
  return delay_ms
end
