-- Issue 21 §8: the request list searched by a dispatcher (one branch): a caller's phone as the desk types it, a
-- serial number or a request number, picked at random per call (search_texts, from bench/run.py).
dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
request = function()
  return get("/service/?q=" .. pick(P.search_texts), {Cookie = P.dispatcher_cookie})
end
