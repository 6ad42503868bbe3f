-- The framework floor: a bare Django view returning a constant, same middleware and server settings.
dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
request = function()
  return get("/ping/", {})
end
