import { CloudTrailClient, type CloudTrailClientConfig } from '@aws-sdk/client-cloudtrail';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AppConfig } from '@trailsight/core';
import type { AccountRegion } from '@trailsight/domain';

/** A LookupEvents call that takes longer than this is abandoned and retried. */
const LOOKUP_EVENTS_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 3_000;

export type CloudTrailClientSettings = Pick<
  AppConfig,
  'source' | 'cloudTrailEndpoint' | 'simulatorPort' | 'accounts'
> & {
  /** Per-request timeout (default LOOKUP_EVENTS_TIMEOUT_MS). */
  requestTimeoutMs?: number;
};

/**
 * Builds the real SDK client for one account-region. The SDK's own retries are off
 * (maxAttempts 1): its 3 attempts would spend the account-region's shared 2 req/s budget behind
 * the token bucket's back; LookupEventsSource paces, backs off and retries itself.
 */
export class CloudTrailClientFactory {
  constructor(private readonly settings: CloudTrailClientSettings) {}

  create(source: AccountRegion): CloudTrailClient {
    const config: CloudTrailClientConfig = {
      region: source.region,
      maxAttempts: 1,
      requestHandler: {
        connectionTimeout: CONNECT_TIMEOUT_MS,
        requestTimeout: this.settings.requestTimeoutMs ?? LOOKUP_EVENTS_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      },
    };
    const endpoint = this.endpoint();
    if (endpoint) config.endpoint = endpoint;
    const credentials = this.credentials(source);
    if (credentials) config.credentials = credentials;
    return new CloudTrailClient(config);
  }

  /** CLOUDTRAIL_ENDPOINT wins; the simulator otherwise listens on SIMULATOR_PORT on loopback. */
  endpoint(): string | undefined {
    if (this.settings.cloudTrailEndpoint) return this.settings.cloudTrailEndpoint;
    return this.settings.source === 'simulator' ? `http://127.0.0.1:${this.settings.simulatorPort}` : undefined;
  }

  private credentials(source: AccountRegion): CloudTrailClientConfig['credentials'] {
    switch (this.settings.source) {
      case 'simulator':
        // The simulated account reads the account id out of the access key id.
        return { accessKeyId: `AKIDSIM${source.accountId}`, secretAccessKey: 'simulated' };
      case 'aws': {
        const roleArn = this.settings.accounts.find((account) => account.accountId === source.accountId)?.roleArn;
        // Without a role: the default provider chain (env, profile, SSO, instance or task role).
        return roleArn
          ? fromTemporaryCredentials({ params: { RoleArn: roleArn, RoleSessionName: 'trailsight-poller' } })
          : undefined;
      }
      case 'files':
      case 's3':
      case 'sqs':
        throw new Error(`CLOUDTRAIL_SOURCE=${this.settings.source} reads trail files; it has no LookupEvents client`);
    }
  }
}
