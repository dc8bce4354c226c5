import { SecretDecryptionError, type KeySpace, type SecretsCipher, type RedisClient } from '@trailsight/core';
import type {
  DeliveryAttempt,
  DestinationType,
  WebhookEventType,
  WebhookFilter,
  WebhookSubscription,
} from './webhook-subscription.js';

/** Field of the totals hash counting deliveries given up (the others are attempt outcomes). */
const GIVEN_UP = 'given-up';

/** How long an "already enqueued" marker keeps a re-run notifier from delivering a record again. */
const ENQUEUED_TTL_SECONDS = 7 * 24 * 3600;
/** Safety net: an End never waits on a Start marker older than this. */
const START_PENDING_TTL_SECONDS = 24 * 3600;

/** Fields to change; `secret` is stored, never read back by the API. */
export interface SubscriptionChanges {
  url?: string;
  description?: string;
  events?: WebhookEventType[];
  filter?: WebhookFilter;
  enabled?: boolean;
  secret?: string;
  /** PagerDuty's routing key: sealed like the secret. */
  routingKey?: string;
}

/** HSET only when the hash still exists: a delivery finishing after a DELETE must not resurrect it. */
const HSET_IF_EXISTS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`;

/**
 * ARGV: threshold, reason, now. Counts one more failed delivery; at the threshold an enabled
 * subscription is disabled with the reason. Returns { failures, disabledNow } or -1 when gone.
 */
const RECORD_FAILURE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local disabled = 0
if n >= tonumber(ARGV[1]) and redis.call('HGET', KEYS[1], 'enabled') == '1' then
  redis.call('HSET', KEYS[1], 'enabled', '0', 'disabledReason', ARGV[2], 'disabledAt', ARGV[3], 'updatedAt', ARGV[3])
  disabled = 1
end
return { n, disabled }`;

/**
 * ARGV: the plaintext field, the sealed field, the plaintext that was read, its ciphertext.
 * Moves a plaintext secret (or routing key) to its sealed field only if it is still the one read
 * (a concurrent PATCH wins). 1 when moved.
 */
