import type { Redis } from 'ioredis';
import type { KeySpace } from '@trailsight/core';
import type { AccountRegion, TrailFileRef } from '@trailsight/domain';

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

/**
 * Progress of the trail file sources: a hash of every file counted in full (field = file id,
 * value = JSON with its etag and size), so a restarted or another replica skips it, and a file
 * whose etag changed is read again (its events already counted are skipped by eventID).
 * The key has its own hash tag: `<prefix>:{trail-files}:done`.
 */
export class TrailFilesRepository {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
  ) {}

  doneKey(): string {
    return `${this.keys.prefix}:{trail-files}:done`;
  }

  /** For each file: true when this version of it (same etag) was counted in full. */
  async isDone(files: readonly Pick<TrailFileRef, 'id' | 'etag'>[]): Promise<boolean[]> {
    const done: boolean[] = [];
    for (let i = 0; i < files.length; i += 1_000) {
      const slice = files.slice(i, i + 1_000);
      const values = await this.redis.hmget(this.doneKey(), ...slice.map((file) => file.id));
      slice.forEach((file, j) => done.push(etagOf(values[j]) === file.etag));
    }
    return done;
  }

  async markDone(file: TrailFileRef, summary: Omit<TrailFileDone, 'etag' | 'size' | 'at'>): Promise<void> {
    const value: TrailFileDone = { etag: file.etag, size: file.size, at: Date.now(), ...summary };
    await this.redis.hset(this.doneKey(), file.id, JSON.stringify(value));
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
    return (JSON.parse(value) as TrailFileDone).etag;
  } catch {
    return undefined;
  }
}
