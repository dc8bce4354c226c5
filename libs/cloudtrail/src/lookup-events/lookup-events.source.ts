import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { LookupEventsCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { AccountRegion, EventsSink, SlimEvent } from '@trailsight/domain';
import type { Reject } from '../records/record-parser.js';
import { fromLookupEvent } from '../records/record-reader.js';
import { EventSampler } from '../records/event-sampler.js';
import { toSlimEvent } from '../records/slim-event.js';
import { backoffDelay, sleep } from './backoff.js';
import { backfillProgress, type Checkpoint, type CheckpointRepository } from './checkpoint.repository.js';
import type { TokenBucketRepository } from './token-bucket.repository.js';

/** LookupEvents' largest page. */
export const LOOKUP_EVENTS_PAGE_SIZE = 50;
/** Event history keeps 90 days; asking for more is an InvalidTimeRangeException at best. */
const RETENTION_MS = 90 * 86_400_000 - 3_600_000;
const ERROR_LOG_EVERY_MS = 30_000;
/** Names the SDK reports for LookupEvents throttling (400 ThrottlingException on CloudTrail). */
const THROTTLING_ERRORS = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);

/** What the source needs of RejectsRepository. */
export interface RejectsSink {
  park(rejects: readonly Reject[], origin: string): Promise<void>;
}

export interface LookupEventsSettings {
  /** LookupEvents requests per second for this account-region, shared by every replica. */
  ratePerSecond: number;
  /** A live poll starts this often. */
  pollIntervalMs: number;
  /**
   * Late-arrival horizon: an event that shows up in Event history up to this long after its
   * eventTime is still read. The first poll after a start, and then a "sweep" every
   * `sweepEveryMs`, re-reads everything since the previous sweep's end minus this overlap.
   */
  overlapMs: number;
  /** How far behind the last poll's end the polls between sweeps start. Default min(overlap, 1 min). */
  recheckMs?: number;
  /** How often a poll re-reads the whole overlap. Default max(poll interval, overlap / 3). */
  sweepEveryMs?: number;
  /** History read on first start (now - backfillMs up to where the live tail began); 0: none. */
  backfillMs: number;
  /** Events per enqueue call (the producer splits into jobs of this size too). */
  batchSize: number;
  /** The clock windows are measured by (default Date.now); tests share it with a simulated account. */
  now?: () => number;
  /** Told each LookupEvents request's duration and outcome (the poller's latency histogram). */
  onRequest?: (seconds: number, outcome: 'ok' | 'throttled' | 'error') => void;
}

/** Counters for metrics and logs (since this instance started). */
export interface LookupEventsStats {
  pages: number;
  eventsRead: number;
  eventsEnqueued: number;
  /** Events skipped because this process read them in an earlier poll's overlap. */
  duplicatesSkipped: number;
  rejects: number;
  throttles: number;
  /** LookupEvents failures other than throttling (5xx, timeouts, bad bodies, network). */
  errors: number;
  /** Redis failures (token bucket, queue, checkpoint, rejects). */
  storeErrors: number;
  livePolls: number;
  liveUntil?: number;
  /**
   * events: enqueued by the backfill; eventsRead: read by it (a restart re-reads some); etaSeconds:
   * backfillProgress()'s, null until its pace is known.
   */
  backfill: {
    done: boolean;
    percent: number;
    etaSeconds: number | null;
    events: number;
    eventsRead: number;
    cursor?: number;
  };
}

export interface LivePollSummary {
  startMs: number;
  endMs: number;
  sweep: boolean;
  pages: number;
  events: number;
}

/** One query read page by page, newest first. */
interface Scan {
  kind: 'live' | 'backfill';
  startMs: number;
  endMs: number;
  sweep: boolean;
  token?: string;
  /** Oldest EventTime read so far: everything newer is in `pending` or already enqueued. */
  oldestReadMs: number;
  pending: SlimEvent[];
  rejects: Reject[];
  exhausted: boolean;
  /** Consecutive throttles, and other failures, since the last success: the backoff exponents. */
  throttled: number;
  failed: number;
  pages: number;
  events: number;
}

/**
 * Starts a timer that calls `tick` every `everyMs` until the returned function cancels it: the
 * live tail's poll interval. PollerService backs it with Nest's SchedulerRegistry (one interval per
 * account-region); a bare setInterval otherwise.
 */
