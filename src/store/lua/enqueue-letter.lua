-- enqueue(n, letterId, record, sealedPin): included by the scripts that queue a letter.
-- KEYS[n] the idempotency key   KEYS[n + 1] the letter's record   KEYS[n + 2] its sealed PIN
-- KEYS[n + 3] the outbox stream. The caller has checked the idempotency key.
local function enqueue(n, letterId, record, sealedPin)
  redis.call('SET', KEYS[n], letterId)
  redis.call('SET', KEYS[n + 1], record)
  if sealedPin ~= '' then redis.call('SET', KEYS[n + 2], sealedPin) end
  redis.call('XADD', KEYS[n + 3], '*', 'letterId', letterId)
end
