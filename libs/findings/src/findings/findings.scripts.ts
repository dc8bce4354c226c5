/**
 * Lua scripts of the findings repository. Each keeps a finding's hash, its index entries and
 * the open-finding pointer consistent in one atomic step (all keys share the `{findings}` tag).
 * Index members are `<start ms, 15 digits>:<id>` at score 0, so lexicographic order is
 * (start time, id) and a cursor is an exact position (see FindingsRepository.list).
 */

/**
 * KEYS: finding hash, open pointers, index registry, index zsets..., then ARGV[5] outbox lists.
 * ARGV: expire-at ms, index member, series key, id, outbox count, Start record JSON, field/value pairs...
 * Returns 1 when created, 0 when the finding existed already (a retried open changes nothing, and
 * appends nothing to the outboxes: each record reaches each output's outbox exactly once).
 */
export const OPEN_FINDING_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local outboxes = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
for i = 4, #KEYS - outboxes do
  redis.call('ZADD', KEYS[i], 0, ARGV[2])
  redis.call('SADD', KEYS[3], KEYS[i])
end
for i = #KEYS - outboxes + 1, #KEYS do redis.call('RPUSH', KEYS[i], ARGV[6]) end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
return 1
`;

/**
 * KEYS: finding hash. ARGV: field/value pairs...
 * Returns 1 when updated, 0 when the finding is missing or closed already.
 */
export const UPDATE_FINDING_LUA = `
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`;

/**
 * KEYS: finding hash, open pointers, open index, closed index, index registry, outbox lists...
 * ARGV: id, End record JSON, field/value pairs...
 * Returns 1 when closed, 0 when the finding is missing or closed already (then no outbox append).
 */
export const CLOSE_FINDING_LUA = `
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then return 0 end
local member = redis.call('HGET', KEYS[1], 'member')
local series = redis.call('HGET', KEYS[1], 'series')
redis.call('HSET', KEYS[1], 'state', 'closed', unpack(ARGV, 3))
redis.call('ZREM', KEYS[3], member)
redis.call('ZADD', KEYS[4], 0, member)
redis.call('SADD', KEYS[5], KEYS[4])
if series and redis.call('HGET', KEYS[2], series) == ARGV[1] then redis.call('HDEL', KEYS[2], series) end
for i = 6, #KEYS do redis.call('RPUSH', KEYS[i], ARGV[2]) end
return 1
`;

/**
 * KEYS: index registry, index zsets... ARGV: exclusive upper lex bound ("(<start ms>").
 * Drops index entries older than the bound; forgets an index once it is empty (atomically, so
 * an index an open() adds to meanwhile is never forgotten). Returns the entries removed.
 */
export const TRIM_INDEXES_LUA = `
local removed = 0
for i = 2, #KEYS do
  removed = removed + redis.call('ZREMRANGEBYLEX', KEYS[i], '-', ARGV[1])
  if redis.call('ZCARD', KEYS[i]) == 0 then redis.call('SREM', KEYS[1], KEYS[i]) end
end
return removed
`;

/**
 * KEYS: finding hash, its triage history list, index registry, the triage indexes of `new`,
 * `acknowledged` and `resolved` (in that order).
 * ARGV: target state, the change's JSON after its `from` (`"to":…,"keyId":…,"at":…}`), updatedAt,
 * history expire-at ms.
 * Moves the finding between triage indexes and appends the change to its history in one step, so
 * concurrent changes each record the state they really left. Returns the previous state, or
 * false (nil) when the finding is missing.
 */
export const TRIAGE_FINDING_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local indexes = { new = KEYS[4], acknowledged = KEYS[5], resolved = KEYS[6] }
local from = redis.call('HGET', KEYS[1], 'triage') or 'new'
local member = redis.call('HGET', KEYS[1], 'member')
if indexes[from] then redis.call('ZREM', indexes[from], member) end
redis.call('ZADD', indexes[ARGV[1]], 0, member)
redis.call('SADD', KEYS[3], indexes[ARGV[1]])
redis.call('HSET', KEYS[1], 'triage', ARGV[1], 'updatedAt', ARGV[3])
redis.call('RPUSH', KEYS[2], '{"from":' .. cjson.encode(from) .. ',' .. ARGV[2])
redis.call('PEXPIREAT', KEYS[2], ARGV[4])
return from
`;
