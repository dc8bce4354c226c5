import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Redis } from 'ioredis';
import { KeySpace } from '@trailsight/core';
import { CheckpointRepository } from '@trailsight/cloudtrail';
import { CounterRepository, EvaluationRepository } from '@trailsight/detection';
import { FindingsRepository } from '@trailsight/findings';
import { type InsightRecord, MINUTE_MS } from '@trailsight/domain';
import { startApp, type AppProcess } from './support/app-process.js';
import { seedFinding, seedId, type SeedSpec } from './support/findings-seed.js';
import { insightRecordErrors } from './support/insight-record.validator.js';
import { freePort, startRedis, type ThrowawayRedis } from './support/redis-server.js';

/**
 * The api process over HTTP against a throwaway Redis, with findings seeded through the real
 * FindingsRepository into the same Redis and prefix.
 */
const ADMIN_KEY = 'e2e-admin-key-0123456789abcdef';
const READ_KEY = 'e2e-read-key-0123456789abcdef0';
const PREFIX = 'e2e';
const BASE = 1_200;
// Two days ago: findings expire after the repository's retention (90 days), so not a fixed date.
const T0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 2 * 86_400_000;
const ACCOUNTS = ['111111111111', '222222222222'];
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];
const APIS = [
  ['ec2.amazonaws.com', 'RunInstances'],
  ['s3.amazonaws.com', 'PutObject'],
  ['iam.amazonaws.com', 'CreateUser'],
  ['lambda.amazonaws.com', 'Invoke'],
] as const;
const BOOT_TIMEOUT_MS = 60_000;

interface Seeded extends SeedSpec {
  id: string;
}

let redis: ThrowawayRedis;
let client: Redis;
let repo: FindingsRepository;
let api: AppProcess;
let url: string;
const seeded: Seeded[] = [];
const extra: AppProcess[] = [];

function specOf(index: number): SeedSpec {
  const [eventSource, eventName] = APIS[index % APIS.length];
  return {
    index,
    startMinute: T0 + index * MINUTE_MS,
    accountId: ACCOUNTS[index % 2],
    region: REGIONS[index % 3],
    eventSource,
    eventName,
    ...(index % 5 === 0 ? { errorCode: index % 10 === 0 ? 'AccessDenied' : 'ThrottlingException' } : {}),
    closed: index % 3 === 0,
  };
}

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  repo = new FindingsRepository(client, new KeySpace(PREFIX));
  for (let i = 0; i < BASE; i += 100) {
    const batch = Array.from({ length: Math.min(100, BASE - i) }, (_, k) => specOf(i + k));
    const ids = await Promise.all(batch.map((spec) => seedFinding(repo, spec)));
    batch.forEach((spec, k) => seeded.push({ ...spec, id: ids[k] }));
  }
  api = startApp('api', {
    PORT: String(await freePort()),
    REDIS_URL: redis.url,
    REDIS_PREFIX: PREFIX,
    API_KEYS: `${ADMIN_KEY},${READ_KEY}:read`,
    API_RATE_LIMIT: '1000000',
  });
  url = `http://127.0.0.1:${api.port}`;
  await api.healthy();
}, BOOT_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([api, ...extra].map((app) => app?.stop()));
  await client?.quit();
  await redis?.stop();
});

