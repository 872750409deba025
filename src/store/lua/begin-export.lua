-- begin-export: the range of the line's changes the next export file holds. A range a run left
-- pending is answered again, unchanged, so its file is written again or found written; otherwise
-- a new range starts after the cursor and is kept pending before any file is written.
-- KEYS[1] the export cursor (the last change exported)   KEYS[2] the pending range   KEYS[3] the line's changes (stream)
-- ARGV[1] the most changes a range holds
-- Returns the range (JSON: after, last, count), or '' when every change is exported.
local pending = redis.call('GET', KEYS[2])
if pending then return pending end
local after = redis.call('GET', KEYS[1]) or '0-0'
local entries = redis.call('XRANGE', KEYS[3], '(' .. after, '+', 'COUNT', ARGV[1])
if #entries == 0 then return '' end
local range = cjson.encode({ after = after, last = entries[#entries][1], count = #entries })
redis.call('SET', KEYS[2], range)
return range
