-- release-lock: compare-and-delete, so a webhook whose lease ran out never frees the lock a later
-- webhook now holds.
-- KEYS[1] the call's lock
-- ARGV[1] the holder's lock token
-- Returns 1 if released, 0 if the lock was not this holder's.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
