-- POST /api/posts as the user whose access token is in TOKEN.
-- The requests (each with its own title) are formatted once per wrk thread and then replayed in
-- turn, so that wrk, which shares the machine with the server, spends its time sending.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local requests = {}
local next_request = 0

init = function(args)
  local thread = tostring({}):sub(8)
  for i = 1, 20000 do
    requests[i] = wrk.format(nil, nil, nil,
      '{"title":"Bench post ' .. thread .. '-' .. i .. '","body":"Written by the benchmark.","tags":["bench","wrk"]}')
  end
end

request = function()
  next_request = next_request % #requests + 1
  return requests[next_request]
end
