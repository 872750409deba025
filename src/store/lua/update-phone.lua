-- update-phone: a phone number updated by phone, kept on the line's side over the file's, with its
-- audit entry and its change for the agency's export; at most a few a day per participant.
-- KEYS[1] the participant's line phone   KEYS[2] their updates today (counter)   KEYS[3] the audit trail (stream)
-- KEYS[4] the line's changes (stream)
-- ARGV[1] the line phone as read (JSON, or '' for none)   ARGV[2] the new line phone (JSON)   ARGV[3] updates allowed a day
-- ARGV[4] the audit entry (JSON)   ARGV[5] the oldest audit entry to keep (stream ID, ms)   ARGV[6] the change (JSON)
-- Returns 'limit', 'conflict' (the line phone changed meanwhile) or 'ok'.
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[3]) then return 'limit' end
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 'conflict' end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 172800)
-- The audit trail is kept by age, so no number of updates can push history out of it. Trimmed
-- exactly: `~` trims only whole nodes of 100 entries, and a trail this small would keep everything.
redis.call('XADD', KEYS[3], 'MINID', ARGV[5], '*', 'entry', ARGV[4])
redis.call('XADD', KEYS[4], '*', 'change', ARGV[6])
return 'ok'
