import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AuthModule, CoreModule, loadConfig, mountSwagger, useJsonBodies } from '@trailsight/core';
import { buildStartRecord } from '@trailsight/findings';
import { QueueModule } from '@trailsight/queue';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../../../test/support/webhook-receiver.js';
import { InsightNotifier } from '../delivery/insight-notifier.js';
import { systemResolver, WebhookUrlGuard, type HostResolver } from '../safety/webhook-url.guard.js';
import { WebhooksModule } from '../webhooks.module.js';

/** The /v1/webhooks routes over HTTP: a Nest app on a free port, real Redis, API keys, BullMQ worker. */
const ADMIN = 'admin-key-0123456789';
const READER = 'read-key-0123456789';
const PUBLIC_IP = '93.184.215.14';

let redis: ThrowawayRedis;

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);

afterAll(async () => {
  await redis?.stop();
});

/** An app whose URL guard resolves the `*.test` names from `names` and everything else with the system DNS. */
async function startApi(prefix: string, allowPrivate: boolean, names: Record<string, () => string>) {
  const config = loadConfig({
    REDIS_URL: redis.url,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'error',
    API_KEYS: `${ADMIN}:admin,${READER}:read`,
    WEBHOOK_ALLOW_PRIVATE: String(allowPrivate),
    WEBHOOK_TIMEOUT_MS: '1000',
    WEBHOOK_MAX_ATTEMPTS: '3',
    WEBHOOK_BACKOFF_MS: '50',
  });
  const resolve: HostResolver = (host) => {
    const name = names[host];
    return name ? Promise.resolve([{ address: name(), family: 4 }]) : systemResolver(host);
  };
  const moduleRef = await Test.createTestingModule({
    imports: [CoreModule.forRoot({ config }), QueueModule, AuthModule, WebhooksModule],
  })
    .overrideProvider(WebhookUrlGuard)
    // Any port: the receivers of these tests listen on free ports (the port rule has its own tests).
    .useValue(new WebhookUrlGuard({ allowPrivate, allowedPorts: 'any', resolve }))
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: ['error'],
    bodyParser: false,
  });
  useJsonBodies(app); // as serveApp does
  mountSwagger(app);
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const call = async (method: string, path: string, body?: unknown, key: string | null = ADMIN) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    // Response bodies are checked field by field below; their shape is what is under test.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const json: any = text ? JSON.parse(text) : undefined;
    return { status: response.status, body: json };
  };
  return { app, call };
}

