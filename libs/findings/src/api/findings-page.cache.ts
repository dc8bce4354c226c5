import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { closeRedis, type ClusterNodeAddress } from '@trailsight/core';
import { Redis, type RedisOptions } from 'ioredis';

/** One serialised response, ready to send. */
export interface CachedBody {
  body: string;
  etag: string;
}

const MAX_ENTRIES = 1_000;
const MAX_BYTES = 64 * 1024 * 1024;
const INVALIDATIONS = '__redis__:invalidate';
const RETRY_MS = 1_000;

/**
 * Serialised findings pages, kept in process until any findings key changes in Redis.
 *
 * Invalidation is Redis's own server-assisted client-side caching: `CLIENT TRACKING ... BCAST
 * PREFIX <findings prefix>` makes Redis publish every write, expiry or deletion of a findings
 * key to this process, whichever replica or process made it. The cache is used only while that
 * channel is known to be up; when either connection drops, everything is forgotten and reads go
 * to Redis until tracking is set up again. A page computed while an invalidation arrived is not kept,
 * and a hit is served only after a PING on the invalidation connection (see sync()).
 *
 * On a Redis Cluster (`locate` given) tracking hears only the node it is on, so both connections
 * go to the primary that owns the findings slot (every findings key shares one hash tag), and a
 * hit is served only once that node has also confirmed it still owns the slot (see owns()): after
 * a failover or a reshard it no longer does, and the cache forgets everything and reconnects to
 * the slot's new primary.
 */
export class FindingsPageCache {
  private readonly logger = new Logger(FindingsPageCache.name);
  private readonly entries = new Map<string, CachedBody>();
  private bytes = 0;
  private generation = 0;
  private tracking = false;
  private closed = false;
  private subscriber?: Redis;
  private tracker?: Redis;
  private retry?: NodeJS.Timeout;
  private warned = false;
  private nextSync?: Promise<boolean>;
  /** The cluster node tracking was last set up on, for the log. */
  private node?: string;

  constructor(
    private readonly connection: RedisOptions,
    /** Key prefix of every findings key, e.g. `ts:{findings}:`. */
    private readonly prefix: string,
    /** On a Redis Cluster: the primary that owns the findings slot now. */
    private readonly locate?: () => Promise<ClusterNodeAddress>,
  ) {}

  /** Connects the invalidation channel; the cache stays off until it is up. Never throws. */
  async start(): Promise<void> {
    this.closed = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.disable();
    const connections = [this.subscriber, this.tracker].filter((c): c is Redis => c !== undefined);
    await Promise.all(connections.map(closeRedis));
    this.subscriber = this.tracker = undefined;
  }

  get enabled(): boolean {
    return this.tracking;
  }

  /** The cached body for `key`, or computes, keeps (when still valid) and returns it. */
  async get(key: string, compute: () => Promise<unknown>): Promise<CachedBody> {
    if (this.entries.has(key) && (await this.sync())) {
      const hit = this.entries.get(key);
      if (hit) {
        // Least recently used goes first: re-insert at the end.
        this.entries.delete(key);
        this.entries.set(key, hit);
        return hit;
      }
    }
    const generation = this.generation;
    const body = JSON.stringify(await compute());
    const entry = { body, etag: `W/"${createHash('sha1').update(body).digest('base64url')}"` };
    if (this.tracking && generation === this.generation) this.put(key, entry);
    return entry;
  }

  /**
   * Read-your-writes across processes: a write acknowledged before this request arrived has
   * had its invalidation queued on the subscriber connection before the reply to this PING, so
   * once the PING returns, every such invalidation has been applied.
   */
  private sync(): Promise<boolean> {
    // Requests of one event-loop turn share one PING, sent after all of them arrived.
    this.nextSync ??= new Promise((resolve) => {
      setImmediate(() => {
        this.nextSync = undefined;
        resolve(this.ping());
      });
    });
    return this.nextSync;
  }

