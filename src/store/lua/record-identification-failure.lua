-- record-identification-failure: one failed identification, counted for the participant and the
-- method (6 in 24 hours lock it; the lock lifts 24 hours after the last failure), for the calling
-- number (its hourly budget) and for the line (the per-minute alarm), in one step.
-- KEYS[1] the participant's failures of this method (sorted set by time)   KEYS[2] the participant's lock (holds when it lifts, ms)
-- KEYS[3] the calling number's failures (sorted set by time)   KEYS[4] the line's failures this minute
-- ARGV[1] now (ms)   ARGV[2] the participant window (ms)   ARGV[3] failures that lock   ARGV[4] a unique member
-- ARGV[5] the number's window (ms)   ARGV[6] the number's budget   ARGV[7] the alarm threshold per minute
-- ARGV[8] 1 to count for the participant, 0 for an unknown one (the same reads are made)
-- Returns {failures, locked, lockedNow, numberFailures, throttled, throttledNow, lineFailures, alarmNow}.
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local failures = 0
local lockedNow = 0
if ARGV[8] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  failures = redis.call('ZCARD', KEYS[1])
  local wasLocked = tonumber(redis.call('GET', KEYS[2]) or '0') > now
  if wasLocked or failures >= tonumber(ARGV[3]) then
    -- Every failure while locked moves the lift a whole window on.
    redis.call('SET', KEYS[2], tostring(now + window), 'PX', window)
    if not wasLocked then lockedNow = 1 end
  end
else
  redis.call('ZCOUNT', KEYS[1], now - window, '+inf')
  redis.call('GET', KEYS[2])
end
local numberWindow = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - numberWindow)
redis.call('ZADD', KEYS[3], now, ARGV[4])
redis.call('PEXPIRE', KEYS[3], numberWindow)
local numberFailures = redis.call('ZCARD', KEYS[3])
local budget = tonumber(ARGV[6])
local lineFailures = redis.call('INCR', KEYS[4])
redis.call('EXPIRE', KEYS[4], 120)
local locked = tonumber(redis.call('GET', KEYS[2]) or '0') > now and 1 or 0
return {
  failures, locked, lockedNow,
  numberFailures, numberFailures >= budget and 1 or 0, numberFailures == budget and 1 or 0,
  lineFailures, lineFailures == tonumber(ARGV[7]) and 1 or 0,
}
