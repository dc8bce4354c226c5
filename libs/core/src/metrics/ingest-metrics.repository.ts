import type { AccountRegion } from '@trailsight/domain';
import type { RedisClient } from '../redis/redis-connection.factory.js';
import type { KeySpace } from '../redis/key-space.js';
import { pipelinePerNode } from '../redis/pipeline-per-node.js';

/** The ingest figures as stored: per account-region stats, rejects by reason, other ingest counters. */
export interface IngestFigures {
  sources: Array<{ source: AccountRegion; stats: Record<string, string> }>;
  rejects: Record<string, string>;
  ingest: Record<string, string>;
}

/** Reads the ingest figures every process writes to Redis, in one round trip (per cluster node) after the source list. */
export class IngestMetricsRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  async read(): Promise<IngestFigures> {
    const members = (await this.redis.smembers(this.keys.sources())).sort();
    const sources = members.map(parseSource);
    const keys = [
      ...sources.map((source) => this.keys.sourceStats(source)),
      this.keys.rejectCounts(),
      this.keys.ingestStats(),
    ];
    // Every account-region has its own slot: one pipeline per node on a Redis Cluster.
    const replies = await pipelinePerNode<Record<string, string>>(this.redis, keys, (pipeline, key) =>
      pipeline.hgetall(key),
    );
    return {
      sources: sources.map((source, i) => ({ source, stats: replies[i] ?? {} })),
      rejects: replies[sources.length] ?? {},
      ingest: replies[sources.length + 1] ?? {},
    };
  }
}

function parseSource(source: string): AccountRegion {
  const colon = source.indexOf(':');
  return { accountId: source.slice(0, colon), region: source.slice(colon + 1) };
}
