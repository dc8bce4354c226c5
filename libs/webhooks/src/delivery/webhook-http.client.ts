import type { OnModuleDestroy } from '@nestjs/common';
import { redactUrl } from '@trailsight/core';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { UnsafeWebhookUrlError, type WebhookUrlGuard } from '../safety/webhook-url.guard.js';

/** How much of a subscriber's response is read: enough for an error message, never unbounded. */
const MAX_RESPONSE_BYTES = 64 * 1024;
const SNIPPET_BYTES = 256;

export interface WebhookPost {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface WebhookPostResult {
  ok: boolean;
  status?: number;
  latencyMs: number;
  error?: string;
  /** The SSRF guard refused the address: retrying will not help. */
  refused?: boolean;
}

/**
 * One POST to a subscriber, with node:http so the guard's `lookup` decides which address is
 * connected to. Redirects are not followed (a 3xx is a failed attempt), the whole attempt has
 * one deadline, and at most 64 KB of the response is read.
 */
export class WebhookHttpClient implements OnModuleDestroy {
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16 });

  constructor(private readonly guard: WebhookUrlGuard) {}

  async post(post: WebhookPost): Promise<WebhookPostResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = this.guard.parse(post.url);
      this.guard.checkLiteral(url);
    } catch (error) {
      return failure(error, elapsed());
    }
    try {
      const response = await this.send(url, post);
      const base = { status: response.status, latencyMs: elapsed() };
      if (response.status >= 200 && response.status < 300) return { ok: true, ...base };
      if (response.status >= 300 && response.status < 400) {
        // Scheme and host only: a redirect target may carry a token as well.
        const where = response.location ? ` to ${redactUrl(response.location)}` : '';
        return { ok: false, ...base, error: `redirect (${response.status})${where} not followed` };
      }
      const snippet = response.snippet ? `: ${response.snippet}` : '';
      return { ok: false, ...base, error: `HTTP ${response.status}${snippet}` };
    } catch (error) {
      return failure(error, elapsed());
    }
  }

  onModuleDestroy(): void {
    this.close();
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private send(url: URL, post: WebhookPost): Promise<{ status: number; location?: string; snippet: string }> {
    const https = url.protocol === 'https:';
    const body = Buffer.from(post.body);
    return new Promise((resolve, reject) => {
      const request = (https ? httpsRequest : httpRequest)(url, {
        method: 'POST',
        agent: https ? this.httpsAgent : this.httpAgent,
        lookup: this.guard.lookup,
        headers: { ...post.headers, 'content-length': String(body.length) },
      });
      const timer = setTimeout(
        () => request.destroy(new Error(`timed out after ${post.timeoutMs} ms`)),
        post.timeoutMs,
      );
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      request.once('error', fail);
      request.once('response', (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8', 0, Math.min(size, SNIPPET_BYTES));
          resolve({
            status: response.statusCode ?? 0,
            location: response.headers.location,
            snippet: text.replace(/\s+/g, ' ').trim(),
          });
        };
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (chunks.reduce((n, c) => n + c.length, 0) < SNIPPET_BYTES) chunks.push(chunk);
          if (size > MAX_RESPONSE_BYTES) {
            // Enough: the status is known; drop the connection rather than read an endless body.
            response.destroy();
            request.destroy();
            finish();
          }
        });
        response.once('end', finish);
        response.once('error', fail);
      });
      request.end(body);
    });
  }
}

function failure(error: unknown, latencyMs: number): WebhookPostResult {
  const message = error instanceof Error ? error.message || error.name : String(error);
  const code = (error as { code?: string }).code;
  const text = code && !message.includes(code) ? `${code}: ${message}` : message;
  return { ok: false, latencyMs, error: text, ...(error instanceof UnsafeWebhookUrlError ? { refused: true } : {}) };
}
