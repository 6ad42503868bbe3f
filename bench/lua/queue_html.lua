-- Desk queue page (HTML), a random branch per call (general manager's session).
dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
request = function()
  return get("/service/desk/?branch=" .. pick(P.branches), {Cookie = P.gm_cookie})
end
