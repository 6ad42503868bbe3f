-- Request list filtered by customer and month (API), random customer of the dispatcher's branch, random month.
dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
request = function()
  local m = pick(P.months)
  return get("/api/requests/?customer=" .. pick(P.branch_customers) .. "&created_after=" .. m[1] .. "&created_before=" .. m[2],
             {Authorization = "Token " .. P.dispatcher_token})
end
