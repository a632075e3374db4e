-- Each request acts as a random one of the 1,000 seeded users, on one of their 100 tasks.
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)

function pick()
  local n = math.random(1, 1000)
  local k = math.random(1, 100)
  local id = string.format("00000000-0000-7000-8000-%012d", n * 1000 + k)
  return "Bearer mm_pat_bench_" .. n, id
end
