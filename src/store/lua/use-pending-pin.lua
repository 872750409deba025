-- use-pending-pin: the PIN mailed after "Forgot my PIN" was used for the first time; from now on
-- only it works. Nothing happens if another PIN has replaced it meanwhile.
-- KEYS[1] the participant's line PIN   KEYS[2] their pending PIN   KEYS[3] the line's changes (stream)
-- ARGV[1] the pending PIN's hash, as compared   ARGV[2] the PIN record (JSON: hash, at)   ARGV[3] the change (JSON, no PIN)
-- Returns 1 if the pending PIN became the PIN, 0 if it was no longer pending.
local pending = redis.call('GET', KEYS[2])
if not pending or cjson.decode(pending).hash ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('DEL', KEYS[2])
redis.call('XADD', KEYS[3], '*', 'change', ARGV[3])
return 1
