-- The monthly SLA compliance summary (API), a random month of the history, all branches (general manager).
dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
request = function()
  return get("/api/reports/sla-compliance/?month=" .. pick(P.month_keys), {Authorization = "Token " .. P.gm_token})
end
