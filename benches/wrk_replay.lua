-- wrk script: replays pre-generated remote-write bodies round-robin and counts
-- responses by HTTP status.
--
--   promscope send --write-bodies DIR --count N ...
--   wrk -t2 -c8 -d15s -s benches/wrk_replay.lua http://127.0.0.1:PORT/api/v1/write -- DIR 2
--
-- DIR holds body-0000.bin, body-0001.bin, ... and headers.txt (one `Name: value`
-- line per header), as written by `promscope send --write-bodies`. The optional
-- second argument is wrk's thread count (-t): the threads start evenly spread over
-- the ring of bodies. Every request is a POST of the thread's next body. The
-- requests are formatted once in init(), so request() is only a table lookup.
--
-- done() prints one machine-readable line on stdout:
--   REPLAY bodies=64 requests=N duration_us=D non2xx=K status_204=N ...
-- plus, when any response was not 2xx, the first such response body.

local threads = {}
local thread_count = 0

function setup(thread)
   thread:set("id", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

local requests = {}
local next_index = 1
counts = {}
non2xx = 0
first_error = nil

local function read_file(path)
   local f = io.open(path, "rb")
   if not f then
      return nil
   end
   local data = f:read("*a")
   f:close()
   return data
end

function init(args)
   local dir = args[1]
   if dir == nil then
      error("usage: wrk ... -s wrk_replay.lua URL -- BODY_DIR")
   end
   local headers = {}
   local text = read_file(dir .. "/headers.txt")
   if text == nil then
      error("cannot read " .. dir .. "/headers.txt")
   end
   for line in text:gmatch("[^\r\n]+") do
      local name, value = line:match("^([^:]+):%s*(.-)%s*$")
      if name then
         headers[name] = value
      end
   end
   local i = 0
   while true do
      local body = read_file(string.format("%s/body-%04d.bin", dir, i))
      if body == nil then
         break
      end
      -- wrk.format adds Host and Content-Length.
      requests[#requests + 1] = wrk.format("POST", nil, headers, body)
      i = i + 1
   end
   if #requests == 0 then
      error("no body-NNNN.bin files in " .. dir)
   end
   -- Spread the threads evenly over the ring (args[2]: wrk's thread count).
   local nthreads = tonumber(args[2]) or 1
   next_index = math.floor((id or 0) * #requests / nthreads) % #requests + 1
   bodies = #requests
end

function request()
   local r = requests[next_index]
   next_index = next_index % #requests + 1
   return r
end

function response(status, headers, body)
   local key = tostring(status)
   counts[key] = (counts[key] or 0) + 1
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_error == nil then
         first_error = string.format("%d %s", status, (body or ""):sub(1, 300))
      end
   end
end

function done(summary, latency, requests)
   local total = {}
   local bad = 0
   local nbodies = 0
   local err = nil
   for _, t in ipairs(threads) do
      local c = t:get("counts") or {}
      for k, v in pairs(c) do
         total[k] = (total[k] or 0) + v
      end
      bad = bad + (t:get("non2xx") or 0)
      nbodies = t:get("bodies") or nbodies
      err = err or t:get("first_error")
   end
   local keys = {}
   for k in pairs(total) do
      keys[#keys + 1] = k
   end
   table.sort(keys)
   local parts = {}
   for _, k in ipairs(keys) do
      parts[#parts + 1] = string.format("status_%s=%d", k, total[k])
   end
   local e = summary.errors
   io.write(string.format(
      "REPLAY bodies=%d requests=%d duration_us=%d non2xx=%d "
         .. "socket_errors=%d %s p50_us=%d p99_us=%d\n",
      nbodies, summary.requests, summary.duration, bad,
      e.connect + e.read + e.write + e.timeout, table.concat(parts, " "),
      latency:percentile(50), latency:percentile(99)))
   if err then
      io.write("REPLAY first_non2xx: " .. err:gsub("[\r\n]+", " ") .. "\n")
   end
end