describe('/v1/webhooks without private addresses', () => {
  let app: INestApplication;
  let call: Awaited<ReturnType<typeof startApi>>['call'];
  let receiver: WebhookReceiver;
  let rebindTo = PUBLIC_IP;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    ({ app, call } = await startApi('whapi', false, {
      'hooks.test': () => PUBLIC_IP,
      'private.test': () => '10.20.30.40',
      'rebind.test': () => rebindTo,
    }));
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await receiver?.close();
  });

  it('needs an admin key', async () => {
    expect((await call('GET', '/v1/webhooks', undefined, null)).status).toBe(401);
    expect((await call('GET', '/v1/webhooks', undefined, READER)).status).toBe(403);
    expect((await call('POST', '/v1/webhooks', { url: 'https://hooks.test/x' }, READER)).status).toBe(403);
    expect((await call('GET', '/v1/webhooks')).status).toBe(200);
  });

  it('creates a subscription, shows a generated secret once, and never again', async () => {
    const created = await call('POST', '/v1/webhooks', {
      url: 'https://hooks.test/trailsight',
      filter: { eventSource: ['ec2.amazonaws.com'], region: ['us-east-1'] },
      description: 'on-call',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url: 'https://hooks.test/trailsight',
      events: ['insight.start', 'insight.end'],
      filter: { eventSource: ['ec2.amazonaws.com'], region: ['us-east-1'] },
      enabled: true,
      consecutiveFailures: 0,
      description: 'on-call',
    });
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_/);
    const id = created.body.id as string;

    const got = await call('GET', `/v1/webhooks/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.secret).toBeUndefined();
    expect(JSON.stringify(got.body)).not.toContain(secret);
    const list = await call('GET', '/v1/webhooks');
    expect((list.body.items as Array<{ id: string }>).map((s) => s.id)).toContain(id);
    expect(JSON.stringify(list.body)).not.toContain(secret);

    const changed = await call('PATCH', `/v1/webhooks/${id}`, { events: ['insight.end'], enabled: false });
    expect(changed.body).toMatchObject({
      events: ['insight.end'],
      enabled: false,
      disabledReason: 'disabled by a user',
    });
    const again = await call('PATCH', `/v1/webhooks/${id}`, { enabled: true, secret: 'a-brand-new-secret-123' });
    expect(again.body).toMatchObject({ enabled: true, consecutiveFailures: 0 });
    expect(again.body.disabledReason).toBeUndefined();
    expect(JSON.stringify(again.body)).not.toContain('a-brand-new-secret-123');

    expect((await call('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    expect((await call('GET', `/v1/webhooks/${id}`)).status).toBe(404);
    expect((await call('DELETE', `/v1/webhooks/${id}`)).status).toBe(404);
  });

  it.each([
    [{ url: 'not a url' }, /url must be an http\(s\) URL/],
    [{ url: 'ftp://hooks.test/x' }, /url must be an http\(s\) URL/],
    [{ url: 'https://hooks.test/x', events: ['insight.middle'] }, /events/],
    [{ url: 'https://hooks.test/x', events: [] }, /events/],
    [{ url: 'https://hooks.test/x', secret: 'short' }, /secret/],
    [{ url: 'https://hooks.test/x', filter: { region: ['Mars'] } }, /region entries/],
    [{ url: 'https://hooks.test/x', filter: { colour: ['red'] } }, /colour should not exist/],
    [{ url: 'https://hooks.test/x', extra: 1 }, /extra should not exist/],
  ])('rejects invalid input %j with 400', async (body, message) => {
    const response = await call('POST', '/v1/webhooks', body);
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body.message)).toMatch(message);
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const unknown = '7d5f7a4e-2b1c-4f7e-9a31-3b9a2c1d0e5f';
    expect((await call('GET', `/v1/webhooks/${unknown}`)).status).toBe(404);
    expect((await call('POST', `/v1/webhooks/${unknown}/test`)).status).toBe(404);
    expect((await call('GET', `/v1/webhooks/${unknown}/deliveries`)).status).toBe(404);
    expect((await call('PATCH', `/v1/webhooks/${unknown}`, { enabled: true })).status).toBe(404);
    expect((await call('GET', '/v1/webhooks/not-a-uuid')).status).toBe(400);
  });

  it.each([
    'http://127.0.0.1:8080/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]:8080/',
    'http://10.0.0.8/',
    'http://172.20.1.1/',
    'http://192.168.0.1/',
    'http://100.64.0.7/',
    'http://0.0.0.0:3000/',
    'http://[fd00:ec2::254]/',
    'http://localhost:3000/',
    'https://private.test/hook',
  ])('refuses %s with a 400 that names no address', async (url) => {
    const response = await call('POST', '/v1/webhooks', { url });
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(
      /^url refused: its host is, or resolves to, an address webhooks may not reach/,
    );
    expect(response.body.message).toContain('WEBHOOK_ALLOW_PRIVATE=true');
    // What the name resolved to stays inside: no address, no range, no host name.
    expect(response.body.message).not.toMatch(/10\.20\.30\.40|127\.0\.0\.1|\/8|private\.test|localhost/);
  });

  it('refuses a private address on update too', async () => {
    const created = await call('POST', '/v1/webhooks', { url: 'https://hooks.test/x' });
    const response = await call('PATCH', `/v1/webhooks/${created.body.id}`, { url: 'http://169.254.169.254/' });
    expect(response.status).toBe(400);
    expect((await call('GET', `/v1/webhooks/${created.body.id}`)).body.url).toBe('https://hooks.test/x');
    await call('DELETE', `/v1/webhooks/${created.body.id}`);
  });

  it('checks the address again when delivering: a name that re-resolves to 127.0.0.1 (DNS rebinding) is refused and logged', async () => {
    rebindTo = PUBLIC_IP;
    const created = await call('POST', '/v1/webhooks', { url: `http://rebind.test:${receiver.port}/hook` });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    rebindTo = '127.0.0.1';

    const ping = await call('POST', `/v1/webhooks/${id}/test`);
    expect(ping.status).toBe(200);
    expect(ping.body).toMatchObject({ event: 'ping', outcome: 'failed' });
    expect(ping.body.error).toMatch(/^url refused: its host is, or resolves to, an address webhooks may not reach/);
    expect(ping.body.error).not.toContain('127.0.0.1');

    // A queued delivery is refused the same way, once (a refusal is not retried), and logged.
    const record = buildStartRecord(
      {
        accountId: '123456789012',
        region: 'us-east-1',
        eventSource: 'ec2.amazonaws.com',
        eventName: 'RunInstances',
        insightType: 'ApiCallRateInsight',
        startMinute: Date.now() - 120_000 - (Date.now() % 60_000),
        durationMinutes: 1,
        insightAverage: 10,
        baselineAverage: 1,
        baselineDurationMinutes: 10080,
      },
      { sharedEventID: 'rebind-insight' },
    );
    await app.get(InsightNotifier).notify('insight.start', record);
    let deliveries = await call('GET', `/v1/webhooks/${id}/deliveries`);
    const deadline = Date.now() + 15_000;
    while (deliveries.body.items.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      deliveries = await call('GET', `/v1/webhooks/${id}/deliveries`);
    }
    const items = deliveries.body.items as Array<{ event: string; outcome: string }>;
    expect(items.map((a) => `${a.event}:${a.outcome}`)).toEqual(['insight.start:failed', 'ping:failed']);
    expect(deliveries.body.items[0].error).toMatch(/^url refused: its host is/);
    expect(JSON.stringify(deliveries.body)).not.toContain('127.0.0.1');
    expect(receiver.requests).toHaveLength(0);
    expect((await call('GET', `/v1/webhooks/${id}`)).body.consecutiveFailures).toBe(1);
  }, 30_000);

  it('documents the routes in the OpenAPI document', async () => {
    const response = await call('GET', '/docs-json', undefined, null);
    const paths = Object.keys(response.body.paths as object);
    for (const path of [
      '/v1/webhooks',
      '/v1/webhooks/{id}',
      '/v1/webhooks/{id}/test',
      '/v1/webhooks/{id}/deliveries',
    ]) {
      expect(paths).toContain(path);
    }
    expect(response.body.paths['/v1/webhooks'].post.tags).toEqual(['webhooks']);
    expect(response.body.components.schemas.CreateWebhookRequestDto.properties.url.example).toBe(
      'https://hooks.example.com/trailsight',
    );
  });
});

