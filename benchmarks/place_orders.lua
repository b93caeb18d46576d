-- wrk script: purchasers placing orders of 1-3 lines (5-20 kg each, distinct listings), each
-- with a fresh Idempotency-Key. benchmarks/orders.py sets BENCH_BUYERS ("token:store ...")
-- and BENCH_LISTINGS ("id ...") in wrk's environment.
local buyers, listings = {}, {}
for token, store in string.gmatch(os.getenv("BENCH_BUYERS"), "(%S+):(%d+)") do
  buyers[#buyers + 1] = { token = token, store = store }
end
for id in string.gmatch(os.getenv("BENCH_LISTINGS"), "%d+") do
  listings[#listings + 1] = id
end
local sent = 0
math.randomseed(2026)

request = function()
  sent = sent + 1
  local buyer = buyers[(sent % #buyers) + 1]
  local first = math.random(#listings)
  local lines = {}
  for i = 0, math.random(3) - 1 do
    local listing = listings[((first + i - 1) % #listings) + 1]
    lines[#lines + 1] = string.format('{"listing": %s, "quantity": "%d"}', listing, 5 * math.random(4))
  end
  local body = string.format('{"store": %s, "lines": [%s]}', buyer.store, table.concat(lines, ", "))
  local headers = {
    ["Authorization"] = "Bearer " .. buyer.token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("wrk-%d-%d-%d", os.time(), math.random(1e9), sent),
  }
  return wrk.format("POST", nil, headers, body)
end
