import { Redis } from 'ioredis';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { KeySpace } from '../redis/key-space.js';
import { categoryStatField } from './category-stats.js';
import { IngestMetricsRepository } from './ingest-metrics.repository.js';
import { IngestMetrics } from './ingest.metrics.js';
import { familiesRegistry } from './cluster-metrics.js';

describe('IngestMetrics (real Redis)', () => {
  let server: ThrowawayRedis;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });

  it('reports the events each category contributed and the ones skipped, per account-region', async () => {
    const keys = new KeySpace('m');
    const source = { accountId: '123456789012', region: 'eu-west-1' };
    await redis.sadd(keys.sources(), '123456789012:eu-west-1');
    await redis.hset(keys.sourceStats(source), {
      counted: 7,
      duplicates: 1,
      [categoryStatField('counted', 'Management')]: 5,
      [categoryStatField('counted', 'Data')]: 2,
      [categoryStatField('skipped', 'NetworkActivity')]: 3,
      'skipped:Bogus': 9,
    });
    const families = await new IngestMetrics(new IngestMetricsRepository(redis, keys)).collect();
    const text = await familiesRegistry(families).metrics();
    const labels = 'account="123456789012",region="eu-west-1"';
    expect(text).toContain(`trailsight_events_counted_total{${labels},category="Data"} 2\n`);
    expect(text).toContain(`trailsight_events_counted_total{${labels},category="Management"} 5\n`);
    expect(text).toContain(`trailsight_events_skipped_total{${labels},category="NetworkActivity"} 3\n`);
    // Only the categories the counters write become labels.
    expect(text).not.toContain('Bogus');
    expect(text).toContain(`trailsight_events_ingested_total{${labels}} 7\n`);
  });
});
