-- SPDX-License-Identifier: Apache-2.0
-- wrk script: replay pre-signed requests (bench/presign.c output, one per
-- line, tab-separated: method, target, x-date, authorization,
-- x-content-sha256, content-length, body).  The server verifies every
-- request as any other: nothing here skips or caches a signature.
--
-- Environment:
--   BENCH_REQS     the request file (required)
--   BENCH_THREADS  wrk's -t (to split the file between threads)
--   BENCH_ONCE=1   each request is sent at most once (signed PUTs that
--                  each make a new version); thread i takes lines
--                  i, i+T, i+2T...  When a thread runs out it sends
--                  GET /__bench_exhausted (404, never counted as 2xx)
--                  and reports it.
--   BENCH_PATH     send every request to this path instead (nginx: the
--                  same headers against a static file)
-- done() prints one line "BENCH_JSON {...}" for bench/run.sh.

local reqs = {}
local n = 0
local pos = 0
local once = false
local exhausted = 0
local threads = {}
local nthreads_seen = 0

function setup(thread)
   thread:set("tid", nthreads_seen)
   nthreads_seen = nthreads_seen + 1
   table.insert(threads, thread)
end

local function split_tabs(line)
   local f = {}
   local start = 1
   while true do
      local i = string.find(line, "\t", start, true)
      if i == nil then
         f[#f + 1] = string.sub(line, start)
         return f
      end
      f[#f + 1] = string.sub(line, start, i - 1)
      start = i + 1
   end
end

function init(args)
   local file = os.getenv("BENCH_REQS")
   local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
   local override = os.getenv("BENCH_PATH")
   local me = tid or 0
   once = os.getenv("BENCH_ONCE") == "1"
   if override == "" then
      override = nil
   end
   local i = 0
   for line in io.lines(file) do
      if line ~= "" then
         if not once or i % nthreads == me then
            local f = split_tabs(line)
            local headers = {
               ["Content-Type"] = "application/json",
               ["x-date"] = f[3],
               ["authorization"] = f[4],
            }
            if f[5] ~= nil and f[5] ~= "" then
               headers["x-content-sha256"] = f[5]
            end
            local body = f[7]
            if body == "" then
               body = nil
            end
            n = n + 1
            reqs[n] = wrk.format(f[1], override or f[2], headers, body)
         end
         i = i + 1
      end
   end
   if n == 0 then
      reqs[1] = wrk.format("GET", "/__bench_exhausted", {}, nil)
      n = 1
      exhausted = 1
   end
   -- readers start at different places of the list
   if not once then
      pos = math.floor(me * n / nthreads)
   end
end

function request()
   if once then
      if pos >= n then
         if exhausted == 0 then
            exhausted = 1
            wrk.thread:set("exhausted", 1)
         end
         return wrk.format("GET", "/__bench_exhausted", {}, nil)
      end
      pos = pos + 1
      return reqs[pos]
   end
   pos = pos + 1
   if pos > n then
      pos = 1
   end
   return reqs[pos]
end

function done(summary, latency, requests)
   local ex = 0
   for _, t in ipairs(threads) do
      local v = t:get("exhausted")
      if v ~= nil then
         ex = ex + v
      end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"lat_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d},' ..
      '"exhausted_threads":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9), latency.max, ex))
end
