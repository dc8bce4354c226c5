import { Redis } from 'ioredis';
import { KeySpace } from '@trailsight/core';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import {
  buildEndRecord,
  buildStartRecord,
  newInsightId,
  type InsightInput,
} from '../records/insight-record.builder.js';
import { newFinding, type Finding, type NewFinding } from './finding.js';
import { FindingsRepository, InvalidCursorError, type FindingQuery } from './findings.repository.js';
import { MINUTE_MS, DAY_MS } from '@trailsight/domain';

const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;

const base: InsightInput = {
  accountId: '123456789012',
  region: 'us-east-1',
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  insightType: 'ApiCallRateInsight',
  startMinute: now - DAY_MS,
  durationMinutes: 1,
  insightAverage: 37,
  baselineAverage: 0.0421,
  baselineDurationMinutes: 10080,
  attributions: {
    userIdentityArn: [{ value: 'arn:aws:iam::123456789012:user/alice', insightAverage: 37, baselineAverage: 0.0421 }],
  },
};

function make(over: Partial<InsightInput> = {}, id = newInsightId()): { input: InsightInput; finding: NewFinding } {
  const input = { ...base, ...over };
  const start = buildStartRecord(input, { sharedEventID: id });
  return {
    input,
    finding: newFinding(input, start, {
      direction: 'spike',
      peakScore: 6.5,
      expected: { expected: 0.1, lower: 0, upper: 3 },
    }),
  };
}

/** Every page of a query, following nextCursor; `between` runs before each next page. */
async function allPages(
  repo: FindingsRepository,
  query: FindingQuery,
  between: () => Promise<void> = () => Promise.resolve(),
): Promise<Finding[]> {
  const items: Finding[] = [];
  let cursor: string | undefined;
  do {
    const page = await repo.list({ ...query, cursor });
    items.push(...page.items);
    cursor = page.nextCursor;
    if (cursor) await between();
  } while (cursor);
  return items;
}

const order = (f: Finding) => `${Date.parse(f.startTime)}:${f.id}`;

