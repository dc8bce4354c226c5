import { randomUUID } from 'node:crypto';
import type { Result } from 'ioredis';
import type { AppConfig, KeySpace, RedisClient } from '@trailsight/core';
import type { InsightRecord } from '@trailsight/domain';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    outboxSeal(numKeys: number, ...keysAndArgs: (string | number)[]): Result<string | null, Context>;
    outboxComplete(numKeys: number, ...keysAndArgs: (string | number)[]): Result<number, Context>;
    outboxLease(numKeys: number, ...keysAndArgs: (string | number)[]): Result<number, Context>;
  }
}

/** The outputs that can be on, each with an outbox of its own. */
export type InsightOutputSink = 's3' | 'eventbridge';

/** The outputs the configuration turns on: what FindingsRepository appends every record to. */
export function enabledOutputs(config: AppConfig): InsightOutputSink[] {
  const sinks: InsightOutputSink[] = [];
  if (config.insightsS3Bucket) sinks.push('s3');
  if (config.insightsEventBridgeBus) sinks.push('eventbridge');
  return sinks;
}

/** A sealed batch: fixed once sealed, delivered (again, after a crash) until completed. */
export interface OutboxBatch {
  /** `<sealed at ms>-<sequence>`: unique per sink, and the same on every retry of the batch. */
  id: string;
  sealedAt: number;
  records: InsightRecord[];
}

/**
 * KEYS: pending list, batch, seq, lease. ARGV: lease token, max records, max bytes, now ms.
 * The batch already sealed (a delivery that crashed before completing), else a new one of the
 * oldest pending records (at least one, then up to the limits), moved out of the pending list in
 * the same step. Nil when the caller does not hold the lease or nothing is pending.
 */
const SEAL_LUA = `
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return nil end
local sealed = redis.call('GET', KEYS[2])
if sealed then return sealed end
local records = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
if #records == 0 then return nil end
local take, bytes = 0, 0
for i = 1, #records do
  if take > 0 and bytes + #records[i] > tonumber(ARGV[3]) then break end
  take = i
  bytes = bytes + #records[i]
end
local seq = redis.call('INCR', KEYS[3])
local batch = '{"id":"' .. ARGV[4] .. '-' .. seq .. '","sealedAt":' .. ARGV[4] .. ',"records":[' ..
  table.concat(records, ',', 1, take) .. ']}'
redis.call('SET', KEYS[2], batch)
redis.call('LTRIM', KEYS[1], take, -1)
return batch
`;

/**
 * KEYS: batch, stats. ARGV: batch id, delivered, failed.
 * Forgets the batch (it was delivered) and counts it; 0 when that batch is no longer the sealed one.
 */
const COMPLETE_LUA = `
local sealed = redis.call('GET', KEYS[1])
if not sealed or string.find(sealed, '{"id":"' .. ARGV[1] .. '"', 1, true) ~= 1 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HINCRBY', KEYS[2], 'delivered', ARGV[2])
redis.call('HINCRBY', KEYS[2], 'failed', ARGV[3])
redis.call('HINCRBY', KEYS[2], 'batches', 1)
return 1
`;

/** KEYS: lease. ARGV: token, ttl ms (0: release). Renews or releases the lease only when it is still ours. */
const LEASE_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then return redis.call('DEL', KEYS[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`;

export interface OutboxStats {
  pending: number;
  /** Records delivered, and records given up (EventBridge entries failed on every attempt). */
  delivered: number;
  failed: number;
  batches: number;
}

/**
 * The outbox of one output, in Redis under the findings tag. FindingsRepository appends each new
 * Start and End record to `pending` in the script that stores it, so a record is there once
 * however often the evaluator replays. A flusher holding the sink's lease seals a batch (moved
 * out of `pending` atomically, with an id fixed at sealing), delivers it and completes it; a
 * flusher that dies in between leaves the batch sealed, and whoever holds the lease next
 * delivers that same batch again (same id, same records) before sealing another.
 */
export class InsightOutboxRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {
    const scripts = { outboxSeal: SEAL_LUA, outboxComplete: COMPLETE_LUA, outboxLease: LEASE_LUA };
    for (const [name, lua] of Object.entries(scripts)) {
      if (typeof (this.redis as unknown as Record<string, unknown>)[name] !== 'function') {
        this.redis.defineCommand(name, { lua });
      }
    }
  }

  /** A lease token when this caller now flushes the sink (for ttlMs), else undefined. */
  async acquire(sink: InsightOutputSink, ttlMs: number): Promise<string | undefined> {
    const token = randomUUID();
    const ok = await this.redis.set(this.keys.insightOutbox(sink, 'lease'), token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? token : undefined;
  }

  /** Extends a lease still held; false when it was lost (expired and taken). */
  async renew(sink: InsightOutputSink, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.outboxLease(1, this.keys.insightOutbox(sink, 'lease'), token, Math.max(1, ttlMs))) === 1;
  }

  async release(sink: InsightOutputSink, token: string): Promise<void> {
    await this.redis.outboxLease(1, this.keys.insightOutbox(sink, 'lease'), token, 0);
  }

  /** The batch to deliver (see SEAL_LUA), undefined when the lease is not ours or nothing waits. */
  async seal(
    sink: InsightOutputSink,
    token: string,
    limits: { records: number; bytes: number },
    nowMs = Date.now(),
  ): Promise<OutboxBatch | undefined> {
    const json = await this.redis.outboxSeal(
      4,
      this.keys.insightOutbox(sink, 'pending'),
      this.keys.insightOutbox(sink, 'batch'),
      this.keys.insightOutbox(sink, 'seq'),
      this.keys.insightOutbox(sink, 'lease'),
      token,
      limits.records,
      limits.bytes,
      Math.trunc(nowMs),
    );
    return json === null ? undefined : (JSON.parse(json) as OutboxBatch);
  }

  /** Marks a delivered batch done; false when it was completed already (by a replica that took over). */
  async complete(sink: InsightOutputSink, batch: OutboxBatch, failed = 0): Promise<boolean> {
    const done = await this.redis.outboxComplete(
      2,
      this.keys.insightOutbox(sink, 'batch'),
      this.keys.insightOutbox(sink, 'stats'),
      batch.id,
      batch.records.length - failed,
      failed,
    );
    return done === 1;
  }

  async stats(sink: InsightOutputSink): Promise<OutboxStats> {
    const [pending, sealed, stats] = await Promise.all([
      this.redis.llen(this.keys.insightOutbox(sink, 'pending')),
      this.redis.get(this.keys.insightOutbox(sink, 'batch')),
      this.redis.hgetall(this.keys.insightOutbox(sink, 'stats')),
    ]);
    const inBatch = sealed === null ? 0 : (JSON.parse(sealed) as OutboxBatch).records.length;
    return {
      pending: pending + inBatch,
      delivered: Number(stats.delivered ?? 0),
      failed: Number(stats.failed ?? 0),
      batches: Number(stats.batches ?? 0),
    };
  }
}
