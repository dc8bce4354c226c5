import { createHash } from 'node:crypto';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AuthModule, CoreModule, loadConfig, RedisService, useJsonBodies } from '@trailsight/core';
import { DAY_MS, MINUTE_MS } from '@trailsight/domain';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { FindingsApiModule } from '../api/findings-api.module.js';
import { newFinding, type NewFinding } from '../findings/finding.js';
import { FindingsRepository } from '../findings/findings.repository.js';
import { buildStartRecord, newInsightId, type InsightInput } from '../records/insight-record.builder.js';
import { SuppressionEvaluator } from './suppression.evaluator.js';
import { SuppressionsRepository } from './suppressions.repository.js';

/** Suppression rules and maintenance windows over HTTP and in the evaluator's path, on a real Redis. */
const ADMIN = 'admin-key-suppressions-0123';
const READER = 'read-key-suppressions-0123';
const ADMIN_ID = createHash('sha256').update(ADMIN).digest('hex').slice(0, 12);
const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;

const DEPLOY_BOT = 'arn:aws:sts::123456789012:assumed-role/deploy-bot/release-7';
const base: InsightInput = {
  accountId: '123456789012',
  region: 'us-east-1',
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  insightType: 'ApiCallRateInsight',
  startMinute: now - 2 * 60 * MINUTE_MS,
  durationMinutes: 1,
  insightAverage: 40,
  baselineAverage: 0.5,
  baselineDurationMinutes: 10080,
  attributions: {
    userIdentityArn: [
      { value: DEPLOY_BOT, insightAverage: 35, baselineAverage: 0.1 },
      { value: 'arn:aws:iam::123456789012:user/alice', insightAverage: 5, baselineAverage: 0.4 },
    ],
  },
};

function make(over: Partial<InsightInput> = {}): NewFinding {
  const input = { ...base, ...over };
  return newFinding(input, buildStartRecord(input, { sharedEventID: newInsightId() }), {
    direction: 'spike',
    peakScore: 9,
  });
}

/** What the routes answer, loosely: the tests check the fields. */
interface Answer {
  id: string;
  items: { id: string; suppressedBy?: string[] }[];
  suppressedBy?: string[];
  [field: string]: unknown;
}

let redis: ThrowawayRedis;
let app: NestFastifyApplication;
let base_url: string;
let findings: FindingsRepository;
let repository: SuppressionsRepository;