describe('FindingsRepository (real Redis)', () => {
  let server: ThrowawayRedis;
  let redis: Redis;
  let keys: KeySpace;
  let repo: FindingsRepository;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });
  beforeEach(async () => {
    await redis.flushall();
    keys = new KeySpace('t');
    repo = new FindingsRepository(redis, keys);
  });

  it('keeps a finding through open, updates and close, and knows the open finding of its series', async () => {
    const { input, finding } = make({ errorCode: 'AccessDenied', insightType: 'ApiErrorRateInsight' });
    const series = { ...input };
    expect(await repo.findOpen(series)).toBeUndefined();

    expect(await repo.open(finding, now)).toBe(true);
    const opened = await repo.get(finding.id);
    expect(opened).toEqual({ ...finding, state: 'open', triage: 'new', updatedAt: new Date(now).toISOString() });
    expect(opened?.records.end).toBeUndefined();
    expect((await repo.findOpen(series))?.id).toBe(finding.id);
    // Same API, other error code: another series.
    expect(await repo.findOpen({ ...series, errorCode: 'Throttling' })).toBeUndefined();

    // A retried open changes nothing.
    expect(
      await repo.update(finding.id, { durationMinutes: 3, insightAverage: 30, peakScore: 9 }, now + 2 * MINUTE_MS),
    ).toBe(true);
    expect(await repo.open(finding, now + 3 * MINUTE_MS)).toBe(false);
    expect(await repo.get(finding.id)).toMatchObject({ durationMinutes: 3, insightAverage: 30, peakScore: 9 });

    const end = buildEndRecord({ ...input, durationMinutes: 4, insightAverage: 27.25 }, { sharedEventID: finding.id });
    await expect(repo.close('someone-else', end)).rejects.toThrow(/its own End record/);
    expect(await repo.close(finding.id, end, { peakScore: 11 }, now + 5 * MINUTE_MS)).toBe(true);

    const closed = await repo.get(finding.id);
    expect(closed).toEqual({
      ...finding,
      state: 'closed',
      triage: 'new',
      endTime: end.eventTime,
      durationMinutes: 4,
      insightAverage: 27.25,
      peakScore: 11,
      records: { start: finding.records.start, end },
      updatedAt: new Date(now + 5 * MINUTE_MS).toISOString(),
    });
    expect(Date.parse(closed!.endTime!) - Date.parse(closed!.startTime)).toBe(4 * MINUTE_MS);
    expect(await repo.findOpen(series)).toBeUndefined();
    // Closed is final.
    expect(await repo.update(finding.id, { durationMinutes: 9, insightAverage: 1, peakScore: 1 })).toBe(false);
    expect(await repo.close(finding.id, end)).toBe(false);
    expect(await repo.update('missing', { durationMinutes: 9, insightAverage: 1, peakScore: 1 })).toBe(false);
    expect(await repo.get('missing')).toBeUndefined();
    expect([await repo.count('open'), await repo.count('closed'), await repo.count()]).toEqual([0, 1, 1]);
  });

  it('gives a series a new open finding after the previous one closed', async () => {
    const first = make({ startMinute: now - 60 * MINUTE_MS });
    await repo.open(first.finding);
    await repo.close(first.finding.id, buildEndRecord(first.input, { sharedEventID: first.finding.id }));
    const second = make({ startMinute: now - 10 * MINUTE_MS });
    await repo.open(second.finding);
    expect((await repo.findOpen(second.input))?.id).toBe(second.finding.id);
  });

  it("keeps a data-event series' open finding apart from the management one of the same API", async () => {
    const s3 = { eventSource: 's3.amazonaws.com', eventName: 'PutObject' };
    const management = make(s3);
    const data = make({ ...s3, sourceEventCategory: 'Data' });
    expect(await repo.open(management.finding)).toBe(true);
    expect(await repo.open(data.finding)).toBe(true);
    expect((await repo.findOpen(management.input))?.id).toBe(management.finding.id);
    expect((await repo.findOpen(data.input))?.id).toBe(data.finding.id);
    expect(await repo.get(data.finding.id)).toMatchObject({ sourceEventCategory: 'Data' });
    expect(await repo.get(management.finding.id)).toMatchObject({ sourceEventCategory: 'Management' });
    expect((await repo.get(data.finding.id))?.records.start.insightDetails.sourceEventCategory).toBe('Data');
    // A management finding stored before categories existed (no field) reads as Management.
    await redis.hdel(keys.finding(management.finding.id), 'sourceEventCategory');
    expect(await repo.get(management.finding.id)).toMatchObject({ sourceEventCategory: 'Management' });
  });

  it('filters by every dimension, alone and combined, and by start time', async () => {
    const variants: Partial<InsightInput>[] = [];
    for (const region of ['us-east-1', 'eu-west-1'])
      for (const accountId of ['111111111111', '222222222222'])
        for (const [eventSource, eventName] of [
          ['ec2.amazonaws.com', 'RunInstances'],
          ['iam.amazonaws.com', 'CreateUser'],
          ['s3.amazonaws.com', 'DeleteBucket'],
        ])
          for (const errorCode of [undefined, 'AccessDenied', 'Throttling'])
            variants.push({
              region,
              accountId,
              eventSource,
              eventName,
              insightType: errorCode ? 'ApiErrorRateInsight' : 'ApiCallRateInsight',
              errorCode,
              startMinute: now - (variants.length + 1) * 7 * MINUTE_MS,
            });
    const stored: Finding[] = [];
    for (const [i, variant] of variants.entries()) {
      const { input, finding } = make(variant);
      await repo.open(finding, now);
      if (i % 4 === 1) await repo.close(finding.id, buildEndRecord(input, { sharedEventID: finding.id }), {}, now);
      stored.push((await repo.get(finding.id))!);
    }
    const newestFirst = [...stored].sort((a, b) => (order(a) < order(b) ? 1 : -1));
    const expectIds = async (query: FindingQuery, keep: (f: Finding) => boolean) => {
      const expected = newestFirst.filter(keep).map((f) => f.id);
      expect(expected.length).toBeGreaterThan(0);
      expect((await allPages(repo, { ...query, limit: 5 })).map((f) => f.id)).toEqual(expected);
    };

    await expectIds({}, () => true);
    await expectIds({ state: 'open' }, (f) => f.state === 'open');
    await expectIds({ state: 'closed' }, (f) => f.state === 'closed');
    await expectIds({ insightType: 'ApiErrorRateInsight' }, (f) => f.insightType === 'ApiErrorRateInsight');
    await expectIds({ eventSource: 'iam.amazonaws.com' }, (f) => f.eventSource === 'iam.amazonaws.com');
    await expectIds({ eventName: 'DeleteBucket' }, (f) => f.eventName === 'DeleteBucket');
    await expectIds({ errorCode: 'Throttling' }, (f) => f.errorCode === 'Throttling');
    await expectIds({ accountId: '222222222222' }, (f) => f.accountId === '222222222222');
    await expectIds({ region: 'eu-west-1' }, (f) => f.region === 'eu-west-1');
    const since = now - 40 * 7 * MINUTE_MS;
    const until = now - 10 * 7 * MINUTE_MS;
    await expectIds({ since }, (f) => Date.parse(f.startTime) >= since);
    await expectIds({ until }, (f) => Date.parse(f.startTime) < until);
    await expectIds(
      { state: 'open', region: 'eu-west-1', errorCode: 'AccessDenied', since, until },
      (f) =>
        f.state === 'open' &&
        f.region === 'eu-west-1' &&
        f.errorCode === 'AccessDenied' &&
        Date.parse(f.startTime) >= since &&
        Date.parse(f.startTime) < until,
    );
    expect((await repo.list({ eventName: 'NoSuchApi' })).items).toEqual([]);
    expect((await repo.list({ region: 'eu-west-1', eventName: 'NoSuchApi' })).items).toEqual([]);
    expect(await repo.list({ errorCode: 'AccessDenied', insightType: 'ApiCallRateInsight' })).toEqual({ items: [] });
  });

  it('pages through 1,200 findings without repeats or gaps while new ones arrive', async () => {
    const originals: Finding[] = [];
    for (let chunk = 0; chunk < 12; chunk++) {
      const batch = Array.from({ length: 100 }, (_, i) => {
        const n = chunk * 100 + i;
        // Four findings per minute: ties on start time are broken by id.
        return make({
          startMinute: now - DAY_MS - Math.floor(n / 4) * MINUTE_MS,
          region: n % 3 ? 'us-east-1' : 'eu-west-1',
        }).finding;
      });
      await Promise.all(batch.map((f) => repo.open(f)));
      originals.push(...(await Promise.all(batch.map(async (f) => (await repo.get(f.id))!))));
    }
    let arrived = 0;
    const arrive = async () => {
      for (let i = 0; i < 3; i++) {
        arrived++;
        const region = i % 2 ? 'us-east-1' : 'eu-west-1';
        await repo.open(make({ startMinute: now - DAY_MS + arrived * MINUTE_MS, region }).finding);
      }
    };

    const seen = await allPages(repo, { limit: 50 }, arrive);
    expect(arrived).toBe(3 * 23);
    expect(seen.map((f) => f.id)).toEqual(
      [...originals].sort((a, b) => (order(a) < order(b) ? 1 : -1)).map((f) => f.id),
    );
    expect(new Set(seen.map((f) => f.id)).size).toBe(1200);

    // The same with a filter the walk has to check on each finding.
    const eu = await allPages(repo, { region: 'eu-west-1', state: 'open', limit: 37 }, arrive);
    const euBefore = originals.filter((f) => f.region === 'eu-west-1');
    const newest = eu.slice(0, eu.length - euBefore.length);
    expect(eu.slice(newest.length).map((f) => f.id)).toEqual(
      euBefore.sort((a, b) => (order(a) < order(b) ? 1 : -1)).map((f) => f.id),
    );
    expect(newest.every((f) => Date.parse(f.startTime) > now - DAY_MS)).toBe(true);
    expect(new Set(eu.map((f) => f.id)).size).toBe(eu.length);

    await expect(repo.list({ cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('stores the per-minute series around a finding, merging by minute', async () => {
    const { finding } = make();
    expect(await repo.saveSeries(finding.id, [])).toBe(false);
    await repo.open(finding);
    const point = (minute: number, value: number) => ({
      minute,
      value,
      expected: 0.1,
      lower: 0,
      upper: 3.5,
      baselineAverage: 0.0421,
    });
    const t = base.startMinute;
    expect(await repo.saveSeries(finding.id, [point(t, 37), point(t - MINUTE_MS, 0)])).toBe(true);
    expect(await repo.saveSeries(finding.id, [point(t + MINUTE_MS, 12), point(t, 38)])).toBe(true);
    expect(await repo.getSeries(finding.id)).toEqual([point(t - MINUTE_MS, 0), point(t, 38), point(t + MINUTE_MS, 12)]);
    expect(await repo.getSeries('missing')).toEqual([]);
  });

  it('expires a finding after the retention period and prunes it with its series and index entries', async () => {
    const repo30 = new FindingsRepository(redis, keys, { retentionDays: 30 });
    const old = make({ startMinute: now - 30 * DAY_MS - 5 * MINUTE_MS, region: 'ap-south-1', eventName: 'OldApi' });
    const oldOpen = make({ startMinute: now - 30 * DAY_MS - 2 * MINUTE_MS, eventName: 'OldOpenApi' });
    const young = make({ startMinute: now - 29 * DAY_MS, eventName: 'YoungApi' });
    for (const { finding } of [old, oldOpen, young]) {
      await repo30.open(finding);
      await repo30.saveSeries(finding.id, [
        { minute: 0, value: 1, expected: 1, lower: 0, upper: 2, baselineAverage: 1 },
      ]);
    }
    await repo30.close(old.finding.id, buildEndRecord(old.input, { sharedEventID: old.finding.id }));
    await repo30.triage(old.finding.id, { to: 'acknowledged', keyId: 'k1' });
    await repo30.triage(young.finding.id, { to: 'resolved', keyId: 'k1' });
    expect(await redis.pexpiretime(keys.findingTriageHistory(old.finding.id))).toBe(
      old.input.startMinute + 31 * DAY_MS,
    );

    // Per-finding keys carry an expiry one day past the retention, as a safety net.
    const expireAt = await redis.pexpiretime(keys.finding(young.finding.id));
    expect(expireAt).toBe(young.input.startMinute + 31 * DAY_MS);
    expect(await redis.pexpiretime(keys.findingSeries(young.finding.id))).toBe(expireAt);

    expect(await repo30.prune(now)).toBe(2);
    expect(await repo30.get(old.finding.id)).toBeUndefined();
    expect(await repo30.get(oldOpen.finding.id)).toBeUndefined();
    expect(await repo30.getSeries(old.finding.id)).toEqual([]);
    expect(await repo30.findOpen(oldOpen.input)).toBeUndefined();
    expect((await repo30.list()).items.map((f) => f.id)).toEqual([young.finding.id]);
    expect([await repo30.count(), await repo30.count('open'), await repo30.count('closed')]).toEqual([1, 1, 0]);

    // Nothing of the pruned findings is left behind, and emptied indexes are forgotten.
    const left = await redis.keys('t:*');
    expect(left.filter((key) => key.includes(old.finding.id) || key.includes(oldOpen.finding.id))).toEqual([]);
    expect(left).not.toContain(keys.findingsIndex('region', 'ap-south-1'));
    // The triage indexes are trimmed like the others: the acknowledged one only held the old finding.
    expect(left).not.toContain(keys.findingsIndex('triage', 'acknowledged'));
    expect((await repo30.list({ triage: 'resolved' })).items.map((f) => f.id)).toEqual([young.finding.id]);
    expect(await redis.smembers(keys.findingsIndexKeys())).not.toContain(keys.findingsIndex('name', 'OldApi'));
    expect(await redis.hlen(keys.openFindings())).toBe(1);
    expect(await repo30.prune(now)).toBe(0);
  });

  it('triages a finding apart from its state, keeping every change with key id, note and time', async () => {
    const { input, finding } = make();
    await repo.open(finding, now);
    expect(await repo.triageOf(finding.id)).toBe('new');
    expect(await repo.triage('missing', { to: 'acknowledged', keyId: 'k1' })).toBeUndefined();

    const at = now + MINUTE_MS;
    expect(await repo.triage(finding.id, { to: 'acknowledged', note: 'deploy', keyId: 'k1' }, at)).toEqual({
      from: 'new',
      to: 'acknowledged',
      note: 'deploy',
      keyId: 'k1',
      at: new Date(at).toISOString(),
    });
    // Closing the insight leaves the triage alone, and triage leaves the insight's state alone.
    await repo.close(finding.id, buildEndRecord(input, { sharedEventID: finding.id }), {}, now + 2 * MINUTE_MS);
    await repo.triage(finding.id, { to: 'resolved', keyId: 'k2' }, now + 3 * MINUTE_MS);
    expect(await repo.get(finding.id)).toMatchObject({ state: 'closed', triage: 'resolved' });
    expect(await repo.triageOf(finding.id)).toBe('resolved');
    expect(await repo.triageHistory(finding.id)).toEqual([
      { from: 'new', to: 'acknowledged', note: 'deploy', keyId: 'k1', at: new Date(at).toISOString() },
      { from: 'acknowledged', to: 'resolved', keyId: 'k2', at: new Date(now + 3 * MINUTE_MS).toISOString() },
    ]);
    expect(await repo.triageHistory('missing')).toEqual([]);
  });

  it('keeps both of two concurrent triage changes, each from the state it really left', async () => {
    const { finding } = make();
    await repo.open(finding, now);
    const targets = ['acknowledged', 'resolved', 'new', 'acknowledged', 'resolved', 'acknowledged'] as const;
    // Separate connections, so the changes really race inside Redis.
    const clients = targets.map(() => new Redis(server.url));
    try {
      await Promise.all(
        targets.map((to, i) =>
          new FindingsRepository(clients[i], keys).triage(finding.id, { to, keyId: `k${i}`, note: `n${i}` }),
        ),
      );
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
    const history = await repo.triageHistory(finding.id);
    expect(history.map((h) => h.note).sort()).toEqual(targets.map((_, i) => `n${i}`).sort());
    // A chain: each change starts where the one before it ended, and the last one is the state.
    expect(history[0].from).toBe('new');
    for (let i = 1; i < history.length; i++) expect(history[i].from).toBe(history[i - 1].to);
    const final = history[history.length - 1].to;
    expect(await repo.triageOf(finding.id)).toBe(final);
    // The finding sits in exactly one triage index: its own.
    for (const state of ['new', 'acknowledged', 'resolved'] as const) {
      expect((await repo.list({ triage: state })).items.map((f) => f.id)).toEqual(state === final ? [finding.id] : []);
    }
  });

  it('filters by triage state through its own index, combined with other filters', async () => {
    const a = make({ eventName: 'A' });
    const b = make({ eventName: 'B', startMinute: base.startMinute + MINUTE_MS });
    const c = make({ eventName: 'A', startMinute: base.startMinute + 2 * MINUTE_MS });
    for (const { finding } of [a, b, c]) await repo.open(finding, now);
    await repo.triage(a.finding.id, { to: 'acknowledged', keyId: 'k' });
    await repo.triage(b.finding.id, { to: 'acknowledged', keyId: 'k' });
    await repo.triage(c.finding.id, { to: 'resolved', keyId: 'k' });
    await repo.triage(c.finding.id, { to: 'new', keyId: 'k' });
    const ids = async (query: FindingQuery) => (await repo.list(query)).items.map((f) => f.id);
    expect(await ids({ triage: 'acknowledged' })).toEqual([b.finding.id, a.finding.id]);
    expect(await ids({ triage: 'new' })).toEqual([c.finding.id]);
    expect(await ids({ triage: 'resolved' })).toEqual([]);
    expect(await ids({ triage: 'acknowledged', eventName: 'A' })).toEqual([a.finding.id]);
    expect(await redis.zcard(keys.findingsIndex('triage', 'acknowledged'))).toBe(2);
  });

  it('keeps deployments with different key prefixes apart', async () => {
    const other = new FindingsRepository(redis, new KeySpace('other'));
    const { input, finding } = make();
    await repo.open(finding);
    expect(await other.get(finding.id)).toBeUndefined();
    expect(await other.findOpen(input)).toBeUndefined();
    expect(await other.list()).toEqual({ items: [] });
    expect(await other.count()).toBe(0);
    expect(await other.prune(now + 365 * DAY_MS)).toBe(0);
    expect((await repo.list()).items.map((f) => f.id)).toEqual([finding.id]);
    // Every key sits under its prefix and in the one {findings} slot.
    for (const key of await redis.keys('*')) expect(key).toMatch(/^t:\{findings\}:/);
  });
});
