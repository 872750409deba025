-- enqueue(n, letterId, record, sealedPin): included by the scripts that queue a letter.
-- KEYS[n] the idempotency key   KEYS[n + 1] the letter's record   KEYS[n + 2] its sealed PIN
-- KEYS[n + 3] the outbox stream (the print-and-mail job's queue)   KEYS[n + 4] the letters in queue order (sorted set)
-- The caller has checked the idempotency key. The letter's place in the list comes from its stream
-- entry's ID (milliseconds and sequence), so letters queued in the same millisecond keep their order.
local function enqueue(n, letterId, record, sealedPin)
  redis.call('SET', KEYS[n], letterId)
  redis.call('SET', KEYS[n + 1], record)
  if sealedPin ~= '' then redis.call('SET', KEYS[n + 2], sealedPin) end
  local entry = redis.call('XADD', KEYS[n + 3], '*', 'letterId', letterId)
  local ms, seq = string.match(entry, '^(%d+)-(%d+)$')
  redis.call('ZADD', KEYS[n + 4], tonumber(ms) * 1024 + tonumber(seq), letterId)
end
