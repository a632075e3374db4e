dofile(os.getenv("MINIME_BENCH_DIR") .. "/wrk/common.lua")
request = function()
  local auth = pick()
  return wrk.format("GET", "/v1/today", { ["Authorization"] = auth })
end
