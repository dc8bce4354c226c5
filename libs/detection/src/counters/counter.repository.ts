import type { Result } from 'ioredis';
import {
  type AccountRegion,
  callSeriesField,
  counterFields,
  errorSeriesField,
  type EventCategory,
  type InsightsEventCategory,
  isCountedCategory,
  MINUTE_MS,
  minuteOf,
  type SlimEvent,
} from '@trailsight/domain';
import { awaitReplicas, categoryStatField, type KeySpace, type RedisClient } from '@trailsight/core';
import { COUNT_BATCHES_LUA } from './count-batches.script.js';

export interface CountResult {
  /** Events counted now. */
  counted: number;
  /** Events skipped because their eventID was counted before (overlapping reads, repeated files). */
  duplicates: number;
  /** Events older than the counter retention: counting them would write keys that expire at once. */
  tooOld: number;
  /** Events of a category not analysed (data events unless INSIGHTS_EVENT_CATEGORIES has Data): never counted. */
  skipped: number;
  /** True when the whole batch had been counted before (a retried or duplicated job). */
  alreadyDone: boolean;
}

export interface EventBatch {
  /** Stable id of the batch (the BullMQ job id): its done-marker. */
  id: string;
  events: SlimEvent[];
}

export interface CounterSettings {
  /** How long a minute's counters live, and with them the ids of the events counted in it. */
  counterRetentionMinutes: number;
  /** How long a counted batch's done-marker lives (a retried or repeated job is skipped whole). */
  dedupeWindowMinutes: number;
  /** INSIGHTS_EVENT_CATEGORIES; Management only when absent. */
  insightsEventCategories?: readonly InsightsEventCategory[];
  /** REDIS_WAIT_TIMEOUT_MS: counts and done-markers reach a replica before a job is acknowledged; 0 or absent: off. */
  redisWaitTimeoutMs?: number;
}

/** One minute of one account-region's counters, as stored. */
export interface MinuteCounters {
  minute: number;
  fields: Record<string, number>;
}

type ScriptReply = ['ok'] | ['done', ...number[]] | ['seen', ...string[]] | ['repeated'];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    countBatches(numKeys: number, keys: string[], args: (string | number)[]): Result<ScriptReply, Context>;
  }
}

/** One minute of a script call: the ids for its dedupe set and the counter increments. */
interface MinuteBucket {
  ids: string[];
  fields: Map<string, number>;
  /** The ids, when repeats are merged in process. */
  merged: Set<string>;
}

/**
 * HSCAN globs of the series fields, built by the codec: `c|*|*` and `e|*|*|*` match the call and
 * error series and never the attribution fields (`cu|`, `ca|`, `eu|`, `ea|`).
 */
const SERIES_PATTERNS = [callSeriesField('*', '*'), errorSeriesField('*', '*', '*')];
/** Hash buckets one HSCAN call visits: a busy minute's hash takes a few calls, each short for Redis. */
const SCAN_COUNT = 5_000;

/** Conflicts are rare (a retried job, a re-read after a restart); each retry removes some. */
const MAX_ATTEMPTS = 16;

const EMPTY_RESULT: Readonly<CountResult> = { counted: 0, duplicates: 0, tooOld: 0, skipped: 0, alreadyDone: false };

/**
 * Per-minute counters in Redis. Counts are aggregated in process and applied, with the batches'
 * dedupe marks and done-markers, by one Lua script: a retried or duplicated job never counts
 * twice, and a process killed mid-batch leaves all of a batch or none of it.
 */
