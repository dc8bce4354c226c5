import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bullPrefix, loadConfig, type AppConfig } from '@trailsight/core';
import type { SlimEvent, TrailFileRef } from '@trailsight/domain';
import { startRedis, type ThrowawayRedis } from '../../../test/support/redis-server.js';
import { EventsQueueSink } from './events-queue.sink.js';
import { JobProducer } from './job.producer.js';
import { JobName, QueueName, batchJobId, deliveryJobId, trailFileJobId } from './queue-contract.js';
import { TrailFilesQueueSink } from './trail-files-queue.sink.js';

const PREFIX = 'jobprod';
const source = { accountId: '123456789012', region: 'us-east-1' };
const event = (id: string) =>
  ({
    eventId: id,
    eventTimeMs: 0,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    readOnly: false,
  }) as SlimEvent;
const file = (id: string) => ({ id, etag: 'e1' }) as TrailFileRef;

describe('JobProducer (real Redis)', () => {
  let server: ThrowawayRedis;
  let config: AppConfig;
  let jobs: JobProducer;
  let raw: Redis;
  const inspect: Partial<Record<QueueName, Queue>> = {};
  const queue = (name: QueueName) =>
    (inspect[name] ??= new Queue(name, { connection: { port: server.port }, prefix: bullPrefix(PREFIX) }));

  beforeAll(async () => {
    server = await startRedis();
    raw = new Redis(server.url);
    config = loadConfig({ REDIS_URL: server.url, REDIS_PREFIX: PREFIX, BATCH_SIZE: '2', WEBHOOK_MAX_ATTEMPTS: '7' });
    jobs = new JobProducer(config);
  });
  afterAll(async () => {
    await jobs?.onModuleDestroy();
    await Promise.all(Object.values(inspect).map((q) => q.close()));
    await raw?.quit();
    await server?.stop();
  });

  it('adds each job to its queue with its rules, and absorbs a job added again', async () => {
    const events = new EventsQueueSink(jobs, config);
    const batch = ['e-1', 'e-2', 'e-3', 'e-4', 'e-5'].map(event);
    expect(await events.enqueue(source, 'test', batch)).toBe(3);
    expect(await events.enqueue(source, 'test', batch)).toBe(3);
    const queued = await queue(QueueName.Events).getJobs(['waiting']);
    expect(queued.map((job) => job.id).sort()).toEqual(
      [batch.slice(0, 2), batch.slice(2, 4), batch.slice(4)].map((b) => batchJobId(source, b)).sort(),
    );
    expect(queued[0].opts).toMatchObject({ attempts: 12, removeOnFail: false });

    const files = new TrailFilesQueueSink(jobs);
    expect(await files.enqueue([file('a'), file('b')])).toBe(2);
    const fileJobs = await queue(QueueName.Files).getJobs(['waiting']);
    expect(fileJobs.map((job) => job.id).sort()).toEqual([trailFileJobId(file('a')), trailFileJobId(file('b'))].sort());

    const delivery = { subscriptionId: 's-1', deliveryId: 'd-1', event: 'insight.start' as const, record: {} as never };
    await jobs.queue({ name: JobName.WebhookDelivery, data: delivery });
    const [webhook] = await queue(QueueName.Webhooks).getJobs(['waiting']);
    expect(webhook.id).toBe(deliveryJobId('d-1'));
    expect(webhook.opts).toMatchObject({ attempts: 7, backoff: { type: 'webhook', delay: config.webhookBackoffMs } });

    // One connection for every queue it adds to.
    const clients = (await raw.client('LIST')) as string;
    expect(clients.match(/name=trailsight-producer/g)).toHaveLength(1);
  });

  it('rejects fast while Redis is down (nothing queued for later), and works again once it is back', async () => {
    const events = new EventsQueueSink(jobs, config);
    await raw.quit();
    await server.stop({ keepData: true });
    const started = Date.now();
    await expect(events.enqueue(source, 'test', [event('down-1')])).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_000);
    await server.restart();
    raw = new Redis(server.url);
    // The producer's connection reconnects in the background; the next enqueue goes through.
    let added = 0;
    for (let attempt = 0; attempt < 50 && added === 0; attempt++) {
      added = await events.enqueue(source, 'test', [event('up-1')]).catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return 0;
      });
    }
    expect(added).toBe(1);
    const ids = (await queue(QueueName.Events).getJobs(['waiting'])).map((job) => job.id);
    expect(ids).toContain(batchJobId(source, [event('up-1')]));
    expect(ids).not.toContain(batchJobId(source, [event('down-1')]));
  });
});
