import { BlockList, isIP } from 'node:net';

/**
 * Addresses a webhook must never reach unless WEBHOOK_ALLOW_PRIVATE=true: this host, private
 * networks, link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254), CGNAT (and
 * Alibaba's metadata 100.100.100.200), "this network", documentation, benchmarking, multicast
 * and reserved ranges.
 */
const BLOCKED: Array<[string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', '"this network"'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'ipv4', 'documentation'],
  ['192.88.99.0', 24, 'ipv4', '6to4 relay'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['198.51.100.0', 24, 'ipv4', 'documentation'],
  ['203.0.113.0', 24, 'ipv4', 'documentation'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['::', 96, 'ipv6', 'IPv4-compatible'],
  ['100::', 64, 'ipv6', 'discard'],
  ['2001:db8::', 32, 'ipv6', 'documentation'],
  ['fc00::', 7, 'ipv6', 'unique local (private)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

/**
 * Cloud metadata and credential endpoints: refused even with WEBHOOK_ALLOW_PRIVATE=true, since a
 * webhook aimed at them hands out the host's cloud credentials. AWS IMDS (IPv4 and IPv6), ECS
 * task metadata, EKS Pod Identity (IPv4 and IPv6), GCP/Azure/OCI/DigitalOcean (169.254.169.254),
 * Azure WireServer, Alibaba, Tencent and Oracle's legacy address.
 */
const METADATA: Array<[string, 'ipv4' | 'ipv6']> = [
  ['169.254.169.254', 'ipv4'],
  ['169.254.170.2', 'ipv4'],
  ['169.254.170.23', 'ipv4'],
  ['169.254.0.23', 'ipv4'],
  ['168.63.129.16', 'ipv4'],
  ['100.100.100.200', 'ipv4'],
  ['192.0.0.192', 'ipv4'],
  ['fd00:ec2::254', 'ipv6'],
  ['fd00:ec2::23', 'ipv6'],
];
const metadata = new BlockList();
for (const [address, family] of METADATA) metadata.addAddress(address, family);

/** Whether `address` (in any IPv6 disguise of an IPv4 one) is a cloud metadata endpoint. */
export function isMetadataAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const embedded = family === 6 ? embeddedIpv4(address) : undefined;
  if (embedded) return metadata.check(embedded, 'ipv4');
  return metadata.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const lists = BLOCKED.map(([network, prefix, family, why]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, family, why, cidr: `${network}/${prefix}` };
});

/** Why `address` is refused (e.g. "loopback (127.0.0.0/8)"), or undefined when it is public. */
export function blockedReason(address: string): string | undefined {
  const range = blockedRange(address);
  return range && `${range.why} (${range.cidr})`;
}

/** The blocked range `address` falls in, or undefined when it is public. */
export function blockedRange(address: string): { why: string; cidr: string } | undefined {
  const family = isIP(address);
  if (family === 0) return { why: 'non-IP', cidr: address };
  if (family === 6) {
    // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach an IPv4 address: judge that one.
    const embedded = embeddedIpv4(address);
    if (embedded) return blockedRange(embedded);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const hit = lists.find((entry) => entry.family === type && entry.list.check(address, type));
  return hit && { why: hit.why, cidr: hit.cidr };
}

/** The IPv4 address inside an IPv4-mapped or NAT64 IPv6 address, if it is one. */
export function embeddedIpv4(address: string): string | undefined {
  const groups = expandIpv6(address);
  if (!groups) return undefined;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0);
  if (!mapped && !nat64) return undefined;
  const [hi = 0, lo = 0] = groups.slice(6);
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}

function expandIpv6(address: string): number[] | undefined {
  let text = address.toLowerCase().split('%')[0] ?? '';
  // A trailing dotted quad (::ffff:127.0.0.1) becomes two hex groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? left.length !== 8 : missing < 0) return undefined;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right].map((g) =>
    parseInt(g, 16),
  );
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}
