dofile(os.getenv("MINIME_BENCH_DIR") .. "/wrk/common.lua")
request = function()
  local auth = pick()
  return wrk.format("POST", "/v1/plans", { ["Authorization"] = auth, ["Content-Type"] = "application/json" }, '{}')
end
