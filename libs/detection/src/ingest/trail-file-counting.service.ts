import { Injectable, Logger } from '@nestjs/common';
import {
  CheckpointRepository,
  isInsightFilePath,
  parseInsightRecordsBuffer,
  parseTrailFileKey,
  RejectsRepository,
  TrailFileReader,
  TrailFilesRepository,
  type Reject,
} from '@trailsight/cloudtrail';
import { ReplicaWaitTimeoutError } from '@trailsight/core';
import { type AccountRegion, type SlimEvent, type TrailFileRef } from '@trailsight/domain';
import { ReferenceInsightsRepository } from '@trailsight/findings';
import { CountingBuffer } from './counting.buffer.js';

export interface FileCountResult {
  records: number;
  counted: number;
  duplicates: number;
  tooOld: number;
  /** Events of a category not analysed (INSIGHTS_EVENT_CATEGORIES). */
  skipped: number;
  rejects: number;
  /** The file (this etag) had been counted before: nothing was read. */
  alreadyDone: boolean;
  /** The last attempt failed too: the file was parked (a reject) and holds nothing back. */
  parked?: boolean;
}

/** The batch being filled for one account-region of a file. */
interface OpenBatch {
  source: AccountRegion;
  events: SlimEvent[];
  sequence: number;
}

/** Events per counted batch: its done-marker and one group-commit entry. */
const FILE_BATCH_EVENTS = 10_000;
/** Batches of one file in Redis at once while the file is read on. */
const MAX_BATCHES_IN_FLIGHT = 3;
/** Rejects parked together. */
const PARK_EVERY = 500;

/**
 * Counts one trail file, exactly once: its records are streamed (bounded memory), turned into
 * events and counted in batches of FILE_BATCH_EVENTS per account-region through the group-commit
 * CountingBuffer. Each batch's id is `<job id>.<account>.<region>.<n>`: the file is read in the
 * same order every time, so a retry after a crash finds the same batches and skips those whose
 * done-marker is set; within a batch the script is atomic, and events are deduplicated by eventID
 * across files anyway. The file is marked done (TrailFilesRepository) once every batch is in Redis,
 * and its job is acknowledged once a replica has that marker (REDIS_WAIT_TIMEOUT_MS).
 */
@Injectable()
export class TrailFileCountingService {
  private readonly logger = new Logger(TrailFileCountingService.name);
  private readonly registered = new Set<string>();

  constructor(
    private readonly reader: TrailFileReader,
    private readonly buffer: CountingBuffer,
    private readonly files: TrailFilesRepository,
    private readonly rejects: RejectsRepository,
    private readonly checkpoints: CheckpointRepository,
    private readonly references: ReferenceInsightsRepository,
  ) {}

  /**
   * countFile, except that when the job's last attempt fails too the file is parked instead: a
   * reject (`unreadable-file`, the error, the file's location) counted and parked with the others,
   * and an entry in TrailFilesRepository's parked hash, so it no longer holds back the checkpoint
   * of its account-region (see FilesSourceService). What was counted of it before stays counted.
   * A replica that did not acknowledge in time (ReplicaWaitTimeoutError) says nothing of the
   * file: the job fails without parking it, and its marker reaches the replica once it catches up.
   */
  async countOrPark(jobId: string, file: TrailFileRef, lastAttempt: boolean): Promise<FileCountResult> {
    try {
      return await this.countFile(jobId, file);
    } catch (error) {
      if (!lastAttempt || error instanceof ReplicaWaitTimeoutError) throw error;
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const location =
        file.location.kind === 's3' ? `s3://${file.location.bucket}/${file.location.key}` : file.location.path;
      // The reject first: a crash in between parks it again on the rerun, rather than not at all.
      await this.rejects.park(
        [
          {
            reason: 'unreadable-file',
            detail: `${location}: every attempt failed, last with ${message}`,
            sample: location,
          },
        ],
        file.id,
      );
      await this.files.markParked(file, message);
      return {
        records: 0,
        counted: 0,
        duplicates: 0,
        tooOld: 0,
        skipped: 0,
        rejects: 1,
        alreadyDone: false,
        parked: true,
      };
    }
  }

