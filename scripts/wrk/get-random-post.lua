-- GET /api/posts/{random id} over the seeded id range (POSTS, default 10000).
local posts = tonumber(os.getenv("POSTS") or "10000")
local seeded = false
request = function()
  if not seeded then
    math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
    seeded = true
  end
  return wrk.format("GET", "/api/posts/" .. math.random(1, posts))
end
