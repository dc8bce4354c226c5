import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  CheckpointRepository,
  DirectoryLister,
  RejectsRepository,
  TrailFileReader,
  TrailFilesRepository,
} from '@trailsight/cloudtrail';
import { KeySpace, ProcessMetrics, ReplicaWaitTimeoutError } from '@trailsight/core';
import type { TrailFileRef } from '@trailsight/domain';
import { ReferenceInsightsRepository } from '@trailsight/findings';
import { heldJobQueue, useReplicatedRedis, waitCalls } from '../../../../test/support/redis-replicated.js';
import { writeTrail } from '../../../../test/support/trail-files.js';
import { CounterRepository } from '../counters/counter.repository.js';
import { CountingBuffer } from './counting.buffer.js';
import { TrailFileCountingService } from './trail-file-counting.service.js';

const source = { accountId: '111122223333', region: 'eu-west-1' };
const WAIT_MS = 300;

/** What GET /metrics shows of the trail-files write's timeouts. */
const metrics = new ProcessMetrics();
const timeouts = async () => {
  const text = await metrics.registry.getSingleMetricAsString('trailsight_redis_wait_timeouts_total');
  return Number(/\{write="trail-files"\} (\d+)/.exec(text)?.[1] ?? 0);
};

/**
 * A trail file's done-marker (and parked marker) on a primary with a real replica: its job is
 * acknowledged only once the replica has the marker. The counting script's own WAIT is off here
 * (counter-durability.int-spec tests it), so the marker's WAIT is the one that meets a held replica.
 */
describe('trail file markers with durable writes (primary and replica)', () => {
  const redis = useReplicatedRedis();
  const keys = new KeySpace('durfiles');
  let dir: string;
  let file: TrailFileRef;
  let fileEvents: number;

  beforeAll(async () => {
    metrics.onModuleInit();
    dir = mkdtempSync(join(tmpdir(), 'trailsight-durfiles-'));
    const written = writeTrail(dir, {
      accountId: source.accountId,
      regions: [source.region],
      eventsPerMinute: 20,
      minutes: 10,
    });
    const refs = await new DirectoryLister(dir, 0).list();
    expect(refs).toHaveLength(1);
    file = refs[0];
    fileEvents = written[0].events;
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => redis.client.flushall());

  /** The detector's counting of files, on `client` (one process's connection). */
  const counting = (client: Redis) => {
    const files = new TrailFilesRepository(client, keys, { redisWaitTimeoutMs: WAIT_MS });
    const counters = new CounterRepository(client, keys, {
      counterRetentionMinutes: 1440,
      dedupeWindowMinutes: 1440,
      redisWaitTimeoutMs: 0,
    });
    const service = new TrailFileCountingService(
      new TrailFileReader(),
      new CountingBuffer(counters),
      files,
      new RejectsRepository(client, keys),
      new CheckpointRepository(client, keys),
      new ReferenceInsightsRepository(client, keys),
    );
    return { files, counters, service };
  };
  const onReplica = async (hash: 'done' | 'parked', id: string) =>
    redis.replica.hexists(`${keys.prefix}:{trail-files}:${hash}`, id);
  const countedOnReplica = async () => Number((await redis.replica.hget(keys.sourceStats(source), 'counted')) ?? 0);

  it('acknowledges a file once the replica has its done-marker', async () => {
    const { service } = counting(redis.client);
    const before = await waitCalls(redis.client);
    const result = await service.countFile('job-1', file);
    expect(result).toMatchObject({ counted: fileEvents, alreadyDone: false });
    expect(await waitCalls(redis.client)).toBe(before + 1);
    expect(await onReplica('done', file.id)).toBe(1);
  });

  it('fails the job while replication is held, and completes the retry once it resumes, counted once', async () => {
    const { files, counters, service } = counting(redis.client);
    const counted = await timeouts();
    // As FilesProcessor runs a file job.
    const queue = await heldJobQueue(redis, 'files', ({ jobId, lastAttempt }) =>
      service.countOrPark(jobId, file, lastAttempt),
    );
    try {
      const { job, firstAttempt } = await queue.addWhileHeld('file-1');
      expect(firstAttempt).toMatch(/^trail-files write not acknowledged by any replica/);
      expect(await timeouts()).toBe(counted + 1);
      // Counted and marked on the primary, not acknowledged: the job waits for its retry.
      expect(await files.isDone([file])).toEqual([true]);
      expect(await onReplica('done', file.id)).toBe(0);
      expect(await job.getState()).toBe('delayed');

      await queue.resumeUntilFinished(job);
      expect(queue.attempts).toEqual(['wait timed out', 'already done']);
      expect(await onReplica('done', file.id)).toBe(1);
      expect(await countedOnReplica()).toBe(fileEvents);
      expect(await counters.sourceStats(source)).toMatchObject({ counted: fileEvents });
    } finally {
      await queue.close();
    }
  }, 30_000);

  it('a retry in another process waits for the marker too, and a timeout on the last attempt parks nothing', async () => {
    const first = counting(redis.client);
    const other = new Redis(redis.primary.url);
    try {
      const second = counting(other);
      redis.holdReplication();
      await expect(first.service.countFile('job-1', file)).rejects.toBeInstanceOf(ReplicaWaitTimeoutError);
      // The other process finds the file done and is not acknowledged either (its confirmDone writes
      // the entry again before its WAIT; the Redis 7.0 run here would block without that too).
      await expect(second.service.countOrPark('job-1', file, true)).rejects.toBeInstanceOf(ReplicaWaitTimeoutError);
      expect(await new RejectsRepository(redis.client, keys).counts()).toEqual({});
      expect(await first.files.parked()).toEqual({});
      expect(await onReplica('done', file.id)).toBe(0);

      redis.resumeReplication();
      expect(await second.service.countOrPark('job-1', file, true)).toMatchObject({ alreadyDone: true });
      expect(await onReplica('done', file.id)).toBe(1);
    } finally {
      redis.resumeReplication();
      other.disconnect();
    }
  }, 15_000);

  it('a file parked on its last attempt is acknowledged only once the replica has the parked marker', async () => {
    const { files, service } = counting(redis.client);
    const missing: TrailFileRef = {
      ...file,
      id: 'missing',
      location: { kind: 'dir', path: join(dir, 'gone.json.gz') },
    };
    redis.holdReplication();
    try {
      await expect(service.countOrPark('job-2', missing, true)).rejects.toThrow(
        /^trail-files write not acknowledged by any replica/,
      );
      expect(Object.keys(await files.parked())).toEqual(['missing']);
      expect(await onReplica('parked', 'missing')).toBe(0);
    } finally {
      redis.resumeReplication();
    }
  });
});
