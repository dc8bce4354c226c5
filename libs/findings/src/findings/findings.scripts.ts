/**
 * Lua scripts of the findings repository. Each keeps a finding's hash, its index entries and
 * the open-finding pointer consistent in one atomic step (all keys share the `{findings}` tag).
 * Index members are `<start ms, 15 digits>:<id>` at score 0, so lexicographic order is
 * (start time, id) and a cursor is an exact position (see FindingsRepository.list).
 */

/**
 * KEYS: finding hash, open pointers, index registry, index zsets...
 * ARGV: expire-at ms, index member, series key, id, field/value pairs...
 * Returns 1 when created, 0 when the finding existed already (a retried open changes nothing).
 */
export const OPEN_FINDING_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
for i = 4, #KEYS do
  redis.call('ZADD', KEYS[i], 0, ARGV[2])
  redis.call('SADD', KEYS[3], KEYS[i])
end
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
 * KEYS: finding hash, open pointers, open index, closed index, index registry.
 * ARGV: id, field/value pairs...
 * Returns 1 when closed, 0 when the finding is missing or closed already.
 */
export const CLOSE_FINDING_LUA = `
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then return 0 end
local member = redis.call('HGET', KEYS[1], 'member')
local series = redis.call('HGET', KEYS[1], 'series')
redis.call('HSET', KEYS[1], 'state', 'closed', unpack(ARGV, 2))
redis.call('ZREM', KEYS[3], member)
redis.call('ZADD', KEYS[4], 0, member)
redis.call('SADD', KEYS[5], KEYS[4])
if series and redis.call('HGET', KEYS[2], series) == ARGV[1] then redis.call('HDEL', KEYS[2], series) end
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
