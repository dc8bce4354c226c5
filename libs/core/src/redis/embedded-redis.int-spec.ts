import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedis } from '../../../../test/support/redis-server.js';
import { ensureRedis, type EmbeddedRedis } from './embedded-redis.js';

class Messages {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
}

async function ping(url: string): Promise<string> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.ping();
  } finally {
    if (client.status !== 'end') client.disconnect();
  }
}

/** Runs `fn` with process.cwd() in a fresh temporary directory. */
async function inTempCwd<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const previous = process.cwd();
  const dir = mkdtempSync(join(tmpdir(), 'trailsight-cwd-'));
  process.chdir(dir);
  try {
    return await fn(dir);
  } finally {
    process.chdir(previous);
  }
}

describe('ensureRedis', () => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('starts no redis-server when REDIS_CLUSTER_NODES names a Redis Cluster', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const messages = new Messages();
    const embedded = await inTempCwd((cwd) => {
      cleanups.push(() => Promise.resolve(rmSync(cwd, { recursive: true, force: true })));
      return ensureRedis({ redisUrl: url, redisClusterNodes: [{ host: '127.0.0.1', port: 7000 }] }, messages);
    });
    await expect(ping(url)).rejects.toThrow();
    expect(messages.lines).toEqual(['Using the Redis cluster 127.0.0.1:7000']);
    await expect(embedded.stop()).resolves.toBeUndefined();
  });

  it('starts a redis-server on the port of a local REDIS_URL when nothing answers, and stops it', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const messages = new Messages();
    let embedded: EmbeddedRedis | undefined;
    const dir = await inTempCwd(async (cwd) => {
      embedded = await ensureRedis({ redisUrl: url }, messages);
      return cwd;
    });
    cleanups.push(async () => {
      await embedded?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    expect(embedded?.url).toBe(url);
    await expect(ping(url)).resolves.toBe('PONG');
    const client = new Redis(url);
    try {
      await expect(client.config('GET', 'maxmemory-policy')).resolves.toEqual(['maxmemory-policy', 'noeviction']);
      await expect(client.config('GET', 'appendonly')).resolves.toEqual(['appendonly', 'yes']);
      await expect(client.config('GET', 'dir')).resolves.toEqual(['dir', join(dir, '.data', 'redis')]);
    } finally {
      await client.quit();
    }
    expect(existsSync(join(dir, '.data', 'redis', 'appendonlydir'))).toBe(true);
    expect(messages.lines.join('\n')).toContain('starting redis-server');

    await embedded?.stop();
    await expect(ping(url)).rejects.toThrow();
  });

  it('reuses a Redis that already answers and starts nothing', async () => {
    const existing = await startRedis();
    cleanups.push(() => existing.stop());
    const messages = new Messages();
    await inTempCwd(async (cwd) => {
      cleanups.push(() => Promise.resolve(rmSync(cwd, { recursive: true, force: true })));
      const embedded = await ensureRedis({ redisUrl: existing.url }, messages);
      expect(embedded.url).toBe(existing.url);
      expect(existsSync(join(cwd, '.data'))).toBe(false);
      await embedded.stop();
    });
    // stop() left the Redis it did not start alone.
    await expect(ping(existing.url)).resolves.toBe('PONG');
    expect(messages.lines).toEqual([`Using the Redis at ${existing.url}`]);
  });

  it('says how to get a Redis when none answers and redis-server is not on PATH', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const path = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), 'trailsight-empty-path-'));
    try {
      await inTempCwd(async (cwd) => {
        cleanups.push(() => Promise.resolve(rmSync(cwd, { recursive: true, force: true })));
        const attempt = ensureRedis({ redisUrl: url }, new Messages());
        // Should it wrongly start one, do not leave it running.
        cleanups.push(() =>
          attempt.then(
            (embedded) => embedded.stop(),
            () => undefined,
          ),
        );
        await expect(attempt).rejects.toThrow(/redis-server is not on PATH/);
        await expect(attempt).rejects.toThrow(/apt-get install redis-server/);
        await expect(attempt).rejects.toThrow(/brew install redis/);
        await expect(attempt).rejects.toThrow(/docker compose up -d redis/);
        await expect(attempt).rejects.toThrow(/REDIS_URL/);
      });
    } finally {
      rmSync(process.env.PATH, { recursive: true, force: true });
      process.env.PATH = path;
    }
  });

  it('never starts a server for a remote REDIS_URL', async () => {
    // TEST-NET-1 address: nothing answers there.
    const attempt = ensureRedis({ redisUrl: 'redis://:hunter2@192.0.2.1:6379' }, new Messages());
    await expect(attempt).rejects.toThrow(/No Redis answers at redis:\/\/192\.0\.2\.1:6379\. Install one/);
    await expect(attempt).rejects.not.toThrow(/hunter2/);
  });
});
