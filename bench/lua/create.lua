-- Create a request (API): SLA computed, timeline event and outbox row written. Counted by status in done().
dofile(os.getenv("BENCH_LUA_DIR") .. "/lib.lua")
request = function()
  local body = string.format('{"project": %d, "priority": "%s", "title": "%s", "description": "bench create"}',
                             pick(P.branch_projects), pick(P.priorities), P.create_title)
  return post_json("/api/requests/", {Authorization = "Token " .. P.dispatcher_token}, body)
end
