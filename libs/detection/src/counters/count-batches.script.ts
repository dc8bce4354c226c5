/**
 * Applies pre-aggregated counts of one or more batches of one account-region, exactly once.
 * Optimistic: nothing is written (but done-markers found renewed) unless no batch is already done and no event id was seen
 * before; otherwise it returns what conflicted and the caller recomputes without it.
 * Ids and fields travel as one newline-joined string per minute: encoding hundreds of
 * thousands of separate arguments costs the client more than splitting them costs Lua.
 *
 * KEYS: minutesIndex, sourceStats, doneKey x nBatches, then per minute: countersHash, seenSet
 * ARGV: doneTtlSec, nowMs, indexRetentionMs, nBatches, nMinutes, counted, duplicates,
 *       "stat\\nincrement\\n..." (events per category, added to sourceStats),
 *       then per minute: minuteMs, expireAtSec, "id\\nid\\n...", "field\\nincrement\\nfield\\nincrement..."
 * A minute's seen-set expires with its counters (expireAtSec): an event id is remembered for as
 * long as the counts it went into, so re-reading a file of any age never counts it twice (older
 * events are too old to count at all).
 * Returns {'done', batchIndex...} | {'seen', eventId...} | {'repeated'} | {'ok'}
 */
export const COUNT_BATCHES_LUA = `
local doneTtl = ARGV[1]
local nowMs, indexRetention = tonumber(ARGV[2]), tonumber(ARGV[3])
local nBatches, nMinutes, counted, duplicates = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7]

local done = {'done'}
for b = 1, nBatches do
  if redis.call('EXISTS', KEYS[2 + b]) == 1 then done[#done + 1] = b end
end
if #done > 1 then
  -- Written again (their TTL renewed), so that the caller's WAIT covers them: since Redis 7.2
  -- WAIT waits for the caller's own last write, and the markers may be another process's.
  for k = 2, #done do redis.call('EXPIRE', KEYS[2 + done[k]], doneTtl) end
  return done
end

local function lines(text)
  local out = {}
  for line in string.gmatch(text, '[^\\n]+') do out[#out + 1] = line end
  return out
end

-- Read every minute's ids against its seen-set before writing anything.
local minutes = {}
local seen = {'seen'}
for m = 1, nMinutes do
  local p = 9 + 4 * (m - 1)
  local minute = {
    ms = ARGV[p], expireAt = ARGV[p + 1], ids = lines(ARGV[p + 2]), fields = lines(ARGV[p + 3]),
    countersKey = KEYS[1 + nBatches + 2 * m], seenKey = KEYS[2 + nBatches + 2 * m],
  }
  minutes[m] = minute
  for from = 1, #minute.ids, 1000 do
    local to = math.min(from + 999, #minute.ids)
    local flags = redis.call('SMISMEMBER', minute.seenKey, unpack(minute.ids, from, to))
    for k = 1, #flags do
      if flags[k] == 1 then seen[#seen + 1] = minute.ids[from + k - 1] end
    end
  end
end
if #seen > 1 then return seen end

-- None of the ids was in its set (checked above). The caller may send an id twice in one minute
-- (its fast path merges nothing): SADD then adds fewer than it was given, so the adds are undone
-- (removing ids that were all new restores the sets) and the caller merges and retries.
for m = 1, nMinutes do
  local minute = minutes[m]
  local added = 0
  for from = 1, #minute.ids, 1000 do
    added = added + redis.call('SADD', minute.seenKey, unpack(minute.ids, from, math.min(from + 999, #minute.ids)))
  end
  if added < #minute.ids then
    for r = 1, m do
      local undo = minutes[r]
      for from = 1, #undo.ids, 1000 do
        redis.call('SREM', undo.seenKey, unpack(undo.ids, from, math.min(from + 999, #undo.ids)))
      end
    end
    return {'repeated'}
  end
end

for m = 1, nMinutes do
  local minute = minutes[m]
  redis.call('EXPIREAT', minute.seenKey, minute.expireAt)
  local fields = minute.fields
  for f = 1, #fields, 2 do
    redis.call('HINCRBY', minute.countersKey, fields[f], fields[f + 1])
  end
  if #fields > 0 then
    redis.call('EXPIREAT', minute.countersKey, minute.expireAt)
    redis.call('ZADD', KEYS[1], minute.ms, minute.ms)
  end
end
for b = 1, nBatches do
  redis.call('SET', KEYS[2 + b], '1', 'EX', doneTtl)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs - indexRetention)
redis.call('HINCRBY', KEYS[2], 'counted', counted)
redis.call('HINCRBY', KEYS[2], 'duplicates', duplicates)
redis.call('HINCRBY', KEYS[2], 'batches', nBatches)
local stats = lines(ARGV[8])
for s = 1, #stats, 2 do
  redis.call('HINCRBY', KEYS[2], stats[s], stats[s + 1])
end
return {'ok'}
`;
