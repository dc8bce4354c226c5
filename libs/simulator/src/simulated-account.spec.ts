import { type AccountRegion, type CloudTrailRecord, MINUTE_MS } from '@trailsight/domain';
import { SimulatedAccount, type HistoryCursor, type TruthRow } from './simulated-account.js';
import { TrafficGenerator } from './traffic-generator.js';

const ACCOUNT = '123456789012';
const SOURCE: AccountRegion = { accountId: ACCOUNT, region: 'us-east-1' };
const NOW = Date.UTC(2026, 2, 4, 15, 30, 20, 250); // a Wednesday afternoon, 20.25 s into a minute

function setup(options: { visibilityDelayMs?: number; eventsPerMinute?: number } = {}) {
  const clock = { now: NOW };
  const generator = new TrafficGenerator({
    seed: 3,
    accounts: [ACCOUNT, '210987654321'],
    regions: ['us-east-1', 'eu-west-1'],
    eventsPerMinute: options.eventsPerMinute ?? 120,
  });
  const account = new SimulatedAccount({
    generator,
    now: () => clock.now,
    visibilityDelayMs: options.visibilityDelayMs,
  });
  return { clock, generator, account };
}

const time = (r: CloudTrailRecord) => Date.parse(r.eventTime);

/** Truth rows rebuilt from events, the way a client would count what it received. */
function tally(
  records: readonly CloudTrailRecord[],
  source: AccountRegion,
): Map<string, { calls: number; errors: number }> {
  const out = new Map<string, { calls: number; errors: number }>();
  for (const r of records) {
    const key = `${source.accountId} ${source.region} ${r.eventTime.slice(0, 16)} ${r.eventSource} ${r.eventName}`;
    const entry = out.get(key) ?? { calls: 0, errors: 0 };
    entry.calls++;
    if (r.errorCode) entry.errors++;
    out.set(key, entry);
  }
  return out;
}

function tallyRows(rows: readonly TruthRow[]): Map<string, { calls: number; errors: number }> {
  return new Map(
    rows.map((row) => [
      `${row.accountId} ${row.region} ${row.minute.slice(0, 16)} ${row.eventSource} ${row.eventName}`,
      { calls: row.calls, errors: Object.values(row.errors).reduce((sum, n) => sum + n, 0) },
    ]),
  );
}

