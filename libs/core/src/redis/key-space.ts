import type { AccountRegion } from '@trailsight/domain';

/**
 * Every Redis key Trailsight writes, in one place. Keys of one account-region share the
 * hash tag `{<account>:<region>}`, so a batch's multi-key script stays in one Redis Cluster slot.
 */
export class KeySpace {
  constructor(readonly prefix: string) {}

  tag({ accountId, region }: AccountRegion): string {
    return `{${accountId}:${region}}`;
  }

  /** Hash of one minute's counters for one account-region (fields: see CounterRepository). */
  minuteCounters(source: AccountRegion, minuteEpochMs: number): string {
    return `${this.prefix}:${this.tag(source)}:m:${minuteEpochMs}`;
  }

  /** Set of eventIDs already counted, grouped by the minute of their eventTime. */
  seenEvents(source: AccountRegion, minuteEpochMs: number): string {
    return `${this.prefix}:${this.tag(source)}:seen:${minuteEpochMs}`;
  }

  /** Marker that a queued batch has been counted. */
  batchDone(source: AccountRegion, jobId: string): string {
    return `${this.prefix}:${this.tag(source)}:done:${jobId}`;
  }

  /** Hash of exact ingest counts for one account-region (counted, duplicates, batches). */
  sourceStats(source: AccountRegion): string {
    return `${this.prefix}:${this.tag(source)}:stats`;
  }

  /** Sorted set of the minutes that hold counters for one account-region (score = minute). */
  activeMinutes(source: AccountRegion): string {
    return `${this.prefix}:${this.tag(source)}:minutes`;
  }

  /** Poller checkpoint hash for one account-region. */
  checkpoint(source: AccountRegion): string {
    return `${this.prefix}:${this.tag(source)}:checkpoint`;
  }

  /** LookupEvents token bucket for one account-region, shared by every poller replica. */
  tokenBucket(source: AccountRegion): string {
    return `${this.prefix}:${this.tag(source)}:bucket`;
  }

  /** Which poller replica currently polls one account-region. */
  pollLease(source: AccountRegion): string {
    return `${this.prefix}:${this.tag(source)}:lease`;
  }

  /** Hash: how far the evaluator has got for one account-region (cursor, snapshot minute). */
  evaluation(source: AccountRegion): string {
    return `${this.prefix}:${this.tag(source)}:eval`;
  }

  /** Hash of series key to encoded detector state, as of the evaluation snapshot minute. */
  detectorStates(source: AccountRegion): string {
    return `${this.prefix}:${this.tag(source)}:eval:states`;
  }

  /** Lock: one evaluator run per account-region at a time, whichever replica runs it. */
  evaluationLock(source: AccountRegion): string {
    return `${this.prefix}:${this.tag(source)}:eval:lock`;
  }

  /** Hash of one hour's attribution counts (identity, user agent, error code) for baselines. */
  attributionHour(source: AccountRegion, hourEpochMs: number): string {
    return `${this.prefix}:${this.tag(source)}:attr:${hourEpochMs}`;
  }

  /**
   * Hash of one series' rolled-up totals over one block of buckets of `periodSeconds` (field =
   * bucket index in the block; hourly blocks also hold `m<index>`, the model as of that hour).
   */
  seriesHistory(source: AccountRegion, periodSeconds: number, blockStartMs: number, seriesField: string): string {
    return `${this.prefix}:${this.tag(source)}:h${periodSeconds}:${blockStartMs}:${seriesField}`;
  }

  /** Hash of eventId -> JSON example event of one series in one minute (EventSamplesRepository). */
  eventSamples(source: AccountRegion, minuteEpochMs: number, seriesField: string): string {
    return `${this.prefix}:${this.tag(source)}:smp:${minuteEpochMs}:${seriesField}`;
  }

  /** Hash of series key to its latest verdict (rate, expected range, baseline), for GET /v1/apis. */
  trackedSeries(source: AccountRegion): string {
    return `${this.prefix}:${this.tag(source)}:series`;
  }

  /** Set of every account-region seen, as "account:region". */
  sources(): string {
    return `${this.prefix}:sources`;
  }

  /** Rejects of every source share one hash tag: one transaction counts and parks each reject. */
  rejectsTag(): string {
    return '{rejects}';
  }

