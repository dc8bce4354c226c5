import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { APP_CONFIG, type AllowedBucket, type AppConfig } from '@trailsight/core';
import {
  type AccountRegion,
  DAY_MS,
  MINUTE_MS,
  type TrailFileRef,
  TrailFilesSink,
  trailFileVersion,
} from '@trailsight/domain';
import { RejectsRepository } from '../ingest/rejects.repository.js';
import type { Reject } from '../records/record-parser.js';
import { sleep } from '../lookup-events/backoff.js';
import { CheckpointRepository } from '../lookup-events/checkpoint.repository.js';
import { isInsightFilePath } from '../records/insight-record.parser.js';
import { parseTrailFileKey } from '../records/record-reader.js';
import { parseFileNotification } from './file-notification.js';
import { TrailFileClients } from './trail-file-clients.js';
import { DirectoryLister, isTrailFileKey, S3Lister } from './trail-file.listers.js';
import { TrailFilesRepository } from './trail-files.repository.js';

/** Files of no known account-region (a key outside the S3 layout) hold back every watermark. */
const ANY = '*';
/** The group of AWS's Insights files, which no account-region's checkpoint waits for. */
const INSIGHT_FILES = 'insight-files';
/** SQS receives per round, at most 10 messages each. */
const SQS_RECEIVES_PER_ROUND = 10;

interface Tracked {
  ref: TrailFileRef;
  /** "account:region" from the key, or ANY. */
  group: string;
  /** Counted, or parked after its last attempt: it no longer holds the watermark back. */
  done: boolean;
}

export interface FilesRoundStats {
  listed: number;
  enqueued: number;
  pending: number;
  backfillDone: boolean;
  /** Account-regions whose checkpoint was written this round. */
  checkpoints: number;
}

function isFileSource(source: AppConfig['source']): boolean {
  return source === 'files' || source === 's3' || source === 'sqs';
}

/**
 * The trail file sources (`CLOUDTRAIL_SOURCE` = files | s3 | sqs): finds new files, enqueues one
 * `files` job per file version (detector workers stream and count them), and keeps each
 * account-region's checkpoint, the evaluator's watermark:
 *
 * - files: the directory is listed every POLL_INTERVAL_SECONDS (new and changed files);
 * - s3: the bucket is listed from BACKFILL_DAYS ago, then its recent day folders every interval;
 * - sqs: the bucket (when S3_BUCKET is set) is back-filled as for s3, then new files come from
 *   the queue's notifications; a message is deleted only once its files are enqueued. Only files
 *   of S3_BUCKET (under S3_PREFIX) and SQS_ALLOWED_BUCKETS are read: others are parked `not-allowed`.
 *
 * Files already counted (the TrailFilesRepository hash) are skipped, so a restart resumes; so
 * are files parked after their last attempt (unreadable: missing, AccessDenied, a KMS key we may
 * not use), which hold nothing back from then on.
 * Watermark of an account-region = min(newest delivery time seen, oldest delivery time of a
 * file not yet counted) - TRAIL_FILE_LATENESS_MINUTES: CloudTrail delivers about every 5 minutes
 * a file holding events from before its delivery time, so once files delivered 15 minutes later
 * are in, earlier minutes are complete (late files beyond that are still counted, after their
 * minutes were evaluated). No checkpoint of an account-region is written before the first
 * listing's files of it are all counted or parked: the evaluator needs the whole back-filled
 * history as baseline. Other account-regions do not wait for it.
 */
