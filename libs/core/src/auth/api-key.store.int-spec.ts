import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { KeySpace } from '../redis/key-space.js';
import { ApiKeyStore, AwsKeysUnavailableError } from './api-key.store.js';
import { SecretsCipher } from '../secrets/secrets-cipher.js';
import { bootstrapAdminKey } from './bootstrap-key.js';

/** A connection whose process "crashes" after `allowed` commands: later commands never reach Redis. */
function crashingAfter(redis: Redis, allowed: number): Redis {
  const connection = redis.duplicate({ enableReadyCheck: false });
  const send = connection.sendCommand.bind(connection);
  let sent = 0;
  connection.sendCommand = (command: Parameters<Redis['sendCommand']>[0], stream) => {
    if (++sent > allowed) {
      command.reject(new Error('process crashed'));
      return command.promise;
    }
    return send(command, stream);
  };
  return connection;
}

/** Every line a logger was given, for "the key is never logged" checks. */
function recordingLogger(): LoggerService & { lines: string[] } {
  const lines: string[] = [];
  const keep = (message: unknown) => lines.push(String(message));
  return { lines, log: keep, warn: keep, error: keep };
}

describe('ApiKeyStore (real Redis)', () => {
  let redis: ThrowawayRedis;
  let client: Redis;
  let dir: string;
  let prefixes = 0;
  const opened: Redis[] = [];
  const stores: ApiKeyStore[] = [];

  const keySpace = () => new KeySpace(`keys-${++prefixes}`);
  const storeOn = (connection: Redis, keys: KeySpace) => {
    const store = new ApiKeyStore(connection, keys, { configured: [] });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    dir = mkdtempSync(join(tmpdir(), 'trailsight-keyfile-'));
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    for (const connection of opened) connection.disconnect();
    await client.quit();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the first admin key and its marker together: a crash at any point leaves both or neither', async () => {
    for (let allowed = 0; allowed <= 3; allowed++) {
      const keys = keySpace();
      const crashing = crashingAfter(client, allowed);
      opened.push(crashing);
      const doomed = storeOn(crashing, keys);
      await doomed.createBootstrapKey(doomed.newKey()).catch(() => undefined);
      const marker = await client.exists(keys.apiKeysBootstrapped());
      const stored = await client.hlen(keys.apiKeys());
      expect([allowed, marker, stored]).toEqual([allowed, stored, stored]);

      // The next start either finds the key or creates it: never a marker without a key.
      const next = storeOn(client, keys);
      await next.createBootstrapKey(next.newKey());
      expect([allowed, await client.hlen(keys.apiKeys())]).toEqual([allowed, 1]);
      expect((await next.list()).map((k) => k.scope)).toEqual(['admin']);
    }
  });

  it('writes the first admin key to a 0600 file, never to the log; racing replicas create exactly one', async () => {
    const keys = keySpace();
    const file = join(dir, 'nested', 'admin-key');
    const loggers = [recordingLogger(), recordingLogger(), recordingLogger()];
    const consoleUrl = 'http://localhost:3000/console';
    await Promise.all(loggers.map((logger) => bootstrapAdminKey(storeOn(client, keys), file, logger, consoleUrl)));

    const key = readFileSync(file, 'utf8').trim();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'nested'))).toEqual(['admin-key']); // no temporary file left
    const lines = loggers.flatMap((logger) => logger.lines);
    expect(lines.filter((line) => line.includes(file))).toHaveLength(1);
    // The line that says where the key is also says where to use it.
    expect(lines.find((line) => line.includes(file))).toContain(`Sign in to the web console at ${consoleUrl}`);
    for (const line of lines) expect(line).not.toContain(key);
    expect(await storeOn(client, keys).verify(key)).toMatchObject({ scope: 'admin' });
    expect(await client.hlen(keys.apiKeys())).toBe(1);

    // A later start leaves the file and the keys alone.
    const later = recordingLogger();
    await bootstrapAdminKey(storeOn(client, keys), join(dir, 'other-key'), later);
    expect(readdirSync(dir)).toEqual(['nested']);
    expect(later.lines).toEqual(['API keys from Redis (API_KEYS is not set)']);
  });

  it('creates no key when its file cannot be written, and says how to recover', async () => {
    const keys = keySpace();
    const logger = recordingLogger();
    // A path under a regular file: mkdir fails.
    await bootstrapAdminKey(storeOn(client, keys), join(dir, 'nested', 'admin-key', 'below'), logger);
    expect(await client.exists(keys.apiKeysBootstrapped(), keys.apiKeys())).toBe(0);
    expect(logger.lines.join('\n')).toMatch(
      /No key was created; make one with npm run cli -- keys create --scope admin/,
    );
  });

  it('moves keys stored under the names from before the {auth} hash tag, once, merging what both hold', async () => {
    const keys = keySpace();
    const before = storeOn(client, keys);
    const admin = before.newKey();
    const adminId = await before.createBootstrapKey(admin);
    const reader = await before.create('read');
    await before.verify(reader.key);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the last-use write is not awaited
    // What the previous version left: the same records under the old names.
    for (const { from, to } of keys.legacyApiKeyNames()) await client.rename(to, from);
    const upgraded = storeOn(client, keys);
    expect(await upgraded.verify(admin)).toBeUndefined();
    expect(await upgraded.bootstrapped()).toBe(false);

    const logger = recordingLogger();
    const file = join(dir, 'migrated-admin-key');
    // Racing replicas: one moves the three keys, the others find nothing left to move.
    const racing = [0, 1, 2].map(() => storeOn(client, keys));
    expect((await Promise.all(racing.map((store) => store.migrateKeyNames()))).sort()).toEqual([0, 0, 3]);
    // The old marker counts: no second admin key, no file.
    await bootstrapAdminKey(storeOn(client, keys), file, logger);
    expect(logger.lines).toEqual(['API keys from Redis (API_KEYS is not set)']);
    expect(readdirSync(dir)).not.toContain('migrated-admin-key');
    const after = storeOn(client, keys);
    expect(await after.verify(admin)).toMatchObject({ keyId: adminId, scope: 'admin' });
    expect(await after.verify(reader.key)).toMatchObject({ keyId: reader.keyId, scope: 'read' });
    expect((await after.list()).find((key) => key.id === reader.keyId)?.lastUsedAt).toBeDefined();
    for (const { from } of keys.legacyApiKeyNames()) expect(await client.exists(from)).toBe(0);
    expect(await storeOn(client, keys).migrateKeyNames()).toBe(0);

    // A process of the old version still running writes a key under the old name: the next start
    // merges it in, without overwriting what the new name holds.
    const [oldKeys] = keys.legacyApiKeyNames();
    const lateSpace = keySpace();
    const lateKey = await storeOn(client, lateSpace).create('read');
    const [[lateHash, lateJson]] = Object.entries(await client.hgetall(lateSpace.apiKeys()));
    const adminHash = Object.keys(await client.hgetall(keys.apiKeys())).find((hash) => hash !== lateHash)!;
    await client.hset(oldKeys.from, lateHash, lateJson, adminHash, '{"id":"forged","scope":"read","createdAt":"x"}');
    expect(await storeOn(client, keys).migrateKeyNames()).toBe(1);
    const merged = storeOn(client, keys);
    expect(await merged.verify(lateKey.key)).toMatchObject({ keyId: lateKey.keyId, scope: 'read' });
    expect(await merged.verify(admin)).toMatchObject({ keyId: adminId, scope: 'admin' });
    expect(await client.exists(oldKeys.from)).toBe(0);
  });

  it('10,000 random keys do not evict a valid key from the cache', async () => {
    const keys = keySpace();
    const store = storeOn(client, keys);
    const { key } = await store.create('read');
    const now = Date.now();
    expect(await store.verify(key, now)).toMatchObject({ scope: 'read' });
    // Removed behind the store's back (no revocation message): only the cache still knows the key.
    await client.del(keys.apiKeys());
    // 500 lookups in flight at a time: 10,000 one after the other outlast a loaded machine's timeout.
    for (let from = 0; from < 10_000; from += 500) {
      const guesses = Array.from({ length: 500 }, (_, i) => store.verify(`random-guess-${from + i}`, now));
      expect((await Promise.all(guesses)).every((found) => found === undefined)).toBe(true);
    }
    expect(await store.verify(key, now)).toMatchObject({ scope: 'read' });
    expect(store.known(key, now)).toMatchObject({ scope: 'read' });
    // Past the cache's lifetime Redis is asked again.
    expect(await store.verify(key, now + 11_000)).toBeUndefined();
  }, 60_000);

  it('lists keys without their values or hashes, and a revocation reaches every process within a second', async () => {
    const keys = keySpace();
    const [here, there] = [storeOn(client, keys), storeOn(client, keys)];
    there.listenForRevocations();
    const { key, keyId } = await here.create('read');
    const admin = await here.create('admin');
    expect(await there.verify(key)).toMatchObject({ keyId, scope: 'read' });

    const listed = await here.list();
    // Oldest first; two keys made in the same millisecond come in id order.
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect(listed.map(({ id, scope, source }) => ({ id, scope, source })).sort(byId)).toEqual(
      [
        { id: keyId, scope: 'read', source: 'redis' },
        { id: admin.keyId, scope: 'admin', source: 'redis' },
      ].sort(byId),
    );
    expect(listed[0].createdAt).toEqual(expect.any(String));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the last-used write is fire-and-forget
    expect((await here.list()).find((k) => k.id === keyId)?.lastUsedAt).toEqual(expect.any(String));
    const shown = JSON.stringify(await here.list());
    for (const secret of [key, admin.key, ...Object.keys(await client.hgetall(keys.apiKeys()))])
      expect(shown).not.toContain(secret);

    // `there` holds the key in its cache; the revocation made by `here` reaches it over pub/sub.
    await new Promise((resolve) => setTimeout(resolve, 100)); // its subscription is up
    expect(await here.revoke(keyId)).toBe(true);
    const revokedAt = Date.now();
    while (there.known(key) !== undefined && Date.now() - revokedAt < 2_000)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
    expect(await there.verify(key)).toBeUndefined();
    expect(await here.revoke(keyId)).toBe(false);
    expect((await here.list()).map((k) => k.id)).toEqual([admin.keyId]);
  });

  it('creates aws keys with a sealed secret, opens it to verify, lists and revokes them like api keys', async () => {
    const keys = keySpace();
    const cipher = new SecretsCipher(randomBytes(32));
    const here = new ApiKeyStore(client, keys, { configured: [], cipher });
    const there = new ApiKeyStore(client, keys, { configured: [], cipher });
    stores.push(here, there);
    there.listenForRevocations();
    const created = await here.createAws('read', '123456789012');
    expect(created.accessKeyId).toMatch(/^TSAK[A-Z2-7]{16}$/);
    expect(created.secretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(await there.awsCredential(created.accessKeyId)).toEqual({
      principal: { keyId: created.keyId, scope: 'read' },
      secretAccessKey: created.secretAccessKey,
      accountId: '123456789012',
    });
    // Stored sealed: the secret is nowhere in Redis, and no bearer key verifies as it.
    expect(JSON.stringify(await client.hgetall(keys.apiKeys()))).not.toContain(created.secretAccessKey);
    expect(await here.verify(created.secretAccessKey)).toBeUndefined();
    expect(await here.awsCredential('TSAKAAAAAAAAAAAAAAAA')).toBeUndefined();
    // Another SECRETS_KEY cannot open it: the key is unknown there, never mis-verified.
    const otherKey = new ApiKeyStore(client, keys, { configured: [], cipher: new SecretsCipher(randomBytes(32)) });
    expect(await otherKey.awsCredential(created.accessKeyId)).toBeUndefined();

    const [listed] = await here.list();
    expect(listed).toMatchObject({
      id: created.keyId,
      kind: 'aws',
      accessKeyId: created.accessKeyId,
      accountId: '123456789012',
    });
    expect(JSON.stringify(await here.list())).not.toContain(created.secretAccessKey);

    await new Promise((resolve) => setTimeout(resolve, 100)); // the subscription is up
    expect(await here.revoke(created.keyId)).toBe(true);
    const revokedAt = Date.now();
    while ((await there.awsCredential(created.accessKeyId)) !== undefined && Date.now() - revokedAt < 2_000)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
  });

  it('refuses aws keys without SECRETS_KEY or with API_KEYS', async () => {
    await expect(storeOn(client, keySpace()).createAws('read')).rejects.toThrow(AwsKeysUnavailableError);
    const configured = new ApiKeyStore(client, keySpace(), {
      configured: [{ key: 'k'.repeat(24), scope: 'admin' }],
      cipher: new SecretsCipher(randomBytes(32)),
    });
    await expect(configured.createAws('read')).rejects.toThrow(/API_KEYS/);
  });
});
