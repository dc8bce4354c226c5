import { closeWorkerWithin } from './worker-shutdown.js';

describe('closeWorkerWithin', () => {
  const logger = () => {
    const lines: string[] = [];
    return { lines, warn: (line: string) => void lines.push(line) };
  };

  it('waits for a worker that closes in time, and leaves it alone', async () => {
    let disconnected = false;
    const worker = {
      name: 'events',
      close: () => new Promise<void>((resolve) => setTimeout(resolve, 20)),
      disconnect: () => Promise.resolve(void (disconnected = true)),
    };
    const log = logger();
    expect(await closeWorkerWithin(worker, 1_000, log)).toBe(true);
    expect([disconnected, log.lines]).toEqual([false, []]);
  });

  it('gives up on a close that never ends: drops the connections, says so, and later closes answer at once', async () => {
    let disconnected = false;
    const worker = {
      name: 'events',
      close: () => new Promise<void>(() => undefined), // Redis never answers
      disconnect: () => Promise.resolve(void (disconnected = true)),
    };
    const log = logger();
    const started = Date.now();
    expect(await closeWorkerWithin(worker, 100, log)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(disconnected).toBe(true);
    expect(log.lines).toEqual([expect.stringMatching(/worker events did not close within 100 ms/)]);
    await expect(worker.close()).resolves.toBeUndefined();
  });
});
