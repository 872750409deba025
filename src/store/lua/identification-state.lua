-- identification-state: before a caller's secret is compared, whether the method is locked for the
-- participant and whether the calling number has used its failures for the hour. Times are the
-- caller's `now`, so the line's clock (and a test's) decides, as in the in-process store.
-- KEYS[1] the participant's lock for this method (holds when it lifts, ms)   KEYS[2] the calling number's failures (sorted set by time)
-- ARGV[1] now (ms)   ARGV[2] the number's window (ms)   ARGV[3] failures the number may have in it
-- Returns {locked (1/0), throttled (1/0)}.
local now = tonumber(ARGV[1])
local lifts = tonumber(redis.call('GET', KEYS[1]) or '0')
local recent = redis.call('ZCOUNT', KEYS[2], now - tonumber(ARGV[2]), '+inf')
return {lifts > now and 1 or 0, recent >= tonumber(ARGV[3]) and 1 or 0}
