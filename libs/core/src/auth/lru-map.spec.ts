import { LruMap } from './lru-map.js';

describe('LruMap', () => {
  it('evicts the least recently used entry past its cap; a read makes an entry recent', () => {
    const map = new LruMap<string, number>(3);
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    expect(map.get('a')).toBe(1); // now b is the coldest
    map.set('d', 4);
    expect(map.size).toBe(3);
    expect(map.get('b')).toBeUndefined();
    expect([map.get('a'), map.get('c'), map.get('d')]).toEqual([1, 3, 4]);
    map.set('c', 30); // an update is a use too
    map.set('e', 5);
    expect(map.get('a')).toBeUndefined();
    expect(map.get('c')).toBe(30);
    map.delete('c');
    expect(map.get('c')).toBeUndefined();
    map.clear();
    expect(map.size).toBe(0);
  });
});
