dofile(os.getenv("MINIME_BENCH_DIR") .. "/wrk/common.lua")
request = function()
  local auth, id = pick()
  return wrk.format("PATCH", "/v1/tasks/" .. id, { ["Authorization"] = auth, ["Content-Type"] = "application/json" },
    '{"priority":' .. math.random(1, 4) .. '}')
end
