-- queue-letter: a letter into the mail outbox, once per idempotency key.
-- KEYS[1] the idempotency key   KEYS[2] the letter's record   KEYS[3] its sealed PIN   KEYS[4] the outbox stream
-- ARGV[1] the letter ID   ARGV[2] the record (JSON, no PIN)   ARGV[3] the sealed PIN, or ''
-- Returns {'queued', letter ID} or {'duplicate', the first letter's ID}.
-- @include enqueue-letter.lua
local first = redis.call('GET', KEYS[1])
if first then return {'duplicate', first} end
enqueue(1, ARGV[1], ARGV[2], ARGV[3])
return {'queued', ARGV[1]}