@Injectable()
export class FilesSourceService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(FilesSourceService.name);
  private readonly tracked = new Map<string, Tracked>();
  private readonly newest = new Map<string, number>();
  /** Files of the first listing not yet counted or parked: file id to its group. */
  private readonly backfillPending = new Map<string, string>();
  /** Files of the first listing per group: what the back-fill progress is measured against. */
  private readonly backfillTotal = new Map<string, number>();
  private readonly s3Listers = new Map<string, S3Lister>();
  private directory?: DirectoryLister;
  /** Links out of TRAIL_DIR already parked (once per path per process, not every listing). */
  private readonly parkedOutside = new Set<string>();
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private listedOnce = false;
  private loopEnded = false;
  private backfillLogged = false;
  rounds = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly producer: TrailFilesSink,
    private readonly files: TrailFilesRepository,
    private readonly checkpoints: CheckpointRepository,
    private readonly rejects: RejectsRepository,
    private readonly clients: TrailFileClients,
  ) {}

  onApplicationBootstrap(): void {
    if (!isFileSource(this.config.source)) return;
    this.logger.log(`reading trail files (${this.config.source}) from ${this.describe()}`);
    this.loop = this.run(this.abort.signal).finally(() => {
      this.loopEnded = true;
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.clients.destroy();
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.runOnce();
      } catch (error) {
        this.logger.warn(`trail file round failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      // SQS long polls inside the round; the other sources list again after the interval.
      if (this.config.source !== 'sqs' || !this.listedOnce) await sleep(this.config.pollIntervalSeconds * 1000, signal);
      else await sleep(100, signal);
    }
  }

  /** One round: find new files and enqueue them, note finished ones, move the checkpoints. */
  async runOnce(now = Date.now()): Promise<FilesRoundStats> {
    const initial = !this.listedOnce;
    let listed = 0;
    let enqueued = 0;
    const track = async (refs: TrailFileRef[]) => {
      listed += refs.length;
      enqueued += await this.track(refs, initial);
    };
    switch (this.config.source) {
      case 'files':
        await track(await this.listDirectory(now));
        break;
      case 's3':
        await track(await this.listBucket(now, initial));
        break;
      case 'sqs':
        if (initial && this.config.s3Bucket) await track(await this.listBucket(now, true));
        else if (!initial) await this.receive(track);
        break;
      case 'aws':
      case 'simulator':
        return { listed: 0, enqueued: 0, pending: 0, backfillDone: false, checkpoints: 0 };
    }
    this.listedOnce = true;
    await this.refreshDone();
    const checkpoints = await this.advanceCheckpoints(now);
    this.prune(now);
    this.rounds++;
    const pending = [...this.tracked.values()].filter((t) => !t.done).length;
    return { listed, enqueued, pending, backfillDone: this.backfillPending.size === 0, checkpoints };
  }

  /**
   * The back-fill (the first listing's files) per group ("account:region", or "*" for files of no
   * known account-region): files in it and files not yet counted or parked. Empty before the
   * first listing and for the LookupEvents sources.
   */
  backfillProgress(): Array<{ group: string; total: number; pending: number }> {
    const pending = new Map<string, number>();
    for (const group of this.backfillPending.values()) pending.set(group, (pending.get(group) ?? 0) + 1);
    return [...this.backfillTotal].map(([group, total]) => ({ group, total, pending: pending.get(group) ?? 0 }));
  }

  /** False once the reading loop has ended (it runs until shutdown): /health/ready. */
  running(): boolean {
    return !isFileSource(this.config.source) || (this.loop !== undefined && !this.loopEnded);
  }

  private describe(): string {
    if (this.config.source === 'files') return this.config.trailDir ?? '';
    const bucket = this.config.s3Bucket ? `s3://${this.config.s3Bucket}/${this.config.s3Prefix}` : '';
    return this.config.source === 'sqs' ? `${this.config.sqsQueueUrl ?? ''} ${bucket}`.trim() : bucket;
  }

  private lister(bucket: string): S3Lister {
    let lister = this.s3Listers.get(bucket);
    if (!lister) {
      const prefix = this.allowedBuckets().find((allowed) => allowed.bucket === bucket)?.prefix ?? '';
      this.s3Listers.set(bucket, (lister = new S3Lister(this.clients.s3(), bucket, prefix)));
    }
    return lister;
  }

  /** S3_BUCKET under S3_PREFIX, then SQS_ALLOWED_BUCKETS: all a notification may name. */
  private allowedBuckets(): AllowedBucket[] {
    const configured = this.config.s3Bucket ? [{ bucket: this.config.s3Bucket, prefix: this.config.s3Prefix }] : [];
    return [...configured, ...this.config.sqsAllowedBuckets];
  }

  private isAllowed(bucket: string, key: string): boolean {
    return this.allowedBuckets().some(
      (allowed) => allowed.bucket === bucket && (allowed.prefix === '' || key.startsWith(`${allowed.prefix}/`)),
    );
  }

  /** The trail directory's files; links leading out of it are parked (path only), not read. */
  private async listDirectory(now: number): Promise<TrailFileRef[]> {
    this.directory ??= new DirectoryLister(this.config.trailDir ?? '.');
    const refs = await this.directory.list(now);
    const fresh = this.directory.outside.filter((path) => !this.parkedOutside.has(path));
    if (fresh.length > 0) {
      await this.rejects.park(
        fresh.map((path) => ({ reason: 'outside-root', detail: `${path} is a link out of TRAIL_DIR: not read` })),
        'files',
      );
      for (const path of fresh) this.parkedOutside.add(path);
    }
    return refs;
  }

  /** The back-filled days at first, then the folders that can still receive files. */
  private async listBucket(now: number, initial: boolean): Promise<TrailFileRef[]> {
    const bucket = this.config.s3Bucket;
    if (!bucket) return [];
    const since = initial
      ? now - this.config.backfillDays * DAY_MS
      : Math.min(now, this.newestOverall()) - this.config.trailFileLatenessMinutes * MINUTE_MS - DAY_MS;
    return this.lister(bucket).listSince(since);
  }

  private async receive(track: (refs: TrailFileRef[]) => Promise<void>): Promise<void> {
    const queueUrl = this.config.sqsQueueUrl;
    if (!queueUrl) return;
    const sqs = this.clients.sqs();
    for (let i = 0; i < SQS_RECEIVES_PER_ROUND && !this.abort.signal.aborted; i++) {
      const reply = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: i === 0 ? Math.min(20, Math.ceil(this.config.pollIntervalSeconds)) : 0,
        }),
        { abortSignal: this.abort.signal },
      );
      const messages = reply.Messages ?? [];
      if (messages.length === 0) return;
      const refs: TrailFileRef[] = [];
      for (const message of messages) refs.push(...(await this.filesOf(message)));
      await track(refs); // enqueued (acknowledged by Redis) before the messages go
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
  }

  private async filesOf(message: Message): Promise<TrailFileRef[]> {
    const parsed = parseFileNotification(message.Body ?? '');
    if (parsed.kind === 'test') return [];
    if (parsed.kind === 'invalid') {
      // Parked, not dropped: the message itself is deleted, an operator sees it in the rejects.
      await this.rejects.park(
        [
          {
            reason: 'unknown-format',
            detail: `SQS message ${message.MessageId ?? '?'}: ${parsed.detail}`,
            sample: message.Body ?? '',
          },
        ],
        'sqs',
      );
      return [];
    }
    const refs: TrailFileRef[] = [];
    const refused: Reject[] = [];
    for (const object of parsed.objects) {
      if (!this.isAllowed(object.bucket, object.key)) {
        // Anyone who can send to the queue could name any bucket: it is never read with our credentials.
        refused.push({
          reason: 'not-allowed',
          detail: `SQS message ${message.MessageId ?? '?'}: s3://${object.bucket}/${object.key} is outside S3_BUCKET/S3_PREFIX and SQS_ALLOWED_BUCKETS`,
        });
        continue;
      }
      if (!isTrailFileKey(object.key)) continue;
      const lister = this.lister(object.bucket);
      refs.push(
        object.etag !== undefined && object.size !== undefined
          ? lister.ref(object.key, object.etag, object.size, Date.now())
          : await lister.head(object.key),
      );
    }
    await this.rejects.park(refused, 'sqs');
    return refs;
  }

  /** Enqueues the files not seen before and not counted yet; returns how many were enqueued. */
  private async track(refs: TrailFileRef[], initial: boolean): Promise<number> {
    // One entry per file: a copy of a CloudTrail-named file elsewhere in the listing is the same file.
    const byId = new Map<string, TrailFileRef>();
    for (const ref of refs) {
      const known = this.tracked.get(ref.id)?.ref;
      if (!byId.has(ref.id) && (!known || trailFileVersion(known) !== trailFileVersion(ref))) byId.set(ref.id, ref);
    }
    const fresh = [...byId.values()];
    if (fresh.length === 0) return 0;
    const states = await this.files.states(fresh);
    const todo = fresh.filter((_, i) => states[i] === 'pending');
    await this.producer.enqueue(todo);
    fresh.forEach((ref, i) => {
      const path = ref.location.kind === 's3' ? ref.location.key : ref.location.path;
      const settled = states[i] !== 'pending';
      // AWS's Insights files hold no events: they never move (nor hold back) a checkpoint.
      if (isInsightFilePath(path)) {
        this.tracked.set(ref.id, { ref, group: INSIGHT_FILES, done: settled });
        return;
      }
      const key = parseTrailFileKey(path);
      const group = key ? `${key.accountId}:${key.region}` : ANY;
      this.tracked.set(ref.id, { ref, group, done: settled });
      this.newest.set(group, Math.max(this.newest.get(group) ?? -Infinity, ref.deliveredAt));
      if (initial && !settled) {
        this.backfillPending.set(ref.id, group);
        this.backfillTotal.set(group, (this.backfillTotal.get(group) ?? 0) + 1);
      }
    });
    return todo.length;
  }

  /** Notes the files counted, or parked after their last attempt, since the last round. */
  private async refreshDone(): Promise<void> {
    const pending = [...this.tracked.values()].filter((t) => !t.done);
    if (pending.length === 0) return;
    const states = await this.files.states(pending.map((t) => t.ref));
    pending.forEach((t, i) => {
      if (states[i] === 'pending') return;
      t.done = true;
      this.backfillPending.delete(t.ref.id);
    });
  }

  private async advanceCheckpoints(now: number): Promise<number> {
    // An account-region's first checkpoint waits for its own back-fill only (and for files of no
    // known account-region): a file still retrying elsewhere holds nobody else back.
    const backfilling = new Set(this.backfillPending.values());
    if (this.backfillPending.size === 0 && !this.backfillLogged) {
      this.backfillLogged = true;
      this.logger.log(`back-fill done: ${this.tracked.size} trail files counted or parked`);
    }
    const oldestPending = new Map<string, number>();
    for (const t of this.tracked.values()) {
      if (!t.done) oldestPending.set(t.group, Math.min(oldestPending.get(t.group) ?? Infinity, t.ref.deliveredAt));
    }
    const lateness = this.config.trailFileLatenessMinutes * MINUTE_MS;
    let written = 0;
    for (const source of await this.files.sources()) {
      const group = `${source.accountId}:${source.region}`;
      if (backfilling.has(group) || backfilling.has(ANY)) continue;
      const newest = this.newest.get(group) ?? this.newestOverall();
      const watermark =
        Math.min(newest, now, oldestPending.get(group) ?? Infinity, oldestPending.get(ANY) ?? Infinity) - lateness;
      if (!Number.isFinite(watermark)) continue;
      if (await this.writeCheckpoint(source, watermark)) written++;
    }
    return written;
  }

  private async writeCheckpoint(source: AccountRegion, watermark: number): Promise<boolean> {
    const existing = await this.checkpoints.load(source);
    if (existing) {
      await this.checkpoints.advanceLive(source, watermark);
      return true;
    }
    const from = await this.files.oldestMinute(source);
    if (from === undefined) return false;
    await this.checkpoints.loadOrCreate(source, {
      liveUntil: watermark,
      backfillFrom: from,
      backfillUntil: watermark,
      backfillCursor: from,
      backfillDone: true,
    });
    return true;
  }

  private newestOverall(): number {
    let newest = -Infinity;
    for (const value of this.newest.values()) newest = Math.max(newest, value);
    return newest;
  }

  /** Bucket sources forget counted files older than what they list again; a directory is re-listed whole. */
  private prune(now: number): void {
    if (this.config.source === 'files') return;
    const horizon = Math.min(now, this.newestOverall()) - this.config.trailFileLatenessMinutes * MINUTE_MS - 3 * DAY_MS;
    for (const [id, t] of this.tracked) if (t.done && t.ref.deliveredAt < horizon) this.tracked.delete(id);
  }
}
