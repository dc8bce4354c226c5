import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CheckpointRepository } from '@trailsight/cloudtrail';
import { bullPrefix, loadConfig, RedisService, workerConnectionOptions, type AppConfig } from '@trailsight/core';
import { MINUTE_MS, type SlimEvent } from '@trailsight/domain';
import { FindingsRepository, SuppressionEvaluator, SuppressionsRepository } from '@trailsight/findings';
import { QueueName, EventQueues } from '@trailsight/queue';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { sameTimeLastWeek } from '../../../../test/support/recent-time.js';
import { poisson, seededRandom } from '../core/synthetic-traffic.fixture.js';
import { CounterRepository } from '../counters/counter.repository.js';
import { EvaluationRepository } from '../evaluation/evaluation.repository.js';
import { EvaluatorService } from '../evaluation/evaluator.service.js';
import { InsightRecorder } from '../evaluation/insight-recorder.js';
import { FailedBatchesRepository } from '../failed-batches/failed-batches.repository.js';
import { TuningRepository, tuningIdOf, type TuningEntry } from './tuning.repository.js';

const SOURCE = { accountId: '123456789012', region: 'eu-west-1' };
const API = { eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' };

describe('runtime tuning (real Redis)', () => {
  let redis: ThrowawayRedis;
  let config: AppConfig;
  let service: RedisService;
  let events: Queue;
  let tuning: TuningRepository;

  beforeAll(async () => {
    redis = await startRedis();
    config = loadConfig({ REDIS_URL: redis.url, REDIS_PREFIX: 'tunetest', EVALUATION_LATENESS_SECONDS: '0' });
    service = new RedisService(config);
    await service.onModuleInit();
    events = new Queue(QueueName.Events, {
      connection: workerConnectionOptions(redis.url),
      prefix: bullPrefix('tunetest'),
    });
    tuning = new TuningRepository(service.client, service.keys);
  }, 60_000);

  afterAll(async () => {
    await events?.close();
    await service?.onApplicationShutdown();
    await redis?.stop();
  });

  const entry = (settings: TuningEntry['settings'], by: string): TuningEntry => ({
    id: tuningIdOf(API),
    scope: API,
    settings,
    updatedAt: new Date().toISOString(),
    updatedBy: by,
  });

  it('audits every change with who, when and what it replaced, concurrent ones included', async () => {
    const before = await tuning.version();
    expect(await tuning.write('create', entry({ sensitivity: 3 }, 'k0'))).toBe(true);
    expect(await tuning.write('create', entry({ sensitivity: 4 }, 'kx'))).toBe(false);
    // Separate repositories on one connection each: the updates race inside Redis.
    const clients = [1, 2, 3, 4, 5].map(() => new Redis(redis.url));
    try {
      await Promise.all(
        clients.map((client, i) =>
          new TuningRepository(client, service.keys).write('update', entry({ sensitivity: 5 + i }, `k${i + 1}`)),
        ),
      );
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
    expect(await tuning.delete(tuningIdOf(API), 'k9')).toBe(true);
    expect(await tuning.delete(tuningIdOf(API), 'k9')).toBe(false);
    expect(await tuning.write('update', entry({ sensitivity: 2 }, 'k9'))).toBe(false);

    const history = (await tuning.history()).reverse();
    expect(history.map((h) => h.action)).toEqual([
      'create',
      'update',
      'update',
      'update',
      'update',
      'update',
      'delete',
    ]);
    expect(history.map((h) => h.keyId).sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k9']);
    // A chain: each change replaced exactly what the one before it left.
    expect(history[0].before).toBeNull();
    for (let i = 1; i < history.length; i++) expect(history[i].before).toEqual(history[i - 1].after);
    expect(history[6].after).toBeNull();
    expect(await tuning.version()).toBe(before + 7);
    expect(await tuning.list()).toEqual([]);
  });

  it('is applied by a running evaluator from its next run, without a restart', async () => {
    // Three quiet hours of ~20 RunInstances a minute, a burst of 400/min at -60, another at -20.
    const now = sameTimeLastWeek(Date.UTC(2026, 10, 30, 12, 0, 0));
    const historyStart = now - 4 * 60 * MINUTE_MS;
    const bursts = [now - 60 * MINUTE_MS, now - 20 * MINUTE_MS];
    const random = seededRandom(5);
    const counters = new CounterRepository(service.client, service.keys, {
      counterRetentionMinutes: 11_520,
      dedupeWindowMinutes: 1_440,
    });
    const batches = [];
    for (let minute = historyStart; minute < now; minute += MINUTE_MS) {
      const burst = bursts.some((b) => minute >= b && minute < b + 8 * MINUTE_MS);
      const calls = poisson(random, 20) + (burst ? 400 : 0);
      const events: SlimEvent[] = Array.from({ length: calls }, (_, i) => ({
        eventId: `r-${minute}-${i}`,
        eventTimeMs: minute + i,
        ...API,
        readOnly: false,
        identity: 'arn:aws:iam::123456789012:role/deployer',
        userAgent: 'terraform/1.9',
      }));
      batches.push({ id: `batch-${minute}`, events });
    }
    await counters.countBatches(SOURCE, batches, now);
    const checkpoints = new CheckpointRepository(service.client, service.keys);
    await checkpoints.loadOrCreate(SOURCE, {
      liveUntil: now,
      backfillFrom: historyStart,
      backfillUntil: historyStart,
      backfillCursor: historyStart,
      backfillDone: true,
    });
    await checkpoints.registerSources([SOURCE]);
    const findings = new FindingsRepository(service.client, service.keys);
    const evaluations = new EvaluationRepository(service.client, service.keys, config.counterRetentionMinutes);
    const evaluator = new EvaluatorService(
      config,
      evaluations,
      counters,
      checkpoints,
      new EventQueues(events, config, service),
      new InsightRecorder(
        config,
        evaluations,
        counters,
        findings,
        new SuppressionEvaluator(new SuppressionsRepository(service.client, service.keys)),
        { notify: () => Promise.resolve() },
      ),
      new FailedBatchesRepository(service.client, service.keys),
      tuning,
    );

    // An override for this account's RunInstances: nothing under 10,000 a minute is an insight.
    const scope = { accountId: SOURCE.accountId, ...API };
    const id = tuningIdOf(scope);
    await tuning.write('create', { id, scope, settings: { minVolume: 10_000 }, updatedAt: '', updatedBy: 'k' });
    await evaluator.runOnce(60_000, now - 35 * MINUTE_MS);
    expect(await findings.count()).toBe(0);

    // Removed while the evaluator keeps running: its next run sees the second burst.
    await tuning.delete(id, 'k');
    await evaluator.runOnce(60_000, now);
    const found = (await findings.list()).items;
    expect(found.map((f) => [f.eventName, Date.parse(f.startTime)])).toEqual([[API.eventName, bursts[1]]]);
  }, 60_000);
});