async function call(method: string, path: string, body?: unknown, key: string | null = ADMIN) {
  const response = await fetch(`${base_url}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  // Bodies are checked field by field; their shape is what is under test.
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Answer };
}

beforeAll(async () => {
  redis = await startRedis();
  const config = loadConfig({
    REDIS_URL: redis.url,
    REDIS_PREFIX: 'supp',
    LOG_LEVEL: 'error',
    API_KEYS: `${ADMIN}:admin,${READER}:read`,
  });
  const moduleRef = await Test.createTestingModule({
    imports: [CoreModule.forRoot({ config }), AuthModule, FindingsApiModule],
  }).compile();
  app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: ['error'],
    bodyParser: false,
  });
  useJsonBodies(app);
  await app.listen(0, '127.0.0.1');
  base_url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const service = app.get(RedisService);
  findings = app.get(FindingsRepository);
  repository = new SuppressionsRepository(service.client, service.keys);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await redis?.stop();
});

describe('/v1/suppressions', () => {
  it('needs admin to write and read to list', async () => {
    const body = { match: { eventName: 'Run*' }, reason: 'r' };
    expect((await call('POST', '/v1/suppressions', body, null)).status).toBe(401);
    expect((await call('POST', '/v1/suppressions', body, READER)).status).toBe(403);
    expect((await call('GET', '/v1/suppressions', undefined, READER)).status).toBe(200);
  });

  it('creates, gets, replaces, lists and deletes a rule, recording who and when', async () => {
    const created = await call('POST', '/v1/suppressions', {
      match: {
        eventSource: 'ec2.amazonaws.com',
        eventName: 'Run*',
        userIdentityArn: 'arn:aws:sts::*:assumed-role/deploy-bot/*',
      },
      reason: 'deploy-bot launches on every release',
      expiresAt: new Date(now + DAY_MS).toISOString(),
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      reason: 'deploy-bot launches on every release',
      createdBy: ADMIN_ID,
      expired: false,
      expiresAt: new Date(now + DAY_MS).toISOString(),
    });
    expect(Date.parse(String(created.body.createdAt))).toBeGreaterThan(now - MINUTE_MS);
    const id = created.body.id;

    expect((await call('GET', `/v1/suppressions/${id}`, undefined, READER)).body).toEqual(created.body);
    const replaced = await call('PUT', `/v1/suppressions/${id}`, {
      match: { eventName: 'Terminate*' },
      reason: 'changed',
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      match: { eventName: 'Terminate*' },
      reason: 'changed',
      createdBy: ADMIN_ID,
      updatedBy: ADMIN_ID,
    });
    expect(replaced.body.expiresAt).toBeUndefined();
    expect((await call('GET', '/v1/suppressions')).body.items.map((r) => r.id)).toContain(id);
    expect((await call('DELETE', `/v1/suppressions/${id}`)).status).toBe(204);
    expect((await call('GET', `/v1/suppressions/${id}`)).status).toBe(404);
    expect((await call('DELETE', `/v1/suppressions/${id}`)).status).toBe(404);
  });

  it('answers 400 naming the field of a bad pattern, expiry or match', async () => {
    const bad = async (body: unknown) => {
      const response = await call('POST', '/v1/suppressions', body);
      expect(response.status).toBe(400);
      return JSON.stringify(response.body);
    };
    expect(await bad({ match: { eventName: 'Run Instances' }, reason: 'r' })).toContain('match.eventName');
    expect(await bad({ match: { userAgent: 'a\u0007' }, reason: 'r' })).toContain('match.userAgent');
    expect(await bad({ match: { direction: 'sideways' }, reason: 'r' })).toContain('match.direction');
    expect(await bad({ match: {}, reason: 'r' })).toContain('match must name at least one field');
    expect(await bad({ match: { eventName: 'X' }, reason: 'r', expiresAt: '2020-01-01T00:00:00Z' })).toContain(
      'expiresAt',
    );
    expect(await bad({ match: { eventName: 'X' }, reason: 'r', expiresAt: 'soon' })).toContain('expiresAt');
    expect(await bad({ match: { eventName: 'X' } })).toContain('reason');
    expect((await call('GET', '/v1/suppressions')).body.items).toEqual([]);
  });

  it('previews which stored findings of the last N days a draft matches, saving nothing', async () => {
    const recent = make();
    const old = make({ startMinute: now - 10 * DAY_MS });
    const other = make({ eventName: 'StopInstances' });
    const byAlice = make({
      attributions: {
        userIdentityArn: [{ value: 'arn:aws:iam::123456789012:user/alice', insightAverage: 9, baselineAverage: 0 }],
      },
    });
    for (const f of [recent, old, other, byAlice]) await findings.open(f);
    const draft = { match: { eventName: 'Run*', userIdentityArn: 'arn:aws:sts::*:assumed-role/deploy-bot/*' } };

    const week = await call('POST', '/v1/suppressions/preview', { ...draft, days: 7 }, READER);
    expect(week.status).toBe(200);
    expect(week.body).toMatchObject({ days: 7, examined: 3, matched: 1, truncated: false });
    expect(week.body.items.map((f) => f.id)).toEqual([recent.id]);
    const month = await call('POST', '/v1/suppressions/preview', draft, READER);
    expect(month.body).toMatchObject({ days: 30, examined: 4, matched: 2 });
    // alice never called RunInstances in the baseline: the one finding with a new actor.
    const newActor = async (kind: string) =>
      (await call('POST', '/v1/suppressions/preview', { match: { newActor: kind } }, READER)).body;
    expect(await newActor('identity')).toMatchObject({ examined: 4, matched: 1 });
    expect((await newActor('any')).items.map((f) => f.id)).toEqual([byAlice.id]);
    expect(await newActor('userAgent')).toMatchObject({ matched: 0 });
    expect((await newActor('none')).items.map((f) => f.id).sort()).toEqual([recent.id, old.id, other.id].sort());
    const badKind = await call('POST', '/v1/suppressions/preview', { match: { newActor: 'new' } });
    expect([badKind.status, badKind.body.message]).toEqual([
      400,
      ['match.newActor must be one of any, identity, userAgent, none'],
    ]);
    expect((await call('POST', '/v1/suppressions/preview', { match: { region: 'US' } })).status).toBe(400);
    expect((await call('POST', '/v1/suppressions/preview', { ...draft, days: 0 })).status).toBe(400);
    expect((await call('GET', '/v1/suppressions')).body.items).toEqual([]);
  });
});

describe('/v1/maintenance-windows', () => {
  it('creates one-off, RRULE and cron windows and says whether each is open now', async () => {
    const oneOff = await call('POST', '/v1/maintenance-windows', {
      reason: 'migration',
      match: { region: 'us-east-1' },
      from: new Date(now - MINUTE_MS).toISOString(),
      to: new Date(now + 60 * MINUTE_MS).toISOString(),
    });
    expect(oneOff.status).toBe(201);
    expect(oneOff.body).toMatchObject({ openNow: true, createdBy: ADMIN_ID, match: { region: 'us-east-1' } });
    const rrule = await call('POST', '/v1/maintenance-windows', {
      reason: 'patching',
      rrule: 'FREQ=WEEKLY;BYDAY=SA;BYHOUR=2;BYMINUTE=0;BYSECOND=0',
      durationMinutes: 120,
      timeZone: 'Europe/Paris',
    });
    expect(rrule.status).toBe(201);
    expect(rrule.body.match).toEqual({});
    const cron = await call('POST', '/v1/maintenance-windows', {
      reason: 'nightly',
      cron: '30 1 * * *',
      durationMinutes: 30,
      timeZone: 'America/New_York',
    });
    expect(cron.status).toBe(201);
    const listed = await call('GET', '/v1/maintenance-windows', undefined, READER);
    expect(listed.body.items.map((w) => w.id)).toEqual([oneOff.body.id, rrule.body.id, cron.body.id]);
    for (const w of [oneOff, rrule, cron])
      expect((await call('DELETE', `/v1/maintenance-windows/${w.body.id}`)).status).toBe(204);
  });

  it('answers 400 naming a bad RRULE, cron, time zone or period', async () => {
    const bad = async (body: object) => {
      const response = await call('POST', '/v1/maintenance-windows', { reason: 'r', ...body });
      expect(response.status).toBe(400);
      return JSON.stringify(response.body);
    };
    expect(await bad({ rrule: 'FREQ=SOMETIMES', durationMinutes: 60, timeZone: 'UTC' })).toContain('rrule');
    expect(await bad({ cron: '61 * * * *', durationMinutes: 60, timeZone: 'UTC' })).toContain('cron');
    expect(await bad({ cron: '0 2 * * *', durationMinutes: 60, timeZone: 'Europe/Atlantis' })).toContain('timeZone');
    expect(await bad({ cron: '0 2 * * *', timeZone: 'UTC' })).toContain('durationMinutes');
    expect(await bad({ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' })).toContain('to must be later');
    expect(
      await bad({ from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', match: { eventSource: 'a b' } }),
    ).toContain('match.eventSource');
    expect((await call('GET', '/v1/maintenance-windows')).body.items).toEqual([]);
  });
});

describe('muting new findings', () => {
  it('stores what matched, hides muted findings from lists unless asked, and keeps them muted after a delete', async () => {
    const evaluator = new SuppressionEvaluator(repository, 0);
    const rule = await call('POST', '/v1/suppressions', {
      match: { eventName: 'Run*', userIdentityArn: 'arn:aws:sts::*:assumed-role/deploy-bot/*' },
      reason: 'releases',
    });
    const window = await call('POST', '/v1/maintenance-windows', {
      reason: 'maintenance',
      match: { eventSource: 's3.amazonaws.com' },
      from: new Date(now - 30 * MINUTE_MS).toISOString(),
      to: new Date(now + 30 * MINUTE_MS).toISOString(),
    });

    const muted = make({ startMinute: now - 5 * MINUTE_MS });
    const inWindow = make({
      eventSource: 's3.amazonaws.com',
      eventName: 'PutObject',
      startMinute: now - 5 * MINUTE_MS,
    });
    const beforeWindow = make({
      eventSource: 's3.amazonaws.com',
      eventName: 'PutObject',
      startMinute: now - 40 * MINUTE_MS,
    });
    const loud = make({ eventName: 'StopInstances', startMinute: now - 5 * MINUTE_MS });
    for (const f of [muted, inWindow, beforeWindow, loud]) {
      const suppressedBy = await evaluator.suppressedBy(f, Date.parse(f.startTime));
      await findings.open(suppressedBy.length > 0 ? { ...f, suppressedBy } : f);
    }
    expect(await findings.suppressedBy(muted.id)).toEqual([rule.body.id]);
    expect(await findings.suppressedBy(inWindow.id)).toEqual([window.body.id]);
    expect(await findings.suppressedBy(beforeWindow.id)).toEqual([]);
    expect(await findings.suppressedBy(loud.id)).toEqual([]);
    expect(await findings.countSuppressed()).toBe(2);

    const since = new Date(now - 60 * MINUTE_MS).toISOString();
    const ids = async (query: string) =>
      (await call('GET', `/v1/findings?since=${since}${query}`, undefined, READER)).body.items
        .map((f: { id: string }) => f.id)
        .sort();
    expect(await ids('')).toEqual([beforeWindow.id, loud.id].sort());
    expect(await ids('&suppressed=only')).toEqual([muted.id, inWindow.id].sort());
    expect(await ids('&suppressed=include')).toEqual([muted.id, inWindow.id, beforeWindow.id, loud.id].sort());
    expect((await call('GET', '/v1/findings?suppressed=maybe', undefined, READER)).status).toBe(400);
    expect((await call('GET', `/v1/findings/${muted.id}`, undefined, READER)).body.suppressedBy).toEqual([
      rule.body.id,
    ]);

    expect((await call('DELETE', `/v1/suppressions/${rule.body.id}`)).status).toBe(204);
    expect((await call('GET', `/v1/findings/${muted.id}`, undefined, READER)).body.suppressedBy).toEqual([
      rule.body.id,
    ]);
    expect(await evaluator.suppressedBy(make(), now)).toEqual([]);
    await call('DELETE', `/v1/maintenance-windows/${window.body.id}`);
  });

  it('mutes only the findings without a new actor under a newActor: none window', async () => {
    const evaluator = new SuppressionEvaluator(repository, 0);
    const window = await call('POST', '/v1/maintenance-windows', {
      reason: 'known callers are noise tonight',
      match: { newActor: 'none' },
      from: new Date(now - 30 * MINUTE_MS).toISOString(),
      to: new Date(now + 30 * MINUTE_MS).toISOString(),
    });
    expect(window.status).toBe(201);
    expect(window.body.match).toEqual({ newActor: 'none' });
    const known = make({ startMinute: now - 5 * MINUTE_MS });
    const intruder = make({
      startMinute: now - 5 * MINUTE_MS,
      attributions: {
        userIdentityArn: [{ value: 'arn:aws:iam::123456789012:user/intruder', insightAverage: 40, baselineAverage: 0 }],
      },
    });
    expect(await evaluator.suppressedBy(known, Date.parse(known.startTime))).toEqual([window.body.id]);
    expect(await evaluator.suppressedBy(intruder, Date.parse(intruder.startTime))).toEqual([]);
    await call('DELETE', `/v1/maintenance-windows/${window.body.id}`);
  });

  it('stops matching an expired rule on time, even while its cache is fresh', async () => {
    const evaluator = new SuppressionEvaluator(repository, 60_000);
    const expiresMs = Date.now() + 1_500;
    const rule = await call('POST', '/v1/suppressions', {
      match: { eventName: 'Run*' },
      reason: 'short',
      expiresAt: new Date(expiresMs).toISOString(),
    });
    const finding = make();
    expect(await evaluator.suppressedBy(finding, now, expiresMs - 1)).toEqual([rule.body.id]);
    expect(await evaluator.suppressedBy(finding, now, expiresMs)).toEqual([]);
    await call('DELETE', `/v1/suppressions/${rule.body.id}`);
  });
});
