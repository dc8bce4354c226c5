/** Redis Cluster's hash slots: every key hashes to one of these. */
export const CLUSTER_SLOTS = 16_384;

/** The part of a key Redis Cluster hashes: the first non-empty `{hash tag}`, else the whole key. */
export function hashedPart(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  return close === -1 || close === open + 1 ? key : key.slice(open + 1, close);
}

/** The slot of a key, as Redis Cluster computes it (CRC16-XMODEM of its hashed part, modulo 16384). */
export function keySlot(key: string): number {
  let crc = 0;
  for (const byte of Buffer.from(hashedPart(key))) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % CLUSTER_SLOTS;
}
