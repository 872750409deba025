-- record-pin-failure: counts a failed PIN try in the participant's 24-hour window and locks PIN
-- login when the window holds enough failures, in one step.
-- KEYS[1] the caseload's generation pointer   KEYS[2] the participant's failures (sorted set by time)
-- KEYS[3] the participant's lock marker
-- ARGV[1] the generation the keys belong to   ARGV[2] now (ms)   ARGV[3] the window (ms)
-- ARGV[4] failures that lock   ARGV[5] a unique member for this failure
-- Returns {-1, 0} if a load switched the generation meanwhile; else {failures in window, 1 if locked}.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1, 0} end
local now = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
redis.call('ZADD', KEYS[2], now, ARGV[5])
redis.call('PEXPIRE', KEYS[2], window)
local n = redis.call('ZCARD', KEYS[2])
if n >= tonumber(ARGV[4]) then redis.call('SET', KEYS[3], '1') end
return {n, redis.call('EXISTS', KEYS[3])}
