import { blockedReason, embeddedIpv4 } from './blocked-addresses.js';
import { UnsafeWebhookUrlError, WebhookUrlGuard, type HostResolver } from './webhook-url.guard.js';

const PUBLIC = '93.184.215.14';

function resolverOf(table: Record<string, string[]>): HostResolver {
  return (host) => {
    const addresses = table[host];
    if (!addresses) return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
}

describe('blockedReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['0.0.0.0', 'this network'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.100.100.200', 'carrier-grade NAT'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'unique local'],
    ['fd00:ec2::254', 'unique local'],
    ['fe80::1', 'link-local'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['64:ff9b::a00:1', 'private'],
    ['224.0.0.1', 'multicast'],
  ])('refuses %s (%s)', (address, why) => {
    expect(blockedReason(address)).toContain(why);
  });

  it.each([PUBLIC, '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => {
      expect(blockedReason(address)).toBeUndefined();
    },
  );

  it('reads the IPv4 address inside mapped and NAT64 addresses', () => {
    expect(embeddedIpv4('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(embeddedIpv4('64:ff9b::808:808')).toBe('8.8.8.8');
    expect(embeddedIpv4('2001:db8::1')).toBeUndefined();
  });
});

describe('WebhookUrlGuard', () => {
  const guard = new WebhookUrlGuard({
    allowPrivate: false,
    resolve: resolverOf({
      'hooks.example.com': [PUBLIC],
      'internal.example.com': ['10.0.0.5'],
      'mixed.example.com': [PUBLIC, '192.168.0.10'],
      localhost: ['127.0.0.1', '::1'],
    }),
  });

  /** Refusals of addresses answer this, whatever the address: never what a name resolves to. */
  const GENERIC = /^url refused: its host is, or resolves to, an address webhooks may not reach/;

  it.each([
    ['http://127.0.0.1/hook', /127\.0\.0\.1 is a loopback/],
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a cloud metadata address/],
    ['http://[::1]/', /::1 is a loopback/],
    ['http://[::ffff:127.0.0.1]/', /loopback/],
    ['http://10.0.0.1/', /private/],
    ['http://172.16.5.4/', /private/],
    ['http://192.168.1.20/', /private/],
    ['http://100.64.1.1/', /carrier-grade NAT/],
    ['http://0.0.0.0/', /this network/],
    ['http://2130706433/', /127\.0\.0\.1 is a loopback/],
    ['http://[fd00:ec2::254]/', /cloud metadata/],
    ['http://localhost/', /127\.0\.0\.1 is a loopback address \(127\.0\.0\.0\/8\), and localhost resolves to it/],
    [
      'https://internal.example.com/',
      /10\.0\.0\.5 is a private address \(10\.0\.0\.0\/8\), and internal\.example\.com resolves to it/,
    ],
    ['https://mixed.example.com/', /192\.168\.0\.10/],
  ])('refuses %s with a generic message; the address and range only in the detail for the log', async (url, detail) => {
    const refusal = await guard.check(url).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(UnsafeWebhookUrlError);
    const { message, detail: logged } = refusal as UnsafeWebhookUrlError;
    expect(message).toMatch(GENERIC);
    expect(message).not.toMatch(/\d+\.\d+\.\d+\.\d+|::|example\.com|localhost/);
    expect(logged).toMatch(detail);
  });

  it.each([
    ['ftp://hooks.example.com/', /http or https/],
    ['file:///etc/passwd', /http or https/],
    ['not a url', /absolute http\(s\) URL/],
    ['https://nowhere.example.com/', /does not resolve \(ENOTFOUND\)/],
    ['https://hooks.example.com:8443/', /port 8443 is not allowed \(WEBHOOK_ALLOWED_PORTS: 80, 443\)/],
    ['http://hooks.example.com:22/', /port 22 is not allowed/],
    ['http://93.184.215.14:6379/', /port 6379 is not allowed/],
  ])('refuses %s', async (url, message) => {
    const refusal = guard.check(url);
    await expect(refusal).rejects.toThrow(UnsafeWebhookUrlError);
    await expect(refusal).rejects.toThrow(message);
  });

  it('accepts a public host on 80 or 443 and names the setting that would allow private ones', async () => {
    await expect(guard.check('https://hooks.example.com/trailsight')).resolves.toBeUndefined();
    await expect(guard.check('https://hooks.example.com:443/trailsight')).resolves.toBeUndefined();
    await expect(guard.check('http://hooks.example.com:80/trailsight')).resolves.toBeUndefined();
    await expect(guard.check('http://10.0.0.1/')).rejects.toThrow(/WEBHOOK_ALLOW_PRIVATE=true/);
    // The URL itself (which may carry a token) is not echoed by a refusal.
    await expect(guard.check('not a url ?token=s3cr3t')).rejects.toThrow(/^url must be an absolute http\(s\) URL$/);
  });

  it('opens other ports only as WEBHOOK_ALLOWED_PORTS says', async () => {
    const resolve = resolverOf({ 'hooks.example.com': [PUBLIC] });
    const ports = new WebhookUrlGuard({ allowPrivate: false, allowedPorts: [443, 8443], resolve });
    await expect(ports.check('https://hooks.example.com:8443/')).resolves.toBeUndefined();
    await expect(ports.check('http://hooks.example.com/')).rejects.toThrow(/port 80 is not allowed/);
    const any = new WebhookUrlGuard({ allowPrivate: false, allowedPorts: 'any', resolve });
    await expect(any.check('https://hooks.example.com:9999/')).resolves.toBeUndefined();
  });

  it('allows private addresses on any port with allowPrivate, never metadata ones, and still refuses other schemes', async () => {
    const open = new WebhookUrlGuard({
      allowPrivate: true,
      resolve: resolverOf({ localhost: ['127.0.0.1'], 'imds.internal': ['10.0.0.9', '169.254.169.254'] }),
    });
    await expect(open.check('http://localhost:1234/')).resolves.toBeUndefined();
    await expect(open.check('http://10.1.2.3:8080/')).resolves.toBeUndefined();
    for (const metadata of [
      'http://169.254.169.254/latest/meta-data/',
      'http://169.254.170.2/v2/credentials',
      'http://169.254.170.23/v1/credentials',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://[fd00:ec2:0:0:0:0:0:254]/',
      'http://[fd00:ec2::23]/',
      'http://[::ffff:169.254.169.254]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://[64:ff9b::a9fe:a9fe]/',
      'http://2852039166/',
      'http://0xa9fea9fe/',
      'http://100.100.100.200/',
      'http://168.63.129.16/',
      'http://imds.internal/',
    ]) {
      await expect(open.check(metadata)).rejects.toThrow(GENERIC);
    }
    await expect(open.check('gopher://localhost/')).rejects.toThrow(/http or https/);
  });

  it('checks every connection again: a host that re-resolves to a private address (DNS rebinding) is refused', async () => {
    const answers = [[PUBLIC], ['127.0.0.1']];
    const rebinding = new WebhookUrlGuard({
      allowPrivate: false,
      resolve: () => Promise.resolve((answers.shift() ?? ['127.0.0.1']).map((address) => ({ address, family: 4 }))),
    });
    await expect(rebinding.check('http://rebind.example.com/')).resolves.toBeUndefined();
    const looked = await new Promise<{ error: Error | null; address: unknown }>((resolve) =>
      rebinding.lookup('rebind.example.com', { all: false }, (error, address) => resolve({ error, address })),
    );
    expect(looked.error).toBeInstanceOf(UnsafeWebhookUrlError);
    expect((looked.error as UnsafeWebhookUrlError).detail).toMatch(/127\.0\.0\.1 is a loopback/);
  });

  it('hands the checked addresses to the connection, in both lookup shapes', async () => {
    const all = await new Promise<unknown>((resolve) =>
      guard.lookup('hooks.example.com', { all: true }, (_error, addresses) => resolve(addresses)),
    );
    expect(all).toEqual([{ address: PUBLIC, family: 4 }]);
    const one = await new Promise<unknown[]>((resolve) =>
      guard.lookup('hooks.example.com', {}, (_error, address, family) => resolve([address, family])),
    );
    expect(one).toEqual([PUBLIC, 4]);
  });
});
