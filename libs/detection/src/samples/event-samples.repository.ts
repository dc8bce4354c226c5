import type { Result } from 'ioredis';
import {
  type AccountRegion,
  bySampleTime,
  counterFields,
  EVENT_SAMPLES_PER_SERIES_MINUTE,
  isCountedCategory,
  isSeriesField,
  MINUTE_MS,
  minuteOf,
  type SampledEvent,
  type SlimEvent,
} from '@trailsight/domain';
import type { KeySpace, RedisClient } from '@trailsight/core';

/**
 * Adds example events to one series-minute's hash: an id already there is left as it is (a
 * retried batch adds nothing), and no more than ARGV[1] ids are ever kept.
 * KEYS: the hash. ARGV: max, expireAtMs, then id, json, id, json...
 */
const ADD_SAMPLES_LUA = `
local max = tonumber(ARGV[1])
local size = redis.call('HLEN', KEYS[1])
for i = 3, #ARGV, 2 do
  if size >= max then break end
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then size = size + 1 end
end
if size > 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return size
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    addSamples(key: string, ...args: (string | number)[]): Result<number, Context>;
  }
}

/**
 * A bounded sample of recent events per series: at most EVENT_SAMPLES_PER_SERIES_MINUTE per
 * series (a write API's calls, or one error code's errors) and minute, each minute's hash expiring
 * `minutes` after the minute ends. The evaluator copies a new insight's samples into its finding.
 *
 * Best-effort, so never waited for (REDIS_WAIT_TIMEOUT_MS): no retry skips work because of a
 * sample, and counts never depend on one; a sample a failover lost leaves a finding one example short.
 */
export class EventSamplesRepository {
  private readonly minutes: number;
  private readonly countsData: boolean;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    settings: {
      /** EVENT_SAMPLES_MINUTES: 0 keeps none. */
      minutes: number;
      /** INSIGHTS_EVENT_CATEGORIES has Data: otherwise data events have no series to sample for. */
      countsData?: boolean;
    },
  ) {
    this.minutes = settings.minutes;
    this.countsData = settings.countsData ?? false;
    if (typeof this.redis.addSamples !== 'function') {
      this.redis.defineCommand('addSamples', { numberOfKeys: 1, lua: ADD_SAMPLES_LUA });
    }
  }

  /** Keeps the samples the events carry; minutes already past their keeping time are skipped. */
  async add(source: AccountRegion, events: readonly SlimEvent[], nowMs = Date.now()): Promise<void> {
    if (this.minutes === 0) return;
    const groups = new Map<string, { expireAt: number; args: string[] }>();
    for (const event of events) {
      if (!event.sample) continue;
      if (event.eventCategory !== undefined && !isCountedCategory(event.eventCategory, this.countsData)) continue;
      const minute = minuteOf(event.eventTimeMs);
      const expireAt = minute + MINUTE_MS + this.minutes * MINUTE_MS;
      if (expireAt <= nowMs) continue;
      const json = JSON.stringify(sampledEvent(source, event));
      for (const field of counterFields(event)) {
        if (!isSeriesField(field)) continue;
        const key = this.keys.eventSamples(source, minute, field);
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { expireAt, args: [] }));
        // More than the cap is never stored: the producers' samplers send about that many.
        if (group.args.length < 4 * EVENT_SAMPLES_PER_SERIES_MINUTE) group.args.push(event.eventId, json);
      }
    }
    if (groups.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [key, { expireAt, args }] of groups) {
      pipeline.addSamples(key, EVENT_SAMPLES_PER_SERIES_MINUTE, expireAt, ...args);
    }
    for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
  }

  /** The samples of one series over the minutes [fromMs, toMs], oldest first, at most `limit`. */
  async read(
    source: AccountRegion,
    seriesField: string,
    fromMs: number,
    toMs: number,
    limit: number,
  ): Promise<SampledEvent[]> {
    const pipeline = this.redis.pipeline();
    for (let minute = minuteOf(fromMs); minute <= toMs; minute += MINUTE_MS) {
      pipeline.hvals(this.keys.eventSamples(source, minute, seriesField));
    }
    const events: SampledEvent[] = [];
    for (const [error, values] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      for (const json of values as string[]) events.push(JSON.parse(json) as SampledEvent);
      if (events.length >= limit) break;
    }
    return events.sort(bySampleTime).slice(0, limit);
  }
}

function sampledEvent(source: AccountRegion, event: SlimEvent): SampledEvent {
  const sample = event.sample!;
  return {
    eventId: event.eventId,
    eventTimeMs: event.eventTimeMs,
    eventSource: event.eventSource,
    eventName: event.eventName,
    awsRegion: source.region,
    recipientAccountId: source.accountId,
    userIdentityArn: event.identity,
    sourceIPAddress: sample.sourceIPAddress,
    userAgent: event.userAgent,
    ...(event.errorCode === undefined ? {} : { errorCode: event.errorCode }),
    ...(sample.errorMessage === undefined ? {} : { errorMessage: sample.errorMessage }),
    requestParameters: sample.requestParameters,
  };
}