  async countFile(jobId: string, file: TrailFileRef, batchEvents = FILE_BATCH_EVENTS): Promise<FileCountResult> {
    const result: FileCountResult = {
      records: 0,
      counted: 0,
      duplicates: 0,
      tooOld: 0,
      skipped: 0,
      rejects: 0,
      alreadyDone: false,
    };
    const [done] = await this.files.isDone([file]);
    if (done) {
      // An earlier attempt may have failed waiting for the replica: this one is acknowledged once it has it.
      await this.files.confirmDone(file);
      return { ...result, alreadyDone: true };
    }

    const path = file.location.kind === 's3' ? file.location.key : file.location.path;
    if (isInsightFilePath(path)) return this.readReferenceInsights(file, result);
    const keyAccount = parseTrailFileKey(path)?.accountId;
    const open = new Map<string, OpenBatch>();
    const inFlight: Promise<void>[] = [];
    let failure: Error | undefined;
    let pendingRejects: Reject[] = [];

    const submit = async (key: string, entry: OpenBatch) => {
      const batch = { id: `${jobId}.${key}.${entry.sequence++}`, events: entry.events };
      entry.events = [];
      const counting = this.buffer.count(entry.source, batch).then(
        (counted) => {
          result.counted += counted.counted;
          result.duplicates += counted.duplicates;
          result.tooOld += counted.tooOld;
          result.skipped += counted.skipped;
        },
        (error: unknown) => {
          failure ??= error instanceof Error ? error : new Error(String(error));
        },
      );
      inFlight.push(counting);
      if (inFlight.length >= MAX_BATCHES_IN_FLIGHT) await inFlight.shift();
      if (failure) throw failure;
    };

    for await (const { groups, rejects } of this.reader.slimEvents(file.location, file.id, keyAccount)) {
      for (const { source, events } of groups) {
        result.records += events.length;
        const key = `${source.accountId}.${source.region}`;
        let entry = open.get(key);
        if (!entry) open.set(key, (entry = { source, events: [], sequence: 0 }));
        for (let from = 0; from < events.length;) {
          const take = Math.min(batchEvents - entry.events.length, events.length - from);
          // A whole part that fits goes in as it is; otherwise the batch is filled to its size.
          if (entry.events.length === 0 && take === events.length) entry.events = events;
          else for (let i = from; i < from + take; i++) entry.events.push(events[i]);
          from += take;
          if (entry.events.length >= batchEvents) await submit(key, entry);
        }
      }
      if (rejects.length > 0) {
        result.rejects += rejects.length;
        pendingRejects.push(...rejects);
        if (pendingRejects.length >= PARK_EVERY) {
          await this.rejects.park(pendingRejects, file.id);
          pendingRejects = [];
        }
      }
    }
    for (const [key, entry] of open) if (entry.events.length > 0) await submit(key, entry);
    await Promise.all(inFlight);
    if (failure) throw failure;
    await this.rejects.park(pendingRejects, file.id);
    await this.register([...open.values()].map((entry) => entry.source));
    await this.files.markDone(file, { records: result.records, rejects: result.rejects });
    if (result.tooOld > 0)
      this.logger.warn(`${file.id}: ${result.tooOld} events older than the counter retention were not counted`);
    return result;
  }

  /**
   * An Insights file (AWS's, under `CloudTrail-Insight/`): its records are reference findings, kept
   * apart from Trailsight's; records that break AWS's layout are rejects with the reason. Saving
   * is idempotent per eventID, so a retried file stores nothing twice.
   */
  private async readReferenceInsights(file: TrailFileRef, result: FileCountResult): Promise<FileCountResult> {
    const opened = await this.reader.open(file.location);
    const chunks: Buffer[] = [];
    if (Buffer.isBuffer(opened)) chunks.push(opened);
    else for await (const chunk of opened) chunks.push(chunk);
    const { records, rejects } = parseInsightRecordsBuffer(Buffer.concat(chunks), file.id, this.reader.maxInputBytes);
    await this.references.save(records);
    if (rejects.length > 0) await this.rejects.park(rejects, file.id);
    await this.files.markDone(file, { records: records.length, rejects: rejects.length });
    return { ...result, records: records.length, rejects: rejects.length };
  }

  /** Account-regions the evaluator should look at (once per process each). */
  private async register(sources: AccountRegion[]): Promise<void> {
    const fresh = sources.filter((s) => !this.registered.has(`${s.accountId}:${s.region}`));
    if (fresh.length === 0) return;
    await this.checkpoints.registerSources(fresh);
    for (const s of fresh) this.registered.add(`${s.accountId}:${s.region}`);
  }
}
