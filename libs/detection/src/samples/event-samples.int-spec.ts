import { Queue } from 'bullmq';
import { CheckpointRepository, streamSlimEvents } from '@trailsight/cloudtrail';
import { bullPrefix, loadConfig, RedisService, workerConnectionOptions, type AppConfig } from '@trailsight/core';
import { EVENT_SAMPLES_PER_SERIES_MINUTE, MINUTE_MS, type SlimEvent } from '@trailsight/domain';
import { FindingsRepository, SuppressionEvaluator, SuppressionsRepository } from '@trailsight/findings';
import { QueueName, EventQueues } from '@trailsight/queue';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { seededRandom } from '../core/synthetic-traffic.fixture.js';
import { CounterRepository } from '../counters/counter.repository.js';
import { EvaluationRepository } from '../evaluation/evaluation.repository.js';
import { EvaluatorService } from '../evaluation/evaluator.service.js';
import { InsightRecorder } from '../evaluation/insight-recorder.js';
import { FailedBatchesRepository } from '../failed-batches/failed-batches.repository.js';
import { CountingBuffer } from '../ingest/counting.buffer.js';
import { TuningRepository } from '../tuning/tuning.repository.js';
import { EventSamplesRepository } from './event-samples.repository.js';

const ACCOUNT = '123456789012';
const SOURCE = { accountId: ACCOUNT, region: 'eu-west-1' };
/** Samples are kept by the wall clock: the history ends now. */
const NOW = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
const HISTORY_START = NOW - 4 * 60 * MINUTE_MS;
const BURST_START = NOW - 40 * MINUTE_MS;
/** Long enough for the burst's minutes (40 minutes old) to still be kept when the evaluator runs. */
const SAMPLE_MINUTES = 120;

/** A CloudTrail record as a trail file holds it. */
function record(id: string, timeMs: number, name: string, who: string, extra: Record<string, unknown> = {}) {
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'AssumedRole', arn: who, accountId: ACCOUNT },
    eventTime: new Date(timeMs).toISOString().replace('.000', ''),
    eventSource: 'ec2.amazonaws.com',
    eventName: name,
    awsRegion: SOURCE.region,
    sourceIPAddress: '198.51.100.7',
    userAgent: 'terraform/1.9',
    requestParameters: { instanceType: 't3.micro', minCount: 1, maxCount: 1, tag: id },
    responseElements: null,
    requestID: `req-${id}`,
    eventID: id,
    readOnly: name.startsWith('Describe'),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    ...extra,
  };
}

/**
 * Three quiet hours of RunInstances by the deployer role, a 10-minute burst by an unknown user (a
 * quarter failing), quiet again; and at the same time a burst of TerminateInstances, which nobody
 * called before, by the deployer (known on the account-region, new on that API).
 */
function trailRecords(): Record<string, unknown>[] {
  const random = seededRandom(5);
  const out = [];
  for (let minute = HISTORY_START; minute < NOW; minute += MINUTE_MS) {
    const calls = 15 + Math.floor(random() * 10);
    for (let i = 0; i < calls; i++) {
      out.push(record(`r-${minute}-${i}`, minute + i * 100, 'RunInstances', 'arn:aws:iam::123456789012:role/deployer'));
    }
    if (minute >= BURST_START && minute < BURST_START + 10 * MINUTE_MS) {
      for (let i = 0; i < 30; i++) {
        out.push(
          record(
            `t-${minute}-${i}`,
            minute + 5_000 + i * 100,
            'TerminateInstances',
            'arn:aws:iam::123456789012:role/deployer',
          ),
        );
      }
      for (let i = 0; i < 200; i++) {
        out.push(
          record(
            `b-${minute}-${i}`,
            minute + 10_000 + i * 100,
            'RunInstances',
            'arn:aws:iam::123456789012:user/intruder',
            {
              sourceIPAddress: '203.0.113.66',
              userAgent: 'python-requests/2.31',
              ...(i % 4 === 0
                ? {
                    errorCode: 'Client.UnauthorizedOperation',
                    errorMessage: 'You are not authorized to perform this operation.',
                  }
                : {}),
            },
          ),
        );
      }
    }
  }
  return out;
}

/** The events of a trail file as the trail-file path produces them (with its sampler's choices). */
async function slimEventsOf(records: Record<string, unknown>[]): Promise<SlimEvent[]> {
  const events: SlimEvent[] = [];
  for await (const part of streamSlimEvents(Buffer.from(JSON.stringify({ Records: records })), 'test', undefined)) {
    for (const group of part.groups) events.push(...group.events);
  }
  return events;
}

