-- queue-letter: a letter into the mail outbox, once per idempotency key, with its change for the
-- agency's export.
-- KEYS[1..5] the letter: idempotency key, record, sealed PIN, outbox stream, letters by time   KEYS[6] the line's changes (stream)
-- ARGV[1] the letter ID   ARGV[2] the record (JSON, no PIN)   ARGV[3] the sealed PIN, or ''   ARGV[4] the change (JSON), or ''
-- Returns {'queued', letter ID} or {'duplicate', the first letter's ID}.
-- @include enqueue-letter.lua
local first = redis.call('GET', KEYS[1])
if first then return {'duplicate', first} end
enqueue(1, ARGV[1], ARGV[2], ARGV[3])
if ARGV[4] ~= '' then redis.call('XADD', KEYS[6], '*', 'change', ARGV[4]) end
return {'queued', ARGV[1]}