  private async ping(): Promise<boolean> {
    const { subscriber, tracker } = this;
    if (!this.tracking || !subscriber || !tracker) return false;
    try {
      // In parallel: a hit still costs one round trip.
      await Promise.all([subscriber.ping(), this.locate ? this.owns(tracker) : undefined]);
      return this.tracking && this.subscriber === subscriber;
    } catch (error) {
      // A node that lost the slot keeps its connections open: drop them and find the new owner.
      if (this.locate && this.subscriber === subscriber) {
        this.off(error);
        this.lost(subscriber, tracker);
      }
      return false;
    }
  }

  /**
   * Resolves when the tracker's node still serves the findings slot as its primary. The probe key
   * never exists, so a replica, a node that no longer owns the slot, and one migrating it away
   * (whose writes then land elsewhere) all refuse the read (MOVED, ASK).
   */
  private async owns(tracker: Redis): Promise<void> {
    await tracker.exists(`${this.prefix}page-cache-probe`);
  }

  private put(key: string, entry: CachedBody): void {
    this.entries.set(key, entry);
    this.bytes += entry.body.length;
    for (const [oldest, value] of this.entries) {
      if (this.entries.size <= MAX_ENTRIES && this.bytes <= MAX_BYTES) break;
      this.entries.delete(oldest);
      this.bytes -= value.body.length;
    }
  }

  private invalidate(): void {
    this.generation++;
    this.entries.clear();
    this.bytes = 0;
  }

  private disable(): void {
    this.tracking = false;
    this.invalidate();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    let node: ClusterNodeAddress | undefined;
    try {
      node = await this.locate?.();
    } catch (error) {
      this.off(error);
      this.scheduleRetry();
      return;
    }
    if (this.closed) return;
    const options: RedisOptions = {
      ...this.connection,
      // A cluster node has db 0 only.
      ...(node && { host: node.host, port: node.port, db: 0 }),
      lazyConnect: true,
      // This class reconnects both connections together, so tracking is set up afresh each time.
      retryStrategy: () => null,
      maxRetriesPerRequest: 1,
      // RESP2: invalidations then arrive as Pub/Sub messages on __redis__:invalidate, which
      // ioredis emits; under RESP3 they are `invalidate` push frames it does not surface.
      protocol: 2,
    };
    const subscriber = new Redis({ ...options, connectionName: 'trailsight-findings-cache-sub' });
    const tracker = new Redis({ ...options, connectionName: 'trailsight-findings-cache' });
    this.subscriber = subscriber;
    this.tracker = tracker;
    const lost = () => this.lost(subscriber, tracker);
    for (const c of [subscriber, tracker]) {
      c.on('error', () => undefined);
      c.on('close', lost);
    }
    try {
      await Promise.all([subscriber.connect(), tracker.connect()]);
      const id = Number(await subscriber.client('ID'));
      subscriber.on('message', (channel: string) => {
        if (channel === INVALIDATIONS) this.invalidate();
      });
      await subscriber.subscribe(INVALIDATIONS);
      await tracker.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST', 'PREFIX', this.prefix);
      // The slot map asked may lag a failover: the node must own the slot once tracking is on.
      if (node) await this.owns(tracker);
      this.invalidate();
      this.tracking = true;
      const where = node && `${node.host}:${node.port}`;
      if (where && where !== this.node)
        this.logger.log(`findings page cache on, invalidated by ${where} (the primary of the findings slot)`);
      else if (this.warned) this.logger.log('findings page cache back on');
      this.node = where;
      this.warned = false;
    } catch (error) {
      this.off(error);
      lost();
    }
  }

  /** Logs the cache going off once, not every failed reconnect. */
  private off(error: unknown): void {
    if (this.warned) return;
    const reason = error instanceof Error ? error.message : String(error);
    const next = this.locate ? ", reconnecting to the findings slot's current primary" : '';
    this.logger.warn(`findings page cache off (${reason}); every request reads Redis until it is back${next}`);
    this.warned = true;
  }

  private lost(subscriber: Redis, tracker: Redis): void {
    if (this.subscriber !== subscriber) return;
    this.disable();
    this.subscriber = this.tracker = undefined;
    subscriber.disconnect();
    tracker.disconnect();
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    this.retry = setTimeout(() => void this.connect(), RETRY_MS);
    this.retry.unref();
  }
}
