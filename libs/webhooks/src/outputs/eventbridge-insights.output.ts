import { Logger } from '@nestjs/common';
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { InsightRecord } from '@trailsight/domain';
import type { OutboxBatch } from '@trailsight/findings';
import { INSIGHT_DETAIL_TYPE } from '../delivery/webhook-envelope.js';

/**
 * The `source` of the events. AWS's own Insights events say `aws.cloudtrail`, but PutEvents refuses
 * custom events whose source starts with `aws.` (NotAuthorizedForSourceException), so rules for
 * Trailsight match this source with the same detail-type.
 */
export const EVENTBRIDGE_SOURCE = 'trailsight.insights';
/** PutEvents limits: 10 entries, 256 KB per request (each entry's Time counts 14 bytes). */
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;
const TIME_BYTES = 14;
/** Entry error codes worth sending again; anything else (a malformed entry) never succeeds. */
const RETRIABLE = new Set(['InternalFailure', 'InternalException', 'ThrottlingException', 'ServiceUnavailable']);

export interface EventBridgeOutputSettings {
  bus: string;
  /** Rounds of resending failed entries after the first request. */
  entryAttempts?: number;
  /** First pause before resending failed entries; doubles per round. */
  backoffMs?: number;
}

/**
 * Sends sealed batches to an event bus with PutEvents: `detail-type` "AWS Insight via CloudTrail",
 * `detail` the record. Requests that fail whole (throttling, 5xx) are retried with backoff by the
 * SDK's standard retry strategy and, past that, thrown (the batch stays sealed and is sent again
 * next flush: at least once). Entries PutEvents reports failed are sent again, then logged and
 * counted as failed.
 */
export class EventBridgeInsightsOutput {
  private readonly logger = new Logger(EventBridgeInsightsOutput.name);

  constructor(
    private readonly client: EventBridgeClient,
    private readonly settings: EventBridgeOutputSettings,
  ) {}

  /** How many records were given up (failed on every attempt). */
  async deliver(batch: OutboxBatch): Promise<number> {
    let failed = 0;
    const entries: PutEventsRequestEntry[] = [];
    for (const entry of batch.records.map((record) => this.entryOf(record))) {
      // PutEvents refuses a whole request holding one: give it up alone rather than block the batch.
      if (entrySize(entry) > MAX_REQUEST_BYTES) {
        failed++;
        this.refused(entry, 'EntryTooLarge', `${entrySize(entry)} bytes`);
      } else {
        entries.push(entry);
      }
    }
    for (const chunk of requestChunks(entries)) {
      failed += await this.send(chunk);
    }
    return failed;
  }

  private entryOf(record: InsightRecord): PutEventsRequestEntry {
    return {
      EventBusName: this.settings.bus,
      Source: EVENTBRIDGE_SOURCE,
      DetailType: INSIGHT_DETAIL_TYPE,
      Detail: JSON.stringify(record),
      Time: new Date(record.eventTime),
      Resources: [],
    };
  }

  private async send(entries: PutEventsRequestEntry[]): Promise<number> {
    const rounds = this.settings.entryAttempts ?? 4;
    let pending = entries;
    let givenUp = 0;
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) await delay((this.settings.backoffMs ?? 500) * 2 ** (round - 1));
      const reply = await this.client.send(new PutEventsCommand({ Entries: pending }));
      if (!reply.FailedEntryCount) break;
      const results = reply.Entries ?? [];
      const retry: PutEventsRequestEntry[] = [];
      pending.forEach((entry, i) => {
        const result = results[i];
        if (result?.EventId && !result.ErrorCode) return;
        const code = result?.ErrorCode ?? 'InternalFailure';
        if (round < rounds && RETRIABLE.has(code)) {
          retry.push(entry);
        } else {
          givenUp++;
          this.refused(entry, code, result?.ErrorMessage);
        }
      });
      pending = retry;
    }
    return givenUp;
  }

  private refused(entry: PutEventsRequestEntry, code: string, message = ''): void {
    const eventID = (JSON.parse(entry.Detail ?? '{}') as { eventID?: string }).eventID;
    this.logger.warn(`EventBridge did not take Insights record ${eventID}: ${code} ${message}`.trim());
  }
}

/** Entries in PutEvents requests of at most MAX_ENTRIES entries and MAX_REQUEST_BYTES. */
function requestChunks(entries: PutEventsRequestEntry[]): PutEventsRequestEntry[][] {
  const chunks: PutEventsRequestEntry[][] = [];
  let current: PutEventsRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (current.length === MAX_ENTRIES || (current.length > 0 && bytes + size > MAX_REQUEST_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** An entry's size as PutEvents counts it. */
function entrySize(entry: PutEventsRequestEntry): number {
  const utf8 = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));
  return (
    TIME_BYTES +
    utf8(entry.Source) +
    utf8(entry.DetailType) +
    utf8(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, r) => sum + utf8(r), 0)
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
