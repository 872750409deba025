-- commit-load: switches a load's generation in, if the load is still alive: a load whose heartbeat
-- lapsed may have been cleared away by another load as abandoned, and must not be switched in.
-- KEYS[1] the caseload's generation pointer   KEYS[2] the load's heartbeat   KEYS[3] the generation's meta
-- ARGV[1] the generation   ARGV[2] its meta (JSON)
-- Returns {'committed', the generation replaced or ''} or {'abandoned'}.
if redis.call('EXISTS', KEYS[2]) == 0 then return {'abandoned'} end
redis.call('SET', KEYS[3], ARGV[2])
local previous = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return {'committed', previous or ''}
