import type { AccountRegion } from './account-region.js';
import type { SlimEvent } from './slim-event.js';
import type { TrailFileRef } from './trail-file-ref.js';

/**
 * The ports through which sources hand their work on. Abstract classes so they double as
 * Nest injection tokens: the sources (libs/cloudtrail) inject them, the queue (libs/queue)
 * provides them, and neither imports the other.
 */
export abstract class EventsSink {
  /** Resolves once every event is durably queued; rejects (fast) when it cannot. Returns jobs added. */
  abstract enqueue(source: AccountRegion, origin: string, events: SlimEvent[]): Promise<number>;
}

export abstract class TrailFilesSink {
  /** Resolves once every file is durably queued; rejects (fast) when it cannot. Returns jobs added. */
  abstract enqueue(files: readonly TrailFileRef[]): Promise<number>;
}
