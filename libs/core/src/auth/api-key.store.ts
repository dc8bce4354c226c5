import { createHash, randomBytes } from 'node:crypto';
import { closeRedis, type RedisClient } from '../redis/redis-connection.factory.js';
import { Cluster, type Result } from 'ioredis';
import type { ApiKeyEntry } from '../config/app-config.js';
import type { KeySpace } from '../redis/key-space.js';
import type { SecretsCipher } from '../secrets/secrets-cipher.js';
import { LruMap } from './lru-map.js';
import type { ApiScope } from './require-scope.decorator.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    apiKeyBootstrap(numKeys: number, ...keysAndArgs: string[]): Result<number, Context>;
    apiKeyRevoke(numKeys: number, ...keysAndArgs: string[]): Result<string | null, Context>;
    apiKeyRename(numKeys: number, ...keys: string[]): Result<number, Context>;
    apiKeyDelIfUnchanged(numKeys: number, key: string, dump: Buffer): Result<number, Context>;
  }
}

/**
 * KEYS: bootstrapped marker, keys hash. ARGV: time, key hash, stored JSON.
 * The marker and the first admin key in one atomic step: a crash leaves both or neither, so a
 * later start either finds the key or creates it.
 */
const BOOTSTRAP_LUA = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
`;

/**
 * KEYS: keys hash, last-used hash. ARGV: key id, revocation channel.
 * Deletes the key whose id matches and announces its hash to every process; returns the hash, or
 * nil when no key has that id.
 */
const REVOKE_LUA = `
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local ok, stored = pcall(cjson.decode, entries[i + 1])
  if ok and type(stored) == 'table' and stored.id == ARGV[1] then
    redis.call('HDEL', KEYS[1], entries[i])
    redis.call('HDEL', KEYS[2], ARGV[1])
    redis.call('PUBLISH', ARGV[2], entries[i])
    return entries[i]
  end
end
return false
`;

/**
 * KEYS: pairs of (old name, new name). On a single Redis, one atomic step moves each old key to
 * its new name; when both exist (a process of the older version wrote the old one since), the old
 * hash's fields are merged in without overwriting. Returns how many old keys it moved.
 */
const RENAME_LUA = `
local moved = 0
for i = 1, #KEYS, 2 do
  local from, to = KEYS[i], KEYS[i + 1]
  if redis.call('EXISTS', from) == 1 then
    if redis.call('EXISTS', to) == 0 then
      redis.call('RENAME', from, to)
    else
      if redis.call('TYPE', from).ok == 'hash' then
        local entries = redis.call('HGETALL', from)
        for j = 1, #entries, 2 do redis.call('HSETNX', to, entries[j], entries[j + 1]) end
      end
      redis.call('DEL', from)
    end
    moved = moved + 1
  end
end
return moved
`;

/** KEYS: an old key. ARGV: its DUMP. Deletes it only if nothing changed it since that DUMP. */
const DEL_IF_UNCHANGED_LUA = `
if redis.call('DUMP', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** Who is calling: a key's public id (a prefix of its hash, safe to log) and its scope. */
export interface ApiPrincipal {
  keyId: string;
  scope: ApiScope;
}

/**
 * `api`: a bearer key (stored as its sha256). `aws`: an access key id and secret for AWS
 * Signature Version 4 on /aws (the secret stored encrypted: verifying a signature needs it).
 */
type ApiKeyKind = 'api' | 'aws';

/** What GET /v1/keys and `keys list` show of a key: never the key or its hash. */
export interface ApiKeyInfo {
  id: string;
  scope: ApiScope;
  kind: ApiKeyKind;
  /** aws keys: the access key id (public, like AWS's). */
  accessKeyId?: string;
  /** aws keys: the one account whose Insights the key reads, when bound to one. */
  accountId?: string;
  /** `redis`: created at runtime, revocable; `config`: from API_KEYS. */
  source: 'redis' | 'config';
  createdAt?: string;
  lastUsedAt?: string;
}

interface StoredKey {
  id: string;
  scope: ApiScope;
  createdAt: string;
  /** Absent on api keys (and on every key from before aws keys existed). */
  kind?: 'aws';
  accessKeyId?: string;
  /** The secret access key, sealed by SecretsCipher and bound to the access key id. */
  secretEnc?: string;
  accountId?: string;
}

/** A verified aws key's principal, with what SigV4 verification and scoping need. */
export interface AwsCredential {
  principal: ApiPrincipal;
  secretAccessKey: string;
  accountId?: string;
}

/** What an aws key is created with, and returned once. */
export interface CreatedAwsKey {
  keyId: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ApiKeyStoreSettings {
  /** API_KEYS: when set, the only keys accepted (and aws keys cannot be created). */
  configured: readonly ApiKeyEntry[];
  /** From SECRETS_KEY: seals aws keys' secrets. Without it aws keys cannot be created. */
  cipher?: SecretsCipher;
}

/** Refused aws key creation: the reason is the operator's to fix (API_KEYS set, no SECRETS_KEY). */
export class AwsKeysUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AwsKeysUnavailableError';
  }
}

