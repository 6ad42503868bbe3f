-- Issue 21 §8: the request list searched by a title word (a dispatcher, one branch): a bounded scan of the newest
-- requests of the branch (service/search.py TITLE_SCAN_LIMIT).
dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
request = function()
  return get("/service/?q=" .. pick(P.search_title_texts), {Cookie = P.dispatcher_cookie})
end
