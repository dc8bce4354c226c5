import type { MetricFamily } from '@trailsight/core';
import type { FailedBatchesRepository } from './failed-batches.repository.js';

/** `GET /metrics`: event batches that failed every attempt, in totals and as they stand now. */
export async function failedBatchMetrics(failed: FailedBatchesRepository): Promise<MetricFamily[]> {
  const [totals, holds] = await Promise.all([failed.totals(), failed.holds()]);
  const held = [...holds].map(([source, hold]) => {
    const colon = source.indexOf(':');
    return { labels: { account: source.slice(0, colon), region: source.slice(colon + 1) }, hold };
  });
  return [
    {
      name: 'trailsight_event_batches_failed_total',
      help: 'Event batches that failed every attempt (each final failure; a retried batch that fails again counts again).',
      type: 'counter',
      samples: [{ value: totals.batches }],
    },
    {
      name: 'trailsight_event_batches_failed_events_total',
      help: 'Events in event batches that failed every attempt.',
      type: 'counter',
      samples: [{ value: totals.events }],
    },
    {
      name: 'trailsight_event_batches_discarded_total',
      help: 'Failed event batches an operator gave up (their events are never counted).',
      type: 'counter',
      samples: [{ value: totals.discardedBatches }],
    },
    {
      name: 'trailsight_event_batches_failed',
      help: 'Event batches failed and not yet retried, counted or discarded, per account-region (its evaluation is held).',
      type: 'gauge',
      samples: held.map(({ labels, hold }) => ({ labels, value: hold.batches })),
    },
    {
      name: 'trailsight_event_batches_failed_events',
      help: 'Events in those batches, per account-region.',
      type: 'gauge',
      samples: held.map(({ labels, hold }) => ({ labels, value: hold.events })),
    },
  ];
}
