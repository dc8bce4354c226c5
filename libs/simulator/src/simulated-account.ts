import { type AccountRegion, type CloudTrailRecord, DAY_MS, MINUTE_MS } from '@trailsight/domain';
import { inferReadOnly } from '@trailsight/cloudtrail';
import type { SimulatedAnomaly, AnomalyRequest } from './anomaly.js';
import {
  isoSecond,
  type GeneratedMinute,
  type TrafficReplayOptions,
  type TrafficReplayResult,
  type TrafficGenerator,
} from './traffic-generator.js';

export interface SimulatedAccountOptions {
  generator: TrafficGenerator;
  /** The account's clock (default Date.now); tests pass their own. */
  now?: () => number;
  /** Events become visible this long after their eventTime (default 0). */
  visibilityDelayMs?: number;
  /** How far back the history reaches (default 90 days, as Event history). */
  retentionDays?: number;
}

/** Per minute and per API: what the history held over a time range. */
export interface TruthRow {
  /** The minute, 'YYYY-MM-DDTHH:MM:00Z'. */
  minute: string;
  accountId: string;
  region: string;
  eventSource: string;
  eventName: string;
  readOnly: boolean;
  /** Every call, failed ones included. */
  calls: number;
  /** Failed calls by error code. */
  errors: Record<string, number>;
}

export interface TruthQuery {
  /** Inclusive, epoch ms or Date. */
  since: number | Date;
  /** Inclusive, epoch ms or Date. */
  until: number | Date;
  accountId?: string;
  region?: string;
}

/** A position in newest-first order: the last event returned (next pages hold only older events). */
export interface HistoryCursor {
  /** eventTime, epoch ms */
  t: number;
  /** eventID; '' stands before every event of the same time */
  id: string;
}

export interface HistoryPageRequest {
  /** Inclusive bounds, epoch ms. */
  startMs: number;
  endMs: number;
  limit: number;
  /** Continue after this event. */
  after?: HistoryCursor;
  match?: (record: CloudTrailRecord) => boolean;
  /** Most events examined by one page before it returns short, with a cursor (default 50,000). */
  scanLimit?: number;
}

export interface HistoryEvent {
  record: CloudTrailRecord;
  timeMs: number;
}

export interface HistoryPage {
  /** Newest first. */
  events: HistoryEvent[];
  /** Present while older matching events may remain. */
  next?: HistoryCursor;
}

const DEFAULT_SCAN_LIMIT = 50_000;
/** Empty minutes cost too; a page never walks more than two days of them. */
const MAX_MINUTES_PER_PAGE = 2 * 24 * 60;

/**
 * The event history of the simulated account: the generator's traffic as a clock sees it.
 * Events appear once `now() - visibilityDelayMs` reaches their eventTime and stay for the
 * retention period; a minute, once visible, never changes (anomalies start at the next whole
 * minute), except for records replayed into it.
 */
export class SimulatedAccount {
  readonly generator: TrafficGenerator;
  readonly now: () => number;
  readonly visibilityDelayMs: number;
  private readonly retentionMs: number;
  private readonly summaries = new WeakMap<GeneratedMinute, TruthRow[]>();

  constructor(options: SimulatedAccountOptions) {
    this.generator = options.generator;
    this.now = options.now ?? Date.now;
    this.visibilityDelayMs = options.visibilityDelayMs ?? 0;
    this.retentionMs = (options.retentionDays ?? 90) * DAY_MS;
    if (!(this.visibilityDelayMs >= 0)) throw new RangeError('visibilityDelayMs must be >= 0');
  }

  /** The newest eventTime visible now, epoch ms. */
  visibleUntil(): number {
    return this.now() - this.visibilityDelayMs;
  }

  /** The oldest eventTime still held, epoch ms. */
  retainedFrom(): number {
    return this.now() - this.retentionMs;
  }

  sources(): AccountRegion[] {
    return this.generator.sources();
  }

  serves(source: AccountRegion): boolean {
    return this.generator.serves(source);
  }

  /** Every visible event with startMs <= eventTime <= endMs, newest first. */
  eventsBetween(source: AccountRegion, startMs: number, endMs: number): CloudTrailRecord[] {
    const out: CloudTrailRecord[] = [];
    let after: HistoryCursor | undefined;
    for (;;) {
      const page = this.page(source, { startMs, endMs, limit: 10_000, after, scanLimit: Infinity });
      for (const event of page.events) out.push(event.record);
      if (!page.next) return out;
      after = page.next;
    }
  }

