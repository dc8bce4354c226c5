import { Injectable, Logger } from '@nestjs/common';
import { RejectsRepository } from '@trailsight/cloudtrail';
import type { JobName, JobOf } from '@trailsight/queue';
import type { CountResult } from '../counters/counter.repository.js';
import { CountingBuffer } from './counting.buffer.js';
import { batchSourceProblem, validateBatchEvents } from './event-batch.validator.js';

/** Turns a queued batch into counters: checks it, parks what cannot be counted, counts the rest. */
@Injectable()
export class EventCountingService {
  private readonly logger = new Logger(EventCountingService.name);

  constructor(
    private readonly buffer: CountingBuffer,
    private readonly rejects: RejectsRepository,
  ) {}

  async countBatch(batchId: string, data: JobOf<typeof JobName.EventBatch>): Promise<CountResult> {
    // A payload that is not even an object (null, written by hand) has no source to read: park it too.
    const payload: unknown = data;
    const sourceProblem =
      typeof payload === 'object' && payload !== null
        ? batchSourceProblem(data.source)
        : 'the payload is not an object';
    if (sourceProblem) {
      // Retrying cannot fix a payload: park it whole, so the job completes and nothing loops.
      await this.rejects.park(
        [
          {
            reason: 'invalid-field',
            detail: `queued batch ${batchId}: ${sourceProblem}`,
            sample: (JSON.stringify(payload) ?? typeof payload).slice(0, 2048),
          },
        ],
        typeof payload === 'object' && payload !== null && typeof data.origin === 'string' ? data.origin : 'queue',
      );
      return { counted: 0, duplicates: 0, tooOld: 0, skipped: 0, alreadyDone: false };
    }
    const { valid, invalid } = validateBatchEvents(data.events);
    if (invalid.length > 0) {
      const events = Array.isArray(data.events) ? (data.events as unknown[]) : [];
      await this.rejects.park(
        invalid.map(({ index, detail }) => ({
          reason: 'invalid-field' as const,
          detail: `queued event ${index} of batch ${batchId}: ${detail}`,
          sample: JSON.stringify(events[index] ?? data.events).slice(0, 2048),
        })),
        data.origin,
      );
    }
    const result = await this.buffer.count(data.source, { id: batchId, events: valid });
    if (result.tooOld > 0)
      this.logger.warn(`batch ${batchId}: ${result.tooOld} events older than the counter retention were not counted`);
    return result;
  }
}
