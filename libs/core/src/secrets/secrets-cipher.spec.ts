import { randomBytes } from 'node:crypto';
import { SecretDecryptionError, SecretsCipher } from './secrets-cipher.js';

describe('SecretsCipher', () => {
  const cipher = new SecretsCipher(randomBytes(32));

  it('round-trips a secret in the versioned form v1.<key id>.<payload>, never containing it', () => {
    const sealed = cipher.encrypt('whsec_the-plain-secret', 'sub-1');
    expect(sealed).toMatch(new RegExp(`^v1\\.${cipher.keyId}\\.[A-Za-z0-9_-]+$`));
    expect(sealed).not.toContain('the-plain-secret');
    expect(cipher.decrypt(sealed, 'sub-1')).toBe('whsec_the-plain-secret');
    // A fresh IV each time: the same secret never gives the same ciphertext.
    expect(cipher.encrypt('whsec_the-plain-secret', 'sub-1')).not.toBe(sealed);
  });

  it('refuses a ciphertext moved to another record, altered, under another key or in an unknown format', () => {
    const sealed = cipher.encrypt('whsec_x', 'sub-1');
    expect(() => cipher.decrypt(sealed, 'sub-2')).toThrow(SecretDecryptionError);
    const payload = sealed.split('.')[2] ?? '';
    const flipped = `${payload.slice(0, -2)}${payload.endsWith('A') ? 'B' : 'A'}${payload.slice(-1)}`;
    expect(() => cipher.decrypt(`v1.${cipher.keyId}.${flipped}`, 'sub-1')).toThrow(/fails authentication/);
    const other = new SecretsCipher(randomBytes(32));
    expect(() => other.decrypt(sealed, 'sub-1')).toThrow(new RegExp(`encrypted under key ${cipher.keyId}`));
    expect(() => cipher.decrypt('whsec_plaintext', 'sub-1')).toThrow(/not in a known format/);
    expect(() => cipher.decrypt(`v2.${cipher.keyId}.${payload}`, 'sub-1')).toThrow(/not in a known format/);
    expect(() => cipher.decrypt(`v1.${cipher.keyId}.AAAA`, 'sub-1')).toThrow(/truncated/);
  });

  it('wants a 32-byte key', () => {
    expect(() => new SecretsCipher(randomBytes(16))).toThrow(/32 bytes/);
  });
});
