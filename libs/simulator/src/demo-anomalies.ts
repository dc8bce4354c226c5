import type { AnomalySpec } from './anomaly.js';
import type { TrafficGenerator } from './traffic-generator.js';
import { MINUTE_MS } from '@trailsight/domain';

/** One anomaly this often, from a few hours back (so a back-fill finds some) to two days ahead. */
const EVERY_MINUTES = 30;
const FROM_MINUTES_AGO = 3 * 60;
const AHEAD_MINUTES = 2 * 24 * 60;

/**
 * The anomalies the embedded default plays (`npm start` with the simulated account): spikes on the
 * busiest write APIs and AccessDenied bursts on the busiest reads, one every half hour, the first
 * ones in the recent past, so the first findings appear as soon as the back-fill is evaluated.
 */
export function demoAnomalies(generator: TrafficGenerator, now: number): AnomalySpec[] {
  const [source] = generator.sources();
  if (!source) return [];
  const busiest = generator
    .apis()
    .map((api) => ({ ...api, rate: generator.expectedCalls(source, api.eventSource, api.eventName, now) }))
    .sort((a, b) => b.rate - a.rate);
  const writes = busiest.filter((api) => !api.readOnly).slice(0, 5);
  const reads = busiest.filter((api) => api.readOnly).slice(0, 5);
  if (writes.length === 0 || reads.length === 0) return [];

  const specs: AnomalySpec[] = [];
  const first = Math.floor(now / MINUTE_MS) * MINUTE_MS - FROM_MINUTES_AGO * MINUTE_MS;
  for (let i = 0, start = first; start < now + AHEAD_MINUTES * MINUTE_MS; i++, start += EVERY_MINUTES * MINUTE_MS) {
    const write = writes[i % writes.length];
    const read = reads[i % reads.length];
    specs.push(
      i % 2 === 0
        ? {
            kind: 'spike',
            eventSource: write.eventSource,
            eventName: write.eventName,
            factor: 15,
            minutes: 6,
            startMinute: start,
          }
        : {
            kind: 'errors',
            eventSource: read.eventSource,
            eventName: read.eventName,
            factor: 20,
            errorCode: 'AccessDenied',
            minutes: 5,
            startMinute: start,
          },
    );
  }
  return specs;
}
