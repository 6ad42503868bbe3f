-- The customer portal's request list (HTML), a customer user's session.
dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
request = function()
  return get("/service/", {Cookie = P.customer_cookie})
end