  /**
   * One page of visible events, newest first, from `after` (exclusive) or the end of the range.
   * It reads one more match than it returns, so `next` is absent when nothing older matches; a
   * page that hits its scan limit returns short, with a cursor where it stopped.
   */
  page(source: AccountRegion, request: HistoryPageRequest): HistoryPage {
    const lower = Math.max(request.startMs, this.retainedFrom());
    const upper = Math.min(request.endMs, this.visibleUntil());
    const { limit, match, after } = request;
    const scanLimit = request.scanLimit ?? DEFAULT_SCAN_LIMIT;
    const events: HistoryEvent[] = [];
    if (limit < 1 || lower > upper || !this.serves(source)) return { events };

    const firstMinute = floorMinute(after ? Math.min(after.t, upper) : upper);
    const lastMinute = floorMinute(lower);
    let scanned = 0;
    let minutes = 0;
    for (let minuteMs = firstMinute; minuteMs >= lastMinute; minuteMs -= MINUTE_MS) {
      const minute = this.generator.minute(source, minuteMs);
      const { records, times } = minute;
      let i =
        after && after.t <= upper && minuteMs === floorMinute(after.t)
          ? indexBefore(minute, after)
          : lastAtOrBefore(times, upper);
      for (; i >= 0; i--) {
        const t = times[i];
        if (t < lower) return { events };
        const record = records[i];
        scanned++;
        if (!match || match(record)) {
          // The (limit + 1)th match only proves there is more.
          if (events.length === limit) return { events, next: cursorOf(events[limit - 1]) };
          events.push({ record, timeMs: t });
        }
        if (scanned >= scanLimit && events.length < limit) return { events, next: { t, id: record.eventID } };
      }
      if (++minutes >= MAX_MINUTES_PER_PAGE && minuteMs > lastMinute) {
        return { events, next: events.length === limit ? cursorOf(events[limit - 1]) : { t: minuteMs, id: '' } };
      }
    }
    return { events };
  }

  /**
   * What the history holds, per minute and API, for visible events with since <= eventTime <=
   * until (and within retention). Minutes without calls are left out; rows are sorted by minute,
   * account, region, event source and name. Computed minute by minute from the generator, so it
   * needs no memory of what was served.
   */
  truth(query: TruthQuery): TruthRow[] {
    const lower = Math.max(toMs(query.since), this.retainedFrom());
    const upper = Math.min(toMs(query.until), this.visibleUntil());
    const sources = this.sources().filter(
      (source) =>
        (query.accountId === undefined || source.accountId === query.accountId) &&
        (query.region === undefined || source.region === query.region),
    );
    const rows: TruthRow[] = [];
    if (lower > upper) return rows;
    for (let minuteMs = floorMinute(lower); minuteMs <= upper; minuteMs += MINUTE_MS) {
      for (const source of sources) {
        const minute = this.generator.minute(source, minuteMs);
        const whole = minuteMs >= lower && minuteMs + MINUTE_MS - 1 <= upper;
        rows.push(...(whole ? this.summary(minute) : summarize(minute, lower, upper)));
      }
    }
    return rows;
  }

  /** Starts an anomaly at the next whole minute, so no minute already visible ever changes. */
  injectAnomaly(request: AnomalyRequest): SimulatedAnomaly {
    return this.generator.injectAnomaly({ ...request, startMinute: floorMinute(this.now()) + MINUTE_MS });
  }

  anomalies(): SimulatedAnomaly[] {
    return this.generator.anomalies();
  }

  /** Replays trail records with this account's clock as 'now' (see TrafficGenerator.replay). */
  replay(records: readonly CloudTrailRecord[], options: TrafficReplayOptions = {}): TrafficReplayResult {
    const shiftTo = options.shiftTo === undefined || options.shiftTo === 'now' ? this.now() : options.shiftTo;
    return this.generator.replay(records, { ...options, shiftTo });
  }

  private summary(minute: GeneratedMinute): TruthRow[] {
    let rows = this.summaries.get(minute);
    if (!rows) {
      rows = summarize(minute, -Infinity, Infinity);
      this.summaries.set(minute, rows);
    }
    return rows;
  }
}

function summarize(minute: GeneratedMinute, lower: number, upper: number): TruthRow[] {
  const rows = new Map<string, TruthRow>();
  const minuteText = isoSecond(minute.minuteMs);
  const { records, times } = minute;
  for (let i = 0; i < records.length; i++) {
    const t = times[i];
    if (t < lower || t > upper) continue;
    const record = records[i];
    const key = `${record.eventSource} ${record.eventName}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        minute: minuteText,
        accountId: minute.source.accountId,
        region: minute.source.region,
        eventSource: record.eventSource,
        eventName: record.eventName,
        readOnly: record.readOnly ?? inferReadOnly(record.eventName),
        calls: 0,
        errors: {},
      };
      rows.set(key, row);
    }
    row.calls++;
    if (record.errorCode) row.errors[record.errorCode] = (row.errors[record.errorCode] ?? 0) + 1;
  }
  return [...rows.values()].sort((a, b) => compare(a.eventSource, b.eventSource) || compare(a.eventName, b.eventName));
}

/** Index of the newest event strictly older than the cursor, in (time, eventID) order; -1 if none. */
function indexBefore(minute: GeneratedMinute, cursor: HistoryCursor): number {
  const { records, times } = minute;
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const t = times[mid];
    if (t < cursor.t || (t === cursor.t && records[mid].eventID < cursor.id)) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Index of the newest event with time <= upper; -1 if none. */
function lastAtOrBefore(times: Float64Array, upper: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] <= upper) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function cursorOf(event: HistoryEvent): HistoryCursor {
  return { t: event.timeMs, id: event.record.eventID };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function floorMinute(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

function toMs(value: number | Date): number {
  return value instanceof Date ? value.getTime() : value;
}
