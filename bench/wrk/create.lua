dofile(os.getenv("MINIME_BENCH_DIR") .. "/wrk/common.lua")
request = function()
  local auth = pick()
  return wrk.format("POST", "/v1/tasks", { ["Authorization"] = auth, ["Content-Type"] = "application/json" },
    '{"title":"Benchmark task","priority":2,"estimate_minutes":25}')
end