export type LiveTailTimer = (everyMs: number, tick: () => void) => () => void;

/** A plain setInterval, for sources run outside Nest (tests, benchmarks). */
const intervalTimer: LiveTailTimer = (everyMs, tick) => {
  const timer = setInterval(tick, everyMs);
  return () => clearInterval(timer);
};

/** livePoll: a live poll's window is enqueued and checkpointed; backfillProgress: the backfill cursor moved. */
type SourceEvents = { livePoll: [LivePollSummary]; backfillProgress: [cursor: number]; backfilled: [] };

/**
 * Reads one account-region's management events with LookupEvents and enqueues them: a live
 * tail every poll interval, and on first start a backfill of history in the budget between
 * live polls. One instance per account-region, driven by PollerService while it holds the
 * lease; `start()` runs one async loop, `stop()` ends it.
 *
 * - Every request takes a slot from the account-region's shared token bucket first.
 * - Pages are read newest first; parsed events are enqueued in batches as pages arrive; a
 *   checkpoint moves only after the enqueue it covers was acknowledged.
 * - Live: each poll reads [liveUntil - recheck, now], and every sweep [lastSweepEnd - overlap,
 *   now], so late events are caught without re-reading the whole overlap every 10 s (which at
 *   60 events/min alone costs 18 of the 20 requests a 10 s interval allows).
 * - Backfill: one query over [backfillFrom, backfillUntil], newest first; its cursor follows the
 *   oldest enqueued page, so a restart re-reads at most one unflushed batch.
 * - Live polls go first; the backfill takes the pages in between (the live tail is delayed by at
 *   most one backfill page).
 * - Throttling: penalize the shared bucket (exponential backoff with jitter), retry the same
 *   page. Other failures: back off and retry the same page; nothing is skipped.
 */
export class LookupEventsSource extends EventEmitter<SourceEvents> {
  private readonly logger: Logger;
  readonly origin: string;
  private readonly recheckMs: number;
  private readonly sweepEveryMs: number;
  private readonly now: () => number;
  private abort?: AbortController;
  private running?: Promise<void>;
  private checkpoint?: Checkpoint;
  private lastSweepEnd = 0;
  private lastSweepAt = -Infinity;
  /** EventIds read by recent live polls (by eventTime), to skip them in the next overlaps. */
  private readonly recent = new Map<string, number>();
  /** Which events carry a sample (the example calls behind an insight). */
  private readonly sampler = new EventSampler();
  private backfillScan?: Scan;
  private lastErrorLog = 0;
  private readonly counters = {
    pages: 0,
    eventsRead: 0,
    eventsEnqueued: 0,
    duplicatesSkipped: 0,
    rejects: 0,
    throttles: 0,
    errors: 0,
    storeErrors: 0,
    livePolls: 0,
    backfillEvents: 0,
    backfillRead: 0,
  };

  constructor(
    readonly source: AccountRegion,
    private readonly client: CloudTrailClient,
    private readonly bucket: TokenBucketRepository,
    private readonly checkpoints: CheckpointRepository,
    private readonly producer: EventsSink,
    private readonly rejects: RejectsSink,
    private readonly settings: LookupEventsSettings,
    private readonly liveTailTimer: LiveTailTimer = intervalTimer,
  ) {
    super();
    this.origin = `lookup-events:${source.accountId}/${source.region}`;
    this.logger = new Logger(`${LookupEventsSource.name} ${source.accountId}/${source.region}`);
    this.recheckMs = settings.recheckMs ?? Math.min(settings.overlapMs, 60_000);
    this.sweepEveryMs = settings.sweepEveryMs ?? Math.max(settings.pollIntervalMs, settings.overlapMs / 3);
    this.now = settings.now ?? Date.now;
  }

  /** Starts the polling loop. An instance runs once: after stop(), create a new one. */
  start(): void {
    if (this.running) return;
    const abort = new AbortController();
    this.abort = abort;
    this.running = this.run(abort.signal).catch((error: unknown) => {
      this.logger.error(`polling loop ended unexpectedly: ${describe(error)}`);
    });
  }

