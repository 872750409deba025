-- finish-turn: saves where the caller is, remembers the reply for Twilio's retry, and releases
-- the lock, in one step; nothing is written by a webhook that lost its lock.
-- KEYS[1] the call's lock   KEYS[2] the call's session   KEYS[3] the call's retry replies (hash)
-- ARGV[1] the holder's lock token   ARGV[2] the session (JSON)   ARGV[3] the session's TTL, in s
-- ARGV[4] the idempotency token, or '' for none   ARGV[5] the reply   ARGV[6] the replies' TTL, in s
-- Returns 1 when saved, 0 when the lock was no longer this holder's.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
  redis.call('EXPIRE', KEYS[3], ARGV[6])
end
redis.call('DEL', KEYS[1])
return 1
