import type { AccountRegion } from '@trailsight/domain';
import type { CounterRepository, CountResult, EventBatch } from '../counters/counter.repository.js';
import type { EventSamplesRepository } from '../samples/event-samples.repository.js';

interface Pending {
  batch: EventBatch;
  resolve: (result: CountResult) => void;
  reject: (error: unknown) => void;
}

interface SourceQueue {
  source: AccountRegion;
  pending: Pending[];
  flushes: number;
}

/**
 * Two flushes per account-region may be in flight: one planned in process while the other runs
 * in Redis. They cannot double count: the script refuses ids and batches another one wrote.
 */
const MAX_FLUSHES_IN_FLIGHT = 2;

/**
 * Group commit for counting: batches that arrive while a flush of their account-region is in
 * Redis wait and go together in the next flush, as one aggregated script call. No timer and no
 * added latency when idle; under load each round trip carries the work of many jobs. A batch's
 * promise settles only once its counts are in Redis, so a job completes only after that.
 */
export class CountingBuffer {
  private readonly queues = new Map<string, SourceQueue>();

  constructor(
    private readonly counters: CounterRepository,
    /** Bounds one script call (Redis is single-threaded: a huge script would stall everyone). */
    private readonly maxEventsPerFlush = 20_000,
    /** Where the samples some events carry are kept (every path to the counters passes here). */
    private readonly samples?: EventSamplesRepository,
  ) {}

  /** Counts a batch, then keeps its samples (idempotent by eventId, so a retried batch adds none). */
  async count(source: AccountRegion, batch: EventBatch): Promise<CountResult> {
    const result = await this.counted(source, batch);
    if (this.samples && batch.events.some((event) => event.sample)) await this.samples.add(source, batch.events);
    return result;
  }

  private counted(source: AccountRegion, batch: EventBatch): Promise<CountResult> {
    const key = `${source.accountId}:${source.region}`;
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = { source, pending: [], flushes: 0 }));
    const result = new Promise<CountResult>((resolve, reject) => queue.pending.push({ batch, resolve, reject }));
    if (queue.flushes < MAX_FLUSHES_IN_FLIGHT) void this.flush(key, queue);
    return result;
  }

  private async flush(key: string, queue: SourceQueue): Promise<void> {
    queue.flushes++;
    while (queue.pending.length > 0) {
      const taken = this.takeUpTo(queue.pending, this.maxEventsPerFlush);
      try {
        const results = await this.counters.countBatches(
          queue.source,
          taken.map((item) => item.batch),
        );
        taken.forEach((item, i) => item.resolve(results[i]));
      } catch (error) {
        for (const item of taken) item.reject(error);
      }
    }
    queue.flushes--;
    if (queue.flushes === 0) this.queues.delete(key);
  }

  private takeUpTo(pending: Pending[], maxEvents: number): Pending[] {
    let events = 0;
    let count = 0;
    while (count < pending.length && (count === 0 || events + pending[count].batch.events.length <= maxEvents)) {
      events += pending[count].batch.events.length;
      count++;
    }
    return pending.splice(0, count);
  }
}