/**
 * A key found in Redis is trusted this long in process. Revocations reach every process at once
 * over pub/sub; this is the backstop for a process whose subscription was down at that moment.
 */
const CACHE_TTL_MS = 10_000;
/** Unknown keys are remembered briefly, so repeating one guess does not turn into Redis load. */
const NEGATIVE_TTL_MS = 2_000;
/** Valid keys remembered per process (least recently used evicted). */
const CACHE_MAX = 10_000;
/**
 * Unknown keys remembered per process, apart from the valid ones: any number of random keys
 * evicts only other random keys, never a valid key.
 */
const NEGATIVE_CACHE_MAX = 1_000;
/** How often one process records a key's last use in Redis. */
const LAST_USED_EVERY_MS = 60_000;

/** The hex sha256 of a key: the only form in which keys are stored or compared. */
function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new key: 32 random bytes, base64url, with a recognisable prefix. */
function generateApiKey(): string {
  return `tsk_${randomBytes(32).toString('base64url')}`;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * An access key id shaped like AWS's (20 characters, uppercase base32) but with its own prefix,
 * `TSAK`, so it is never mistaken for (or flagged as) a real AWS key.
 */
function generateAccessKeyId(): string {
  const bytes = randomBytes(16);
  let id = 'TSAK';
  for (const byte of bytes) id += BASE32[byte & 31];
  return id;
}

/** A secret access key like AWS's: 40 characters of base64 (30 random bytes). */
function generateSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}

/** The `auth:keys` field of an aws key: never a sha256 hex, so no bearer key can land on it. */
function awsField(accessKeyId: string): string {
  return `aws:${accessKeyId}`;
}

/** What binds a sealed secret to its key: a ciphertext moved to another key does not open. */
function awsSecretContext(accessKeyId: string): string {
  return `aws-key:${accessKeyId}`;
}

/**
 * API keys, stored hashed, and aws keys (SigV4 credentials for /aws), their secret sealed under
 * SECRETS_KEY, in the same hash under `aws:<access key id>`, so list and revoke cover both. With API_KEYS set, the configured keys (hashed at boot) are the only
 * ones accepted. Without it, keys live in Redis (`auth:keys`, sha256 -> id, scope, created), so
 * every replica and every later start accepts them; the first start creates one admin key
 * (createBootstrapKey), and revoking a key reaches every process over pub/sub (listenForRevocations).
 */