const ENCRYPT_IF_UNCHANGED = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[4], ARGV[1], '')
return 1`;

export interface SubscriptionsSettings {
  /** From SECRETS_KEY; without it secrets are stored (and read) in plaintext. */
  cipher?: SecretsCipher;
}

/**
 * Webhook subscriptions in Redis, all under the `{webhooks}` hash tag:
 * - `sub:<id>` hash: type (absent: webhook), url, description, events (JSON), filter (JSON), the signing secret
 *   (`secretEnc`: AES-256-GCM under SECRETS_KEY, bound to the id; or `secret`: plaintext, when
 *   there is no key or from before encryption; the other one is empty), enabled ('1'/'0'),
 *   disabledReason, disabledAt, failures (consecutive failed deliveries), createdAt, updatedAt;
 *   after a rotation: the old secret (`previousSecretEnc`/`previousSecret`) and `previousSecretUntil`;
 *   pagerduty only: the routing key (`routingKeyEnc` or `routingKey`, sealed like the secret);
 * - `subs` set of ids;
 * - `log:<id>` list of delivery attempts (JSON), newest first, capped;
 * - `enq:<deliveryId>` and `pending:<subscription>:<sharedEventID>` delivery markers;
 * - `caughtup:<sharedEventID>`: an insight held back by the catch-up rule (7 days).
 */
export class SubscriptionsRepository {
  private readonly cipher?: SecretsCipher;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    settings: SubscriptionsSettings = {},
  ) {
    this.cipher = settings.cipher;
  }

  /** Whether secrets are encrypted at rest (SECRETS_KEY set). */
  get encryptsSecrets(): boolean {
    return this.cipher !== undefined;
  }

  async create(subscription: WebhookSubscription, secret: string, routingKey?: string): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.webhookSubscription(subscription.id), {
        ...toHash(subscription),
        ...this.secretFields(subscription.id, secret),
        ...(routingKey === undefined ? {} : this.routingKeyFields(subscription.id, routingKey)),
      })
      .sadd(this.keys.webhookSubscriptions(), subscription.id)
      .exec();
  }

  async get(id: string): Promise<WebhookSubscription | undefined> {
    return fromHash(id, await this.redis.hgetall(this.keys.webhookSubscription(id)));
  }

  /**
   * The subscription and its secret, for signing a delivery. Throws SecretDecryptionError when
   * the stored secret cannot be read (SECRETS_KEY missing or another key): never signs with a wrong one.
   */
  async getForDelivery(
    id: string,
    nowMs = Date.now(),
  ): Promise<
    { subscription: WebhookSubscription; secret: string; previousSecret?: string; routingKey?: string } | undefined
  > {
    const hash = await this.redis.hgetall(this.keys.webhookSubscription(id));
    const subscription = fromHash(id, hash);
    if (!subscription) return undefined;
    const routingKey = this.open(routingKeyContext(id), hash.routingKeyEnc, hash.routingKey);
    // The rotated-out secret signs too until its grace period ends.
    const graceOver = !hash.previousSecretUntil || Date.parse(hash.previousSecretUntil) <= nowMs;
    const previousSecret = graceOver ? '' : this.open(previousContext(id), hash.previousSecretEnc, hash.previousSecret);
    return {
      subscription,
      secret: this.openSecret(id, hash),
      ...(previousSecret ? { previousSecret } : {}),
      ...(routingKey ? { routingKey } : {}),
    };
  }

  /**
   * Replaces the secret; the old one keeps signing (a second `v1=`) until `until`. Undefined when
   * the subscription is gone.
   */
  async rotateSecret(
    id: string,
    secret: string,
    previous: string,
    until: Date,
  ): Promise<WebhookSubscription | undefined> {
    const sealed = this.cipher
      ? { previousSecret: '', previousSecretEnc: this.cipher.encrypt(previous, previousContext(id)) }
      : { previousSecret: previous, previousSecretEnc: '' };
    const fields = {
      ...this.secretFields(id, secret),
      ...sealed,
      previousSecretUntil: until.toISOString(),
      updatedAt: new Date().toISOString(),
    };
    const updated = await this.redis.eval(
      HSET_IF_EXISTS,
      1,
      this.keys.webhookSubscription(id),
      ...Object.entries(fields).flat(),
    );
    return updated === 1 ? this.get(id) : undefined;
  }

  /**
   * Encrypts every secret still stored in plaintext (subscriptions from before SECRETS_KEY was
   * set). Safe to run from every replica at once. Returns how many it encrypted.
   */
  async encryptPlaintextSecrets(): Promise<number> {
    if (!this.cipher) return 0;
    const ids = await this.redis.smembers(this.keys.webhookSubscriptions());
    let moved = 0;
    for (const id of ids) if (await this.encryptIfPlaintext(id)) moved++;
    return moved;
  }

  private async encryptIfPlaintext(id: string): Promise<boolean> {
    if (!this.cipher) return false;
    const key = this.keys.webhookSubscription(id);
    const [secret, routingKey] = await this.redis.hmget(key, 'secret', 'routingKey');
    let moved = false;
    if (secret) moved = (await this.seal(key, 'secret', 'secretEnc', secret, id)) || moved;
    if (routingKey)
      moved = (await this.seal(key, 'routingKey', 'routingKeyEnc', routingKey, routingKeyContext(id))) || moved;
    return moved;
  }

  private async seal(
    key: string,
    field: string,
    sealedField: string,
    plaintext: string,
    context: string,
  ): Promise<boolean> {
    if (!this.cipher) return false;
    const sealed = this.cipher.encrypt(plaintext, context);
    return (await this.redis.eval(ENCRYPT_IF_UNCHANGED, 1, key, field, sealedField, plaintext, sealed)) === 1;
  }

  /** The hash fields that store `secret`: sealed under the key when there is one. */
  private secretFields(id: string, secret: string): { secret: string; secretEnc: string } {
    return this.cipher ? { secret: '', secretEnc: this.cipher.encrypt(secret, id) } : { secret, secretEnc: '' };
  }

  /** The routing key's fields: sealed under the key (bound to "<id>/routingKey") when there is one. */
  private routingKeyFields(id: string, routingKey: string): { routingKey: string; routingKeyEnc: string } {
    return this.cipher
      ? { routingKey: '', routingKeyEnc: this.cipher.encrypt(routingKey, routingKeyContext(id)) }
      : { routingKey, routingKeyEnc: '' };
  }

  private openSecret(id: string, hash: Record<string, string>): string {
    return this.open(id, hash.secretEnc, hash.secret);
  }

  private open(context: string, sealed: string | undefined, plaintext: string | undefined): string {
    if (sealed) {
      if (!this.cipher) throw new SecretDecryptionError('stored secret is encrypted but SECRETS_KEY is not set');
      return this.cipher.decrypt(sealed, context);
    }
    return plaintext ?? '';
  }

  /** Every subscription, oldest first. */
  async list(): Promise<WebhookSubscription[]> {
    const ids = await this.redis.smembers(this.keys.webhookSubscriptions());
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.webhookSubscription(id));
    const replies = (await pipeline.exec()) ?? [];
    const subscriptions: WebhookSubscription[] = [];
    replies.forEach(([error, hash], i) => {
      if (error) throw error;
      const subscription = fromHash(ids[i], hash as Record<string, string>);
      if (subscription) subscriptions.push(subscription);
    });
    return subscriptions.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Applies the changes; re-enabling clears the failure count and the reason. Undefined when gone. */
  async update(id: string, changes: SubscriptionChanges, now = new Date()): Promise<WebhookSubscription | undefined> {
    const fields: Record<string, string> = { updatedAt: now.toISOString() };
    if (changes.url !== undefined) fields.url = changes.url;
    if (changes.description !== undefined) fields.description = changes.description;
    if (changes.events !== undefined) fields.events = JSON.stringify(changes.events);
    if (changes.filter !== undefined) fields.filter = JSON.stringify(changes.filter);
    if (changes.secret !== undefined) Object.assign(fields, this.secretFields(id, changes.secret));
    if (changes.routingKey !== undefined) Object.assign(fields, this.routingKeyFields(id, changes.routingKey));
    if (changes.enabled === true)
      Object.assign(fields, { enabled: '1', failures: '0', disabledReason: '', disabledAt: '' });
    if (changes.enabled === false)
      Object.assign(fields, { enabled: '0', disabledReason: 'disabled by a user', disabledAt: fields.updatedAt });
    const updated = await this.redis.eval(
      HSET_IF_EXISTS,
      1,
      this.keys.webhookSubscription(id),
      ...Object.entries(fields).flat(),
    );
    if (updated !== 1) return undefined;
    // Migration on write: a subscription changed after SECRETS_KEY was set loses its plaintext secret.
    await this.encryptIfPlaintext(id);
    return this.get(id);
  }

  async delete(id: string): Promise<boolean> {
    const replies = await this.redis
      .multi()
      .del(this.keys.webhookSubscription(id))
      .srem(this.keys.webhookSubscriptions(), id)
      .del(this.keys.webhookDeliveryLog(id))
      .exec();
    return replies?.[0]?.[1] === 1;
  }

  /** A delivery succeeded: the run of failures is over. */
  async recordDeliverySuccess(id: string, now = new Date()): Promise<void> {
    await this.redis.eval(
      HSET_IF_EXISTS,
      1,
      this.keys.webhookSubscription(id),
      'failures',
      '0',
      'lastDeliveryAt',
      now.toISOString(),
    );
  }

  /** A delivery failed for good; at `threshold` failures in a row the subscription is disabled with `reason`. */
  async recordDeliveryFailure(
    id: string,
    threshold: number,
    reason: string,
    now = new Date(),
  ): Promise<{ failures: number; disabledNow: boolean } | undefined> {
    const reply = (await this.redis.eval(
      RECORD_FAILURE,
      1,
      this.keys.webhookSubscription(id),
      String(threshold),
      reason,
      now.toISOString(),
    )) as number | [number, number];
    if (!Array.isArray(reply)) return undefined;
    return { failures: reply[0], disabledNow: reply[1] === 1 };
  }

  /** Logs one attempt, keeping the newest `cap`, and counts it in the totals by outcome. */
  async appendAttempt(id: string, attempt: DeliveryAttempt, cap: number): Promise<void> {
    const key = this.keys.webhookDeliveryLog(id);
    await this.redis
      .multi()
      .lpush(key, JSON.stringify(attempt))
      .ltrim(key, 0, cap - 1)
      .hincrby(this.keys.webhookTotals(), attempt.outcome, 1)
      .exec();
  }

  /** Counts a delivery whose last attempt failed: nothing more will be tried. */
  async countGivenUp(): Promise<void> {
    await this.redis.hincrby(this.keys.webhookTotals(), GIVEN_UP, 1);
  }

  /** Cluster-wide totals: attempts by outcome and deliveries given up. */
  async totals(): Promise<{ attempts: Record<DeliveryAttempt['outcome'], number>; givenUp: number }> {
    const hash = await this.redis.hgetall(this.keys.webhookTotals());
    const count = (field: string) => Number(hash[field] ?? 0);
    return {
      attempts: { delivered: count('delivered'), failed: count('failed'), skipped: count('skipped') },
      givenUp: count(GIVEN_UP),
    };
  }

  /** The newest attempts first. */
  async attempts(id: string, limit: number): Promise<DeliveryAttempt[]> {
    const entries = await this.redis.lrange(this.keys.webhookDeliveryLog(id), 0, limit - 1);
    return entries.map((entry) => JSON.parse(entry) as DeliveryAttempt);
  }

  /** Which of these deliveries were never enqueued before. */
  async notYetEnqueued(deliveryIds: string[]): Promise<Set<string>> {
    if (deliveryIds.length === 0) return new Set();
    const pipeline = this.redis.pipeline();
    for (const id of deliveryIds) pipeline.exists(this.keys.webhookEnqueued(id));
    const replies = (await pipeline.exec()) ?? [];
    return new Set(deliveryIds.filter((_, i) => replies[i]?.[1] === 0));
  }

  async markEnqueued(deliveryIds: string[]): Promise<void> {
    if (deliveryIds.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const id of deliveryIds) pipeline.set(this.keys.webhookEnqueued(id), '1', 'EX', ENQUEUED_TTL_SECONDS);
    await pipeline.exec();
  }

  /** Start deliveries on their way: an End of the same insight to the same subscriber waits for them. */
  async markStartPending(pairs: Array<{ subscriptionId: string; sharedEventID: string }>): Promise<void> {
    if (pairs.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const { subscriptionId, sharedEventID } of pairs) {
      pipeline.set(this.keys.webhookStartPending(subscriptionId, sharedEventID), '1', 'EX', START_PENDING_TTL_SECONDS);
    }
    await pipeline.exec();
  }

  /** Remembers an insight whose Start the catch-up rule held back, so its End is held back too. */
  async markCaughtUp(sharedEventID: string): Promise<void> {
    await this.redis.set(this.keys.webhookCaughtUp(sharedEventID), '1', 'EX', ENQUEUED_TTL_SECONDS);
  }

  async isCaughtUp(sharedEventID: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.webhookCaughtUp(sharedEventID))) === 1;
  }

  async isStartPending(subscriptionId: string, sharedEventID: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.webhookStartPending(subscriptionId, sharedEventID))) === 1;
  }

  async clearStartPending(subscriptionId: string, sharedEventID: string): Promise<void> {
    await this.redis.del(this.keys.webhookStartPending(subscriptionId, sharedEventID));
  }
}

/** The cipher context of a rotated-out secret. */
function previousContext(id: string): string {
  return `${id}/previous`;
}

/** The cipher context of a routing key: another context than the secret's, so neither opens as the other. */
function routingKeyContext(id: string): string {
  return `${id}/routingKey`;
}

function toHash(subscription: WebhookSubscription): Record<string, string> {
  return {
    type: subscription.type,
    url: subscription.url,
    description: subscription.description ?? '',
    events: JSON.stringify(subscription.events),
    filter: JSON.stringify(subscription.filter),
    enabled: subscription.enabled ? '1' : '0',
    disabledReason: subscription.disabledReason ?? '',
    disabledAt: subscription.disabledAt ?? '',
    failures: String(subscription.consecutiveFailures),
    createdAt: subscription.createdAt,
    updatedAt: subscription.updatedAt,
  };
}

function fromHash(id: string, hash: Record<string, string>): WebhookSubscription | undefined {
  if (!hash.url) return undefined;
  return {
    id,
    // Subscriptions stored before destination types are webhooks.
    type: (hash.type || 'webhook') as DestinationType,
    url: hash.url,
    ...(hash.description ? { description: hash.description } : {}),
    events: JSON.parse(hash.events ?? '[]') as WebhookEventType[],
    filter: JSON.parse(hash.filter ?? '{}') as WebhookFilter,
    enabled: hash.enabled === '1',
    ...(hash.disabledReason ? { disabledReason: hash.disabledReason } : {}),
    ...(hash.disabledAt ? { disabledAt: hash.disabledAt } : {}),
    consecutiveFailures: Number(hash.failures ?? 0),
    ...(hash.previousSecretUntil && Date.parse(hash.previousSecretUntil) > Date.now()
      ? { previousSecretValidUntil: hash.previousSecretUntil }
      : {}),
    createdAt: hash.createdAt ?? '',
    updatedAt: hash.updatedAt ?? '',
  };
}
