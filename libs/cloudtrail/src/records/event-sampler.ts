import {
  type CloudTrailRecord,
  counterFields,
  EVENT_SAMPLES_PER_SERIES_MINUTE,
  isSeriesField,
  MAX_SAMPLE_PARAMETERS_CHARS,
  minuteOf,
  type SlimEvent,
} from '@trailsight/domain';

/** Series-minutes remembered before the sampler starts over (bounds its memory on a long read). */
const MAX_TRACKED = 20_000;
/** AWS caps errorMessage loosely; a sample keeps its first 1 KB. */
const MAX_ERROR_MESSAGE = 1_024;

/**
 * Picks the events whose queue form carries a sample (source IP, error message, request
 * parameters): the first EVENT_SAMPLES_PER_SERIES_MINUTE of each series and minute this sampler
 * sees. One sampler per source or file: across samplers a series-minute may get more candidates,
 * and the samples repository keeps the same number per series-minute whatever it is sent.
 */
export class EventSampler {
  private readonly taken = new Map<string, number>();

  /** Attaches the record's sample to `event` when one of its series still wants examples this minute. */
  offer(record: CloudTrailRecord, event: SlimEvent): void {
    // One budget per account-region too: a poller reads several with one sampler.
    const scope = `${String(record.recipientAccountId)}|${record.awsRegion}|${minuteOf(event.eventTimeMs)}`;
    let wanted = false;
    const keys: string[] = [];
    for (const field of counterFields(event)) {
      if (!isSeriesField(field)) continue;
      const key = `${scope}|${field}`;
      keys.push(key);
      if ((this.taken.get(key) ?? 0) < EVENT_SAMPLES_PER_SERIES_MINUTE) wanted = true;
    }
    if (!wanted) return;
    if (this.taken.size > MAX_TRACKED) this.taken.clear();
    for (const key of keys) this.taken.set(key, (this.taken.get(key) ?? 0) + 1);
    event.sample = sampleOf(record);
  }
}

function sampleOf(record: CloudTrailRecord): NonNullable<SlimEvent['sample']> {
  const parameters = record.requestParameters;
  const kept =
    typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters)
      ? JSON.stringify(parameters).length <= MAX_SAMPLE_PARAMETERS_CHARS
        ? parameters
        : null
      : null;
  return {
    sourceIPAddress: typeof record.sourceIPAddress === 'string' ? record.sourceIPAddress.slice(0, 256) : '',
    ...(typeof record.errorMessage === 'string' && record.errorMessage !== ''
      ? { errorMessage: record.errorMessage.slice(0, MAX_ERROR_MESSAGE) }
      : {}),
    requestParameters: kept,
  };
}
