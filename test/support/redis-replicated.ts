import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ReplicaWaitTimeoutError } from '@trailsight/core';
import { freePort, launch, startRedis, terminate, type ThrowawayRedis } from './redis-server.js';

/**
 * A throwaway primary with one real replica (`redis-server --replicaof`) that reaches it through
 * a TCP relay: `holdReplication()` stops the relay forwarding (the replication stream and the
 * replica's acknowledgements wait in it), so the primary still lists its replica but no write
 * reaches it and WAIT times out; `resumeReplication()` lets everything through again.
 */
export interface ReplicatedRedis {
  primary: ThrowawayRedis;
  /** redis://127.0.0.1:<port> of the replica (read-only). */
  replicaUrl: string;
  holdReplication(): void;
  resumeReplication(): void;
  stop(): Promise<void>;
}

/** `direct`: the replica connects to the primary itself, without the relay (benchmarks); hold then does nothing. */
export async function startReplicatedRedis({ direct = false } = {}): Promise<ReplicatedRedis> {
  const primary = await startRedis();
  const relay = await startRelay(primary.port);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'trailsight-replica-'));
  let replica: ChildProcess | undefined;
  try {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
    const upstream = direct ? primary.port : relay.port;
    replica = await launch([...args, '--replicaof', '127.0.0.1', String(upstream)], { port });
    const url = `redis://127.0.0.1:${port}`;
    await linkUp(url);
    // The replica reports its link up a moment before the primary lists it online (until then
    // ROLE shows no replica, and awaitReplicas would remember that for 10 s).
    await replicasOnline([primary.port]);
    const started = replica;
    return {
      primary,
      replicaUrl: url,
      holdReplication: () => relay.hold(),
      resumeReplication: () => relay.resume(),
      async stop() {
        relay.resume();
        await terminate(started);
        relay.close();
        await primary.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (replica) await terminate(replica);
    relay.close();
    await primary.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A ReplicatedRedis as a spec's describe block uses it, with a connection to each side. */
export interface ReplicatedRedisInSpec {
  primary: ThrowawayRedis;
  /** Connected to the primary. */
  client: Redis;
  /** Connected to the replica (reads what a failover would keep). */
  replica: Redis;
  holdReplication(): void;
  resumeReplication(): void;
}

/**
 * Starts a ReplicatedRedis and its two connections before the tests of the describe block it is
 * called in, and stops them after: the fields are set once `beforeAll` has run.
 */
export function useReplicatedRedis(): ReplicatedRedisInSpec {
  let redis: ReplicatedRedis | undefined;
  const spec: Partial<ReplicatedRedisInSpec> = {};
  beforeAll(async () => {
    const started = (redis = await startReplicatedRedis());
    Object.assign(spec, {
      primary: started.primary,
      client: new Redis(started.primary.url),
      replica: new Redis(started.replicaUrl),
      holdReplication: () => started.holdReplication(),
      resumeReplication: () => started.resumeReplication(),
    });
  }, 30_000);
  afterAll(async () => {
    spec.client?.disconnect();
    spec.replica?.disconnect();
    await redis?.stop();
  });
  return spec as ReplicatedRedisInSpec;
}

/** Resolves once the replica reports its link to the primary up (the first sync done). */
async function linkUp(url: string): Promise<void> {
  const client = new Redis(url);
  try {
    const deadline = Date.now() + 15_000;
    while (!(await client.info('replication')).includes('master_link_status:up')) {
      if (Date.now() > deadline) throw new Error(`the replica at ${url} never synced with its primary`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.disconnect();
  }
}

interface Relay {
  port: number;
  hold(): void;
  resume(): void;
  close(): void;
}

/** Forwards every connection to `targetPort`; while held, what each side sends is kept, then flushed in order. */
async function startRelay(targetPort: number): Promise<Relay> {
  let held = false;
  const flushes = new Set<() => void>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const forward = (from: Socket, to: Socket) => {
      const kept: Buffer[] = [];
      const flush = () => {
        for (const chunk of kept.splice(0)) to.write(chunk);
      };
      flushes.add(flush);
      from.on('data', (chunk: Buffer) => {
        if (held) kept.push(chunk);
        else to.write(chunk);
      });
      from.on('close', () => flushes.delete(flush));
    };
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    hold: () => {
      held = true;
    },
    resume: () => {
      held = false;
      for (const flush of flushes) flush();
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/**
 * Resolves once every primary among `ports` has an online replica: a replica finishes its first
 * sync a moment after a cluster reports ok, and until then ROLE lists none (so no WAIT is sent).
 */
export async function replicasOnline(ports: readonly number[], timeoutMs = 20_000): Promise<void> {
  for (const port of ports) {
    const node = new Redis(port, '127.0.0.1');
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const info = await node.info('replication');
        if (info.includes('role:slave') || /^slave0:.*state=online/m.test(info)) break;
        if (Date.now() > deadline) throw new Error(`primary ${port} has no online replica`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      node.disconnect();
    }
  }
}

/** How many WAITs a Redis has run (INFO commandstats). */
export async function waitCalls(client: Redis): Promise<number> {
  const stats = await client.info('commandstats');
  return Number(/^cmdstat_wait:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

/** One job's attempts against a held replica (heldJobQueue). */
export interface HeldJobQueue {
  /** How each attempt ended: `already done`, `counted <n>`, `wait timed out`, or the error. */
  attempts: string[];
  /**
   * Holds replication, adds the job (3 attempts, 1.5 s apart) and resolves with its first
   * attempt's error message, or `completed` when it completed (the test then fails, not hangs).
   */
  addWhileHeld(jobId: string): Promise<{ job: Job; firstAttempt: string }>;
  /** Lets replication through and resolves once the job has completed. */
  resumeUntilFinished(job: Job): Promise<void>;
  close(): Promise<void>;
}

/**
 * A BullMQ queue and worker on the primary whose worker runs `run` for each attempt (as a
 * processor would: the job id, and whether it is the last attempt) and notes how it ended: a job
 * acknowledged only once the replica has its writes fails while replication is held and
 * completes on a retry once it resumes.
 */
export async function heldJobQueue(
  redis: ReplicatedRedisInSpec,
  name: string,
  run: (attempt: { jobId: string; lastAttempt: boolean }) => Promise<{ alreadyDone: boolean; counted: number }>,
): Promise<HeldJobQueue> {
  const prefix = `{${name}-bull}`;
  const queue = new Queue(name, { connection: redis.client, prefix });
  const queueEvents = new QueueEvents(name, { connection: { port: redis.primary.port }, prefix });
  await queueEvents.waitUntilReady();
  const attempts: string[] = [];
  const worker = new Worker(
    name,
    async (job: Job) => {
      try {
        const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        const result = await run({ jobId: job.id ?? job.name, lastAttempt });
        attempts.push(result.alreadyDone ? 'already done' : `counted ${result.counted}`);
      } catch (error) {
        attempts.push(error instanceof ReplicaWaitTimeoutError ? 'wait timed out' : String(error));
        throw error;
      }
    },
    { connection: { port: redis.primary.port, maxRetriesPerRequest: null }, prefix },
  );
  return {
    attempts,
    async addWhileHeld(jobId) {
      redis.holdReplication();
      // The worker reports every failed attempt (QueueEvents only the last one).
      const firstAttempt = new Promise<string>((resolve) => {
        worker.once('failed', (_job, error) => resolve(error.message));
        worker.once('completed', () => resolve('completed'));
      });
      const job = await queue.add(name, {}, { jobId, attempts: 3, backoff: { type: 'fixed', delay: 1_500 } });
      return { job, firstAttempt: await firstAttempt };
    },
    async resumeUntilFinished(job) {
      redis.resumeReplication();
      await job.waitUntilFinished(queueEvents, 15_000);
    },
    async close() {
      redis.resumeReplication();
      await worker.close();
      await queueEvents.close();
      await queue.close();
    },
  };
}
