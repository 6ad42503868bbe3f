-- Desk queue API, a random branch per call (general manager: sees all branches).
dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
request = function()
  return get("/api/requests/queue/?branch=" .. pick(P.branches), {Authorization = "Token " .. P.gm_token})
end
