import { createHash } from 'node:crypto';
import type { Result } from 'ioredis';
import type { KeySpace, RedisClient } from '@trailsight/core';
import type { TuningScope, TuningSettings } from '@trailsight/domain';
import { WRITE_TUNING_LUA } from './tuning.scripts.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tuningWrite(numKeys: number, ...keysAndArgs: (string | number)[]): Result<number, Context>;
  }
}

/** One runtime override: the settings of one scope. */
export interface TuningEntry {
  /** Derived from the scope: one entry per scope. */
  id: string;
  scope: TuningScope;
  settings: TuningSettings;
  note?: string;
  /** ISO time and API key id of the last change. */
  updatedAt: string;
  updatedBy: string;
}

/** One audited change: who, when, and the entry before and after (null when absent). */
export interface TuningChange {
  action: 'create' | 'update' | 'delete';
  id: string;
  keyId: string;
  at: string;
  before: TuningEntry | null;
  after: TuningEntry | null;
}

/** Changes kept in the audit trail; older ones are dropped. */
const TUNING_HISTORY_MAX = 1_000;

const SCOPE_ORDER = ['accountId', 'region', 'eventSource', 'eventName'] as const;

/** The id of a scope: the same scope always gets the same id, whatever order its fields came in. */
export function tuningIdOf(scope: TuningScope): string {
  const canonical = JSON.stringify(SCOPE_ORDER.map((field) => scope[field] ?? null));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** The scope's fields in a fixed order, without undefined ones (stored and shown that way). */
export function canonicalScope(scope: TuningScope): TuningScope {
  const out: TuningScope = {};
  for (const field of SCOPE_ORDER) if (scope[field] !== undefined) out[field] = scope[field];
  return out;
}

/**
 * Runtime tuning overrides in Redis (`{tuning}` hash tag): `entries` (hash id -> JSON),
 * `version` (bumped by every change), `history` (capped list, newest first). Every write is one
 * Lua script, so concurrent changes are each audited with what they replaced.
 */
export class TuningRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {
    if (typeof (this.redis as unknown as Record<string, unknown>).tuningWrite !== 'function') {
      this.redis.defineCommand('tuningWrite', { lua: WRITE_TUNING_LUA });
    }
  }

  /** Changes with every write; 0 before the first. Cheap (one GET): the evaluator asks every run. */
  async version(): Promise<number> {
    return Number((await this.redis.get(this.keys.tuningVersion())) ?? 0);
  }

  async list(): Promise<TuningEntry[]> {
    const entries = Object.values(await this.redis.hgetall(this.keys.tuningEntries()));
    return entries.map((json) => JSON.parse(json) as TuningEntry).sort((a, b) => a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<TuningEntry | undefined> {
    const json = await this.redis.hget(this.keys.tuningEntries(), id);
    return json === null ? undefined : (JSON.parse(json) as TuningEntry);
  }

  /** Writes `entry` (`create`: only if its scope has none; `update`: only if it has one). */
  async write(action: 'create' | 'update', entry: TuningEntry): Promise<boolean> {
    return (await this.run(action, entry.id, JSON.stringify(entry), entry.updatedBy, entry.updatedAt)) === 1;
  }

  /** Removes an entry, audited as `keyId`'s. False when there was none. */
  async delete(id: string, keyId: string, nowMs = Date.now()): Promise<boolean> {
    return (await this.run('delete', id, '', keyId, new Date(nowMs).toISOString())) === 1;
  }

  /** The audit trail, newest first. */
  async history(limit = 100): Promise<TuningChange[]> {
    const entries = await this.redis.lrange(this.keys.tuningHistory(), 0, limit - 1);
    return entries.map((json) => JSON.parse(json) as TuningChange);
  }

  private run(action: TuningChange['action'], id: string, json: string, keyId: string, at: string): Promise<number> {
    const lead = JSON.stringify({ action, id, keyId, at }).slice(1, -1);
    const keys = [this.keys.tuningEntries(), this.keys.tuningVersion(), this.keys.tuningHistory()];
    return this.redis.tuningWrite(keys.length, ...keys, id, action, json, lead, TUNING_HISTORY_MAX);
  }
}
