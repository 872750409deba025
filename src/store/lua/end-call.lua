-- end-call: the call is over; everything kept for it goes (its session and the retry replies,
-- which hold what the caller heard), and the lock is released.
-- KEYS[1] the call's lock   KEYS[2] the call's session   KEYS[3] the call's retry replies (hash)
-- ARGV[1] the holder's lock token
-- Returns 1, or 0 when the lock was no longer this holder's (nothing is deleted then).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[1])
return 1