describe('SimulatedAccount', () => {
  it('returns the events of a range newest first, never one after now', () => {
    const { account, generator } = setup();
    const events = account.eventsBetween(SOURCE, NOW - 10 * MINUTE_MS, NOW + 10 * MINUTE_MS);
    expect(events.length).toBeGreaterThan(500);
    expect(time(events[0])).toBeLessThanOrEqual(NOW);
    expect(time(events.at(-1)!)).toBeGreaterThanOrEqual(NOW - 10 * MINUTE_MS);
    expect(events.every((r, i) => i === 0 || time(r) <= time(events[i - 1]))).toBe(true);
    // Exactly the generator's events in the range, none lost or repeated.
    const expected: CloudTrailRecord[] = [];
    for (let m = NOW - 11 * MINUTE_MS; m <= NOW; m += MINUTE_MS) {
      for (const r of generator.eventsForMinute(SOURCE, m))
        if (time(r) >= NOW - 10 * MINUTE_MS && time(r) <= NOW) expected.push(r);
    }
    expect(new Set(events.map((r) => r.eventID))).toEqual(new Set(expected.map((r) => r.eventID)));
    expect(events).toHaveLength(expected.length);
  });

  it('shows events only after the visibility delay, and only within the retention', () => {
    const { account, clock } = setup({ visibilityDelayMs: 5 * MINUTE_MS });
    const visible = account.eventsBetween(SOURCE, NOW - 30 * MINUTE_MS, NOW);
    expect(time(visible[0])).toBeLessThanOrEqual(NOW - 5 * MINUTE_MS);
    expect(time(visible[0])).toBeGreaterThan(NOW - 6 * MINUTE_MS);
    clock.now += 5 * MINUTE_MS;
    expect(time(account.eventsBetween(SOURCE, NOW - 30 * MINUTE_MS, NOW)[0])).toBeGreaterThan(NOW - MINUTE_MS);
    const old = NOW - 91 * 24 * 60 * MINUTE_MS;
    expect(account.eventsBetween(SOURCE, old, old + 10 * MINUTE_MS)).toHaveLength(0);
    expect(
      account.eventsBetween(SOURCE, NOW - 89 * 24 * 60 * MINUTE_MS, NOW - 89 * 24 * 60 * MINUTE_MS + 10 * MINUTE_MS)
        .length,
    ).toBeGreaterThan(0);
  });

  it('pages through the same events with cursors, and with a filter', () => {
    const { account } = setup();
    const range = { startMs: NOW - 15 * MINUTE_MS, endMs: NOW };
    const all = account.eventsBetween(SOURCE, range.startMs, range.endMs);
    const walk = (limit: number, match?: (r: CloudTrailRecord) => boolean, scanLimit?: number) => {
      const seen: CloudTrailRecord[] = [];
      let after: HistoryCursor | undefined;
      let pages = 0;
      do {
        const page = account.page(SOURCE, { ...range, limit, after, match, scanLimit });
        expect(page.events.length).toBeLessThanOrEqual(limit);
        seen.push(...page.events.map((e) => e.record));
        after = page.next;
        pages++;
      } while (after);
      return { seen, pages };
    };
    const paged = walk(50);
    expect(paged.seen.map((r) => r.eventID)).toEqual(all.map((r) => r.eventID));
    expect(paged.pages).toBe(Math.ceil(all.length / 50)); // no empty page at the end

    const writes = walk(7, (r) => r.readOnly === false);
    expect(writes.seen.map((r) => r.eventID)).toEqual(all.filter((r) => r.readOnly === false).map((r) => r.eventID));
    // A page that examines few events returns short, with a cursor, and loses nothing.
    const short = walk(50, (r) => r.readOnly === false, 100);
    expect(short.seen.map((r) => r.eventID)).toEqual(writes.seen.map((r) => r.eventID));
    expect(short.pages).toBeGreaterThan(writes.seen.length / 50 + 5);
  });

  it('reports as truth exactly what the history holds, per minute and API, partial minutes included', () => {
    const { account } = setup();
    const since = NOW - 20 * MINUTE_MS - 12_500;
    const rows = account.truth({ since, until: NOW + 60 * MINUTE_MS, accountId: ACCOUNT, region: 'us-east-1' });
    const events = account.eventsBetween(SOURCE, since, NOW);
    expect(rows.length).toBeGreaterThan(100);
    expect(tallyRows(rows)).toEqual(tally(events, SOURCE));
    expect(rows.every((row) => Date.parse(row.minute) <= NOW)).toBe(true);
    expect(rows.every((row) => row.minute.endsWith(':00Z'))).toBe(true);
    for (const row of rows) {
      const errors = Object.values(row.errors).reduce((sum, n) => sum + n, 0);
      expect(errors).toBeLessThanOrEqual(row.calls);
    }
    // Without filters: every account-region.
    const everything = account.truth({ since: NOW - 2 * MINUTE_MS, until: NOW });
    expect(new Set(everything.map((row) => `${row.accountId}/${row.region}`)).size).toBe(4);
    expect(account.truth({ since: NOW + MINUTE_MS, until: NOW + 2 * MINUTE_MS })).toEqual([]);
  });

  it('starts an anomaly at the next whole minute, so what was served never changes', () => {
    const { account, clock, generator } = setup();
    const api = generator
      .apis()
      .map((a) => ({ ...a, expected: generator.expectedCalls(SOURCE, a.eventSource, a.eventName, NOW) }))
      .sort((a, b) => b.expected - a.expected)[0];
    const served = account.eventsBetween(SOURCE, NOW - 5 * MINUTE_MS, NOW);
    const anomaly = account.injectAnomaly({
      kind: 'drop',
      eventSource: api.eventSource,
      eventName: api.eventName,
      minutes: 2,
    });
    expect(anomaly.startTime).toBe('2026-03-04T15:31:00.000Z');
    expect(anomaly.endTime).toBe('2026-03-04T15:33:00.000Z');
    expect(account.anomalies()).toEqual([anomaly]);
    expect(account.eventsBetween(SOURCE, NOW - 5 * MINUTE_MS, NOW)).toEqual(served);

    clock.now = Date.UTC(2026, 2, 4, 15, 34);
    const during = account.eventsBetween(SOURCE, Date.UTC(2026, 2, 4, 15, 31), Date.UTC(2026, 2, 4, 15, 33) - 1);
    const after = account.eventsBetween(SOURCE, Date.UTC(2026, 2, 4, 15, 33), Date.UTC(2026, 2, 4, 15, 34) - 1);
    const calls = (records: CloudTrailRecord[]) =>
      records.filter((r) => r.eventSource === api.eventSource && r.eventName === api.eventName).length;
    expect(during.length).toBeGreaterThan(100);
    expect(calls(during)).toBe(0);
    expect(calls(after)).toBeGreaterThan(0);
    const truth = account.truth({ since: Date.UTC(2026, 2, 4, 15, 31), until: Date.UTC(2026, 2, 4, 15, 33) - 1 });
    expect(truth.filter((row) => row.eventName === api.eventName && row.eventSource === api.eventSource)).toEqual([]);
  });

  it('replays records with its own clock as now', () => {
    const { account } = setup();
    const record: CloudTrailRecord = {
      eventTime: '2019-05-01T10:00:00Z',
      eventSource: 'iam.amazonaws.com',
      eventName: 'CreateUser',
      awsRegion: 'us-east-1',
      eventID: '11111111-2222-4333-8444-555555555555',
      recipientAccountId: ACCOUNT,
    };
    expect(account.replay([record])).toMatchObject({ added: 1 });
    const found = account.eventsBetween(SOURCE, NOW - MINUTE_MS, NOW).find((r) => r.eventID === record.eventID);
    expect(found?.eventTime).toBe('2026-03-04T15:30:20Z');
  });
});