export class ApiKeyStore {
  private readonly configured: Map<string, ApiPrincipal> | undefined;
  private readonly valid = new LruMap<string, { principal: ApiPrincipal; until: number }>(CACHE_MAX);
  private readonly unknown = new LruMap<string, number>(NEGATIVE_CACHE_MAX);
  private readonly lastUsedWritten = new LruMap<string, number>(CACHE_MAX);
  private readonly awsValid = new LruMap<string, { credential: AwsCredential; until: number }>(CACHE_MAX);
  private readonly awsUnknown = new LruMap<string, number>(NEGATIVE_CACHE_MAX);
  private readonly cipher?: SecretsCipher;
  private subscriber?: RedisClient;
  private migration?: Promise<number>;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    settings: ApiKeyStoreSettings,
  ) {
    const configuredKeys = settings.configured;
    this.cipher = settings.cipher;
    if (configuredKeys.length > 0) {
      this.configured = new Map(
        configuredKeys.map(({ key, scope }) => {
          const hash = hashApiKey(key);
          return [hash, { keyId: hash.slice(0, 12), scope }];
        }),
      );
    }
    if (typeof this.redis.apiKeyBootstrap !== 'function')
      this.redis.defineCommand('apiKeyBootstrap', { lua: BOOTSTRAP_LUA });
    if (typeof this.redis.apiKeyRevoke !== 'function') this.redis.defineCommand('apiKeyRevoke', { lua: REVOKE_LUA });
    if (typeof this.redis.apiKeyRename !== 'function') this.redis.defineCommand('apiKeyRename', { lua: RENAME_LUA });
    if (typeof this.redis.apiKeyDelIfUnchanged !== 'function')
      this.redis.defineCommand('apiKeyDelIfUnchanged', { lua: DEL_IF_UNCHANGED_LUA });
  }

  /**
   * Moves API keys stored under their names from before the `{auth}` hash tag (`<prefix>:auth:keys`,
   * `:auth:keys:used`, `:auth:bootstrapped`) to today's. Idempotent and run once per process (every
   * caller shares the first run): at startup, before keys are read. Returns how many old keys moved.
   */
  migrateKeyNames(): Promise<number> {
    this.migration ??= this.redis instanceof Cluster ? this.migrateAcrossSlots() : this.migrateInOneStep();
    return this.migration;
  }

  private migrateInOneStep(): Promise<number> {
    const names = this.keys.legacyApiKeyNames().flatMap(({ from, to }) => [from, to]);
    return this.redis.apiKeyRename(names.length, ...names);
  }

  /**
   * On a Redis Cluster an old name and its new one sit in different slots, where RENAME is refused:
   * DUMP, RESTORE under the new name (or merge the fields when it exists already), then delete the
   * old key only if nothing wrote to it meanwhile, else go round again.
   */
  private async migrateAcrossSlots(): Promise<number> {
    let moved = 0;
    for (const { from, to } of this.keys.legacyApiKeyNames()) {
      for (let round = 0; round < 5; round++) {
        const dump = await this.redis.dumpBuffer(from);
        if (dump === null) break;
        try {
          await this.redis.restore(to, 0, dump);
        } catch (error) {
          if (!/BUSYKEY/.test((error as Error).message)) throw error;
          if ((await this.redis.type(from)) === 'hash') {
            const entries = Object.entries(await this.redis.hgetall(from));
            if (entries.length > 0) {
              const merge = this.redis.multi();
              for (const [field, value] of entries) merge.hsetnx(to, field, value);
              await merge.exec();
            }
          }
        }
        if ((await this.redis.apiKeyDelIfUnchanged(1, from, dump)) === 1) {
          moved++;
          break;
        }
      }
    }
    return moved;
  }

  /** Keys come from API_KEYS (true) or from Redis (false). */
  get fromConfig(): boolean {
    return this.configured !== undefined;
  }

  /** The principal of a presented key, or undefined when the key is unknown. */
  async verify(presented: string, nowMs = Date.now()): Promise<ApiPrincipal | undefined> {
    const principal = await this.lookUp(hashApiKey(presented), nowMs);
    if (principal) this.recordUse(principal.keyId, nowMs);
    return principal;
  }

  /**
   * The principal of a presented key if this process knows it already (API_KEYS, or a valid key
   * in its cache), without asking Redis; undefined otherwise. The guard's fast path.
   */
  known(presented: string, nowMs = Date.now()): ApiPrincipal | undefined {
    const hash = hashApiKey(presented);
    let principal: ApiPrincipal | undefined;
    if (this.configured) principal = this.configured.get(hash);
    else {
      const cached = this.valid.get(hash);
      principal = cached && cached.until > nowMs ? cached.principal : undefined;
    }
    if (principal) this.recordUse(principal.keyId, nowMs);
    return principal;
  }

  private async lookUp(hash: string, nowMs: number): Promise<ApiPrincipal | undefined> {
    // Lookups go by hash: comparing digests of the presented key leaks nothing useful by timing.
    if (this.configured) return this.configured.get(hash);
    const cached = this.valid.get(hash);
    if (cached && cached.until > nowMs) return cached.principal;
    const unknownUntil = this.unknown.get(hash);
    if (unknownUntil !== undefined && unknownUntil > nowMs) return undefined;
    const json = await this.redis.hget(this.keys.apiKeys(), hash);
    const stored = json === null ? undefined : (JSON.parse(json) as StoredKey);
    if (!stored) {
      this.valid.delete(hash);
      this.unknown.set(hash, nowMs + NEGATIVE_TTL_MS);
      return undefined;
    }
    const principal = { keyId: stored.id, scope: stored.scope };
    this.unknown.delete(hash);
    this.valid.set(hash, { principal, until: nowMs + CACHE_TTL_MS });
    return principal;
  }

  /** Last use, written at most once a minute per key and process; a failed write only loses that figure. */
  private recordUse(keyId: string, nowMs: number): void {
    const written = this.lastUsedWritten.get(keyId);
    if (written !== undefined && nowMs - written < LAST_USED_EVERY_MS) return;
    this.lastUsedWritten.set(keyId, nowMs);
    this.redis.hset(this.keys.apiKeysLastUsed(), keyId, new Date(nowMs).toISOString()).catch(() => undefined);
  }

  /** Stores a new key's hash in Redis and returns the key (the only time it exists in clear). */
  async create(scope: ApiScope, nowMs = Date.now()): Promise<{ key: string; keyId: string }> {
    const key = generateApiKey();
    const { hash, json, id } = this.toStored(key, scope, nowMs);
    await this.redis.hset(this.keys.apiKeys(), hash, json);
    return { key, keyId: id };
  }

  /**
   * Stores a new aws key (its secret sealed under SECRETS_KEY) and returns the secret, the only
   * time it leaves the process in clear. `accountId` binds the key to one account's Insights.
   */
  async createAws(scope: ApiScope, accountId?: string, nowMs = Date.now()): Promise<CreatedAwsKey> {
    if (this.configured) throw new AwsKeysUnavailableError('API keys come from API_KEYS; aws keys live in Redis only');
    if (!this.cipher) {
      throw new AwsKeysUnavailableError(
        'aws keys need SECRETS_KEY: their secret must be stored encrypted to verify signatures',
      );
    }
    const accessKeyId = generateAccessKeyId();
    const secretAccessKey = generateSecretAccessKey();
    const stored: StoredKey = {
      id: createHash('sha256').update(accessKeyId).digest('hex').slice(0, 12),
      scope,
      createdAt: new Date(nowMs).toISOString(),
      kind: 'aws',
      accessKeyId,
      secretEnc: this.cipher.encrypt(secretAccessKey, awsSecretContext(accessKeyId)),
      ...(accountId === undefined ? {} : { accountId }),
    };
    await this.redis.hset(this.keys.apiKeys(), awsField(accessKeyId), JSON.stringify(stored));
    return { keyId: stored.id, accessKeyId, secretAccessKey };
  }

  /**
   * The credential of an aws access key id this process holds in its cache, without asking Redis
   * (the fast path that skips the per-address limit, as `known()` does for bearer keys).
   */
  knownAws(accessKeyId: string, nowMs = Date.now()): AwsCredential | undefined {
    const cached = this.awsValid.get(awsField(accessKeyId));
    if (!cached || cached.until <= nowMs) return undefined;
    this.recordUse(cached.credential.principal.keyId, nowMs);
    return cached.credential;
  }

  /**
   * The credential of an aws access key id, secret opened, or undefined when no such key exists
   * (or it was revoked, or its secret cannot be opened under this SECRETS_KEY).
   */
  async awsCredential(accessKeyId: string, nowMs = Date.now()): Promise<AwsCredential | undefined> {
    if (this.configured || !this.cipher) return undefined;
    const field = awsField(accessKeyId);
    const cached = this.awsValid.get(field);
    if (cached && cached.until > nowMs) {
      this.recordUse(cached.credential.principal.keyId, nowMs);
      return cached.credential;
    }
    const unknownUntil = this.awsUnknown.get(field);
    if (unknownUntil !== undefined && unknownUntil > nowMs) return undefined;
    const json = await this.redis.hget(this.keys.apiKeys(), field);
    const stored = json === null ? undefined : (JSON.parse(json) as StoredKey);
    let secretAccessKey: string | undefined;
    try {
      if (stored?.secretEnc) secretAccessKey = this.cipher.decrypt(stored.secretEnc, awsSecretContext(accessKeyId));
    } catch {
      // Sealed under another SECRETS_KEY or altered: the key cannot sign, so it is unknown here.
    }
    if (!stored || secretAccessKey === undefined) {
      this.awsValid.delete(field);
      this.awsUnknown.set(field, nowMs + NEGATIVE_TTL_MS);
      return undefined;
    }
    const credential: AwsCredential = {
      principal: { keyId: stored.id, scope: stored.scope },
      secretAccessKey,
      ...(stored.accountId === undefined ? {} : { accountId: stored.accountId }),
    };
    this.awsUnknown.delete(field);
    this.awsValid.set(field, { credential, until: nowMs + CACHE_TTL_MS });
    this.recordUse(stored.id, nowMs);
    return credential;
  }

  /** Whether the first admin key was created already (or keys come from API_KEYS). */
  async bootstrapped(): Promise<boolean> {
    return this.configured !== undefined || (await this.redis.exists(this.keys.apiKeysBootstrapped())) === 1;
  }

  /** A fresh key for createBootstrapKey, to be saved where the operator can read it before it is stored. */
  newKey(): string {
    return generateApiKey();
  }

  /**
   * Without API_KEYS, the first start of a deployment makes `key` its admin key. Replicas race on
   * one atomic script (marker and key together), so exactly one wins. Returns the key's id when
   * this call stored it, undefined when keys exist already (or come from API_KEYS).
   */
  async createBootstrapKey(key: string, nowMs = Date.now()): Promise<string | undefined> {
    if (this.configured) return undefined;
    const { hash, json, id } = this.toStored(key, 'admin', nowMs);
    const won = await this.redis.apiKeyBootstrap(
      2,
      this.keys.apiKeysBootstrapped(),
      this.keys.apiKeys(),
      new Date(nowMs).toISOString(),
      hash,
      json,
    );
    return won === 1 ? id : undefined;
  }

  /** Every key: ids, scopes, creation and last use; never a key or its hash. Oldest first. */
  async list(): Promise<ApiKeyInfo[]> {
    const lastUsed = await this.redis.hgetall(this.keys.apiKeysLastUsed());
    if (this.configured) {
      return [...this.configured.values()].map(({ keyId, scope }) => ({
        id: keyId,
        scope,
        kind: 'api' as const,
        source: 'config' as const,
        ...(lastUsed[keyId] ? { lastUsedAt: lastUsed[keyId] } : {}),
      }));
    }
    const stored = Object.values(await this.redis.hgetall(this.keys.apiKeys())).map(
      (json) => JSON.parse(json) as StoredKey,
    );
    return stored
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
      .map(({ id, scope, createdAt, kind, accessKeyId, accountId }) => ({
        id,
        scope,
        kind: kind ?? ('api' as const),
        ...(accessKeyId === undefined ? {} : { accessKeyId }),
        ...(accountId === undefined ? {} : { accountId }),
        source: 'redis' as const,
        createdAt,
        ...(lastUsed[id] ? { lastUsedAt: lastUsed[id] } : {}),
      }));
  }

  /**
   * Deletes the key with this id and tells every process (pub/sub) to forget it. False when no
   * key has that id. Keys from API_KEYS cannot be revoked here (change API_KEYS).
   */
  async revoke(id: string): Promise<boolean> {
    const hash = await this.redis.apiKeyRevoke(
      2,
      this.keys.apiKeys(),
      this.keys.apiKeysLastUsed(),
      id,
      this.keys.apiKeyRevocations(),
    );
    if (hash === null) return false;
    this.forget(hash);
    return true;
  }

  /**
   * Subscribes to revocations on a connection of its own (a subscribed connection can do nothing
   * else). Each (re)subscription clears the cache of valid keys: a revocation published while the
   * subscription was down is not missed.
   */
  listenForRevocations(): void {
    if (this.configured || this.subscriber) return;
    // Queued until connected (not awaited): a Redis that is down at boot does not hold the boot up.
    const waiting = { connectionName: 'trailsight-auth-revocations', maxRetriesPerRequest: null };
    // On a Redis Cluster, PUBLISH reaches the subscribers of every node.
    const subscriber: RedisClient =
      this.redis instanceof Cluster
        ? this.redis.duplicate(undefined, {
            enableOfflineQueue: true,
            redisOptions: { ...this.redis.options.redisOptions, ...waiting },
          })
        : this.redis.duplicate({ ...waiting, enableOfflineQueue: true });
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('ready', () => {
      this.valid.clear();
      this.awsValid.clear();
    });
    subscriber.on('message', (_channel: string, hash: string) => this.forget(hash));
    subscriber.subscribe(this.keys.apiKeyRevocations()).catch(() => undefined);
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber) await closeRedis(subscriber);
  }

  /** Drops a revoked key from the caches: `hash` is its `auth:keys` field (sha256, or `aws:<id>`). */
  private forget(hash: string): void {
    this.valid.delete(hash);
    this.awsValid.delete(hash);
  }

  private toStored(key: string, scope: ApiScope, nowMs: number): { hash: string; json: string; id: string } {
    const hash = hashApiKey(key);
    const stored: StoredKey = { id: hash.slice(0, 12), scope, createdAt: new Date(nowMs).toISOString() };
    return { hash, json: JSON.stringify(stored), id: stored.id };
  }
}
