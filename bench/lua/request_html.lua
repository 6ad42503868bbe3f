-- A request page with its timeline, HTML, a random request of the dispatcher's branch.
dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
request = function()
  return get("/service/" .. pick(P.request_ids) .. "/", {Cookie = P.dispatcher_cookie})
end