  /** Stream of parked (rejected) input, for operators. */
  parkedRejects(): string {
    return `${this.prefix}:${this.rejectsTag()}:parked`;
  }

  /** Hash of reject counts by reason. */
  rejectCounts(): string {
    return `${this.prefix}:${this.rejectsTag()}:count`;
  }

  /** Hash of ingest counters (events counted, duplicates skipped, throttles...). */
  ingestStats(): string {
    return `${this.prefix}:stats:ingest`;
  }

  /** Failed event batches and their totals share one hash tag: one transaction writes both. */
  failedBatchesTag(): string {
    return '{failed-batches}';
  }

  /** Hash of event batches that failed every attempt: job id -> JSON summary (FailedBatchesRepository). */
  failedBatches(): string {
    return `${this.prefix}:${this.failedBatchesTag()}:batches`;
  }

  /** Hash of failed-batch totals (batches, events: each final failure; discarded batches, events). */
  failedBatchTotals(): string {
    return `${this.prefix}:${this.failedBatchesTag()}:totals`;
  }

  /** Webhook subscriptions and their delivery state share one hash tag (one Redis Cluster slot). */
  webhooksTag(): string {
    return '{webhooks}';
  }

  /** Hash of one webhook subscription (fields: see SubscriptionsRepository). */
  webhookSubscription(id: string): string {
    return `${this.prefix}:${this.webhooksTag()}:sub:${id}`;
  }

  /** Hash of cluster-wide delivery totals: attempts by outcome, and deliveries given up. */
  webhookTotals(): string {
    return `${this.prefix}:${this.webhooksTag()}:totals`;
  }

  /** Set of every webhook subscription id. */
  webhookSubscriptions(): string {
    return `${this.prefix}:${this.webhooksTag()}:subs`;
  }

  /** Capped list of one subscription's delivery attempts, newest first (JSON entries). */
  webhookDeliveryLog(id: string): string {
    return `${this.prefix}:${this.webhooksTag()}:log:${id}`;
  }

  /** Marker that a delivery was enqueued once: a re-run notifier does not deliver it again. */
  webhookEnqueued(deliveryId: string): string {
    return `${this.prefix}:${this.webhooksTag()}:enq:${deliveryId}`;
  }

  /** Marker that an insight's Start delivery to one subscription is not finished: its End waits. */
  webhookStartPending(subscriptionId: string, sharedEventID: string): string {
    return `${this.prefix}:${this.webhooksTag()}:pending:${subscriptionId}:${sharedEventID}`;
  }

  /** An insight held back by the catch-up rule: its End is held back too. */
  webhookCaughtUp(sharedEventID: string): string {
    return `${this.prefix}:${this.webhooksTag()}:caughtup:${sharedEventID}`;
  }

  /**
   * Findings span every account-region, so all their keys share one hash tag: the findings
   * repository's multi-key scripts then stay in one Redis Cluster slot.
   */
  findingsTag(): string {
    return '{findings}';
  }

  /** Hash of one finding (fields: see FindingsRepository). */
  finding(id: string): string {
    return `${this.prefix}:${this.findingsTag()}:f:${id}`;
  }

  /** Hash of the per-minute series around one finding (field = minute epoch ms). */
  findingSeries(id: string): string {
    return `${this.prefix}:${this.findingsTag()}:series:${id}`;
  }

  /** Hash of eventId -> JSON example event: the calls behind one finding (at most 50). */
  findingSamples(id: string): string {
    return `${this.prefix}:${this.findingsTag()}:events:${id}`;
  }

  /** List of one finding's triage changes, oldest first (JSON entries). */
  findingTriageHistory(id: string): string {
    return `${this.prefix}:${this.findingsTag()}:triage:${id}`;
  }

  /** Sorted set indexing findings by start time; `dimension` 'all' has no value. */
  findingsIndex(dimension: string, value?: string): string {
    const suffix = value === undefined ? dimension : `${dimension}:${value}`;
    return `${this.prefix}:${this.findingsTag()}:idx:${suffix}`;
  }

  /** Set of every findings index key, so retention can trim them all. */
  findingsIndexKeys(): string {
    return `${this.prefix}:${this.findingsTag()}:idx-keys`;
  }

