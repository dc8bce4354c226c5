import { jest } from '@jest/globals';
import { WorkerHost } from '@nestjs/bullmq';
import type { DiscoveryService } from '@nestjs/core';
import type { EventQueues } from './event-queues.js';
import { closeWorkerWithin, WORKER_CLOSE_TIMEOUT_MS, WorkersShutdown } from './worker-shutdown.js';

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

describe('WorkersShutdown', () => {
  afterEach(() => jest.useRealTimers());

  it('closes the @Processor workers and the other partitions’ workers at once, within one deadline', async () => {
    jest.useFakeTimers();
    const dropped: string[] = [];
    const hanging = (name: string) => ({
      name,
      close: () => new Promise<void>(() => undefined), // the primary under it died
      disconnect: () => Promise.resolve(void dropped.push(name)),
    });
    class EventsProcessor extends WorkerHost {
      process = () => Promise.resolve();
    }
    const processor = Object.assign(new EventsProcessor(), { _worker: hanging('events') });
    const discovery = { getProviders: () => [{ instance: processor }, { instance: {} }] };
    const eventQueues = { partitionWorkers: () => [hanging('events-1'), hanging('events-2')] };
    const shutdown = new WorkersShutdown(
      discovery as unknown as DiscoveryService,
      eventQueues as unknown as EventQueues,
    );

    let done = false;
    const closing = shutdown.onModuleDestroy().then(() => (done = true));
    await jest.advanceTimersByTimeAsync(WORKER_CLOSE_TIMEOUT_MS - 1);
    expect([done, dropped]).toEqual([false, []]);
    await jest.advanceTimersByTimeAsync(1);
    await closing;
    expect(dropped.sort()).toEqual(['events', 'events-1', 'events-2']);
  });
});
