-- request-pin-reset: forgot my PIN. The new PIN waits beside the current one until first used; the
-- PIN lock and failures are cleared; the reset marker and the PIN letter are written; all or
-- nothing, at most once per interval (compared with the caller's `now`; the marker's TTL only tidies).
-- KEYS[1] the participant's last reset   KEYS[2] their pending PIN   KEYS[3] their PIN failures   KEYS[4] their PIN lock
-- KEYS[5..9] the letter: idempotency key, record, sealed PIN, outbox stream, letters by time   KEYS[10] the line's changes (stream)
-- ARGV[1] the pending PIN record (JSON: hash, at)   ARGV[2] now (ms)   ARGV[3] the reset interval (ms)
-- ARGV[4] the letter ID   ARGV[5] its record (JSON, no PIN)   ARGV[6] its sealed PIN   ARGV[7] the change (JSON, no PIN)
-- Returns {'recently-reset', last reset (ms)}, {'duplicate', letter ID} or {'ok'}.
-- @include enqueue-letter.lua
local last = redis.call('GET', KEYS[1])
if last and tonumber(ARGV[2]) - tonumber(last) < tonumber(ARGV[3]) then return {'recently-reset', last} end
local first = redis.call('GET', KEYS[5])
if first then return {'duplicate', first} end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
enqueue(5, ARGV[4], ARGV[5], ARGV[6])
redis.call('XADD', KEYS[10], '*', 'change', ARGV[7])
return {'ok'}