  /** Hash of series key -> id of that series' open finding. */
  openFindings(): string {
    return `${this.prefix}:${this.findingsTag()}:open`;
  }

  /**
   * Keys of one insight output's outbox (`s3`, `eventbridge`): `pending` (list of records, appended
   * in the script that stores the finding), `batch` (the sealed batch being delivered), `seq`,
   * `lease` (which replica flushes), `stats`. Under the findings tag, so that append is atomic.
   */
  insightOutbox(sink: string, part: 'pending' | 'batch' | 'seq' | 'lease' | 'stats'): string {
    return `${this.prefix}:${this.findingsTag()}:outbox:${sink}:${part}`;
  }

  /**
   * AWS's own Insights records read from `CloudTrail-Insight/` files (reference findings), apart
   * from Trailsight's findings: `records` (hash eventID -> record JSON) and `idx` (sorted set,
   * member `<eventTime ms>:<eventID>` at score 0).
   */
  referenceInsights(part: 'records' | 'idx'): string {
    return `${this.prefix}:{reference-insights}:${part}`;
  }

  /** Runtime tuning overrides, their version and their audit trail share one hash tag. */
  tuningTag(): string {
    return '{tuning}';
  }

  /** Hash of tuning override id -> JSON entry (scope, settings, note, last change). */
  tuningEntries(): string {
    return `${this.prefix}:${this.tuningTag()}:entries`;
  }

  /** Counter bumped by every tuning change: the evaluator reloads the entries when it moves. */
  tuningVersion(): string {
    return `${this.prefix}:${this.tuningTag()}:version`;
  }

  /** Capped list of tuning changes, newest first (JSON: who, when, before, after). */
  tuningHistory(): string {
    return `${this.prefix}:${this.tuningTag()}:history`;
  }

  /**
   * Suppression rules and maintenance windows: few, read whole by every evaluator, so one hash
   * each (id -> JSON), under their own tag so writes do not invalidate the findings page cache.
   */
  suppressionsTag(): string {
    return '{suppressions}';
  }

  /** Hash of suppression rule id -> JSON rule (see SuppressionsRepository). */
  suppressionRules(): string {
    return `${this.prefix}:${this.suppressionsTag()}:rules`;
  }

  /** Hash of maintenance window id -> JSON window (see SuppressionsRepository). */
  maintenanceWindows(): string {
    return `${this.prefix}:${this.suppressionsTag()}:windows`;
  }

  /**
   * API keys' Redis keys share one hash tag: the first-admin-key and revocation scripts write two
   * of them at once, which Redis Cluster allows only within one slot.
   */
  authTag(): string {
    return '{auth}';
  }

  /**
   * Hash of API key sha256 (hex) -> JSON `{ id, scope, createdAt }`: keys created at runtime,
   * never the keys themselves.
   */
  apiKeys(): string {
    return `${this.prefix}:${this.authTag()}:keys`;
  }

  /** Hash of API key id -> when a process last saw it used (ISO time, written at most once a minute). */
  apiKeysLastUsed(): string {
    return `${this.prefix}:${this.authTag()}:keys:used`;
  }

  /** Pub/sub channel (not a key, so no slot): the sha256 of each revoked key, so every process forgets it at once. */
  apiKeyRevocations(): string {
    return `${this.prefix}:auth:revoked`;
  }

  /** Set once when the first admin key was created, so only one replica creates it. */
  apiKeysBootstrapped(): string {
    return `${this.prefix}:${this.authTag()}:bootstrapped`;
  }

  /**
   * The names the three keys above had before they shared a hash tag (`<prefix>:auth:keys`, ...),
   * paired with today's: ApiKeyStore.migrateKeyNames() moves what it finds there.
   */
  legacyApiKeyNames(): Array<{ from: string; to: string }> {
    return [
      { from: `${this.prefix}:auth:keys`, to: this.apiKeys() },
      { from: `${this.prefix}:auth:keys:used`, to: this.apiKeysLastUsed() },
      { from: `${this.prefix}:auth:bootstrapped`, to: this.apiKeysBootstrapped() },
    ];
  }

  /** Request counter of one API key in one rate-limit window (window start, epoch ms). */
  rateLimitWindow(keyId: string, windowStartMs: number): string {
    return `${this.prefix}:rl:{${keyId}}:${windowStartMs}`;
  }
}
