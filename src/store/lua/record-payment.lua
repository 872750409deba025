-- record-payment: compare-and-set of a card payment. The money rule runs in TypeScript against the
-- case as read; the write lands only if the case is still exactly that, and only once per
-- confirmation code.
-- KEYS[1] the caseload's generation pointer   KEYS[2] the case   KEYS[3] the case's payments (list, newest first)
-- KEYS[4] the confirmation code's record
-- ARGV[1] the generation the keys belong to   ARGV[2] the case as read (JSON)   ARGV[3] the case after the payment (JSON)
-- ARGV[4] the payment (JSON)
-- Returns {'stale'} (generation switched), {'duplicate', first payment}, {'conflict'} (case changed) or {'recorded'}.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'stale'} end
local first = redis.call('GET', KEYS[4])
if first then return {'duplicate', first} end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return {'conflict'} end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('LPUSH', KEYS[3], ARGV[4])
redis.call('SET', KEYS[4], ARGV[4])
return {'recorded'}
