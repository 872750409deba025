-- renew-lock: extends the lease of a lock this webhook still holds, while its work goes on.
-- KEYS[1] the call's lock
-- ARGV[1] the holder's lock token   ARGV[2] the new lease, in ms
-- Returns 1 if renewed, 0 if the lock is no longer this holder's.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
