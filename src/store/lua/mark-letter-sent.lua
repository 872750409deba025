-- mark-letter-sent: the print-and-mail job printed a letter. Its record says sent (the first time
-- only) and, like its idempotency key, is kept only `retention` seconds more; its sealed PIN is
-- deleted; the claim is acknowledged and the entry leaves the job's queue, in one step.
-- KEYS[1] the letter's record   KEYS[2] its sealed PIN   KEYS[3] the outbox stream   KEYS[4] its idempotency key
-- ARGV[1] the consumer group   ARGV[2] the stream entry   ARGV[3] when it was sent (ISO 8601)   ARGV[4] retention (s)
-- Returns what XACK returns.
local record = redis.call('GET', KEYS[1])
if record then
  local letter = cjson.decode(record)
  if letter.status ~= 'sent' then
    letter.status = 'sent'
    letter.sentAt = ARGV[3]
    redis.call('SET', KEYS[1], cjson.encode(letter))
  end
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
redis.call('EXPIRE', KEYS[4], ARGV[4])
redis.call('DEL', KEYS[2])
local acked = redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[3], ARGV[2])
return acked
