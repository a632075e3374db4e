request = function()
  local n = math.random(1, 1000)
  return wrk.format("POST", "/v1/auth/signin", { ["Content-Type"] = "application/json" },
    '{"email":"bench' .. n .. '@example.com","password":"tangerine-Orbit-4417-lamp"}')
end
