import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bullPrefix, KeySpace, workerConnectionOptions } from '@trailsight/core';
import { buildStartRecord } from '@trailsight/findings';
import { JobName, QueueName } from '@trailsight/queue';
import { createSimulator } from '@trailsight/simulator';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { freePort, redisTlsUnavailable, startRedis, type ThrowawayRedis } from '../support/redis-server.js';
import {
  OK,
  startWebhookReceiver,
  verifyTrailsightSignature,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';
import { http, launchApp, waitFor, type RunningApp } from './processes.js';
import { check, type Report } from './report.js';

/**
 * Issue 12, items 5, 10, 14, 15 and 17, against processes and a Redis of their own: a Redis with a
 * password and (where redis-server has TLS) TLS only, an api and a detector that reach it through
 * REDIS_URL credentials and REDIS_TLS_CA_FILE, webhook secrets encrypted under SECRETS_KEY,
 * webhook URLs logged without their tokens, generic SSRF refusals with ports and metadata rules,
 * the simulator's control routes for loopback callers only, and receivers deduping on the signed
 * body id.
 */
const PREFIX = 'trs';
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const ADMIN = `trs-admin-${randomBytes(12).toString('hex')}`;
const SECRETS_KEY = randomBytes(32).toString('base64');
const LEGACY_SECRET = `legacy-plain-${randomBytes(8).toString('hex')}`;
const GIVEN_SECRET = `given-plain-${randomBytes(8).toString('hex')}`;
/** Tokens in a Slack-style path and a query string: neither may reach a log line. */
const PATH_TOKEN = `PATHTOKEN${randomBytes(6).toString('hex')}`;
const QUERY_TOKEN = `QUERYTOKEN${randomBytes(6).toString('hex')}`;

interface Setup {
  redis: ThrowawayRedis;
  raw: Redis;
  target: { redisUrl: string; redisTlsCaFile?: string };
  /** WEBHOOK_ALLOW_PRIVATE=true: reaches the local receivers. */
  open: RunningApp;
  /** The defaults: no private addresses, ports 80 and 443. */
  strict: RunningApp;
  detector: RunningApp;
  receiver: WebhookReceiver;
  legacyId: string;
}

export async function runTrustRedisSecretsScenarios(report: Report): Promise<void> {
  let setup: Setup | undefined;
  const apps: RunningApp[] = [];
  try {
    await report.scenario('trust/redis-password-and-tls-every-connection', async (figures) => {
      const tlsMissing = redisTlsUnavailable();
      if (tlsMissing) report.skip('trust/redis-password-and-tls-every-connection (TLS part)', tlsMissing);
      const redis = await startRedis({ password: PASSWORD, tls: !tlsMissing });
      const target = { redisUrl: redis.url, ...(redis.caFile ? { redisTlsCaFile: redis.caFile } : {}) };
      const raw = new Redis({ ...workerConnectionOptions(target), maxRetriesPerRequest: 3 });
      // A subscription as code before SECRETS_KEY wrote it: the secret in plaintext.
      const receiver = await startWebhookReceiver({ secret: LEGACY_SECRET });
      const legacyId = randomUUID();
      await writeLegacySubscription(raw, legacyId, receiver.url, LEGACY_SECRET);

      const env = async (extra: Record<string, string>) => ({
        PORT: String(await freePort()),
        REDIS_URL: redis.url,
        ...(redis.caFile ? { REDIS_TLS_CA_FILE: redis.caFile } : {}),
        REDIS_PREFIX: PREFIX,
        LOG_LEVEL: 'log',
        API_KEYS: ADMIN,
        SECRETS_KEY,
        WEBHOOK_BACKOFF_MS: '200',
        WEBHOOK_TIMEOUT_MS: '2000',
        ...extra,
      });
      const open = launchApp('api', 'trust-api-open', await env({ WEBHOOK_ALLOW_PRIVATE: 'true' }));
      const strict = launchApp('api', 'trust-api-strict', await env({}));
      const detector = launchApp('detector', 'trust-detector', await env({ WEBHOOK_ALLOW_PRIVATE: 'true' }));
      apps.push(open, strict, detector);
      await Promise.all(apps.map((app) => app.healthy(90_000)));
      setup = { redis, raw, target, open, strict, detector, receiver, legacyId };

      // Every process is connected with its credentials: the shared connections by name, BullMQ's by theirs.
      const clients = String(await raw.client('LIST'));
      const names = [...clients.matchAll(/name=(\S*)/g)].map((m) => m[1] ?? '');
      figures.tls = !tlsMissing;
      figures.connections = names.length;
      check(names.filter((n) => n === 'trailsight-command').length >= 3, `command connections: ${names.join(',')}`);
      check(
        names.some((n) => n.includes('bull')),
        `no BullMQ connection among ${names.join(',')}`,
      );
      // Nothing answers without the password.
      const anonymous = new Redis({
        ...workerConnectionOptions({ ...target, redisUrl: redis.url.replace(/default:[^@]*@/, '') }),
        lazyConnect: true,
        // Without the ready check the connection opens, so the command itself gets Redis's answer.
        enableReadyCheck: false,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      // Redis's refusal arrives as an 'error' event (the handshake), the command then fails as closed.
      const errors: string[] = [];
      anonymous.on('error', (error: Error) => errors.push(error.message));
      const refused = await anonymous
        .connect()
        .then(() => anonymous.get('x'))
        .then(
          () => 'answered',
          (error: Error) => [...errors, error.message].join('; '),
        );
      anonymous.disconnect();
      figures.anonymous = refused.split(' ')[0] ?? '';
      check(/NOAUTH|WRONGPASS|auth/i.test(refused), `Redis answered without a password: ${refused}`);
    });
    if (!setup) return;
    const s = setup;
    const keys = new KeySpace(PREFIX);
    const call = (app: RunningApp, method: string, path: string, body?: unknown) =>
      http(`http://127.0.0.1:${app.port}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    await report.scenario('trust/webhook-secrets-encrypted-at-rest', async (figures) => {
      // The boot migration encrypted the legacy secret; it still signs.
      const legacy = await s.raw.hgetall(keys.webhookSubscription(s.legacyId));
      check(legacy.secret === '' && /^v1\.[0-9a-f]{8}\./.test(legacy.secretEnc ?? ''), 'legacy secret not encrypted');
      const ping = await call(s.open, 'POST', `/v1/webhooks/${s.legacyId}/test`);
      check(ping.status === 200, `legacy ping: ${ping.status} ${ping.text}`);
      const got = s.receiver.requests.at(-1);
      check(got?.signatureValid === true, 'legacy ping not signed with the legacy secret');

      const made = await call(s.open, 'POST', '/v1/webhooks', { url: s.receiver.url, secret: GIVEN_SECRET });
      check(made.status === 201, `create: ${made.status} ${made.text}`);
      const generated = await call(s.open, 'POST', '/v1/webhooks', { url: s.receiver.url });
      const generatedSecret = (JSON.parse(generated.text) as { secret: string }).secret;
      // No secret in plaintext anywhere in Redis (the BullMQ keys included).
      const everything = await dumpValues(s.raw);
      figures.values_scanned = everything.length;
      for (const secret of [LEGACY_SECRET, GIVEN_SECRET, generatedSecret]) {
        check(!everything.some((v) => v.includes(secret)), 'a webhook secret is in Redis in plaintext');
      }
    });

    await report.scenario('trust/webhook-urls-logged-scheme-and-host-only', async (figures) => {
      const failing = await startWebhookReceiver();
      failing.respond({ kind: 'status', status: 500 });
      try {
        const url = `${failing.url}/services/T0000/B0000/${PATH_TOKEN}?token=${QUERY_TOKEN}`;
        const made = await call(s.open, 'POST', '/v1/webhooks', { url });
        check(made.status === 201, `create: ${made.status} ${made.text}`);
        const id = (JSON.parse(made.text) as { id: string }).id;
        // A failed attempt is logged at warn, with the URL; so is a refused one.
        await call(s.open, 'POST', `/v1/webhooks/${id}/test`);
        const refused = await call(s.strict, 'POST', '/v1/webhooks', { url });
        check(refused.status === 400, `strict api accepted ${refused.status}`);
        await waitFor(
          'the log lines',
          () =>
            Promise.resolve(
              s.open.output().includes(`${id} (http://127.0.0.1:${failing.port})`) &&
                s.strict.output().includes(`refused:`)
                ? true
                : undefined,
            ),
          10_000,
          100,
        );
        const leaks = [s.open, s.strict, s.detector].filter((app) =>
          [PATH_TOKEN, QUERY_TOKEN].some((token) => app.output().includes(token)),
        );
        figures.lines_checked = [s.open, s.strict, s.detector].reduce((n, a) => n + a.output().split('\n').length, 0);
        check(leaks.length === 0, `tokens in the log of ${leaks.map((a) => a.name).join(', ')}`);
        check(!refused.text.includes(PATH_TOKEN) && !refused.text.includes(QUERY_TOKEN), 'tokens in the 400 body');
      } finally {
        await failing.close();
      }
    });

    await report.scenario('trust/ssrf-generic-refusals-ports-metadata', async (figures) => {
      const problems: string[] = [];
      const expectRefused = async (app: RunningApp, url: string, pattern: RegExp, mustNotSay: string[] = []) => {
        const r = await call(app, 'POST', '/v1/webhooks', { url });
        if (r.status !== 400 || !pattern.test(r.text)) problems.push(`${app.name} ${url}: ${r.status} ${r.text}`);
        for (const word of mustNotSay) if (r.text.includes(word)) problems.push(`${url}: answer says ${word}`);
      };
      const generic = /its host is, or resolves to, an address webhooks may not reach/;
      // Defaults: a name resolving to loopback is refused without saying so; only ports 80 and 443.
      await expectRefused(s.strict, 'http://localhost/hook', generic, ['127.0.0.1', '::1', 'loopback (']);
      await expectRefused(s.strict, 'http://10.1.2.3/hook', generic, ['10.0.0.0/8']);
      await expectRefused(s.strict, 'https://93.184.215.14:8443/hook', /port 8443 is not allowed/);
      await expectRefused(s.strict, 'http://93.184.215.14:6379/', /port 6379 is not allowed/);
      // WEBHOOK_ALLOW_PRIVATE=true opens private addresses and ports, never metadata endpoints.
      const metadata = [
        'http://169.254.169.254/latest/meta-data/',
        'http://[fd00:ec2::254]/latest/meta-data/',
        'http://169.254.170.2/v2/credentials',
        'http://[::ffff:169.254.169.254]/',
        'http://[fd00:ec2::23]/',
      ];
      for (const url of metadata) await expectRefused(s.open, url, generic);
      const local = await call(s.open, 'POST', '/v1/webhooks', { url: `${s.receiver.url}/any-port` });
      if (local.status !== 201) problems.push(`the local receiver on a random port was refused: ${local.text}`);
      figures.refusals_checked = 4 + metadata.length;
      check(problems.length === 0, problems.join(' | '));
    });

    await report.scenario('trust/webhook-dedupe-on-signed-body-id', async (figures) => {
      const flaky = await startWebhookReceiver({ secret: GIVEN_SECRET });
      // Two failures, then accepted: three copies of one delivery.
      flaky.respond((n) => (n < 2 ? { kind: 'status', status: 503 } : OK));
      const queue = new Queue(QueueName.Webhooks, {
        connection: workerConnectionOptions(s.target),
        prefix: bullPrefix(PREFIX),
      });
      try {
        const made = await call(s.open, 'POST', '/v1/webhooks', { url: flaky.url, secret: GIVEN_SECRET });
        const subscriptionId = (JSON.parse(made.text) as { id: string }).id;
        const minute = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
        const record = buildStartRecord(
          {
            accountId: '123456789012',
            region: 'us-east-1',
            eventSource: 'ec2.amazonaws.com',
            eventName: 'RunInstances',
            insightType: 'ApiCallRateInsight',
            startMinute: minute,
            durationMinutes: 1,
            insightAverage: 40,
            baselineAverage: 1,
            baselineDurationMinutes: 10_080,
          },
          { sharedEventID: randomUUID() },
        );
        const deliveryId = randomUUID();
        await queue.add(
          JobName.WebhookDelivery,
          { subscriptionId, deliveryId, event: 'insight.start', record },
          { jobId: `trust-${deliveryId}`, attempts: 5, backoff: { type: 'fixed', delay: 200 } },
        );
        const copies = await flaky.waitFor('three attempts', (requests) => requests.length >= 3, 20_000);
        figures.attempts = copies.length;
        check(new Set(copies.map((c) => c.body.id)).size === 1, 'the body id changed between retries');
        check(copies[0]?.body.id === deliveryId, 'the body id is not the delivery id');
        check(
          copies.every((c) => c.signatureValid),
          'a copy is not signed',
        );
        // The id is inside the signature: the body with another id does not verify.
        const [first] = copies;
        const forged = first.rawBody.replace(deliveryId, randomUUID());
        check(!verifyTrailsightSignature(GIVEN_SECRET, forged, first.signature), 'a changed body id still verifies');
        // README's receiver, run as written: handles the delivery once, and a replay of the body under
        // a fresh X-Trailsight-Delivery (headers are not signed) is still a duplicate.
        const readme = await readmeReceiver();
        const handled: unknown[] = [];
        const statuses = [...copies, { ...first, deliveryId: randomUUID() }].map((c) =>
          readme.receive(GIVEN_SECRET, c.rawBody, c.signature, (event) => handled.push(event)),
        );
        figures.readme_statuses = statuses.join(',');
        check(statuses.join(',') === '204,200,200,200', `README receiver answered ${statuses.join(',')}`);
        check(handled.length === 1, `README receiver handled ${handled.length} times`);
      } finally {
        await queue.close();
        await flaky.close();
      }
    });

    await report.scenario('trust/simulator-control-loopback-only', async (figures) => {
      const external = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
      const sim = createSimulator({ seed: 5, accounts: ['123456789012'], regions: ['us-east-1'], eventsPerMinute: 5 });
      const { port } = await sim.server.start(0, '0.0.0.0');
      try {
        const local = await http(`http://127.0.0.1:${port}/stats`);
        check(local.status === 200, `loopback /stats: ${local.status}`);
        if (!external) {
          report.skip('trust/simulator-control-loopback-only (remote part)', 'no non-loopback IPv4 address here');
          return;
        }
        const anomaly = JSON.stringify({ kind: 'spike', eventName: 'RunInstances', multiplier: 5, durationMinutes: 2 });
        const remote = await Promise.all([
          http(`http://${external}:${port}/anomalies`, { method: 'POST', body: anomaly }),
          http(`http://${external}:${port}/faults`, { method: 'POST', body: '{"kind":"http-500","count":1}' }),
          http(`http://${external}:${port}/truth?accountId=123456789012&region=us-east-1`),
        ]);
        figures.remote_statuses = remote.map((r) => r.status).join(',');
        check(
          remote.every((r) => r.status === 403),
          `remote control calls answered ${figures.remote_statuses}`,
        );
        check(sim.account.anomalies().length === 0, 'a remote caller injected an anomaly');
        check((await http(`http://${external}:${port}/health`)).status === 200, '/health refused remotely');
      } finally {
        await sim.server.stop();
      }
    });

    await report.scenario('trust/no-password-or-secret-in-any-output', (figures) => {
      const outputs = apps.map((app) => app.output()).join('\n');
      figures.bytes = outputs.length;
      const found = [PASSWORD, encodeURIComponent(PASSWORD), SECRETS_KEY, LEGACY_SECRET, GIVEN_SECRET].filter((v) =>
        outputs.includes(v),
      );
      check(found.length === 0, `${found.length} secret value(s) in the processes' output`);
      check(/SECRETS_KEY|encrypted \d+ webhook secret/.test(outputs), 'no word of the secrets migration in the log');
      const crashed = apps.filter((app) => app.crashed()).map((app) => app.name);
      report.crashes += crashed.length;
      check(crashed.length === 0, `crashed: ${crashed.join(', ')}`);
      return Promise.resolve();
    });
  } finally {
    await Promise.all(apps.map((app) => app.stop().catch(() => undefined)));
    setup?.raw.disconnect();
    await setup?.receiver.close();
    await setup?.redis.stop();
  }
}

