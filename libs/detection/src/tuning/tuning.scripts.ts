/**
 * KEYS: entries hash, version counter, history list.
 * ARGV: id, action (`create` | `update` | `delete`), the entry's JSON (empty for delete), the
 * audit record's leading fields as JSON without braces, history cap.
 * Writes the entry, bumps the version and appends `{…, "before": old, "after": new}` to the
 * history in one step, so the audit trail has every change with what it really replaced.
 * Returns 1 when done, 0 when `create` met an existing entry, -1 when `update`/`delete` met none.
 */
export const WRITE_TUNING_LUA = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == 'create' and old then return 0 end
if ARGV[2] ~= 'create' and not old then return -1 end
if ARGV[2] == 'delete' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
redis.call('INCR', KEYS[2])
local after = ARGV[3]
if after == '' then after = 'null' end
redis.call('LPUSH', KEYS[3], '{' .. ARGV[4] .. ',"before":' .. (old or 'null') .. ',"after":' .. after .. '}')
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[5]) - 1)
return 1
`;
