-- reset-pin: forgot my PIN. The new PIN's hash, the failures and lock cleared, the reset marker and
-- the PIN letter, all or nothing, at most once per interval. The last reset's time is compared with
-- the caller's `now`, as the in-process store does; the marker's TTL only tidies it away.
-- KEYS[1] the caseload's generation pointer   KEYS[2] the participant's PIN hash   KEYS[3] their PIN failures
-- KEYS[4] their lock marker   KEYS[5] their last reset   KEYS[6..9] the letter: idempotency key, record, sealed PIN, outbox stream
-- ARGV[1] the generation the keys belong to   ARGV[2] the new PIN's hash   ARGV[3] now (ms)   ARGV[4] the reset interval (ms)
-- ARGV[5] the letter ID   ARGV[6] its record (JSON, no PIN)   ARGV[7] its sealed PIN
-- Returns {'stale'}, {'recently-reset', last reset (ms)}, {'duplicate', letter ID} or {'ok'}.
-- @include enqueue-letter.lua
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'stale'} end
local last = redis.call('GET', KEYS[5])
if last and tonumber(ARGV[3]) - tonumber(last) < tonumber(ARGV[4]) then return {'recently-reset', last} end
local first = redis.call('GET', KEYS[6])
if first then return {'duplicate', first} end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('SET', KEYS[5], ARGV[3], 'PX', ARGV[4])
enqueue(6, ARGV[5], ARGV[6], ARGV[7])
return {'ok'}
