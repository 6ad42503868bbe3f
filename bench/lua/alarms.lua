-- Monitoring alarm events: raises for random (device, type) pairs of the key's customer; the first raise of a
-- pair opens a request (201), later ones are appended to it (200).
dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
local types = {"offline", "video_loss", "disk_error"}
request = function()
  local body = string.format('{"device": {"serial": "%s"}, "type": "%s", "state": "raised", "detail": "bench"}',
                             pick(P.alarm_serials), pick(types))
  return post_json("/api/alarms/events/", {Authorization = "Bearer " .. P.integration_key}, body)
end
