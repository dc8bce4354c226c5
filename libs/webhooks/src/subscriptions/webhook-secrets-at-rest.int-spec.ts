import { randomBytes, randomUUID } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AuthModule, CoreModule, KeySpace, loadConfig, useJsonBodies } from '@trailsight/core';
import { buildStartRecord } from '@trailsight/findings';
import { QueueModule } from '@trailsight/queue';
import { Redis } from 'ioredis';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import {
  startWebhookReceiver,
  verifyTrailsightSignature,
  type WebhookReceiver,
} from '../../../../test/support/webhook-receiver.js';
import { InsightNotifier } from '../delivery/insight-notifier.js';
import { WebhooksModule } from '../webhooks.module.js';

/** Webhook secrets at rest: AES-256-GCM under SECRETS_KEY, plaintext without it, migrated when it arrives. */
const ADMIN = 'admin-key-0123456789';
const PREFIX = 'whsec';
const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);
const LEGACY_1 = randomUUID();
const LEGACY_2 = randomUUID();

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown): void {
    this.lines.push(String(message));
  }
}

let redis: ThrowawayRedis;
let raw: Redis;
let receiver: WebhookReceiver;
const keys = new KeySpace(PREFIX);

beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
  receiver = await startWebhookReceiver();
}, 30_000);

afterAll(async () => {
  raw?.disconnect();
  await receiver?.close();
  await redis?.stop();
});

async function startApi(secretsKey: Buffer | undefined) {
  const logger = new CapturingLogger();
  const config = loadConfig({
    REDIS_URL: redis.url,
    REDIS_PREFIX: PREFIX,
    API_KEYS: ADMIN,
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_MAX_ATTEMPTS: '2',
    WEBHOOK_BACKOFF_MS: '50',
    ...(secretsKey ? { SECRETS_KEY: secretsKey.toString('base64') } : {}),
  });
  const moduleRef = await Test.createTestingModule({
    imports: [CoreModule.forRoot({ config }), QueueModule, AuthModule, WebhooksModule],
  })
    .setLogger(logger)
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger,
    bodyParser: false,
  });
  useJsonBodies(app);
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    // Response bodies are checked field by field.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const json: any = text ? JSON.parse(text) : undefined;
    return { status: response.status, body: json };
  };
  return { app, call, logger };
}

/** A subscription as the code before encryption wrote it: the secret in plaintext in `secret`. */
async function writeLegacySubscription(id: string, secret: string): Promise<void> {
  const now = new Date().toISOString();
  await raw.hset(keys.webhookSubscription(id), {
    url: receiver.url,
    description: '',
    events: JSON.stringify(['insight.start', 'insight.end']),
    filter: '{}',
    enabled: '1',
    disabledReason: '',
    disabledAt: '',
    failures: '0',
    createdAt: now,
    updatedAt: now,
    secret,
  });
  await raw.sadd(keys.webhookSubscriptions(), id);
}

/** POST /test, and whether the receiver's copy verifies under `secret`. */
async function pingVerifies(call: Awaited<ReturnType<typeof startApi>>['call'], id: string, secret: string) {
  const before = receiver.requests.length;
  const ping = await call('POST', `/v1/webhooks/${id}/test`);
  expect(ping.status).toBe(200);
  const got = receiver.requests[before];
  return got !== undefined && verifyTrailsightSignature(secret, got.rawBody, got.signature);
}

