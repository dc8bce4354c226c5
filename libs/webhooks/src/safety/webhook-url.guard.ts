import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { blockedRange, isMetadataAddress } from './blocked-addresses.js';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has (dns.lookup with all: true by default). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * A webhook URL (or the address it resolves to) that Trailsight refuses to call. `message` is
 * what the API answers and the delivery log keeps: generic, so a refusal never tells a caller
 * what an internal name resolves to. `detail` (the address and its range) is for the server log.
 */
export class UnsafeWebhookUrlError extends Error {
  constructor(
    message: string,
    readonly detail: string = message,
  ) {
    super(message);
    this.name = 'UnsafeWebhookUrlError';
  }
}

export interface WebhookUrlGuardOptions {
  /** WEBHOOK_ALLOW_PRIVATE: skip the private-address checks (http(s), ports and metadata checks stay). */
  allowPrivate: boolean;
  /** WEBHOOK_ALLOWED_PORTS: ports a URL may name; default 80 and 443, any port with allowPrivate. */
  allowedPorts?: readonly number[] | 'any';
  resolve?: HostResolver;
}

/** The one answer to every refused address, whatever the address and however it was reached. */
const ADDRESS_REFUSED =
  'url refused: its host is, or resolves to, an address webhooks may not reach (loopback, private, link-local, ' +
  'cloud metadata or reserved ranges); WEBHOOK_ALLOW_PRIVATE=true allows private addresses, never metadata ones';

/**
 * SSRF guard for webhook URLs. It runs twice: when a subscription is created or changed
 * (`check`, a 400 for the user), and on every connection a delivery makes (`lookup`, used as
 * the http agent's resolver), so the address connected to is the address that was checked and
 * a DNS answer that changes between the two (DNS rebinding) is refused as well.
 */
export class WebhookUrlGuard {
  private readonly resolve: HostResolver;
  private readonly allowedPorts: readonly number[] | 'any';

  constructor(private readonly options: WebhookUrlGuardOptions) {
    this.resolve = options.resolve ?? systemResolver;
    this.allowedPorts = options.allowedPorts ?? (options.allowPrivate ? 'any' : [80, 443]);
  }

  get allowPrivate(): boolean {
    return this.options.allowPrivate;
  }

  /** The URL, if it is http(s) with a host on an allowed port; throws UnsafeWebhookUrlError otherwise. */
  parse(url: string): URL {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      // Not echoed: a URL may carry a token.
      throw new UnsafeWebhookUrlError('url must be an absolute http(s) URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new UnsafeWebhookUrlError(`url must use http or https, got ${parsed.protocol.replace(/:$/, '')}`);
    }
    if (!parsed.hostname) throw new UnsafeWebhookUrlError('url has no host');
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    if (this.allowedPorts !== 'any' && !this.allowedPorts.includes(port)) {
      // Else /test would probe any port of any public host (a port scanner that reports back).
      throw new UnsafeWebhookUrlError(
        `url refused: port ${port} is not allowed (WEBHOOK_ALLOWED_PORTS: ${this.allowedPorts.join(', ')})`,
      );
    }
    return parsed;
  }

  /** At creation: the URL is http(s) and every address its host resolves to is allowed. */
  async check(url: string): Promise<void> {
    const parsed = this.parse(url);
    await this.resolveChecked(hostOf(parsed));
  }

  /**
   * Throws when the URL's host is an IP literal that is not allowed. Delivery calls it before
   * connecting: Node skips the `lookup` hook for literals.
   */
  checkLiteral(url: URL): void {
    const host = hostOf(url);
    if (isIP(host) !== 0) this.assertAllowed(host, host);
  }

  /** Every address of `hostname`, all of them allowed, or an UnsafeWebhookUrlError. */
  async resolveChecked(hostname: string): Promise<ResolvedAddress[]> {
    if (isIP(hostname) !== 0) {
      this.assertAllowed(hostname, hostname);
      return [{ address: hostname, family: isIP(hostname) }];
    }
    let addresses: ResolvedAddress[];
    try {
      addresses = await this.resolve(hostname);
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).message;
      throw new UnsafeWebhookUrlError(`url host ${hostname} does not resolve (${code})`);
    }
    if (addresses.length === 0) throw new UnsafeWebhookUrlError(`url host ${hostname} does not resolve`);
    // One refused address refuses the host: an attacker could otherwise mix public and private answers.
    for (const { address } of addresses) this.assertAllowed(address, hostname);
    return addresses;
  }

  /** A `lookup` for http.request / net.connect that only ever hands out checked addresses. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const done = callback;
    this.resolveChecked(hostname).then(
      (all) => {
        const wanted =
          options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all;
        const addresses = wanted.length > 0 ? wanted : all;
        if (options.all) done(null, addresses);
        else done(null, addresses[0].address, addresses[0].family);
      },
      (error: Error) => done(error, ''),
    );
  };

  private assertAllowed(address: string, host: string): void {
    const via = address === host ? '' : `, and ${host} resolves to it`;
    if (isMetadataAddress(address)) {
      throw new UnsafeWebhookUrlError(ADDRESS_REFUSED, `${address} is a cloud metadata address${via}`);
    }
    if (this.options.allowPrivate) return;
    const range = blockedRange(address);
    if (range === undefined) return;
    const article = /^[aeiou]/i.test(range.why) ? 'an' : 'a';
    throw new UnsafeWebhookUrlError(
      ADDRESS_REFUSED,
      `${address} is ${article} ${range.why} address (${range.cidr})${via}`,
    );
  }
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}
