-- change-pin: a PIN the caller chose (already verified), kept on the line's side so a nightly load
-- does not bring the old one back; a PIN mailed and not used yet no longer replaces it.
-- KEYS[1] the participant's line PIN   KEYS[2] their pending (mailed) PIN   KEYS[3] the line's changes (stream)
-- ARGV[1] the PIN record (JSON: hash, at)   ARGV[2] the change (JSON, no PIN or hash)
-- Returns 'ok'.
redis.call('SET', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('XADD', KEYS[3], '*', 'change', ARGV[2])
return 'ok'
