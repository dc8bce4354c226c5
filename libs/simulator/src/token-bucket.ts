/**
 * A token bucket: `rate` tokens per second, holding at most `capacity` (default max(1, rate)),
 * starting full. One request takes one token; an empty bucket means "throttle".
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly capacity = Math.max(1, rate),
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!(rate > 0)) throw new RangeError(`rate must be above 0, got ${rate}`);
    this.tokens = capacity;
    this.last = clock();
  }

  tryTake(): boolean {
    const now = this.clock();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