describe('webhook secrets at rest', () => {
  it('with SECRETS_KEY: stores only AES-256-GCM ciphertext, signs with the plaintext, encrypts old plaintext secrets at boot and on change', async () => {
    const legacySecret = 'legacy-plaintext-secret-0001';
    await writeLegacySubscription(LEGACY_1, legacySecret);
    const { app, call } = await startApi(KEY_A);
    try {
      // The boot migration moved the legacy secret; it still signs.
      const migrated = await raw.hgetall(keys.webhookSubscription(LEGACY_1));
      expect(migrated.secret).toBe('');
      expect(migrated.secretEnc).toMatch(/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+$/);
      expect(JSON.stringify(migrated)).not.toContain(legacySecret);
      expect(await pingVerifies(call, LEGACY_1, legacySecret)).toBe(true);

      // A new subscription: its secret (given or generated) is never in Redis in plaintext.
      const given = 'a-given-secret-value-12345';
      const made = await call('POST', '/v1/webhooks', { url: receiver.url, secret: given });
      expect(made.status).toBe(201);
      const stored = await raw.hgetall(keys.webhookSubscription(made.body.id as string));
      expect(stored.secret).toBe('');
      expect(stored.secretEnc).toMatch(/^v1\./);
      expect(JSON.stringify(await raw.hgetall(keys.webhookSubscription(made.body.id as string)))).not.toContain(given);
      expect(await pingVerifies(call, made.body.id as string, given)).toBe(true);

      // A plaintext secret written after boot (an old replica) is encrypted by the next change.
      await writeLegacySubscription(LEGACY_2, 'legacy-plaintext-secret-0002');
      expect((await call('PATCH', `/v1/webhooks/${LEGACY_2}`, { description: 'touched' })).status).toBe(200);
      const patched = await raw.hgetall(keys.webhookSubscription(LEGACY_2));
      expect(patched.secret).toBe('');
      expect(patched.secretEnc).toMatch(/^v1\./);
      expect(await pingVerifies(call, LEGACY_2, 'legacy-plaintext-secret-0002')).toBe(true);

      // A new secret by PATCH is encrypted too.
      expect((await call('PATCH', `/v1/webhooks/${LEGACY_2}`, { secret: 'rotated-secret-value-0003' })).status).toBe(
        200,
      );
      expect(JSON.stringify(await raw.hgetall(keys.webhookSubscription(LEGACY_2)))).not.toContain('rotated-secret');
      expect(await pingVerifies(call, LEGACY_2, 'rotated-secret-value-0003')).toBe(true);

      // A ciphertext copied onto another subscription does not decrypt there.
      await raw.hset(keys.webhookSubscription(LEGACY_1), 'secretEnc', patched.secretEnc ?? '');
      const moved = await call('POST', `/v1/webhooks/${LEGACY_1}/test`);
      expect(moved.status).toBe(409);
      expect(moved.body.message).toMatch(/cannot be decrypted/);
    } finally {
      await app.close();
    }
  }, 60_000);

  it('without SECRETS_KEY: plaintext with a loud warning; encrypted secrets are refused, not misused, as under another key', async () => {
    const { app, call, logger } = await startApi(undefined);
    try {
      expect(logger.lines.join('\n')).toMatch(
        /SECRETS_KEY is not set: webhook signing secrets are stored in Redis in PLAINTEXT/,
      );
      const made = await call('POST', '/v1/webhooks', { url: receiver.url, secret: 'plain-secret-value-00004' });
      expect((await raw.hgetall(keys.webhookSubscription(made.body.id as string))).secret).toBe(
        'plain-secret-value-00004',
      );
      expect(await pingVerifies(call, made.body.id as string, 'plain-secret-value-00004')).toBe(true);

      // LEGACY_2 was encrypted under KEY_A by the first test.
      const refused = await call('POST', `/v1/webhooks/${LEGACY_2}/test`);
      expect(refused.status).toBe(409);
      expect(refused.body.message).toMatch(/encrypted but SECRETS_KEY is not set/);
      expect(JSON.stringify(refused.body)).not.toContain('rotated-secret');

      // A queued delivery is never signed with a wrong secret: it fails (and retries), saying why.
      const before = receiver.requests.length;
      const record = buildStartRecord(
        {
          accountId: '123456789012',
          region: 'us-east-1',
          eventSource: 'ec2.amazonaws.com',
          eventName: 'RunInstances',
          insightType: 'ApiCallRateInsight',
          startMinute: Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000,
          durationMinutes: 1,
          insightAverage: 40,
          baselineAverage: 1,
          baselineDurationMinutes: 10080,
        },
        { sharedEventID: randomUUID() },
      );
      await app.get(InsightNotifier).notify('insight.start', record);
      const decryptFailures = () =>
        logger.lines.filter((line) => line.includes(`cannot decrypt the secret of subscription ${LEGACY_2}`)).length;
      const deadline = Date.now() + 15_000;
      while (decryptFailures() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(decryptFailures()).toBe(2); // both attempts
      // Only the plaintext subscription was delivered to, signed with its own secret.
      await new Promise((r) => setTimeout(r, 300));
      const delivered = receiver.requests.slice(before);
      expect(delivered).toHaveLength(1);
      expect(verifyTrailsightSignature('plain-secret-value-00004', delivered[0].rawBody, delivered[0].signature)).toBe(
        true,
      );
    } finally {
      await app.close();
    }
    const other = await startApi(KEY_B);
    try {
      const refused = await other.call('POST', `/v1/webhooks/${LEGACY_2}/test`);
      expect(refused.status).toBe(409);
      expect(refused.body.message).toMatch(/encrypted under key [0-9a-f]{8}, SECRETS_KEY is [0-9a-f]{8}/);
    } finally {
      await other.app.close();
    }
  }, 60_000);
});
