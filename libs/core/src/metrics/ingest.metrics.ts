import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service.js';
import type { MetricFamily } from './metric-collectors.js';

/**
 * Ingest figures every process writes to Redis (so any replica reports the deployment's totals):
 * events counted and duplicates per account-region, rejects by reason, ingest stats (throttles...).
 */
@Injectable()
export class IngestMetrics {
  constructor(private readonly redis: RedisService) {}

  async collect(): Promise<MetricFamily[]> {
    const { client, keys } = this.redis;
    const sources = (await client.smembers(keys.sources())).sort();
    const pipeline = client.pipeline();
    for (const source of sources) pipeline.hgetall(keys.sourceStats(parseSource(source)));
    pipeline.hgetall(keys.rejectCounts());
    pipeline.hgetall(keys.ingestStats());
    const replies = ((await pipeline.exec()) ?? []).map(([error, reply]) => {
      if (error) throw error;
      return reply as Record<string, string>;
    });
    const perSource = replies.slice(0, sources.length);
    const rejects = replies[sources.length] ?? {};
    const ingest = replies[sources.length + 1] ?? {};

    const labelsOf = (source: string) => {
      const { accountId, region } = parseSource(source);
      return { account: accountId, region };
    };
    return [
      {
        name: 'trailsight_events_ingested_total',
        help: 'CloudTrail events counted (exactly once), per account-region.',
        type: 'counter',
        samples: sources.map((s, i) => ({ labels: labelsOf(s), value: Number(perSource[i]?.counted ?? 0) })),
      },
      {
        name: 'trailsight_events_duplicate_total',
        help: 'Events skipped because their eventID had been counted before, per account-region.',
        type: 'counter',
        samples: sources.map((s, i) => ({ labels: labelsOf(s), value: Number(perSource[i]?.duplicates ?? 0) })),
      },
      {
        name: 'trailsight_events_rejected_total',
        help: 'Input that could not become an event (parked for operators), by reason.',
        type: 'counter',
        samples: Object.entries(rejects)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([reason, value]) => ({ labels: { reason }, value: Number(value) })),
      },
      {
        name: 'trailsight_ingest_throttles_total',
        help: 'LookupEvents throttling responses (backed off and retried).',
        type: 'counter',
        samples: [{ value: Number(ingest.throttles ?? 0) }],
      },
      {
        name: 'trailsight_ingest_stat_total',
        help: 'Other ingest counters recorded in Redis, by name.',
        type: 'counter',
        samples: Object.entries(ingest)
          .filter(([stat]) => stat !== 'throttles')
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([stat, value]) => ({ labels: { stat }, value: Number(value) })),
      },
    ];
  }
}

function parseSource(source: string): { accountId: string; region: string } {
  const colon = source.indexOf(':');
  return { accountId: source.slice(0, colon), region: source.slice(colon + 1) };
}
