import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (webhook signing secrets): AES-256-GCM under SECRETS_KEY.
 *
 * Stored form, versioned so the key or the algorithm can change later:
 *   `v1.<key id>.<base64url(12-byte IV | 16-byte tag | ciphertext)>`
 * The key id is the first 8 hex digits of sha256(key): a rotation can keep old keys by id and
 * re-encrypt, and a wrong key is named as such instead of failing as a corrupt value.
 * The additional authenticated data binds a ciphertext to what it protects (e.g. the
 * subscription id), so a ciphertext copied onto another record does not decrypt.
 */
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** A secret that cannot be decrypted (no key, another key, or altered); the message names why, never the value. */
export class SecretDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretDecryptionError';
  }
}

export class SecretsCipher {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`SECRETS_KEY must be ${KEY_BYTES} bytes, got ${key.length}`);
    this.keyId = keyIdOf(key);
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${this.keyId}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  decrypt(stored: string, context: string): string {
    const [version, keyId, payload, ...rest] = stored.split('.');
    if (version !== VERSION || !keyId || !payload || rest.length > 0)
      throw new SecretDecryptionError(`stored secret is not in a known format (expected ${VERSION})`);
    if (keyId !== this.keyId)
      throw new SecretDecryptionError(`stored secret was encrypted under key ${keyId}, SECRETS_KEY is ${this.keyId}`);
    const bytes = Buffer.from(payload, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretDecryptionError('stored secret is truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptionError('stored secret fails authentication (altered, or moved from another record)');
    }
  }
}

/** The 8-hex-digit id of a key, safe to log: names the key without revealing it. */
function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * SECRETS_KEY: 32 bytes as 64 hex digits or base64 / base64url (44 or 43 characters). Undefined
 * when unset; a problem (never echoing the value) when malformed.
 */
export function parseSecretsKey(raw: string | undefined, problems: string[]): Buffer | undefined {
  const text = raw?.trim();
  if (!text) return undefined;
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) key = Buffer.from(text, 'base64');
  if (key?.length !== KEY_BYTES) {
    problems.push(
      `SECRETS_KEY must be ${KEY_BYTES} random bytes as 64 hex digits or base64 (e.g. \`openssl rand -base64 32\`), got ${text.length} characters`,
    );
    return undefined;
  }
  return key;
}
