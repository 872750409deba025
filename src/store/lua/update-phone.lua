-- update-phone: compare-and-set of a participant's phone number, with its audit entry.
-- KEYS[1] the caseload's generation pointer   KEYS[2] the participant   KEYS[3] the audit trail (stream)
-- ARGV[1] the generation the keys belong to   ARGV[2] the participant as read (JSON)
-- ARGV[3] the participant with the new number (JSON)   ARGV[4] the audit entry (JSON)
-- Returns 'stale' (generation switched), 'conflict' (participant changed) or 'ok'.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'stale' end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 'conflict' end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', '100000', '*', 'entry', ARGV[4])
return 'ok'
