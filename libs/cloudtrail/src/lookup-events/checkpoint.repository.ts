import type { Result } from 'ioredis';
import { awaitReplicas, type KeySpace, type RedisClient } from '@trailsight/core';
import type { AccountRegion } from '@trailsight/domain';

/**
 * How far LookupEvents polling of one account-region has got (all times epoch ms). Every field
 * only moves in one direction and only after the enqueue it covers was acknowledged, so whoever
 * writes it (a replica that just lost its lease included) never makes it claim unread events.
 */
export interface Checkpoint {
  /** The live tail has enqueued every event visible up to here. */
  liveUntil: number;
  /** Oldest time the backfill reads (now - BACKFILL_DAYS at first start). */
  backfillFrom: number;
  /** Newest time the backfill reads: where the live tail began. */
  backfillUntil: number;
  /**
   * The backfill reads newest first: it has enqueued [backfillCursor, backfillUntil] and moves
   * down to backfillFrom. Inclusive: events at exactly the cursor's second are read again.
   */
  backfillCursor: number;
  backfillDone: boolean;
  /** When the back-fill began (absent in checkpoints written before it was kept, and for trail files). */
  backfillStartedAt?: number;
}

/** How far a back-fill has got: share of its span read, and the time left at the pace so far. */
export interface BackfillProgress {
  percent: number;
  /** Null until the pace is known (nothing read yet, or no start time). */
  etaSeconds: number | null;
}

/**
 * The progress of a back-fill whose oldest enqueued event is at `cursor` (the checkpoint's, or a
 * running scan's newer figure). The ETA assumes the rest of the span holds as many events per
 * hour as the part read; LookupEvents' fixed rate makes time proportional to events.
 */
export function backfillProgress(
  checkpoint: Checkpoint,
  now: number,
  cursor = checkpoint.backfillCursor,
): BackfillProgress {
  if (checkpoint.backfillDone) return { percent: 100, etaSeconds: 0 };
  const span = checkpoint.backfillUntil - checkpoint.backfillFrom;
  if (span <= 0) return { percent: 100, etaSeconds: 0 };
  const read = Math.min(span, Math.max(0, checkpoint.backfillUntil - cursor));
  const percent = (read / span) * 100;
  const started = checkpoint.backfillStartedAt;
  if (started === undefined || read <= 0 || now <= started) return { percent, etaSeconds: null };
  return { percent, etaSeconds: Math.round((((now - started) / read) * (span - read)) / 1000) };
}

/** Creates the hash unless it exists; returns what is stored. KEYS[1]; ARGV: field, value pairs. */
const INIT_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
return redis.call('HGETALL', KEYS[1])
`;

/** Sets ARGV[1] to ARGV[2] when that moves it forward (ARGV[3] = '1') or backward ('-1'). */
const ADVANCE_LUA = `
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
local value = tonumber(ARGV[2])
if current == nil or (ARGV[3] == '1' and value > current) or (ARGV[3] == '-1' and value < current) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    checkpointInit(key: string, ...fieldValues: string[]): Result<string[], Context>;
    checkpointAdvance(key: string, field: string, value: string, direction: '1' | '-1'): Result<number, Context>;
  }
}

export interface CheckpointSettings {
  /** REDIS_WAIT_TIMEOUT_MS: an advance resolves once a replica has it; 0 or absent: off. */
  redisWaitTimeoutMs?: number;
}

/**
 * The per account-region poller checkpoint hash (`keys.checkpoint(source)`). Its advances wait
 * for a replica (when the node has one): a checkpoint that a failover took back would only make
 * the poller read again what the dedupe sets drop, but one the new primary never saw must not
 * be reported as progress either.
 */
export class CheckpointRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    private readonly settings: CheckpointSettings = {},
  ) {
    if (typeof this.redis.checkpointInit !== 'function') {
      this.redis.defineCommand('checkpointInit', { numberOfKeys: 1, lua: INIT_LUA });
      this.redis.defineCommand('checkpointAdvance', { numberOfKeys: 1, lua: ADVANCE_LUA });
    }
  }

  async load(source: AccountRegion): Promise<Checkpoint | undefined> {
    const hash = await this.redis.hgetall(this.keys.checkpoint(source));
    return Object.keys(hash).length === 0 ? undefined : fromHash(hash);
  }

  /** The stored checkpoint; `initial` is stored first when there is none (atomically: one wins). */
  async loadOrCreate(source: AccountRegion, initial: Checkpoint): Promise<Checkpoint> {
    const fields = Object.entries(toHash(initial)).flat();
    const reply = await this.redis.checkpointInit(this.keys.checkpoint(source), ...fields);
    const hash: Record<string, string> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) hash[reply[i]] = reply[i + 1]!;
    return fromHash(hash);
  }

  /** The live tail has enqueued everything up to `liveUntil`. Never moves it back. */
  async advanceLive(source: AccountRegion, liveUntil: number): Promise<void> {
    await this.redis.checkpointAdvance(this.keys.checkpoint(source), 'liveUntil', String(liveUntil), '1');
    await this.durable(source);
  }

  /** The backfill has enqueued everything from `cursor` up. Never moves it forward again. */
  async advanceBackfill(source: AccountRegion, cursor: number): Promise<void> {
    await this.redis.checkpointAdvance(this.keys.checkpoint(source), 'backfillCursor', String(cursor), '-1');
    await this.durable(source);
  }

  async finishBackfill(source: AccountRegion): Promise<void> {
    await this.redis.hset(this.keys.checkpoint(source), 'backfillDone', '1');
    await this.durable(source);
  }

  private async durable(source: AccountRegion): Promise<void> {
    await awaitReplicas(this.redis, this.keys.checkpoint(source), {
      write: 'checkpoint',
      timeoutMs: this.settings.redisWaitTimeoutMs ?? 0,
    });
  }

  /** Adds account-regions to the set of every one polled (`keys.sources()`, "account:region"). */
  async registerSources(sources: readonly AccountRegion[]): Promise<void> {
    if (sources.length === 0) return;
    await this.redis.sadd(this.keys.sources(), ...sources.map((s) => `${s.accountId}:${s.region}`));
  }

  /** Every account-region registered so far, ordered by "account:region". */
  async sources(): Promise<AccountRegion[]> {
    const members = (await this.redis.smembers(this.keys.sources())).sort();
    return members.map((member) => {
      const [accountId = '', region = ''] = member.split(':');
      return { accountId, region };
    });
  }
}

function toHash(checkpoint: Checkpoint): Record<string, string> {
  return {
    liveUntil: String(checkpoint.liveUntil),
    backfillFrom: String(checkpoint.backfillFrom),
    backfillUntil: String(checkpoint.backfillUntil),
    backfillCursor: String(checkpoint.backfillCursor),
    backfillDone: checkpoint.backfillDone ? '1' : '0',
    ...(checkpoint.backfillStartedAt === undefined ? {} : { backfillStartedAt: String(checkpoint.backfillStartedAt) }),
  };
}

function fromHash(hash: Record<string, string>): Checkpoint {
  const number = (field: string): number => {
    const value = Number(hash[field]);
    if (hash[field] === undefined || !Number.isFinite(value)) throw new Error(`checkpoint field ${field} is invalid`);
    return value;
  };
  return {
    liveUntil: number('liveUntil'),
    backfillFrom: number('backfillFrom'),
    backfillUntil: number('backfillUntil'),
    backfillCursor: number('backfillCursor'),
    backfillDone: hash.backfillDone === '1',
    ...(hash.backfillStartedAt === undefined ? {} : { backfillStartedAt: number('backfillStartedAt') }),
  };
}
