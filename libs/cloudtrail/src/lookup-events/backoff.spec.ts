import { backoffDelay, sleep } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles per attempt between half and all of the step, up to the cap', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, 100, 10_000, () => 0))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, 100, 10_000, () => 1))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(30, 100, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelay(30, 100, 10_000, () => 0)).toBe(5_000);
  });
});

describe('sleep', () => {
  it('ends early, without throwing, when its signal aborts', async () => {
    const abort = new AbortController();
    const started = Date.now();
    const slept = sleep(10_000, abort.signal);
    abort.abort();
    await slept;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
