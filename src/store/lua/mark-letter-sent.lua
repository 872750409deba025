-- mark-letter-sent: the print-and-mail job printed a letter. Its record says sent (the first time
-- only), its sealed PIN is deleted and the claim acknowledged, in one step.
-- KEYS[1] the letter's record   KEYS[2] its sealed PIN   KEYS[3] the outbox stream
-- ARGV[1] the consumer group   ARGV[2] the stream entry   ARGV[3] when it was sent (ISO 8601)
-- Returns what XACK returns.
local record = redis.call('GET', KEYS[1])
if record then
  local letter = cjson.decode(record)
  if letter.status ~= 'sent' then
    letter.status = 'sent'
    letter.sentAt = ARGV[3]
    redis.call('SET', KEYS[1], cjson.encode(letter))
  end
end
redis.call('DEL', KEYS[2])
return redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])
