import { hashedPart, keySlot } from './key-slot.js';

describe('keySlot', () => {
  // Reference slots from the Redis Cluster specification and `CLUSTER KEYSLOT` of redis-server 7.
  it.each([
    ['123456789', 12_739],
    ['foo', 12_182],
    ['{user1000}.following', 3_443],
    ['{user1000}.followers', 3_443],
    ['foo{}{bar}', 8_363],
    ['foo{{bar}}zap', 4_015],
    ['foo{bar}{zap}', 5_061],
  ])('puts %s in slot %i', (key, slot) => {
    expect(keySlot(key)).toBe(slot);
  });

  it('hashes only the first non-empty hash tag', () => {
    expect(hashedPart('ts:{123:eu-west-1}:m:0')).toBe('123:eu-west-1');
    expect(hashedPart('foo{}{bar}')).toBe('foo{}{bar}');
    expect(hashedPart('plain')).toBe('plain');
  });
});
