import { execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, launch, terminate } from './redis-server.js';

const run = promisify(execFile);

/** One redis-server of the cluster. */
export interface ClusterServer {
  port: number;
  child: ChildProcess;
}

/**
 * A throwaway Redis Cluster on free loopback ports: `primaries` primaries with one replica each,
 * made by `redis-cli --cluster create`, AOF on, a short node timeout so a dead primary's replica
 * takes over within seconds. Never a Redis the user runs: its own ports and directory.
 */
export interface ThrowawayCluster {
  /** REDIS_CLUSTER_NODES: every node, "127.0.0.1:<port>" comma-separated. */
  nodes: string;
  servers: ClusterServer[];
  /** The port of the primary that owns `slot` now (asked of a live node). */
  primaryOf(slot: number): Promise<number>;
  /** SIGKILLs the server on `port`. */
  kill(port: number): Promise<void>;
  /**
   * Starts the killed server on `port` again (same directory, same nodes.conf); resolves once the
   * cluster sees it up again, a replica of the node that took its slots.
   */
  restart(port: number, timeoutMs?: number): Promise<void>;
  /** Resolves once a live node reports every slot served and `port` is no longer a primary. */
  failedOver(port: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const NODE_TIMEOUT_MS = 2_000;

export async function startRedisCluster(primaries = 3): Promise<ThrowawayCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'trailsight-cluster-'));
  const ports: number[] = [];
  while (ports.length < primaries * 2) {
    const port = await freePort();
    // A cluster node also listens on port + 10000 (its bus): both must be free and distinct.
    if (port + 10_000 <= 65_535 && !ports.includes(port)) ports.push(port);
  }
  const servers: ClusterServer[] = [];
  const argsOf = new Map<number, string[]>();
  try {
    for (const port of ports) {
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        nodeDir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        String(NODE_TIMEOUT_MS),
        '--save',
        '',
        '--appendonly',
        'yes',
        '--maxmemory-policy',
        'noeviction',
      ];
      argsOf.set(port, args);
      servers.push({ port, child: await launch(args, { port }) });
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
  } catch (error) {
    await Promise.all(servers.map((server) => terminate(server.child)));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const alive = () => servers.filter((server) => server.child.exitCode === null && server.child.signalCode === null);
  const ask = async <T>(command: (client: Redis) => Promise<T>): Promise<T> => {
    const client = new Redis({ port: alive()[0].port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    try {
      return await command(client);
    } finally {
      client.disconnect();
    }
  };
  const settled = async (done: (nodes: string) => boolean, what: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [info, nodes] = await ask(async (client) => [
        await client.cluster('INFO'),
        String(await client.cluster('NODES')),
      ]);
      if (info.includes('cluster_state:ok') && done(nodes)) return;
      if (Date.now() > deadline) throw new Error(`the cluster did not ${what} within ${timeoutMs} ms:\n${nodes}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  // A replica whose first sync has not finished is never promoted: a primary killed before then
  // keeps its slots down for good.
  const synced = async (port: number, timeoutMs: number) => {
    const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const info = await client.info('replication');
        if (!info.includes('role:slave') || info.includes('master_link_status:up')) return;
        if (Date.now() > deadline) throw new Error(`replica ${port} did not sync within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      client.disconnect();
    }
  };
  // Every node must know the whole layout before clients ask for the slots.
  await settled((nodes) => nodes.trim().split('\n').length === ports.length, 'form', 30_000);
  for (const server of servers) {
    const client = new Redis({ port: server.port, host: '127.0.0.1' });
    const deadline = Date.now() + 30_000;
    while (!(await client.cluster('INFO')).includes('cluster_state:ok')) {
      if (Date.now() > deadline) throw new Error(`node ${server.port} never reported cluster_state:ok`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    client.disconnect();
  }
  for (const server of servers) await synced(server.port, 30_000);
  return {
    nodes: ports.map((port) => `127.0.0.1:${port}`).join(','),
    servers,
    async primaryOf(slot) {
      const ranges = await ask((client) => client.cluster('SLOTS'));
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (!range?.[2]) throw new Error(`no node serves slot ${slot}`);
      return range[2][1];
    },
    async kill(port) {
      const server = servers.find((s) => s.port === port);
      if (server) await terminate(server.child);
    },
    async restart(port, timeoutMs = 30_000) {
      const server = servers.find((s) => s.port === port);
      if (!server) throw new Error(`no cluster server on ${port}`);
      server.child = await launch(argsOf.get(port)!, { port });
      await settled(
        (nodes) =>
          nodes
            .split('\n')
            .some((line) => line.includes(`:${port}@`) && line.includes('slave') && !line.includes('fail')),
        `take ${port} back as a replica`,
        timeoutMs,
      );
      await synced(port, timeoutMs);
    },
    async failedOver(port, timeoutMs = 30_000) {
      // `fail?` (PFAIL) is one node's suspicion, while cluster_state is still ok and the slots still
      // the dead node's: wait for the agreed FAIL and for no slot left on it (a replica promoted).
      await settled(
        (nodes) =>
          nodes
            .split('\n')
            .filter((line) => line.includes(`:${port}@`))
            .every((line) => /\bfail\b/.test(line) && !line.includes('fail?') && line.trim().split(' ').length <= 8),
        `promote a replica of ${port}`,
        timeoutMs,
      );
    },
    async stop() {
      await Promise.all(servers.map((server) => terminate(server.child)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
