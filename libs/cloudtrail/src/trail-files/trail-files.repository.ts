import type { Result } from 'ioredis';
import { awaitReplicas, type KeySpace, type RedisClient } from '@trailsight/core';
import { type AccountRegion, type TrailFileRef, trailFileVersion } from '@trailsight/domain';
import { locationId } from './trail-file.js';

/** What was counted of one file, stored once it was counted in full. */
export interface TrailFileDone {
  etag: string;
  size: number;
  /** Records read, and rejects parked. */
  records: number;
  rejects: number;
  /** When it was finished (epoch ms). */
  at: number;
}

/** A file that failed every attempt: set aside so it holds nothing back. */
export interface TrailFileParked {
  etag: string;
  /** Where it was: the path or `s3://bucket/key`. */
  location: string;
  /** The last attempt's error. */
  error: string;
  /** When it was parked (epoch ms). */
  at: number;
}

/** Where a file stands: counted in full, parked after its last attempt, or still to count. */
export type TrailFileState = 'done' | 'parked' | 'pending';

type FileKey = Pick<TrailFileRef, 'id' | 'etag' | 'location'>;

/** Writes a file's done entry again as it is (KEYS[1] the done hash, ARGV[1] the file id). */
const REWRITE_DONE_LUA = `
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value then redis.call('HSET', KEYS[1], ARGV[1], value) end
return value and 1 or 0
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    trailFileRewriteDone(key: string, id: string): Result<number, Context>;
  }
}

export interface TrailFilesSettings {
  /** REDIS_WAIT_TIMEOUT_MS: markDone and markParked resolve once a replica has them; 0 or absent: off. */
  redisWaitTimeoutMs?: number;
}

/**
 * Progress of the trail file sources, under the hash tag `{trail-files}`:
 * - `<prefix>:{trail-files}:done`: every file counted in full (field = file id, value = JSON with
 *   its etag and size), so a restarted or another replica skips it. A file CloudTrail named is
 *   done whatever its etag (see trailFileVersion); another file whose etag changed is read again.
 * - `<prefix>:{trail-files}:parked`: files that failed every attempt (missing, AccessDenied, a
 *   KMS key the service may not use), with the last error, so they stop holding back checkpoints.
 *
 * Before file names were ids, files were keyed by location: an entry under the location still
 * counts as done (an upgrade does not read every file again).
 *
 * Both markers wait for a replica (when the node has one) before the file's job is acknowledged:
 * a marker a failover lost would leave the file pending, holding back its account-region's
 * checkpoint while no job is left to count it.
 */
export class TrailFilesRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    private readonly settings: TrailFilesSettings = {},
  ) {
    if (typeof this.redis.trailFileRewriteDone !== 'function') {
      this.redis.defineCommand('trailFileRewriteDone', { numberOfKeys: 1, lua: REWRITE_DONE_LUA });
    }
  }

  doneKey(): string {
    return `${this.keys.prefix}:{trail-files}:done`;
  }

  parkedKey(): string {
    return `${this.keys.prefix}:{trail-files}:parked`;
  }

  /** For each file: true when this version of it was counted in full. */
  async isDone(files: readonly FileKey[]): Promise<boolean[]> {
    return (await this.states(files, false)).map((state) => state === 'done');
  }

  /** For each file: done, parked (this version) or pending. */
  async states(files: readonly FileKey[], withParked = true): Promise<TrailFileState[]> {
    const states: TrailFileState[] = [];
    for (let i = 0; i < files.length; i += 1_000) {
      const slice = files.slice(i, i + 1_000);
      const pipeline = this.redis.pipeline();
      pipeline.hmget(this.doneKey(), ...slice.map((file) => file.id));
      pipeline.hmget(this.doneKey(), ...slice.map((file) => locationId(file.location)));
      if (withParked) pipeline.hmget(this.parkedKey(), ...slice.map((file) => file.id));
      const [done = [], legacy = [], parked = []] = ((await pipeline.exec()) ?? []).map(([error, reply]) => {
        if (error) throw error;
        return reply as (string | null)[];
      });
      slice.forEach((file, j) => {
        const version = trailFileVersion(file);
        const matches = (value: string | null | undefined) => {
          const etag = etagOf(value);
          return etag !== undefined && (version === '' || etag === version);
        };
        if (matches(done[j]) || etagOf(legacy[j]) === file.etag) states.push('done');
        else if (matches(parked[j])) states.push('parked');
        else states.push('pending');
      });
    }
    return states;
  }

  /** Records a file counted in full (and no longer parked, when a retry succeeded). */
  async markDone(file: TrailFileRef, summary: Omit<TrailFileDone, 'etag' | 'size' | 'at'>): Promise<void> {
    const value: TrailFileDone = { etag: file.etag, size: file.size, at: Date.now(), ...summary };
    await this.redis
      .multi()
      .hset(this.doneKey(), file.id, JSON.stringify(value))
      .hdel(this.parkedKey(), file.id)
      .exec();
    await this.durable();
  }

  /**
   * For a file found done: resolves once a replica has its done entry. An earlier attempt may have
   * written it and then timed out waiting, maybe in another process. WAIT is documented to cover
   * the writes of its own connection (Redis 7.0 happens to count any command, later releases only
   * those that propagated), so the entry is written again, as it is, first.
   */
  async confirmDone(file: FileKey): Promise<void> {
    if ((this.settings.redisWaitTimeoutMs ?? 0) <= 0) return;
    await this.redis.trailFileRewriteDone(this.doneKey(), file.id);
    await this.durable();
  }

  /** Sets aside a file that failed its last attempt: it no longer holds back its account-region. */
  async markParked(file: TrailFileRef, error: string): Promise<void> {
    const value: TrailFileParked = { etag: file.etag, location: locationId(file.location), error, at: Date.now() };
    await this.redis.hset(this.parkedKey(), file.id, JSON.stringify(value));
    await this.durable();
  }

  /** Both hashes are in the `{trail-files}` slot: one node, one WAIT. */
  private async durable(): Promise<void> {
    await awaitReplicas(this.redis, this.doneKey(), {
      write: 'trail-files',
      timeoutMs: this.settings.redisWaitTimeoutMs ?? 0,
    });
  }

  /** Every parked file, by id. */
  async parked(): Promise<Record<string, TrailFileParked>> {
    const hash = await this.redis.hgetall(this.parkedKey());
    return Object.fromEntries(Object.entries(hash).map(([id, value]) => [id, JSON.parse(value) as TrailFileParked]));
  }

  async get(id: string): Promise<TrailFileDone | undefined> {
    const value = await this.redis.hget(this.doneKey(), id);
    return value ? (JSON.parse(value) as TrailFileDone) : undefined;
  }

  async countDone(): Promise<number> {
    return this.redis.hlen(this.doneKey());
  }

  /** The oldest minute holding counters of an account-region (where its history starts). */
  async oldestMinute(source: AccountRegion): Promise<number | undefined> {
    const [, score] = await this.redis.zrange(this.keys.activeMinutes(source), '0', '0', 'WITHSCORES');
    return score === undefined ? undefined : Number(score);
  }

  /** Every account-region registered so far ("account:region" members of `keys.sources()`). */
  async sources(): Promise<AccountRegion[]> {
    const members = await this.redis.smembers(this.keys.sources());
    return members.map((member) => {
      const [accountId = '', region = ''] = member.split(':');
      return { accountId, region };
    });
  }
}

function etagOf(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return (JSON.parse(value) as { etag?: string }).etag;
  } catch {
    return undefined;
  }
}
