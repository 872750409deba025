-- load-entries: one batch of a load, written into its generation in one step: each entry is a field
-- of a hash (a bucket holding many records of one kind), so a state-sized caseload is a few hundred
-- thousand keys rather than ten million, and the generation lists its keys as it makes them.
-- KEYS[1] the generation's list of its keys (set)   KEYS[2..] the hash of each entry, in order
-- ARGV[1] how many entries (the first ones) are set; the rest are appended to what their field holds, comma-separated
-- ARGV[2] how many keys this batch uses for the first time   ARGV[3..] those keys, then each entry's field and value
-- Returns the number of entries written.
local sets, new = tonumber(ARGV[1]), tonumber(ARGV[2])
-- In slices: unpack puts every value on Lua's stack, which holds some thousands.
for first = 3, 2 + new, 1000 do redis.call('SADD', KEYS[1], unpack(ARGV, first, math.min(first + 999, 2 + new))) end
local at = 2 + new
for i = 2, #KEYS do
  local key, field, value = KEYS[i], ARGV[at + 2 * i - 3], ARGV[at + 2 * i - 2]
  if i - 1 <= sets then
    redis.call('HSET', key, field, value)
  else
    local held = redis.call('HGET', key, field)
    redis.call('HSET', key, field, held and (held .. ',' .. value) or value)
  end
end
return #KEYS - 1