describe('example events behind an insight (real Redis)', () => {
  let redis: ThrowawayRedis;
  let config: AppConfig;
  let service: RedisService;
  let events: Queue;
  let counters: CounterRepository;
  let samples: EventSamplesRepository;
  let buffer: CountingBuffer;
  let findings: FindingsRepository;
  let slim: SlimEvent[];

  beforeAll(async () => {
    redis = await startRedis();
    config = loadConfig({ REDIS_URL: redis.url, REDIS_PREFIX: 'smp', EVALUATION_LATENESS_SECONDS: '0' });
    service = new RedisService(config);
    await service.onModuleInit();
    counters = new CounterRepository(service.client, service.keys, {
      counterRetentionMinutes: 11_520,
      dedupeWindowMinutes: 1_440,
    });
    samples = new EventSamplesRepository(service.client, service.keys, { minutes: SAMPLE_MINUTES });
    buffer = new CountingBuffer(counters, undefined, samples);
    findings = new FindingsRepository(service.client, service.keys);
    events = new Queue(QueueName.Events, { connection: workerConnectionOptions(redis.url), prefix: bullPrefix('smp') });
    slim = await slimEventsOf(trailRecords());
  }, 60_000);

  afterAll(async () => {
    await events?.close();
    await service?.onApplicationShutdown();
    await redis?.stop();
  });

  it('the producer puts a sample on at most 5 events per series and minute: the queue grows by the sample only', () => {
    const sampled = slim.filter((e) => e.sample);
    const perSeriesMinute = new Map<string, number>();
    for (const e of sampled) {
      const series = `${e.eventName}|${e.errorCode ? `e|${e.errorCode}` : 'c'}`;
      const key = `${Math.floor(e.eventTimeMs / MINUTE_MS)}|${series}`;
      perSeriesMinute.set(key, (perSeriesMinute.get(key) ?? 0) + 1);
    }
    // 240 minutes of calls, 10 of them with an error series and a TerminateInstances series too: 5
    // each, an errored call counting for both.
    expect(Math.max(...perSeriesMinute.values())).toBeLessThanOrEqual(EVENT_SAMPLES_PER_SERIES_MINUTE);
    expect(sampled.length).toBeLessThanOrEqual(260 * EVENT_SAMPLES_PER_SERIES_MINUTE);
    expect(sampled.length).toBeGreaterThanOrEqual(240 * EVENT_SAMPLES_PER_SERIES_MINUTE);
    expect(sampled.length / slim.length).toBeLessThan(0.25);
    expect(sampled[0]?.sample).toEqual({
      sourceIPAddress: '198.51.100.7',
      requestParameters: { instanceType: 't3.micro', minCount: 1, maxCount: 1, tag: sampled[0]?.eventId },
    });
  });

  it('keeps at most 5 per series and minute, whatever a batch carries, and a retried batch adds nothing', async () => {
    const minute = BURST_START;
    // Every burst event of one minute carries a sample (as a forged or foreign producer could send).
    const all = slim
      .filter((e) => e.eventTimeMs >= minute && e.eventTimeMs < minute + MINUTE_MS)
      .map((e) => ({ ...e, sample: { sourceIPAddress: '192.0.2.1', requestParameters: null } }));
    const probe = { accountId: '210987654321', region: 'us-east-1' };
    await buffer.count(probe, { id: 'flood', events: all });
    const callsKey = service.keys.eventSamples(probe, minute, 'c|ec2.amazonaws.com|RunInstances');
    const stored = await service.client.hkeys(callsKey);
    expect(stored).toHaveLength(EVENT_SAMPLES_PER_SERIES_MINUTE);
    // Retried whole, and again in another order: the same five, nothing added.
    await buffer.count(probe, { id: 'flood', events: all });
    await buffer.count(probe, { id: 'flood-2', events: [...all].reverse() });
    expect((await service.client.hkeys(callsKey)).sort()).toEqual(stored.sort());
    const ttl = await service.client.pexpiretime(callsKey);
    expect(ttl).toBe(minute + MINUTE_MS + SAMPLE_MINUTES * MINUTE_MS);
  });

  it('copies the samples of an insight\u2019s first minutes into its finding at Start (up to 50), errors apart', async () => {
    // The trail-file path: counted and sampled through the one funnel, in file-sized batches.
    for (let i = 0; i < slim.length; i += 5_000) {
      await buffer.count(SOURCE, { id: `file-${i}`, events: slim.slice(i, i + 5_000) });
    }
    const checkpoints = new CheckpointRepository(service.client, service.keys);
    await checkpoints.loadOrCreate(SOURCE, {
      liveUntil: NOW,
      backfillFrom: HISTORY_START,
      backfillUntil: HISTORY_START,
      backfillCursor: HISTORY_START,
      backfillDone: true,
    });
    await checkpoints.registerSources([SOURCE]);
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
        undefined,
        samples,
      ),
      new FailedBatchesRepository(service.client, service.keys),
      new TuningRepository(service.client, service.keys),
    );
    await evaluator.runOnce(60_000, NOW);
    const { items } = await findings.list({});
    const calls = items.find((f) => f.insightType === 'ApiCallRateInsight' && f.eventName === 'RunInstances');
    const terminations = items.find((f) => f.eventName === 'TerminateInstances');
    const errors = items.find((f) => f.insightType === 'ApiErrorRateInsight');
    expect(calls && Date.parse(calls.startTime)).toBe(BURST_START);

    // The intruder and its user agent never called RunInstances before the burst, nor anything on
    // the account-region; the deployer did.
    expect(calls!.newActors).toEqual({
      userIdentityArn: ['arn:aws:iam::123456789012:user/intruder'],
      userAgent: ['python-requests/2.31'],
      onAccountRegion: {
        userIdentityArn: ['arn:aws:iam::123456789012:user/intruder'],
        userAgent: ['python-requests/2.31'],
      },
    });
    // The deployer never called TerminateInstances, but is no stranger to the account-region.
    expect(terminations!.newActors).toEqual({
      userIdentityArn: ['arn:aws:iam::123456789012:role/deployer'],
      userAgent: ['terraform/1.9'],
      onAccountRegion: { userIdentityArn: [], userAgent: [] },
    });

    const callSamples = await findings.getSamples(calls!.id);
    expect(callSamples).toHaveLength(50);
    // Oldest first, from the insight's first minutes, without a repeat.
    expect(callSamples.map((s) => s.eventTimeMs)).toEqual(
      [...callSamples.map((s) => s.eventTimeMs)].sort((a, b) => a - b),
    );
    expect(callSamples[0].eventTimeMs).toBeGreaterThanOrEqual(BURST_START);
    expect(callSamples.at(-1)!.eventTimeMs).toBeLessThan(BURST_START + 10 * MINUTE_MS);
    expect(new Set(callSamples.map((s) => s.eventId)).size).toBe(50);
    expect(callSamples[0]).toMatchObject({
      eventSource: 'ec2.amazonaws.com',
      eventName: 'RunInstances',
      awsRegion: SOURCE.region,
      recipientAccountId: ACCOUNT,
      requestParameters: expect.objectContaining({ instanceType: 't3.micro' }),
    });

    const errorSamples = await findings.getSamples(errors!.id);
    expect(errorSamples.length).toBeGreaterThan(0);
    expect(errorSamples.every((s) => s.errorCode === 'Client.UnauthorizedOperation')).toBe(true);
    expect(errorSamples[0]).toMatchObject({
      userIdentityArn: 'arn:aws:iam::123456789012:user/intruder',
      sourceIPAddress: '203.0.113.66',
      userAgent: 'python-requests/2.31',
      errorMessage: 'You are not authorized to perform this operation.',
    });
    const copied = await service.client.memory('USAGE', service.keys.findingSamples(calls!.id), 'SAMPLES', 0);
    console.log(`event samples: ${copied} bytes for the 50 kept with a finding`);
    expect(copied).toBeLessThan(50 * 1_000);
    // They live as long as the finding, not as the per-minute samples.
    const findingTtl = await service.client.pexpiretime(service.keys.findingSamples(calls!.id));
    expect(findingTtl).toBe(await service.client.pexpiretime(service.keys.findingSeries(calls!.id)));

    // A replica replaying the same minutes copies nothing twice.
    await service.client.del(service.keys.detectorStates(SOURCE));
    await service.client.hset(service.keys.evaluation(SOURCE), 'snapshotMinute', HISTORY_START - MINUTE_MS);
    await new EvaluatorService(
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
        undefined,
        samples,
      ),
      new FailedBatchesRepository(service.client, service.keys),
      new TuningRepository(service.client, service.keys),
    ).runOnce(60_000, NOW);
    expect(await findings.getSamples(calls!.id)).toEqual(callSamples);
  }, 120_000);

  it('costs a known number of bytes per series: a busy one over the minutes samples are kept', async () => {
    const busy = { accountId: '333333333333', region: 'us-east-1' };
    const field = 'c|ec2.amazonaws.com|RunInstances';
    let bytes = 0;
    for (let minute = NOW - SAMPLE_MINUTES * MINUTE_MS; minute < NOW; minute += MINUTE_MS) {
      const batch = slim
        .filter((e) => e.sample && !e.errorCode)
        .slice(0, EVENT_SAMPLES_PER_SERIES_MINUTE)
        .map((e, i) => ({ ...e, eventId: `m-${minute}-${i}`, eventTimeMs: minute + i }));
      await samples.add(busy, batch);
      bytes +=
        (await service.client.memory('USAGE', service.keys.eventSamples(busy, minute, field), 'SAMPLES', 0)) ?? 0;
    }
    const perMinute = bytes / SAMPLE_MINUTES;
    console.log(`event samples: ${Math.round(perMinute)} bytes per busy series and minute kept`);
    expect(perMinute).toBeGreaterThan(500);
    expect(perMinute).toBeLessThan(3_000);
  });
});