async function get(path: string, key: string | null = READ_KEY, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}${path}`, {
    headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...headers },
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (Prometheus text)
  }
  return { status: response.status, headers: response.headers, body, text };
}

interface Page {
  items: { id: string; state: string; startTime: string; errorCode?: string; accountId: string }[];
  nextCursor?: string;
}

/** Every page of a query; asserts each page is a 200. */
async function pageThrough(query: string, limit: number, between?: () => Promise<void>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1_000; pages++) {
    const q = new URLSearchParams(query);
    q.set('limit', String(limit));
    if (cursor) q.set('cursor', cursor);
    const { status, body } = await get(`/v1/findings?${q.toString()}`);
    expect(status).toBe(200);
    const page = body as Page;
    ids.push(...page.items.map((item) => item.id));
    if (!page.nextCursor) return ids;
    cursor = page.nextCursor;
    await between?.();
  }
  throw new Error('too many pages');
}

/** Seeded findings matching `keep`, newest first (start time, then id, descending). */
function expected(keep: (s: Seeded) => boolean): string[] {
  return seeded
    .filter(keep)
    .sort((a, b) => b.startMinute - a.startMinute || (a.id < b.id ? 1 : -1))
    .map((s) => s.id);
}

describe('GET /v1/findings', () => {
  it('pages through 1,200 findings newest first, without duplicates or gaps, while new findings arrive', async () => {
    let arrived = 0;
    const ids = await pageThrough('', 97, async () => {
      // Three new findings start "now" (newer than everything) between every two pages.
      for (let k = 0; k < 3; k++, arrived++) {
        await seedFinding(
          repo,
          { index: 100_000 + arrived, startMinute: T0 + (BASE + 10 + arrived) * MINUTE_MS },
          seedId(arrived, 'live'),
        );
      }
    });
    expect(arrived).toBeGreaterThan(30);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expected(() => true));
    // The new ones are all there for the next reader, newest first.
    const first = (await get('/v1/findings?limit=3')).body as Page;
    expect(first.items.map((i) => i.id)).toEqual([arrived - 1, arrived - 2, arrived - 3].map((n) => seedId(n, 'live')));
  }, 120_000);

  it.each([
    ['state=open', (s: Seeded) => !s.closed],
    ['state=closed', (s: Seeded) => s.closed === true],
    ['insightType=ApiErrorRateInsight', (s: Seeded) => s.errorCode !== undefined],
    ['insightType=ApiCallRateInsight', (s: Seeded) => s.errorCode === undefined],
    ['eventSource=s3.amazonaws.com', (s: Seeded) => s.eventSource === 's3.amazonaws.com'],
    ['eventName=Invoke', (s: Seeded) => s.eventName === 'Invoke'],
    ['errorCode=AccessDenied', (s: Seeded) => s.errorCode === 'AccessDenied'],
    ['accountId=222222222222', (s: Seeded) => s.accountId === '222222222222'],
    ['region=eu-west-1', (s: Seeded) => s.region === 'eu-west-1'],
    [`since=${new Date(T0 + 1000 * MINUTE_MS).toISOString()}`, (s: Seeded) => s.startMinute >= T0 + 1000 * MINUTE_MS],
    [`until=${new Date(T0 + 100 * MINUTE_MS).toISOString()}`, (s: Seeded) => s.startMinute < T0 + 100 * MINUTE_MS],
    [
      `state=closed&region=us-east-1&eventSource=ec2.amazonaws.com&since=${new Date(T0 + 200 * MINUTE_MS).toISOString()}&until=${new Date(T0 + 900 * MINUTE_MS).toISOString()}`,
      (s: Seeded) =>
        s.closed === true &&
        s.region === 'us-east-1' &&
        s.eventSource === 'ec2.amazonaws.com' &&
        s.startMinute >= T0 + 200 * MINUTE_MS &&
        s.startMinute < T0 + 900 * MINUTE_MS,
    ],
  ])(
    'filters %s',
    async (query, keep) => {
      // Seeded findings only (the live ones start after T0 + BASE minutes).
      const q = query.includes('until=') ? query : `${query}&until=${new Date(T0 + BASE * MINUTE_MS).toISOString()}`;
      const want = expected(keep);
      expect(want.length).toBeGreaterThan(0);
      expect(await pageThrough(q, 500)).toEqual(want);
    },
    60_000,
  );

  it('serves a finding, its AWS-layout records and its series', async () => {
    const closed = seeded.find((s) => s.closed)!;
    const one = await get(`/v1/findings/${closed.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: closed.id,
      state: 'closed',
      eventSource: closed.eventSource,
      durationMinutes: 5,
    });

    const records = await get(`/v1/findings/${closed.id}/records`);
    expect(records.status).toBe(200);
    const [start, end] = records.body as InsightRecord[];
    expect([start.insightDetails.state, end.insightDetails.state]).toEqual(['Start', 'End']);
    expect(start.sharedEventID).toBe(closed.id);
    expect(insightRecordErrors(start)).toEqual([]);
    expect(insightRecordErrors(end)).toEqual([]);

    const open = seeded.find((s) => !s.closed)!;
    expect(((await get(`/v1/findings/${open.id}/records`)).body as unknown[]).length).toBe(1);
    await repo.saveSeries(open.id, [
      { minute: open.startMinute - MINUTE_MS, value: 1, expected: 1, lower: 0, upper: 3, baselineAverage: 0.9 },
      { minute: open.startMinute, value: 30, expected: 1, lower: 0, upper: 3, baselineAverage: 0.9 },
    ]);
    const series = await get(`/v1/findings/${open.id}/series`);
    expect(series.status).toBe(200);
    expect(series.body).toMatchObject({
      findingId: open.id,
      points: [
        { minute: new Date(open.startMinute - MINUTE_MS).toISOString(), value: 1 },
        { minute: new Date(open.startMinute).toISOString(), value: 30, upper: 3 },
      ],
      summary: {
        context: { minutes: 1, mean: 1, max: 1 },
        insight: { minutes: 1, mean: 30, max: 30 },
      },
    });
  });

  it('shows a change made by another process on the next request (cached pages are invalidated)', async () => {
    const target = seeded.find((s) => !s.closed && s.index > 1_100)!;
    const before = (await get('/v1/findings?state=open&limit=500')).body as Page;
    expect(before.items.some((i) => i.id === target.id)).toBe(true);
    const { buildEndRecord } = await import('@trailsight/findings');
    const { seedInput } = await import('./support/findings-seed.js');
    await repo.close(
      target.id,
      buildEndRecord({ ...seedInput(target), durationMinutes: 3 }, { sharedEventID: target.id }),
    );
    target.closed = true;
    const after = (await get('/v1/findings?state=open&limit=500')).body as Page;
    expect(after.items.some((i) => i.id === target.id)).toBe(false);
    expect(((await get(`/v1/findings/${target.id}`)).body as { state: string }).state).toBe('closed');
  });
});

