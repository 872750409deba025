-- change-pin: a PIN the caller chose, written only into the generation it was read from (a SET into
-- a generation being dropped could outlive the drop).
-- KEYS[1] the caseload's generation pointer   KEYS[2] the participant's PIN hash
-- ARGV[1] the generation the key belongs to   ARGV[2] the new PIN's hash
-- Returns 'stale' or 'ok'.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'stale' end
redis.call('SET', KEYS[2], ARGV[2])
return 'ok'
