import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ApiKeyEntry } from '../config/app-config.js';
import type { KeySpace } from '../redis/key-space.js';
import type { ApiScope } from './require-scope.decorator.js';

/** Who is calling: a key's public id (a prefix of its hash, safe to log) and its scope. */
export interface ApiPrincipal {
  keyId: string;
  scope: ApiScope;
}

interface StoredKey {
  id: string;
  scope: ApiScope;
  createdAt: string;
}

/** A key looked up in Redis is trusted this long in process: revoking one takes effect within it. */
const CACHE_TTL_MS = 30_000;
/** Unknown keys are remembered briefly, so guessing keys does not turn into Redis load. */
const NEGATIVE_TTL_MS = 2_000;
const CACHE_MAX = 10_000;

/** The hex sha256 of a key: the only form in which keys are stored or compared. */
function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new key: 32 random bytes, base64url, with a recognisable prefix. */
function generateApiKey(): string {
  return `tsk_${randomBytes(32).toString('base64url')}`;
}

/**
 * API keys, stored hashed. With API_KEYS set, the configured keys (hashed at boot) are the only
 * ones accepted. Without it, keys live in Redis (`auth:keys`, sha256 -> scope), so every replica
 * and every later start accepts them; the first start creates one admin key (see ensureBootstrapKey).
 */
export class ApiKeyStore {
  private readonly configured: Map<string, ApiPrincipal> | undefined;
  private readonly cache = new Map<string, { principal?: ApiPrincipal; until: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    configuredKeys: readonly ApiKeyEntry[],
  ) {
    if (configuredKeys.length > 0) {
      this.configured = new Map(
        configuredKeys.map(({ key, scope }) => {
          const hash = hashApiKey(key);
          return [hash, { keyId: hash.slice(0, 12), scope }];
        }),
      );
    }
  }

  /** Keys come from API_KEYS (true) or from Redis (false). */
  get fromConfig(): boolean {
    return this.configured !== undefined;
  }

  /** The principal of a presented key, or undefined when the key is unknown. */
  async verify(presented: string, nowMs = Date.now()): Promise<ApiPrincipal | undefined> {
    const hash = hashApiKey(presented);
    // Lookups go by hash: comparing digests of the presented key leaks nothing useful by timing.
    if (this.configured) return this.configured.get(hash);
    const cached = this.cache.get(hash);
    if (cached && cached.until > nowMs) return cached.principal;
    const json = await this.redis.hget(this.keys.apiKeys(), hash);
    const stored = json === null ? undefined : (JSON.parse(json) as StoredKey);
    const principal = stored && { keyId: stored.id, scope: stored.scope };
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(hash, { principal, until: nowMs + (principal ? CACHE_TTL_MS : NEGATIVE_TTL_MS) });
    return principal;
  }

  /** Stores a new key's hash in Redis and returns the key (the only time it exists in clear). */
  async create(scope: ApiScope, nowMs = Date.now()): Promise<{ key: string; keyId: string }> {
    const key = generateApiKey();
    const hash = hashApiKey(key);
    const stored: StoredKey = { id: hash.slice(0, 12), scope, createdAt: new Date(nowMs).toISOString() };
    await this.redis.hset(this.keys.apiKeys(), hash, JSON.stringify(stored));
    return { key, keyId: stored.id };
  }

  /**
   * Without API_KEYS, the first start of a deployment creates one admin key. Replicas race on
   * SET NX, so exactly one creates it. Returns the new key, or undefined when keys exist already
   * (or come from API_KEYS).
   */
  async ensureBootstrapKey(nowMs = Date.now()): Promise<{ key: string; keyId: string } | undefined> {
    if (this.configured) return undefined;
    const won = await this.redis.set(this.keys.apiKeysBootstrapped(), new Date(nowMs).toISOString(), 'NX');
    if (won !== 'OK') return undefined;
    return this.create('admin', nowMs);
  }
}
