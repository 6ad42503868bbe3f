-- Monitoring alarm events with a steady share of openings: a quarter of the raises are for a (device, type) pair
-- never seen before (a new alarm type each time), so each of them opens a request (201); the other three quarters
-- go to the fixed pairs of alarms.lua, which are open after their first raise (200). Unlike alarms.lua, the share
-- of openings does not depend on how many events earlier phases sent.
dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
local types = {"offline", "video_loss", "disk_error"}
local started, n = os.time(), 0
request = function()
  local alarm_type = pick(types)
  if math.random() < 0.25 then
    n = n + 1
    alarm_type = string.format("new_%d_%d_%d", started, tid or 0, n)
  end
  local body = string.format('{"device": {"serial": "%s"}, "type": "%s", "state": "raised", "detail": "bench"}',
                             pick(P.alarm_serials), alarm_type)
  return post_json("/api/alarms/events/", {Authorization = "Bearer " .. P.integration_key}, body)
end
