-- wrk -s beacons.lua URL -- [tenant] [interval_ms]
--
-- POSTs what navigator.sendBeacon posts from an article page: varied
-- articles (500), readers (a user agent out of 40 browsers x 1000 versions,
-- behind one of 262 144 addresses given in X-Forwarded-For, which
-- view-counter trusts from 127.0.0.1 in the benchmark) and the tenant's own
-- origin. Each request is built by one string concatenation, so that wrk
-- spends little of the machine's CPU.
--
-- With interval_ms, each connection waits about that long between requests
-- (a random mix of the two nearest whole milliseconds, since wrk delays in
-- whole milliseconds): the half-load run.

local tenant = "bench"
local interval = nil
local host = "127.0.0.1"
local browsers = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.%d.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.%d",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.%d Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E%d Safari/604.1",
  "Mozilla/5.0 (Linux; Android 13; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.%d.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) coc_coc_browser/130.0.%d Chrome/124.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Linux; Android 12; Redmi Note 11) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.%d.0 Mobile Safari/537.36 Zalo android/12110000",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.%d.0 Safari/537.36 Edg/131.0.0.0",
}
local agents = {}
local articles = {}
local counter = 0

function init(args)
  if args[1] then tenant = args[1] end
  if args[2] then interval = tonumber(args[2]) end
  host = wrk.headers["Host"] or wrk.host
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6))
  for i = 1, 40 do
    local template = browsers[(i - 1) % #browsers + 1]
    for v = 1, 1000 do
      agents[#agents + 1] = string.format(template, (i * 1000 + v) % 10000)
    end
  end
  for i = 1, 500 do
    articles[i] = string.format("%016x", 0xb10c0000 + i * 7919)
  end
  -- wrk looks for delay() after init, and paces every request when it exists.
  if interval then
    delay = function()
      local d = math.floor(interval)
      if math.random() < interval - d then d = d + 1 end
      return d
    end
  end
end

function request()
  local ip = math.random(0, 262143)
  return "POST /v1/tenants/" .. tenant .. "/views/" .. articles[math.random(500)] .. " HTTP/1.1\r\n" ..
    "Host: " .. host .. "\r\n" ..
    "User-Agent: " .. agents[math.random(#agents)] .. "\r\n" ..
    "Origin: http://" .. tenant .. ".localhost:8080\r\n" ..
    "X-Forwarded-For: 10." .. (ip % 4) .. "." .. math.floor(ip / 1024) % 256 .. "." .. math.floor(ip / 4) % 256 .. "\r\n" ..
    "Content-Type: text/plain;charset=UTF-8\r\n" ..
    "Content-Length: 14\r\n\r\n" ..
    '{"ref":"home"}'
end
