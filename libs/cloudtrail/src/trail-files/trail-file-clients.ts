import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { AppConfig } from '@trailsight/core';

export type TrailFileClientSettings = Pick<AppConfig, 's3Endpoint' | 's3Region' | 'sqsEndpoint'> & {
  /** Explicit credentials (tests against local servers); the default provider chain otherwise. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
};

/**
 * The real SDK clients of the trail file sources. With an endpoint override (an S3-compatible
 * server) S3 uses path-style addressing, which such servers expect.
 */
export class TrailFileClients {
  private s3Client?: S3Client;
  private sqsClient?: SQSClient;

  constructor(private readonly settings: TrailFileClientSettings) {}

  s3(): S3Client {
    if (!this.s3Client) {
      const config: S3ClientConfig = { region: this.settings.s3Region, maxAttempts: 5 };
      if (this.settings.s3Endpoint) {
        config.endpoint = this.settings.s3Endpoint;
        config.forcePathStyle = true;
      }
      if (this.settings.credentials) config.credentials = this.settings.credentials;
      this.s3Client = new S3Client(config);
    }
    return this.s3Client;
  }

  sqs(): SQSClient {
    if (!this.sqsClient) {
      const config: SQSClientConfig = { region: this.settings.s3Region, maxAttempts: 5 };
      if (this.settings.sqsEndpoint) config.endpoint = this.settings.sqsEndpoint;
      if (this.settings.credentials) config.credentials = this.settings.credentials;
      this.sqsClient = new SQSClient(config);
    }
    return this.sqsClient;
  }

  destroy(): void {
    this.s3Client?.destroy();
    this.sqsClient?.destroy();
    this.s3Client = undefined;
    this.sqsClient = undefined;
  }
}
