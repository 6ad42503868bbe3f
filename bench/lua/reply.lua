-- A state transition (API): reply with a plan on freshly created requests, each id used once
-- (thread k takes ids k, k+T, k+2T, ...; when they run out, ids repeat and answer 409). A fresh request is at
-- version 1, the version the desk saw (issue 19: every desk verb takes it).
dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
local n = 0
local T = tonumber(os.getenv("BENCH_THREADS"))
request = function()
  local i = ((tid - 1) + n * T) % #P.fresh_ids + 1
  n = n + 1
  return post_json("/api/requests/" .. P.fresh_ids[i] .. "/reply/", {Authorization = "Token " .. P.dispatcher_token},
                   '{"version": 1, "mode": "phone", "plan": "bench reply: restart the NVR"}')
end