describe('PATCH /v1/findings/{id} (triage)', () => {
  async function patch(path: string, body: unknown, key: string = ADMIN_KEY) {
    const response = await fetch(`${url}${path}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('acknowledges a finding with a note, keeps the change with the caller key id, and filters on it', async () => {
    const target = seeded[7];
    const keys = ((await get('/v1/keys', ADMIN_KEY)).body as { items: { id: string; scope: string }[] }).items;
    const adminKeyId = keys.find((k) => k.scope === 'admin')!.id;

    expect((await patch(`/v1/findings/${target.id}`, { triage: 'acknowledged' }, READ_KEY)).status).toBe(403);
    const bad = await patch(`/v1/findings/${target.id}`, { triage: 'done' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.message)).toMatch(/triage must be one of new, acknowledged, resolved/);
    const long = await patch(`/v1/findings/${target.id}`, { triage: 'acknowledged', note: 'x'.repeat(1_001) });
    expect([long.status, JSON.stringify(long.body.message)]).toEqual([
      400,
      expect.stringMatching(/note must be at most/),
    ]);
    expect((await patch('/v1/findings/no-such-finding', { triage: 'acknowledged' })).status).toBe(404);
    // Refused requests changed nothing.
    expect((await get(`/v1/findings/${target.id}`)).body).toMatchObject({ triage: 'new', history: [] });

    const before = Date.now();
    const done = await patch(`/v1/findings/${target.id}`, { triage: 'acknowledged', note: 'release 4.2 rollout' });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      id: target.id,
      triage: 'acknowledged',
      state: target.closed ? 'closed' : 'open',
    });

    const one = (await get(`/v1/findings/${target.id}`)).body as { triage: string; history: { at: string }[] };
    expect(one).toMatchObject({
      triage: 'acknowledged',
      history: [{ from: 'new', to: 'acknowledged', note: 'release 4.2 rollout', keyId: adminKeyId }],
    });
    expect(Date.parse(one.history[0].at)).toBeGreaterThanOrEqual(before - 1_000);

    const acknowledged = (await get('/v1/findings?triage=acknowledged')).body as Page;
    expect(acknowledged.items.map((i) => i.id)).toEqual([target.id]);
    const fresh = (await get('/v1/findings?triage=new&limit=500')).body as Page;
    expect(fresh.items.some((i) => i.id === target.id)).toBe(false);
    expect(fresh.items).toHaveLength(500);
    expect((await get('/v1/findings?triage=maybe')).status).toBe(400);
  });
});

describe('/v1/tuning', () => {
  async function send(method: string, path: string, body?: unknown, key: string = ADMIN_KEY) {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  }

  it('creates, lists, changes and removes an override, audited with key id, refusing bad values by name', async () => {
    const scope = { eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances', accountId: '111111111111' };
    const bad = await send('POST', '/v1/tuning', {
      scope: { ...scope, region: 'Mars' },
      settings: { sensitivity: 11, foo: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toEqual([
      expect.stringMatching(/^scope.region must look like an AWS region/),
      'settings.sensitivity must be a number from 1 to 10, got 11',
      expect.stringMatching(/^settings: unknown setting "foo"/),
    ]);
    expect((await send('POST', '/v1/tuning', { scope, settings: {} })).status).toBe(400);
    expect((await send('POST', '/v1/tuning', { scope, settings: { sensitivity: 3 } }, READ_KEY)).status).toBe(403);
    expect((await send('GET', '/v1/tuning', undefined, READ_KEY)).body).toEqual({ items: [], boot: [] });

    const created = await send('POST', '/v1/tuning', { scope, settings: { sensitivity: 3 }, note: 'batch fleet' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({
      scope: { accountId: '111111111111', eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' },
      settings: { sensitivity: 3 },
    });
    expect((await send('POST', '/v1/tuning', { scope, settings: { minVolume: 1 } })).status).toBe(409);
    expect((await send('PUT', `/v1/tuning/${id}`, { settings: { drops: 'no' } })).body.message).toEqual([
      'settings.drops must be true or false, got "no"',
    ]);
    expect((await send('PUT', `/v1/tuning/${id}`, { settings: { sensitivity: 2, drops: false } })).status).toBe(200);
    expect((await send('GET', `/v1/tuning/${id}`, undefined, READ_KEY)).body).toMatchObject({
      settings: { sensitivity: 2, drops: false },
    });
    expect((await send('DELETE', `/v1/tuning/${id}`)).status).toBe(204);
    expect((await send('DELETE', `/v1/tuning/${id}`)).status).toBe(404);

    const keys = ((await get('/v1/keys', ADMIN_KEY)).body as { items: { id: string; scope: string }[] }).items;
    const adminKeyId = keys.find((k) => k.scope === 'admin')!.id;
    const history = (await send('GET', '/v1/tuning/history', undefined, READ_KEY)).body.items as {
      action: string;
      keyId: string;
      before: { settings: unknown } | null;
      after: { settings: unknown } | null;
    }[];
    expect(history.map((h) => [h.action, h.keyId, h.before?.settings ?? null, h.after?.settings ?? null])).toEqual([
      ['delete', adminKeyId, { sensitivity: 2, drops: false }, null],
      ['update', adminKeyId, { sensitivity: 3 }, { sensitivity: 2, drops: false }],
      ['create', adminKeyId, null, { sensitivity: 3 }],
    ]);
  });
});

describe('GET /v1/apis', () => {
  it('lists tracked series with their current rate and baseline', async () => {
    const counters = new CounterRepository(client, new KeySpace(PREFIX), {
      counterRetentionMinutes: 8 * 24 * 60,
      dedupeWindowMinutes: 60,
    });
    const source = { accountId: '333333333333', region: 'us-east-1' };
    const now = Date.now();
    const lastClosed = now - (now % MINUTE_MS) - MINUTE_MS;
    const events = [];
    // 10 minutes of 2 RunInstances per minute, then 9 in the last closed minute, 4 of them AccessDenied.
    for (let m = 10; m >= 1; m--) {
      for (let k = 0; k < 2; k++) events.push(slim(`b-${m}-${k}`, lastClosed - m * MINUTE_MS));
    }
    for (let k = 0; k < 9; k++) events.push(slim(`c-${k}`, lastClosed + 1_000, k < 4 ? 'AccessDenied' : undefined));
    await counters.countBatches(source, [{ id: 'apis-e2e', events }]);
    await client.sadd(new KeySpace(PREFIX).sources(), `${source.accountId}:${source.region}`);

    const { status, body } = await get('/v1/apis?accountId=333333333333&windowMinutes=10');
    expect(status).toBe(200);
    const items = (body as { items: Record<string, unknown>[] }).items;
    expect(items).toEqual([
      expect.objectContaining({
        insightType: 'ApiCallRateInsight',
        eventSource: 'ec2.amazonaws.com',
        eventName: 'RunInstances',
        currentRate: 9,
        baselineAverage: 2,
        currentMinute: new Date(lastClosed).toISOString(),
      }),
      expect.objectContaining({
        insightType: 'ApiErrorRateInsight',
        errorCode: 'AccessDenied',
        currentRate: 4,
        baselineAverage: 0,
      }),
    ]);
  });
});

function slim(eventId: string, eventTimeMs: number, errorCode?: string) {
  return {
    eventId,
    eventTimeMs,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    readOnly: false,
    identity: 'arn:aws:iam::333333333333:user/bob',
    userAgent: 'aws-cli/2',
    ...(errorCode ? { errorCode } : {}),
  };
}

describe('auth', () => {
  const someId = () => seeded[0].id;
  const routes = () => [
    '/v1/findings',
    `/v1/findings/${someId()}`,
    `/v1/findings/${someId()}/records`,
    `/v1/findings/${someId()}/series`,
    '/v1/apis',
    '/v1/reference-insights',
    '/metrics',
  ];

  it('refuses every /v1 route and /metrics without a key or with an unknown key (401)', async () => {
    for (const path of routes()) {
      for (const key of [null, 'not-a-key-of-this-deployment']) {
        const { status, body, headers } = await get(path, key);
        expect([path, status]).toEqual([path, 401]);
        expect(body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
        expect(headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
  });

  it('accepts a read key as Bearer or X-Api-Key, and an admin key, on every read route', async () => {
    for (const path of routes()) {
      expect([path, (await get(path, READ_KEY)).status]).toEqual([path, 200]);
      expect([path, (await get(path, null, { 'x-api-key': READ_KEY })).status]).toEqual([path, 200]);
      expect([path, (await get(path, ADMIN_KEY)).status]).toEqual([path, 200]);
    }
  });

  it('refuses an admin route to a read key (403); /health details need a key', async () => {
    const post = (key: string) =>
      fetch(`${url}/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ scope: 'read' }),
      });
    const forbidden = await post(READ_KEY);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({
      statusCode: 403,
      message: expect.stringMatching(/admin/),
      error: 'Forbidden',
    });
    // Keys come from API_KEYS here: an admin may not add or revoke one at runtime, only list them.
    expect((await post(ADMIN_KEY)).status).toBe(409);
    const revoke = await fetch(`${url}/v1/keys/0123456789ab`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(revoke.status).toBe(409);
    const listed = await get('/v1/keys', ADMIN_KEY);
    expect(listed.status).toBe(200);
    expect((listed.body as { items: { scope: string; source: string }[] }).items).toEqual([
      expect.objectContaining({ scope: 'admin', source: 'config' }),
      expect.objectContaining({ scope: 'read', source: 'config' }),
    ]);
    expect(listed.text).not.toContain(ADMIN_KEY);
    expect((await get('/v1/keys', READ_KEY)).status).toBe(403);
    expect((await get('/health', null)).status).toBe(401);
    const health = await get('/health', READ_KEY);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', details: { redis: { status: 'up' }, queues: { status: 'up' } } });
  });

  it('tells any key its own id and scope at /v1/keys/self; without a key it is 401', async () => {
    const keys = (await get('/v1/keys', ADMIN_KEY)).body as { items: { id: string; scope: string }[] };
    const idOf = (scope: string) => keys.items.find((k) => k.scope === scope)!.id;
    const read = await get('/v1/keys/self', READ_KEY);
    expect([read.status, read.body]).toEqual([200, { id: idOf('read'), scope: 'read' }]);
    const admin = await get('/v1/keys/self', null, { 'x-api-key': ADMIN_KEY });
    expect([admin.status, admin.body]).toEqual([200, { id: idOf('admin'), scope: 'admin' }]);
    expect(read.text).not.toContain(READ_KEY);
    expect((await get('/v1/keys/self', null)).status).toBe(401);
  });

  it('answers /health/live and /health/ready without a key, with up or down only', async () => {
    for (const path of ['/health/live', '/health/ready']) {
      const { status, body } = await get(path, null);
      expect([path, status, body]).toEqual([path, 200, { status: 'up' }]);
    }
  });

  it('sends security headers on every answer, the Swagger console included', async () => {
    for (const [path, key] of [
      ['/v1/findings?limit=1', READ_KEY],
      ['/health/live', null],
      ['/docs', null],
      ['/v1/nothing', null],
      ['/v1/findings', null], // 401
      ['/v1/findings?limit=nope', READ_KEY], // 400
    ] as const) {
      const { headers } = await get(path, key);
      expect([path, headers.get('strict-transport-security')]).toEqual([path, null]);
      expect(headers.get('content-security-policy')).not.toMatch(/upgrade-insecure-requests/);
      expect([path, headers.get('x-content-type-options')]).toEqual([path, 'nosniff']);
      expect(headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
      expect(headers.get('x-frame-options')).toBe('DENY');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
    }
    // The console does not keep the key it is given in the browser's localStorage.
    const init = await get('/docs/swagger-ui-init.js', null);
    expect(init.status).toBe(200);
    expect(init.text).toMatch(/"persistAuthorization": false/);
  });

  it('refuses an address that presents too many unknown keys (429, Retry-After); keys it knows still pass', async () => {
    // A replica of its own, so the address budget spent here does not touch the other tests.
    const app = startApp('api', {
      PORT: String(await freePort()),
      REDIS_URL: redis.url,
      REDIS_PREFIX: PREFIX,
      API_KEYS: `${ADMIN_KEY},${READ_KEY}:read`,
      API_RATE_LIMIT: '1000000',
      API_AUTH_FAILURE_LIMIT: '10',
    });
    extra.push(app);
    await app.healthy();
    const on = (key: string) =>
      fetch(`http://127.0.0.1:${app.port}/v1/findings?limit=1`, { headers: { authorization: `Bearer ${key}` } });
    expect((await on(READ_KEY)).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await on(`guess-${i}-0123456789abcdef`)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(20).fill(429));
    const refused = await on('guess-again-0123456789abcdef');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ statusCode: 429, message: expect.stringMatching(/unknown API keys/) });
    // A key this process knows still works from the same address.
    expect((await on(READ_KEY)).status).toBe(200);
    const metrics = await fetch(`http://127.0.0.1:${app.port}/metrics`, { headers: { 'x-api-key': READ_KEY } });
    expect(await metrics.text()).toMatch(/trailsight_api_requests_refused_total\{reason="address_limited"\} 21/);
  });
});