export class CounterRepository {
  /** Whether data events are counted (into their own series); otherwise they are skipped. */
  private readonly countsData: boolean;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    private readonly settings: CounterSettings,
  ) {
    this.countsData = settings.insightsEventCategories?.includes('Data') ?? false;
    if (typeof this.redis.countBatches !== 'function') {
      this.redis.defineCommand('countBatches', { lua: COUNT_BATCHES_LUA });
    }
  }

  /**
   * Counts several batches of one account-region in one atomic step; one result per batch. Resolves
   * only once a replica has the counts and done-markers (when the node has replicas): a done-marker
   * lost in a failover would let the retried batch count twice. Also when every batch was done
   * already: an earlier attempt's WAIT may have timed out, and that marker must reach a replica too.
   */
  async countBatches(source: AccountRegion, batches: EventBatch[], nowMs = Date.now()): Promise<CountResult[]> {
    const results = await this.countOnce(source, batches, nowMs);
    await awaitReplicas(this.redis, this.keys.sourceStats(source), {
      write: 'counting',
      timeoutMs: this.settings.redisWaitTimeoutMs ?? 0,
    });
    return results;
  }

  private async countOnce(source: AccountRegion, batches: EventBatch[], nowMs: number): Promise<CountResult[]> {
    const results = batches.map((): CountResult => ({ ...EMPTY_RESULT }));
    const done = new Set<number>();
    const seen = new Set<string>();
    // Repeats of an id inside the call are rare: first try without looking for them (the script
    // notices and refuses), then merge them in process.
    let mergeRepeats = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const live = batches.map((batch, index) => ({ batch, index })).filter(({ index }) => !done.has(index));
      if (live.length === 0) return results;
      const plan = this.plan(source, live, seen, results, nowMs, mergeRepeats);
      // ioredis flattens the arrays into the command's arguments (no spread: batches can be large).
      const reply = await this.redis.countBatches(plan.keys.length, plan.keys, plan.args);
      const [status, ...conflicts] = reply;
      if (status === 'ok') return results;
      if (status === 'repeated') {
        mergeRepeats = true;
      } else if (status === 'done') {
        for (const position of conflicts as number[]) {
          const index = live[Number(position) - 1].index;
          done.add(index);
          results[index] = { ...EMPTY_RESULT, alreadyDone: true };
        }
      } else {
        for (const id of conflicts as string[]) seen.add(id);
      }
    }
    throw new Error(
      `counting ${batches.length} batches kept conflicting with concurrent writers; the job will be retried`,
    );
  }

  /** Aggregates the live batches into one script call, filling each batch's result. */
  private plan(
    source: AccountRegion,
    live: { batch: EventBatch; index: number }[],
    seen: Set<string>,
    results: CountResult[],
    nowMs: number,
    mergeRepeats: boolean,
  ) {
    const retentionMs = this.settings.counterRetentionMinutes * MINUTE_MS;
    const oldest = minuteOf(nowMs) - retentionMs;
    const minutes = new Map<number, MinuteBucket>();
    let counted = 0;
    let duplicates = 0;
    let countedData = 0;
    const skipped = new Map<EventCategory, number>();
    let lastMinute = -1;
    let bucket: MinuteBucket | undefined;
    for (const { batch, index } of live) {
      const result: CountResult = { ...EMPTY_RESULT };
      for (const event of batch.events) {
        // Management events carry no category. The rest is skipped before anything, dedupe
        // included, unless it is a data event and data events are analysed.
        const category = event.eventCategory;
        if (category !== undefined && !isCountedCategory(category, this.countsData)) {
          result.skipped++;
          skipped.set(category, (skipped.get(category) ?? 0) + 1);
          continue;
        }
        if (event.eventTimeMs < oldest) {
          result.tooOld++;
          continue;
        }
        // Seen in Redis already: counted once, elsewhere.
        if (seen.size > 0 && seen.has(event.eventId)) {
          result.duplicates++;
          continue;
        }
        const minute = minuteOf(event.eventTimeMs);
        // Events come in runs of the same minute: look the bucket up only when the minute changes.
        if (minute !== lastMinute || !bucket) {
          bucket = minutes.get(minute);
          if (!bucket) minutes.set(minute, (bucket = { ids: [], fields: new Map(), merged: new Set() }));
          lastMinute = minute;
        }
        // Earlier in these batches, the same minute (as the dedupe sets key them): counted once.
        if (mergeRepeats && bucket.merged.size === bucket.merged.add(event.eventId).size) {
          result.duplicates++;
          continue;
        }
        bucket.ids.push(event.eventId);
        for (const field of counterFields(event)) bucket.fields.set(field, (bucket.fields.get(field) ?? 0) + 1);
        result.counted++;
        if (category !== undefined) countedData++;
      }
      results[index] = result;
      counted += result.counted;
      duplicates += result.duplicates;
    }

    const keys = [this.keys.activeMinutes(source), this.keys.sourceStats(source)];
    for (const { batch } of live) keys.push(this.keys.batchDone(source, batch.id));
    const args: (string | number)[] = [
      this.settings.dedupeWindowMinutes * 60,
      nowMs,
      retentionMs,
      live.length,
      minutes.size,
      counted,
      duplicates,
      categoryStats(counted - countedData, countedData, skipped),
    ];
    for (const [minute, bucket] of minutes) {
      keys.push(this.keys.minuteCounters(source, minute), this.keys.seenEvents(source, minute));
      const fields: (string | number)[] = [];
      for (const [field, increment] of bucket.fields) fields.push(field, increment);
      args.push(minute, Math.ceil((minute + retentionMs) / 1000), bucket.ids.join('\n'), fields.join('\n'));
    }
    return { keys, args };
  }

  /** The counters of one account-region's minutes in [fromMs, toMs], oldest first. */
  async readMinutes(source: AccountRegion, fromMs: number, toMs: number): Promise<MinuteCounters[]> {
    const minutes = (await this.redis.zrangebyscore(this.keys.activeMinutes(source), fromMs, toMs)).map(Number);
    if (minutes.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const minute of minutes) pipeline.hgetall(this.keys.minuteCounters(source, minute));
    const replies = (await pipeline.exec()) ?? [];
    return minutes.map((minute, i) => {
      const [error, hash] = replies[i] ?? [null, {}];
      if (error) throw error;
      const fields: Record<string, number> = {};
      for (const [field, value] of Object.entries(hash as Record<string, string>)) fields[field] = Number(value);
      return { minute, fields };
    });
  }

  /**
   * Only the series fields (call and error rates) of one account-region's minutes in
   * [fromMs, toMs], `chunkMinutes` minutes at a time, oldest first. The attribution fields, most of
   * a busy minute's hash (one per identity and user agent), never leave Redis, and at most one
   * chunk's series fields are in memory at a time: what `GET /v1/apis` reads. HSCAN with the
   * codec's series patterns rather than HMGET: the series names of a window are not indexed apart
   * from the hashes, and filtering in Redis sends only the matching fields.
   */
  async *seriesMinutes(
    source: AccountRegion,
    fromMs: number,
    toMs: number,
    chunkMinutes = 60,
  ): AsyncGenerator<MinuteCounters[]> {
    const minutes = (await this.redis.zrangebyscore(this.keys.activeMinutes(source), fromMs, toMs)).map(Number);
    for (let start = 0; start < minutes.length; start += chunkMinutes) {
      const chunk = minutes
        .slice(start, start + chunkMinutes)
        .map((minute): MinuteCounters => ({ minute, fields: {} }));
      // One scan per (minute, pattern); each round pipelines the next call of every unfinished scan.
      let scans = chunk.flatMap((entry) => SERIES_PATTERNS.map((pattern) => ({ entry, pattern, cursor: '0' })));
      while (scans.length > 0) {
        const pipeline = this.redis.pipeline();
        for (const { entry, pattern, cursor } of scans) {
          pipeline.hscan(this.keys.minuteCounters(source, entry.minute), cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
        }
        const replies = (await pipeline.exec()) ?? [];
        scans = scans.filter((scan, i) => {
          const [error, reply] = replies[i] ?? [new Error('no reply'), null];
          if (error) throw error;
          const [next, pairs] = reply as [string, string[]];
          // HSCAN may return a field twice (a rehash between calls): set, never add.
          for (let p = 0; p < pairs.length; p += 2) scan.entry.fields[pairs[p]] = Number(pairs[p + 1]);
          scan.cursor = next;
          return next !== '0';
        });
      }
      yield chunk;
    }
  }

  /** Exact ingest totals of one account-region. */
  async sourceStats(source: AccountRegion): Promise<{ counted: number; duplicates: number; batches: number }> {
    const stats = await this.redis.hgetall(this.keys.sourceStats(source));
    return {
      counted: Number(stats.counted ?? 0),
      duplicates: Number(stats.duplicates ?? 0),
      batches: Number(stats.batches ?? 0),
    };
  }
}

/** The per-category source stats (category-stats.ts) of one script call, `field\nincrement...`, zeros left out. */
function categoryStats(management: number, data: number, skipped: ReadonlyMap<EventCategory, number>): string {
  const stats: (string | number)[] = [];
  if (management > 0) stats.push(categoryStatField('counted', 'Management'), management);
  if (data > 0) stats.push(categoryStatField('counted', 'Data'), data);
  for (const [category, n] of skipped) stats.push(categoryStatField('skipped', category), n);
  return stats.join('\n');
}
