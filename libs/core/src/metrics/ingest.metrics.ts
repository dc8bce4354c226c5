import { Injectable } from '@nestjs/common';
import type { AccountRegion } from '@trailsight/domain';
import { IngestMetricsRepository } from './ingest-metrics.repository.js';
import type { MetricFamily } from './metric-collectors.js';

/**
 * Ingest figures every process writes to Redis (so any replica reports the deployment's totals):
 * events counted and duplicates per account-region, rejects by reason, ingest stats (throttles...).
 */
@Injectable()
export class IngestMetrics {
  constructor(private readonly figures: IngestMetricsRepository) {}

  async collect(): Promise<MetricFamily[]> {
    const { sources, rejects, ingest } = await this.figures.read();
    const labelsOf = ({ accountId, region }: AccountRegion) => ({ account: accountId, region });
    return [
      {
        name: 'trailsight_events_ingested_total',
        help: 'CloudTrail events counted (exactly once), per account-region.',
        type: 'counter',
        samples: sources.map(({ source, stats }) => ({ labels: labelsOf(source), value: Number(stats.counted ?? 0) })),
      },
      {
        name: 'trailsight_events_duplicate_total',
        help: 'Events skipped because their eventID had been counted before, per account-region.',
        type: 'counter',
        samples: sources.map(({ source, stats }) => ({
          labels: labelsOf(source),
          value: Number(stats.duplicates ?? 0),
        })),
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