interface ReadmeReceiver {
  receive(secret: string, rawBody: string, header: string, handle: (event: unknown) => void): number;
}

/** The receiver code block of README.md's Webhooks section, as receivers copy it. */
async function readmeReceiver(): Promise<ReadmeReceiver> {
  const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  const block = /```js\n(import \{ createHmac[\s\S]*?)```/.exec(readme)?.[1];
  check(block !== undefined, 'README.md has no receiver code block');
  const dir = mkdtempSync(join(tmpdir(), 'trust-readme-'));
  const file = join(dir, 'receiver.mjs');
  writeFileSync(file, `${block}\nexport { receive };\n`);
  try {
    const loaded = (await import(pathToFileURL(file).href)) as Partial<ReadmeReceiver>;
    check(typeof loaded.receive === 'function', 'README.md receiver code has no receive()');
    return loaded as ReadmeReceiver;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function writeLegacySubscription(raw: Redis, id: string, url: string, secret: string): Promise<void> {
  const keys = new KeySpace(PREFIX);
  const now = new Date().toISOString();
  await raw.hset(keys.webhookSubscription(id), {
    url,
    description: 'written before SECRETS_KEY',
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

/** Every string value in Redis: strings, hashes (fields and values), lists, sets and streams. */
async function dumpValues(raw: Redis): Promise<string[]> {
  const values: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await raw.scan(cursor, 'COUNT', 500);
    cursor = next;
    for (const key of found) {
      const type = await raw.type(key);
      if (type === 'string') values.push((await raw.get(key)) ?? '');
      else if (type === 'hash') values.push(...Object.entries(await raw.hgetall(key)).flat());
      else if (type === 'list') values.push(...(await raw.lrange(key, 0, -1)));
      else if (type === 'set') values.push(...(await raw.smembers(key)));
      else if (type === 'zset') values.push(...(await raw.zrange(key, '0', '-1')));
      else if (type === 'stream') values.push(JSON.stringify(await raw.xrange(key, '-', '+')));
    }
  } while (cursor !== '0');
  return values;
}
