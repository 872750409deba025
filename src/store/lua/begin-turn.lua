-- begin-turn: a webhook takes its call's lock and, in the same round trip, reads the call's
-- session and the reply already given to its idempotency token.
-- KEYS[1] the call's lock          KEYS[2] the call's session      KEYS[3] the call's retry replies (hash: token -> reply)
-- ARGV[1] this webhook's lock token  ARGV[2] the lease, in ms       ARGV[3] the idempotency token, or '' for none
-- Returns {0} while another webhook holds the lock; otherwise {1, session or false, reply or false}.
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0} end
local reply = false
if ARGV[3] ~= '' then reply = redis.call('HGET', KEYS[3], ARGV[3]) end
return {1, redis.call('GET', KEYS[2]), reply}