describe('/v1/webhooks/{id}/test with WEBHOOK_ALLOW_PRIVATE=true', () => {
  let app: INestApplication;
  let call: Awaited<ReturnType<typeof startApi>>['call'];
  let receiver: WebhookReceiver;

  afterAll(async () => {
    await app?.close();
    await receiver?.close();
  });

  it('pings a local receiver, signed with the secret shown at creation, and lists the attempt', async () => {
    ({ app, call } = await startApi('whapi2', true, {}));
    const created = await call('POST', '/v1/webhooks', { url: 'http://placeholder.invalid/' });
    expect(created.status).toBe(400); // does not resolve
    receiver = await startWebhookReceiver();
    const made = await call('POST', '/v1/webhooks', { url: receiver.url });
    expect(made.status).toBe(201);
    const secret = made.body.secret as string;
    const id = made.body.id as string;

    const ping = await call('POST', `/v1/webhooks/${id}/test`);
    expect(ping.status).toBe(200);
    expect(ping.body).toMatchObject({ event: 'ping', outcome: 'delivered', status: 200, attempt: 1 });
    expect(receiver.requests).toHaveLength(1);
    const got = receiver.requests[0];
    const { verifyTrailsightSignature } = await import('../../../../test/support/webhook-receiver.js');
    expect(verifyTrailsightSignature(secret, got.rawBody, got.signature)).toBe(true);
    expect(got.event).toBe('ping');
    expect(got.deliveryId).toBe(ping.body.deliveryId);
    expect(got.body).toMatchObject({
      version: '0',
      'detail-type': 'Trailsight Webhook Test',
      detail: { subscriptionId: id },
    });

    const deliveries = await call('GET', `/v1/webhooks/${id}/deliveries?limit=5`);
    expect(deliveries.body.items).toEqual([ping.body]);
    expect((await call('GET', `/v1/webhooks/${id}/deliveries?limit=0`)).status).toBe(400);
  }, 30_000);
});
