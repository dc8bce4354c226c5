import { demoAnomalies, simulatorOptionsFromConfig, TrafficGenerator } from '@trailsight/simulator';
import { toSlimEvent } from '@trailsight/cloudtrail';
import { loadConfig } from '@trailsight/core';
import { detectorTuningOf } from '../evaluation/evaluator.service.js';
import { OfflineDetector } from './offline-detector.js';
import { MINUTE_MS, HOUR_MS } from '@trailsight/domain';

/**
 * `npm start` back-fills a day of the simulated account and promises its first finding within
 * minutes. The account follows the daily rhythm, so at 03:00 on a Sunday it makes a few calls a
 * minute: the demo anomalies of the last three hours must still be found, whatever the hour.
 */
describe('the embedded demo, at any hour', () => {
  it.each([
    ['a weekday at 15:00 UTC (busiest)', Date.UTC(2026, 2, 4, 15, 0)],
    ['a Sunday at 03:00 UTC (quietest)', Date.UTC(2026, 2, 8, 3, 0)],
    ['a Monday at 23:00 UTC', Date.UTC(2026, 2, 9, 23, 0)],
  ])('finds the demo anomalies of the last three hours on %s', (_when, now) => {
    const config = loadConfig({});
    const generator = new TrafficGenerator(simulatorOptionsFromConfig(config));
    const anomalies = demoAnomalies(generator, now);
    for (const anomaly of anomalies) generator.injectAnomaly(anomaly);
    const [source] = generator.sources();

    const detector = new OfflineDetector(detectorTuningOf(config), config.detectorOverrides);
    for (let minute = now - 24 * HOUR_MS; minute < now; minute += MINUTE_MS) {
      for (const record of generator.eventsForMinute(source, minute)) detector.add(source, toSlimEvent(record));
    }
    const started = [...detector.insights()]
      .filter(({ event }) => event === 'insight.start')
      .map(({ record }) => ({
        at: Date.parse(record.eventTime),
        name: record.insightDetails.eventName,
      }));

    // Anomalies that ended at least a minute before `now`: the evaluator has closed their minutes.
    const past = anomalies.filter((a) => Number(a.startMinute) + (a.minutes + 1) * MINUTE_MS <= now);
    expect(past.length).toBeGreaterThanOrEqual(5);
    const found = past.filter((a) =>
      started.some(
        (s) =>
          s.name === a.eventName &&
          s.at >= Number(a.startMinute) &&
          s.at < Number(a.startMinute) + a.minutes * MINUTE_MS,
      ),
    );
    expect(found.map((a) => `${a.kind} ${a.eventName}`)).toEqual(past.map((a) => `${a.kind} ${a.eventName}`));
  });
});
