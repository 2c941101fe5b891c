-- wrk script of the ingest benchmark: keep-alive POSTs of valid example
-- events, cycling through the four event types, each with a fresh event_id
-- (so every request is a new event, never an idempotent replay).
--   KH_EXAMPLES  the schemas/examples directory
--   KH_BENCH_NOTE  printed with the result line

local dir = os.getenv("KH_EXAMPLES")
local cases = {
  {"/v1/aanmeldingen", "key-12AB00", "aanmelding/valid/01-geplaatst-rotterdam.json"},
  {"/v1/tlvs", "key-PO2801", "tlv/valid/02-afgegeven-sbo-rotterdam-woont-capelle.json"},
  {"/v1/beschikkingen", "key-GM0599", "beschikking/valid/01-toegekend-rotterdam-ambulant.json"},
  {"/v1/verwijzingen", "key-GM0599", "verwijzing/valid/01-wijkteam-rotterdam-jeugdhulp.json"},
}
local bodies = {}
for i, c in ipairs(cases) do
  local f = assert(io.open(dir .. "/" .. c[3], "r"))
  local text = f:read("*a"):gsub("\n", " ")
  f:close()
  -- the template: the example with a placeholder for its event_id
  bodies[i] = text:gsub('"event_id"%s*:%s*"[^"]*"', '"event_id": "@ID@"')
end

local n = 0
local threads = 0

-- Each thread gets its own random sequence (wrk runs one Lua state per
-- thread; without distinct seeds they would send the same ids).
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + thread_number * 7919)
end

local hex = "0123456789abcdef"
local function uuid()
  local t = {}
  for i = 1, 32 do
    local v = math.random(1, 16)
    if i == 13 then v = 5 end                   -- version 4
    if i == 17 then v = math.random(9, 12) end  -- variant 8..b
    t[i] = hex:sub(v, v)
  end
  local s = table.concat(t)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" .. s:sub(17, 20) .. "-" .. s:sub(21, 32)
end

function request()
  n = n + 1
  local i = (n % #cases) + 1
  local c = cases[i]
  return wrk.format("POST", c[1], {
    ["Authorization"] = "Bearer " .. c[2],
    ["Content-Type"] = "application/json",
  }, (bodies[i]:gsub("@ID@", uuid())))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d non2xx=%d socket_errors=%d duration_us=%d p50_us=%d p99_us=%d\n",
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
