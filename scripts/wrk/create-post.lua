-- POST /api/posts as the user whose access token is in TOKEN.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil,
    '{"title":"Bench post ' .. counter .. '","body":"Written by the benchmark.","tags":["bench","wrk"]}')
end
