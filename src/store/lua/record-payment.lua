-- record-payment: a card payment <Pay> approved, recorded on the line's side once per confirmation
-- code and once per <Pay> ticket (a replayed action URL records nothing), with its change for
-- the agency's export. The balance is the file's with the line's unconfirmed payments applied.
-- KEYS[1] the caseload's generation pointer   KEYS[2] the bucket of that generation's cases holding the case
-- KEYS[3] the confirmation code's record   KEYS[4] the case's line payments (list, oldest first)
-- KEYS[5] the <Pay> ticket   KEYS[6] the line's changes (stream)
-- ARGV[1] the generation read   ARGV[2] the payment (JSON, with its case)   ARGV[3] the confirmation code
-- ARGV[4] how long the used ticket is kept (ms)   ARGV[5] the change (JSON)   ARGV[6] the payment as listed (JSON)
-- ARGV[7] the case number (its field in the bucket)
-- The change names the case's paying parent as the case says now (the export's participantId).
-- Returns {'stale'}, {'duplicate', first payment}, {'replayed', the ticket's first code}, {'no-case'} or {'recorded'}.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'stale'} end
local first = redis.call('GET', KEYS[3])
if first then return {'duplicate', first} end
local used = redis.call('GET', KEYS[5])
if used and used ~= ARGV[3] then return {'replayed', used} end
local case = redis.call('HGET', KEYS[2], ARGV[7])
if not case then return {'no-case'} end
redis.call('SET', KEYS[5], ARGV[3], 'PX', ARGV[4])
redis.call('SET', KEYS[3], ARGV[2])
redis.call('RPUSH', KEYS[4], ARGV[6])
local payer = string.match(case, '"payingParticipantId":"(%d+)"') or ''
redis.call('XADD', KEYS[6], '*', 'change', ARGV[5], 'payer', payer)
return {'recorded'}
