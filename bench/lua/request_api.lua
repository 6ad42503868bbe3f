-- A request with its timeline, API, a random request of the dispatcher's branch.
dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
request = function()
  return get("/api/requests/" .. pick(P.request_ids) .. "/", {Authorization = "Token " .. P.dispatcher_token})
end