  /**
   * Stops the loop: an in-flight request is aborted, an in-flight enqueue finishes. Nothing
   * unacknowledged is checkpointed, so a successor re-reads what this instance had pending.
   */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.running;
  }

  stats(): LookupEventsStats {
    const c = this.counters;
    const checkpoint = this.checkpoint;
    const done = checkpoint?.backfillDone ?? false;
    let progress = { percent: done ? 100 : 0, etaSeconds: done ? 0 : null };
    let cursor = checkpoint?.backfillCursor;
    if (checkpoint && !done) {
      cursor = Math.min(cursor ?? Infinity, this.backfillScan?.oldestReadMs ?? Infinity);
      progress = backfillProgress(checkpoint, this.now(), cursor);
    }
    return {
      pages: c.pages,
      eventsRead: c.eventsRead,
      eventsEnqueued: c.eventsEnqueued,
      duplicatesSkipped: c.duplicatesSkipped,
      rejects: c.rejects,
      throttles: c.throttles,
      errors: c.errors,
      storeErrors: c.storeErrors,
      livePolls: c.livePolls,
      liveUntil: checkpoint?.liveUntil,
      backfill: { done, ...progress, events: c.backfillEvents, eventsRead: c.backfillRead, cursor },
    };
  }

  private async run(signal: AbortSignal): Promise<void> {
    const checkpoint = await this.loadCheckpoint(signal);
    if (!checkpoint) return;
    this.checkpoint = checkpoint;
    this.lastSweepEnd = checkpoint.liveUntil;
    if (!checkpoint.backfillDone) {
      this.backfillScan = this.newScan('backfill', checkpoint.backfillFrom, resumeAt(checkpoint.backfillCursor));
      this.logger.log(
        `backfill from ${iso(checkpoint.backfillFrom)} to ${iso(checkpoint.backfillUntil)}` +
          (checkpoint.backfillCursor < checkpoint.backfillUntil
            ? `, resuming at ${iso(checkpoint.backfillCursor)}`
            : ''),
      );
    }

    let live: Scan | undefined;
    // A live poll is due now and then on every tick; ticks during a poll that runs long collapse
    // into one poll right after it.
    let liveDue = true;
    let wake: (() => void) | undefined;
    const cancel = this.liveTailTimer(this.settings.pollIntervalMs, () => {
      liveDue = true;
      wake?.();
    });
    try {
      while (!signal.aborted) {
        if (!live && liveDue) {
          live = this.newLiveScan(this.now());
          liveDue = false;
        }
        const scan = live ?? this.backfillScan;
        if (!scan) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            signal.addEventListener('abort', wake, { once: true });
          });
          if (wake) signal.removeEventListener('abort', wake);
          wake = undefined;
          continue;
        }
        if (await this.step(scan, signal)) {
          if (scan === live) live = undefined;
          else this.backfillScan = undefined;
        }
      }
    } finally {
      cancel();
    }
  }

  /** The stored checkpoint, or a new one on first start. Undefined when stopped meanwhile. */
  private async loadCheckpoint(signal: AbortSignal): Promise<Checkpoint | undefined> {
    for (let attempt = 1; !signal.aborted; attempt++) {
      const now = this.now();
      const liveUntil = now - this.settings.overlapMs;
      // The first live poll reads from liveUntil - overlap: the backfill stops there.
      const backfillUntil = liveUntil - this.settings.overlapMs;
      try {
        return await this.checkpoints.loadOrCreate(this.source, {
          liveUntil,
          backfillFrom: Math.max(now - this.settings.backfillMs, now - RETENTION_MS),
          backfillUntil,
          backfillCursor: backfillUntil,
          backfillDone: this.settings.backfillMs <= 0,
          backfillStartedAt: now,
        });
      } catch (error) {
        this.counters.storeErrors++;
        this.logFailure(`reading the checkpoint failed (attempt ${attempt})`, error);
        await sleep(backoffDelay(attempt, 500, 10_000), signal);
      }
    }
    return undefined;
  }

  private newLiveScan(now: number): Scan {
    const checkpoint = this.checkpoint!;
    const sweep = now - this.lastSweepAt >= this.sweepEveryMs;
    if (sweep) this.lastSweepAt = now;
    const from = sweep ? this.lastSweepEnd - this.settings.overlapMs : checkpoint.liveUntil - this.recheckMs;
    const scan = this.newScan('live', Math.min(now, Math.max(from, now - RETENTION_MS)), now);
    scan.sweep = sweep;
    return scan;
  }

  private newScan(kind: Scan['kind'], startMs: number, endMs: number): Scan {
    return {
      kind,
      startMs,
      endMs,
      sweep: false,
      oldestReadMs: endMs,
      pending: [],
      rejects: [],
      exhausted: startMs > endMs,
      throttled: 0,
      failed: 0,
      pages: 0,
      events: 0,
    };
  }

  /** One unit of work on a scan: a flush, its completion, or one page. True once the scan is done. */
  private async step(scan: Scan, signal: AbortSignal): Promise<boolean> {
    let phase: 'store' | 'fetch' = 'store';
    try {
      const buffered = scan.pending.length + scan.rejects.length;
      if (buffered >= this.settings.batchSize || (scan.exhausted && buffered > 0)) {
        await this.flush(scan);
        scan.failed = 0;
      }
      if (scan.exhausted) {
        await this.complete(scan);
        return true;
      }
      const wait = await this.bucket.reserve(this.source, this.settings.ratePerSecond);
      await sleep(wait, signal);
      if (signal.aborted) return false;
      phase = 'fetch';
      await this.readPage(scan, signal);
      scan.throttled = 0;
      scan.failed = 0;
      return false;
    } catch (error) {
      if (!signal.aborted) await this.recover(scan, phase, error, signal);
      return false;
    }
  }

  private async readPage(scan: Scan, signal: AbortSignal): Promise<void> {
    const output = await this.timed(() =>
      this.client.send(
        new LookupEventsCommand({
          StartTime: new Date(scan.startMs),
          EndTime: new Date(scan.endMs),
          MaxResults: LOOKUP_EVENTS_PAGE_SIZE,
          NextToken: scan.token,
        }),
        { abortSignal: signal },
      ),
    );
    const events = output.Events ?? [];
    this.counters.pages++;
    this.counters.eventsRead += events.length;
    if (scan.kind === 'backfill') this.counters.backfillRead += events.length;
    scan.pages++;
    let oldest = Infinity;
    for (const event of events) {
      const time = event.EventTime?.getTime();
      if (time !== undefined && time < oldest) oldest = time;
      if (scan.kind === 'live' && event.EventId) {
        if (this.recent.has(event.EventId)) {
          this.counters.duplicatesSkipped++;
          continue;
        }
        this.recent.set(event.EventId, time ?? scan.endMs);
      }
      scan.events++;
      const result = fromLookupEvent(event);
      if (result.ok) {
        const slim = toSlimEvent(result.record);
        this.sampler.offer(result.record, slim);
        scan.pending.push(slim);
      } else scan.rejects.push(result.reject);
    }
    if (oldest < scan.oldestReadMs) scan.oldestReadMs = oldest;
    scan.token = output.NextToken;
    // Results are newest first: past the window's start there is nothing more for this scan.
    if (!scan.token || oldest < scan.startMs) scan.exhausted = true;
  }

  /** Parks the rejects, then enqueues the events, of every page read so far. */
  private async flush(scan: Scan): Promise<void> {
    if (scan.rejects.length > 0) {
      await this.rejects.park(scan.rejects, this.origin);
      this.counters.rejects += scan.rejects.length;
      scan.rejects = [];
    }
    if (scan.pending.length > 0) {
      await this.producer.enqueue(this.source, this.origin, scan.pending);
      this.counters.eventsEnqueued += scan.pending.length;
      if (scan.kind === 'backfill') this.counters.backfillEvents += scan.pending.length;
      scan.pending = [];
    }
    if (scan.kind === 'backfill' && scan.oldestReadMs < this.checkpoint!.backfillCursor) {
      await this.checkpoints.advanceBackfill(this.source, scan.oldestReadMs);
      this.checkpoint!.backfillCursor = scan.oldestReadMs;
      this.emit('backfillProgress', scan.oldestReadMs);
    }
  }

  /** One LookupEvents request, its duration and outcome told to settings.onRequest. */
  private async timed<T>(request: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome: 'ok' | 'throttled' | 'error' = 'error';
    try {
      const output = await request();
      outcome = 'ok';
      return output;
    } catch (error) {
      if (isThrottling(error)) outcome = 'throttled';
      throw error;
    } finally {
      this.settings.onRequest?.((performance.now() - started) / 1000, outcome);
    }
  }

  /** Everything the scan read is enqueued: move the checkpoint over the whole window. */
  private async complete(scan: Scan): Promise<void> {
    const checkpoint = this.checkpoint!;
    if (scan.kind === 'backfill') {
      await this.checkpoints.advanceBackfill(this.source, checkpoint.backfillFrom);
      await this.checkpoints.finishBackfill(this.source);
      checkpoint.backfillCursor = checkpoint.backfillFrom;
      checkpoint.backfillDone = true;
      this.logger.log(`backfill done: ${this.counters.backfillEvents} events enqueued`);
      this.emit('backfilled');
      return;
    }
    await this.checkpoints.advanceLive(this.source, scan.endMs);
    checkpoint.liveUntil = Math.max(checkpoint.liveUntil, scan.endMs);
    if (scan.sweep) this.lastSweepEnd = scan.endMs;
    this.counters.livePolls++;
    this.forgetBefore(Math.min(this.lastSweepEnd - this.settings.overlapMs, checkpoint.liveUntil - this.recheckMs));
    this.emit('livePoll', {
      startMs: scan.startMs,
      endMs: scan.endMs,
      sweep: scan.sweep,
      pages: scan.pages,
      events: scan.events,
    });
  }

  /** Later polls never read before `horizon`: their ids need not be remembered. */
  private forgetBefore(horizon: number): void {
    for (const [id, time] of this.recent) if (time < horizon) this.recent.delete(id);
  }

  private async recover(scan: Scan, phase: 'store' | 'fetch', error: unknown, signal: AbortSignal): Promise<void> {
    const name = errorName(error);
    if (phase === 'fetch' && isThrottling(error)) {
      this.counters.throttles++;
      scan.throttled++;
      // Someone else spends this account-region's budget (the console, another tool): every
      // replica sharing the bucket backs off, by at least one interval, then exponentially.
      const penalty = backoffDelay(scan.throttled, Math.max(500, 2_000 / this.settings.ratePerSecond), 20_000);
      try {
        await this.bucket.penalize(this.source, penalty);
      } catch {
        await sleep(penalty, signal);
      }
      return;
    }
    if (phase === 'fetch' && name === 'InvalidNextTokenException') {
      // The token expired or was refused: read the rest of the window again without it.
      this.logFailure('the NextToken was refused; re-reading the window from where the scan got', error);
      scan.token = undefined;
      if (scan.kind === 'backfill') scan.endMs = Math.min(scan.endMs, resumeAt(scan.oldestReadMs));
      return;
    }
    scan.failed++;
    if (phase === 'fetch') this.counters.errors++;
    else this.counters.storeErrors++;
    const what = phase === 'fetch' ? `LookupEvents (${scan.kind})` : `storing a ${scan.kind} page`;
    this.logFailure(`${what} failed (${scan.failed} in a row); retrying`, error);
    // As the SDK's standard mode: 100 ms base for transient errors; Redis gets a shorter cap.
    await sleep(backoffDelay(scan.failed, 100, phase === 'fetch' ? 20_000 : 5_000), signal);
  }

  /** Failures are logged at most once per 30 s: an outage must not flood the log. */
  private logFailure(message: string, error: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorLog < ERROR_LOG_EVERY_MS && this.lastErrorLog > 0) return;
    this.lastErrorLog = now;
    this.logger.warn(`${message}: ${describe(error)}`);
  }
}

/**
 * Where a scan that stopped at `cursor` reads again. The SDK sends times as fractional epoch
 * seconds, which need not round-trip to the same millisecond: a second of margin makes sure the
 * events at the cursor itself are read again (the counter dedupes them).
 */
function resumeAt(cursor: number): number {
  return cursor + 1_000;
}

function isThrottling(error: unknown): boolean {
  return THROTTLING_ERRORS.has(errorName(error)) || httpStatus(error) === 429;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function httpStatus(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  return metadata?.httpStatusCode;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = httpStatus(error);
  return `${error.name}${status ? ` (HTTP ${status})` : ''}: ${error.message}`;
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
