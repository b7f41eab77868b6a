-- GET /api/posts/{random id} over the seeded id range (POSTS, default 10000).
-- The requests are drawn once per wrk thread and then replayed in turn, so that wrk, which shares
-- the machine with the server, spends its time sending rather than formatting requests.
local posts = tonumber(os.getenv("POSTS") or "10000")
local requests = {}
local next_request = 0

init = function(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  for i = 1, 20000 do
    requests[i] = wrk.format("GET", "/api/posts/" .. math.random(1, posts))
  end
end

request = function()
  next_request = next_request % #requests + 1
  return requests[next_request]
end
