-- release-consumer: forgets a print-and-mail consumer that holds no letters (deleting a consumer
-- drops the claims it holds, so only one that holds none).
-- KEYS[1] the outbox stream
-- ARGV[1] the consumer group   ARGV[2] the consumer
-- Returns what XGROUP DELCONSUMER returns, or -1 if the consumer still holds letters.
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) == 0 then
  return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return -1
