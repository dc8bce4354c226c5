import { Injectable } from '@nestjs/common';
import type { AccountRegion } from '@trailsight/domain';
import { type CategoryStatKind, parseCategoryStatField } from './category-stats.js';
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
    const byCategory = (kind: CategoryStatKind) =>
      sources.flatMap(({ source, stats }) =>
        Object.entries(stats)
          .map(([field, value]) => ({ stat: parseCategoryStatField(field), value: Number(value) }))
          .filter(({ stat }) => stat?.kind === kind)
          .sort((a, b) => (a.stat?.category ?? '').localeCompare(b.stat?.category ?? ''))
          .map(({ stat, value }) => ({ labels: { ...labelsOf(source), category: stat?.category ?? '' }, value })),
      );
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
        name: 'trailsight_events_counted_total',
        help: 'Events counted into series, per account-region and event category (Management, Data).',
        type: 'counter',
        samples: byCategory('counted'),
      },
      {
        name: 'trailsight_events_skipped_total',
        help: 'Events not counted because INSIGHTS_EVENT_CATEGORIES does not analyse their category, per account-region and category.',
        type: 'counter',
        samples: byCategory('skipped'),
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
