import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type InsightRecord, MINUTE_MS } from '@trailsight/domain';
import { TrafficGenerator } from '@trailsight/simulator';
import { insightRecordErrors } from './support/insight-record.validator.js';
import { writeTrailDirectory } from './support/trail-directory.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const source = { accountId: '123456789012', region: 'us-east-1' };
// Four hours of a weekday; the bursts come in the last hour, once every series has warmed up.
const from = Date.UTC(2026, 9, 6, 8, 0);
const burst = from + 200 * MINUTE_MS;

/** `trailsight detect` as a user runs it, with the environment given. */
function detect(dir: string, env: Record<string, string> = {}, ...flags: string[]) {
  const { INSIGHTS_EVENT_CATEGORIES: _, ...inherited } = process.env;
  const run = spawnSync(process.execPath, ['dist/apps/cli/src/main.js', 'detect', ...flags, dir], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...inherited, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = run.stdout.split('\n').filter((line) => line.trim() !== '');
  return { status: run.status, stderr: run.stderr, lines, records: lines.map((l) => JSON.parse(l) as InsightRecord) };
}

const categoryOf = (line: string) => (JSON.parse(line) as InsightRecord).insightDetails.sourceEventCategory;

describe('data events in trail files (CLI detect over the S3 layout)', () => {
  let mixed: string;
  let managementOnly: string;
  let written: { management: number; data: number };

  beforeAll(() => {
    const generator = new TrafficGenerator({
      seed: 12,
      accounts: [source.accountId],
      regions: [source.region],
      eventsPerMinute: 60,
      rhythm: 'steady',
      dataEventsPerMinute: 30,
    });
    // A management burst (so there are management insights to compare) and a data-event burst of
    // S3 writes: counted as management writes, it would be a management call-rate insight.
    const write = generator
      .apis()
      .filter((api) => !api.readOnly)
      .sort(
        (a, b) =>
          generator.expectedCalls(source, b.eventSource, b.eventName, burst) -
          generator.expectedCalls(source, a.eventSource, a.eventName, burst),
      )[0];
    const { eventSource, eventName } = write;
    generator.injectAnomaly({ kind: 'spike', eventSource, eventName, factor: 30, minutes: 6, startMinute: burst });
    generator.injectAnomaly({
      kind: 'spike',
      eventSource: 's3.amazonaws.com',
      eventName: 'PutObject',
      factor: 30,
      minutes: 8,
      startMinute: burst + 10 * MINUTE_MS,
    });
    mixed = mkdtempSync(join(tmpdir(), 'trailsight-data-mixed-'));
    managementOnly = mkdtempSync(join(tmpdir(), 'trailsight-data-clean-'));
    written = writeTrailDirectory(mixed, generator, source, { fromMs: from, minutes: 240, withDataEvents: true });
    writeTrailDirectory(managementOnly, generator, source, { fromMs: from, minutes: 240, withDataEvents: false });
  });

  afterAll(() => {
    rmSync(mixed, { recursive: true, force: true });
    rmSync(managementOnly, { recursive: true, force: true });
  });

  it('by default gives exactly the management insights of the same trail without its data events', () => {
    expect(written.data).toBeGreaterThan(240 * 20);
    const clean = detect(managementOnly);
    const withData = detect(mixed);
    expect(clean.status).toBe(0);
    expect(withData.status).toBe(0);
    expect(clean.lines.length).toBeGreaterThanOrEqual(2);
    expect(withData.lines).toEqual(clean.lines);
    expect(withData.lines.map(categoryOf).every((c) => c === 'Management')).toBe(true);
    expect(withData.stderr).toContain(`skipped ${written.data} events of categories not analysed`);
  });

  it('with INSIGHTS_EVENT_CATEGORIES=Management,Data adds data-event insights labelled Data, management ones unchanged', () => {
    const clean = detect(managementOnly);
    const run = detect(mixed, { INSIGHTS_EVENT_CATEGORIES: 'Management,Data' });
    expect(run.status).toBe(0);
    const management = run.lines.filter((line) => categoryOf(line) === 'Management');
    expect(management.sort()).toEqual([...clean.lines].sort());
    const data = run.records.filter((r) => r.insightDetails.sourceEventCategory === 'Data');
    for (const record of data) expect(insightRecordErrors(record)).toEqual([]);
    const putObject = data.filter(
      (r) =>
        r.insightDetails.eventSource === 's3.amazonaws.com' &&
        r.insightDetails.eventName === 'PutObject' &&
        r.insightDetails.insightType === 'ApiCallRateInsight',
    );
    expect(putObject.map((r) => r.insightDetails.state)).toEqual(['Start', 'End']);
    expect(putObject[0]?.eventTime).toBe(new Date(burst + 10 * MINUTE_MS).toISOString().replace('.000Z', 'Z'));
    // The flag says the same as the environment.
    expect(detect(mixed, {}, '--event-categories', 'Management,Data').lines).toEqual(run.lines);
  });

  it('refuses a category it does not analyse, naming the flag', () => {
    const run = detect(mixed, {}, '--event-categories', 'Data');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--event-categories must be Management or Management,Data, got "Data"');
  });
});