describe('errors', () => {
  it.each([
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['state=opened', 'state'],
    ['insightType=Spike', 'insightType'],
    ['accountId=12345', 'accountId'],
    ['region=moon', 'region'],
    ['since=yesterday', 'since'],
    ['until=2025-13-45', 'until'],
    ['since=2025-03-02T00:00:00Z&until=2025-03-01T00:00:00Z', 'since'],
    ['eventSource=ec2%20amazonaws', 'eventSource'],
    ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ['color=blue', 'color'],
  ])('400 for %s names %s', async (query, field) => {
    const { status, body, text } = await get(`/v1/findings?${query}`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(JSON.stringify((body as { message: unknown }).message)).toContain(field);
    expect(text).not.toMatch(/\bat .+\.js:\d+/);
  });

  it('400 for a malformed id and 404 for an unknown one, on every finding route', async () => {
    for (const suffix of ['', '/records', '/series']) {
      const bad = await get(`/v1/findings/not%20an%20id${suffix}`);
      expect([suffix, bad.status]).toEqual([suffix, 400]);
      expect(JSON.stringify(bad.body)).toContain('id must be');
      const missing = await get(`/v1/findings/${seedId(999_999, 'none')}${suffix}`);
      expect([suffix, missing.status]).toEqual([suffix, 404]);
      expect(missing.body).toEqual({
        statusCode: 404,
        message: expect.stringContaining('not found'),
        error: 'Not Found',
      });
    }
    expect((await get('/v1/nothing-here')).status).toBe(404);
    expect((await get('/v1/apis?windowMinutes=2')).status).toBe(400);
  });
});

describe('keys and rate limits without API_KEYS (two replicas, one Redis)', () => {
  let keyDir: string;
  beforeAll(() => {
    keyDir = mkdtempSync(join(tmpdir(), 'trailsight-keys-'));
  });
  afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

  it(
    'writes one admin key to ADMIN_KEY_FILE (0600, never in the log), which both replicas accept; limits hold across them (429, Retry-After)',
    async () => {
      const keyFile = join(keyDir, 'admin-key');
      const env = async () => ({
        PORT: String(await freePort()),
        REDIS_URL: redis.url,
        REDIS_PREFIX: 'boot',
        API_RATE_LIMIT: '5',
        API_RATE_WINDOW_SECONDS: '60',
        ADMIN_KEY_FILE: keyFile,
      });
      // Both replicas start at once: exactly one creates the key.
      const [first, second] = [startApp('api', await env()), startApp('api', await env())];
      extra.push(first, second);
      await Promise.all([first.healthy(), second.healthy()]);

      const key = readFileSync(keyFile, 'utf8').trim();
      expect(key).toMatch(/^tsk_[A-Za-z0-9_-]{43}$/);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(readdirSync(keyDir)).toEqual(['admin-key']);
      for (const app of [first, second]) {
        expect(app.output()).not.toMatch(/tsk_/);
        expect(app.output()).not.toContain(key);
      }
      expect(`${first.output()}${second.output()}`).toContain(keyFile);
      // Only its hash is stored, with the marker, in one step.
      expect(JSON.stringify(await client.hgetall('boot:{auth}:keys'))).not.toContain(key);
      expect(await client.hlen('boot:{auth}:keys')).toBe(1);
      expect(await client.exists('boot:{auth}:bootstrapped')).toBe(1);

      const on = (app: AppProcess, k = key) =>
        fetch(`http://127.0.0.1:${app.port}/v1/findings?limit=1`, { headers: { 'x-api-key': k } });
      // Created through the API by the admin key: a read key, accepted by the other replica.
      const created = await fetch(`http://127.0.0.1:${first.port}/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ scope: 'read' }),
      });
      expect(created.status).toBe(201);
      const readKey = ((await created.json()) as { key: string }).key;

      const statuses = [];
      for (const app of [first, first, second, second]) statuses.push((await on(app)).status);
      expect(statuses).toEqual([200, 200, 200, 200]); // plus the POST: 5 of 5 used
      const limited = await on(second);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(await limited.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      expect((await on(first)).status).toBe(429);
      // Per key: the read key has its own budget, on either replica.
      expect((await on(second, readKey)).status).toBe(200);
      const metrics = await fetch(`http://127.0.0.1:${second.port}/metrics`, { headers: { 'x-api-key': readKey } });
      expect(await metrics.text()).toMatch(/trailsight_api_requests_refused_total\{reason="rate_limited"\} 1/);
    },
    BOOT_TIMEOUT_MS,
  );

  it(
    'lists keys without their values and revokes one on every replica within a second',
    async () => {
      const env = async () => ({
        PORT: String(await freePort()),
        REDIS_URL: redis.url,
        REDIS_PREFIX: 'revoke',
        API_RATE_LIMIT: '0',
        ADMIN_KEY_FILE: join(keyDir, 'revoke-admin-key'),
      });
      const first = startApp('api', await env());
      extra.push(first);
      await first.healthy();
      const second = startApp('api', await env());
      extra.push(second);
      await second.healthy();
      const admin = readFileSync(join(keyDir, 'revoke-admin-key'), 'utf8').trim();
      const call = (app: AppProcess, path: string, key: string, method = 'GET', body?: string) =>
        fetch(`http://127.0.0.1:${app.port}${path}`, {
          method,
          headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body,
        });
      const created = (await (await call(first, '/v1/keys', admin, 'POST', '{"scope":"read"}')).json()) as {
        id: string;
        key: string;
      };
      // The second replica has it in its cache now.
      expect((await call(second, '/v1/findings?limit=1', created.key)).status).toBe(200);

      const list = await call(second, '/v1/keys', admin);
      expect(list.status).toBe(200);
      const text = await list.text();
      const items = (JSON.parse(text) as { items: Record<string, string>[] }).items;
      expect(items.map((k) => k.scope)).toEqual(['admin', 'read']);
      expect(items[1]).toMatchObject({ id: created.id, source: 'redis', createdAt: expect.any(String) });
      expect(items[1].lastUsedAt).toEqual(expect.any(String));
      const stored = Object.keys(await client.hgetall('revoke:{auth}:keys'));
      for (const secret of [admin, created.key, ...stored]) expect(text).not.toContain(secret);

      expect((await call(first, `/v1/keys/${created.id}`, admin, 'DELETE')).status).toBe(204);
      const revokedAt = Date.now();
      let refusedAfterMs = -1;
      while (Date.now() - revokedAt < 5_000) {
        if ((await call(second, '/v1/findings?limit=1', created.key)).status === 401) {
          refusedAfterMs = Date.now() - revokedAt;
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(refusedAfterMs).toBeGreaterThanOrEqual(0);
      expect(refusedAfterMs).toBeLessThan(1_000);
      expect((await call(first, '/v1/findings?limit=1', created.key)).status).toBe(401);
      expect((await call(first, `/v1/keys/${created.id}`, admin, 'DELETE')).status).toBe(404);
      expect((await call(first, '/v1/keys/not-an-id', admin, 'DELETE')).status).toBe(400);
      expect((await call(second, '/v1/findings?limit=1', admin)).status).toBe(200);
    },
    BOOT_TIMEOUT_MS,
  );
});

describe('operations', () => {
  it('GET /metrics is Prometheus text with open insights, ingest and queue figures', async () => {
    const { status, headers, text } = await get('/metrics');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const open = await repo.count('open');
    expect(text).toContain(`trailsight_insights_open ${open}\n`);
    expect(text).toMatch(/# TYPE trailsight_events_ingested_total counter/);
    expect(text).toMatch(/trailsight_queue_jobs\{queue="events",state="waiting"\} \d+/);
    // Blank lines between families are allowed (and ignored) by the format.
    for (const line of text
      .trim()
      .split('\n')
      .filter((line) => line !== '')) {
      expect(line).toMatch(
        /^(# (HELP|TYPE) [a-z_:][a-z0-9_:]* .+|[a-z_:][a-z0-9_:]*(\{[^}]*\})? (-?[0-9.e+-]+|NaN|[+-]Inf))$/,
      );
    }
  });

  it('reports evaluation lag per account-region in /health and /metrics, down when stalled past EVALUATION_MAX_LAG_SECONDS', async () => {
    const keys = new KeySpace(PREFIX);
    const checkpoints = new CheckpointRepository(client, keys);
    const evaluations = new EvaluationRepository(client, keys, 10_080);
    const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
    const current = { accountId: '333333333333', region: 'us-east-1' };
    const backfilling = { accountId: '333333333333', region: 'eu-west-1' };
    const checkpoint = (backfillDone: boolean) => ({
      liveUntil: now,
      backfillFrom: now - 60 * MINUTE_MS,
      backfillUntil: now - 60 * MINUTE_MS,
      backfillCursor: now - 60 * MINUTE_MS,
      backfillDone,
    });
    await checkpoints.registerSources([current, backfilling]);
    await checkpoints.loadOrCreate(current, checkpoint(true));
    await checkpoints.loadOrCreate(backfilling, checkpoint(false));
    // Evaluated through the minute that ended 2 minutes ago: 120 s behind.
    const cursor = now - 3 * MINUTE_MS;
    await evaluations.saveCursor(current, { historyStart: now - 60 * MINUTE_MS, cursor, snapshotMinute: cursor });
    try {
      const health = await get('/health');
      expect(health.status).toBe(200);
      const evaluator = (health.body as { details: Record<string, Record<string, unknown>> }).details.evaluator;
      expect(evaluator).toMatchObject({ status: 'up', sources: 2, evaluating: 1, backfilling: 1 });
      expect(evaluator.maxLagSeconds).toBeGreaterThanOrEqual(120);
      expect(evaluator.maxLagSeconds).toBeLessThan(200);
      const { text } = await get('/metrics');
      const lag = /trailsight_evaluation_lag_seconds\{account="333333333333",region="us-east-1"\} (\d+)/.exec(text);
      expect(Number(lag?.[1])).toBeGreaterThanOrEqual(120);
      expect(text).toContain('trailsight_evaluation_sources{state="backfilling"} 1\n');
      expect(text).toMatch(/trailsight_webhook_delivery_attempts_total\{outcome="failed"\} \d+/);

      // Two hours behind but advancing (a catch-up after an outage): still up.
      const behind = now - 121 * MINUTE_MS;
      const far = { historyStart: now - 180 * MINUTE_MS, cursor: behind, snapshotMinute: behind };
      await evaluations.saveCursor(current, far);
      const catchingUp = await get('/health');
      expect(catchingUp.status).toBe(200);
      expect(catchingUp.body).toMatchObject({ details: { evaluator: { status: 'up', catchingUp: 1 } } });
      // Two hours behind and not saved for ten minutes: stalled, down.
      await evaluations.saveCursor(current, far, Date.now() - 10 * MINUTE_MS);
      const down = await get('/health');
      expect(down.status).toBe(503);
      expect(JSON.stringify(down.body)).toMatch(
        /evaluation is more than 1800 s behind and not advancing for 333333333333:us-east-1/,
      );
      expect((await get('/metrics')).text).toContain('trailsight_evaluation_sources{state="stalled"} 1\n');
    } finally {
      await client.del(keys.evaluation(current), keys.checkpoint(current), keys.checkpoint(backfilling));
      await client.srem(keys.sources(), '333333333333:us-east-1', '333333333333:eu-west-1');
    }
  });

  it('/docs-json is a valid OpenAPI 3 document listing every route, with the auth schemes', async () => {
    const { status, body } = await get('/docs-json', null);
    expect(status).toBe(200);
    const result = await new Validator().validate(body as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const doc = body as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[]; parameters?: { name: string }[] }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/v1/findings',
      '/v1/findings/{id}',
      '/v1/findings/{id}/records',
      '/v1/findings/{id}/series',
      '/v1/apis',
      '/health',
      '/health/live',
      '/health/ready',
      '/metrics',
      '/v1/keys',
      '/v1/suppressions',
      '/v1/suppressions/{id}',
      '/v1/maintenance-windows',
      '/v1/maintenance-windows/{id}',
      '/v1/tuning',
      '/v1/tuning/history',
    ]) {
      expect(doc.paths[path]?.get).toBeDefined();
    }
    expect(doc.paths['/v1/suppressions/preview']?.post).toBeDefined();
    expect(doc.components.securitySchemes).toMatchObject({ 'api-key': { type: 'http', scheme: 'bearer' } });
    expect(doc.paths['/v1/findings'].get.security).toEqual(expect.arrayContaining([{ 'api-key': [] }]));
    expect(doc.paths['/v1/findings'].get.parameters?.map((p) => p.name).sort()).toEqual(
      [
        'accountId',
        'cursor',
        'errorCode',
        'eventName',
        'eventSource',
        'insightType',
        'limit',
        'region',
        'since',
        'state',
        'suppressed',
        'triage',
        'until',
      ].sort(),
    );
  });

  it('/docs-json shows each error status with an example of its own', async () => {
    const { body } = await get('/docs-json', null);
    type Responses = Record<string, { content?: Record<string, { example?: { statusCode?: number } }> }>;
    const doc = body as { paths: Record<string, Record<string, { responses: Responses }>> };
    const problems: string[] = [];
    let guarded = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (!['401', '403', '404', '409', '429'].includes(status)) continue;
          const example = response.content?.['application/json']?.example;
          if (status === '401') guarded++;
          // A guarded route must show what its 401, 403 and 429 look like; any example shown must be its own.
          if (example === undefined && ['401', '403', '429'].includes(status))
            problems.push(`${method} ${path} ${status}: no example`);
          if (example !== undefined && example.statusCode !== Number(status))
            problems.push(`${method} ${path} ${status}: example is a ${example.statusCode}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(guarded).toBeGreaterThan(20);
  });
});
