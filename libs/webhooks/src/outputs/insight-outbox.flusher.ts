import { Logger } from '@nestjs/common';
import type { InsightOutboxRepository, InsightOutputSink, OutboxBatch } from '@trailsight/findings';

/** Where sealed batches go: returns how many of the batch's records were given up. */
export interface InsightOutput {
  deliver(batch: OutboxBatch): Promise<unknown>;
}

export interface FlusherSettings {
  /** How long a flusher owns the sink without renewing; another replica takes over after it. */
  leaseMs: number;
  /** Records and bytes (of record JSON) per sealed batch. */
  records: number;
  bytes: number;
}

/**
 * Empties one output's outbox: takes the sink's lease (one replica at a time), then seals,
 * delivers and completes batches until nothing is pending. A batch a previous flusher sealed but
 * never completed (it crashed, or its lease expired) comes first, unchanged.
 */
export class InsightOutboxFlusher {
  private readonly logger = new Logger(InsightOutboxFlusher.name);

  constructor(
    private readonly outbox: InsightOutboxRepository,
    readonly sink: InsightOutputSink,
    private readonly output: InsightOutput,
    private readonly settings: FlusherSettings,
  ) {}

  /** Records delivered by this call; 0 when another replica holds the lease. Delivery errors are thrown. */
  async flush(): Promise<number> {
    const token = await this.outbox.acquire(this.sink, this.settings.leaseMs);
    if (token === undefined) return 0;
    let delivered = 0;
    try {
      for (;;) {
        const batch = await this.outbox.seal(this.sink, token, this.settings);
        if (!batch) break;
        const failed = await this.output.deliver(batch);
        const given = typeof failed === 'number' ? failed : 0;
        if (await this.outbox.complete(this.sink, batch, given)) delivered += batch.records.length - given;
        // Lost to a replica while delivering: it delivers the rest (and this batch again, harmlessly).
        if (!(await this.outbox.renew(this.sink, token, this.settings.leaseMs))) return delivered;
      }
    } finally {
      await this.outbox.release(this.sink, token);
    }
    if (delivered > 0) this.logger.log(`${this.sink} output: ${delivered} Insights record(s) delivered`);
    return delivered;
  }
}
