-- finish-export: a range's file is written, so the cursor moves past it (compare and set: only if
-- that range is still the pending one), and exported changes older than the retention go.
-- KEYS[1] the export cursor   KEYS[2] the pending range   KEYS[3] the line's changes (stream)
-- ARGV[1] the range's `after`   ARGV[2] its `last`   ARGV[3] the oldest change to keep (stream ID)
-- Returns 'advanced', or 'stale' (another run finished this range).
local pending = redis.call('GET', KEYS[2])
if not pending then return 'stale' end
local range = cjson.decode(pending)
if range.after ~= ARGV[1] or range.last ~= ARGV[2] then return 'stale' end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('DEL', KEYS[2])
-- Only what is exported may go (up to and including the cursor), whatever the retention says.
local lastMs, lastSeq = string.match(ARGV[2], '^(%d+)-(%d+)$')
local keepMs, keepSeq = string.match(ARGV[3], '^(%d+)-(%d+)$')
local keepFrom = ARGV[3]
if tonumber(lastMs) < tonumber(keepMs) or (tonumber(lastMs) == tonumber(keepMs) and tonumber(lastSeq) < tonumber(keepSeq)) then
  keepFrom = lastMs .. '-' .. string.format('%d', tonumber(lastSeq) + 1)
end
redis.call('XTRIM', KEYS[3], 'MINID', keepFrom)
return 'advanced'
