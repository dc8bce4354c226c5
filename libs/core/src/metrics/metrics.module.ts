import { Module } from '@nestjs/common';
import { AuthStats } from '../auth/auth.stats.js';
import { redisRepository } from '../redis/redis-repository.provider.js';
import { IngestMetricsRepository } from './ingest-metrics.repository.js';
import { IngestMetrics } from './ingest.metrics.js';
import { metricCollector } from './metric-collectors.js';

/**
 * The api's collectors for `GET /metrics` (served by every process, see CoreModule): the
 * cluster-wide ingest totals from Redis and this process's refused API requests. Other api
 * modules add theirs under METRIC_COLLECTORS. Only the api imports it, so a cluster-wide total
 * is never exported by the poller or the detector. Needs AuthModule.
 */
@Module({
  providers: [
    redisRepository(IngestMetricsRepository),
    IngestMetrics,
    // One registration per module: a second provider of the same token in a module replaces the first.
    metricCollector(
      (ingest: IngestMetrics, stats: AuthStats) => async () => [
        ...(await ingest.collect()),
        {
          name: 'trailsight_api_requests_refused_total',
          help: 'API requests refused by this process, by reason (unauthorized 401, forbidden 403, rate_limited 429, address_limited 429: too many unknown keys from one address).',
          type: 'counter' as const,
          samples: [
            { labels: { reason: 'unauthorized' }, value: stats.unauthorized },
            { labels: { reason: 'forbidden' }, value: stats.forbidden },
            { labels: { reason: 'rate_limited' }, value: stats.rateLimited },
            { labels: { reason: 'address_limited' }, value: stats.addressLimited },
          ],
        },
      ],
      [IngestMetrics, AuthStats],
    ),
  ],
})
export class MetricsModule {}
