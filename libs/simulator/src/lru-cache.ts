/**
 * A least-recently-used cache bounded by a total weight (e.g. events held), not by entry count:
 * a busy minute and a quiet one cost what they hold. A Map keeps insertion order, so the first
 * key is always the least recently used.
 */
export class LruCache<V> {
  private readonly entries = new Map<string, { value: V; weight: number }>();
  private total = 0;

  constructor(
    private readonly maxWeight: number,
    private readonly weigh: (value: V) => number,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    this.delete(key);
    const weight = Math.max(1, this.weigh(value));
    this.entries.set(key, { value, weight });
    this.total += weight;
    // Always keep the newest entry, even when it alone is over the bound.
    for (const [oldest, entry] of this.entries) {
      if (this.total <= this.maxWeight || oldest === key) break;
      this.entries.delete(oldest);
      this.total -= entry.weight;
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.total -= entry.weight;
  }

  /** Drops every entry the predicate selects. */
  deleteWhere(predicate: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) if (predicate(entry.value)) this.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
