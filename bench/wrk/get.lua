dofile(os.getenv("MINIME_BENCH_DIR") .. "/wrk/common.lua")
request = function()
  local auth, id = pick()
  return wrk.format("GET", "/v1/tasks/" .. id, { ["Authorization"] = auth })
end
