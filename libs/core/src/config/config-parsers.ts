import { type InsightsEventCategory, tuningSettingsProblems, type TuningSettings } from '@trailsight/domain';
import type { AllowedBucket, ApiKeyEntry, AwsAccountEntry, ClusterNode } from './app-config.js';

/** The parsers of the variables that are more than a number, a choice or a pattern (config-schema.ts). */

export const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** WEBHOOK_ALLOWED_PORTS: `any`, or comma-separated ports; default 80,443 (any with WEBHOOK_ALLOW_PRIVATE). */
export function parsePorts(
  raw: string | undefined,
  allowPrivate: boolean,
  problems: string[],
): readonly number[] | 'any' {
  const text = raw?.trim();
  if (!text) return allowPrivate ? 'any' : [80, 443];
  if (text.toLowerCase() === 'any') return 'any';
  const ports = text.split(',').map((p) => p.trim());
  if (ports.some((p) => !/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535)) {
    problems.push(`WEBHOOK_ALLOWED_PORTS must be "any" or ports from 1 to 65535, comma-separated, got "${text}"`);
    return [80, 443];
  }
  return [...new Set(ports.map(Number))];
}

/**
 * INSIGHTS_EVENT_CATEGORIES: `Management` (the default, as AWS's) or `Management,Data`. Data
 * alone is refused: management Insights are what the product is for, and turning them off by a
 * typo would silence every finding.
 */
export function parseEventCategories(entries: string[], problems: string[]): InsightsEventCategory[] {
  if (entries.length === 0) return ['Management'];
  const unique = new Set(entries);
  const known = [...unique].every((entry) => entry === 'Management' || entry === 'Data');
  if (!known || !unique.has('Management') || unique.size !== entries.length) {
    problems.push(`INSIGHTS_EVENT_CATEGORIES must be Management or Management,Data, got "${entries.join(',')}"`);
    return ['Management'];
  }
  return unique.has('Data') ? ['Management', 'Data'] : ['Management'];
}

/** DETECTOR_OVERRIDES: a JSON object of `eventSource:eventName` (or `eventSource:*`) to tuning settings. */
export function parseOverrides(raw: string | undefined, problems: string[]): Record<string, TuningSettings> {
  if (raw === undefined || raw.trim() === '') return {};
  const fail = (why: string) => {
    problems.push(`DETECTOR_OVERRIDES ${why}`);
    return {};
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return fail('is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('must be a JSON object');
  const overrides: Record<string, TuningSettings> = {};
  for (const [api, tuning] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^[a-z0-9.-]+:(\*|[A-Za-z0-9_]+)$/.test(api))
      return fail(`key "${api}" must be eventSource:eventName or eventSource:*`);
    // The same check as /v1/tuning's, so what boots is what the API would accept.
    const wrong = tuningSettingsProblems(tuning, `"${api}"`);
    if (wrong.length > 0) return fail(wrong.join('; '));
    overrides[api] = tuning as TuningSettings;
  }
  return overrides;
}

export function parseApiKey(entry: string, problems: string[]): ApiKeyEntry {
  const [key = '', scope = 'admin', ...rest] = entry.split(':');
  if (key.length < 16 || rest.length > 0)
    problems.push('API_KEYS entries must be "key" or "key:scope" with keys of at least 16 characters');
  if (scope !== 'read' && scope !== 'admin') problems.push(`API_KEYS scope must be read or admin, got "${scope}"`);
  return { key, scope: scope === 'read' ? 'read' : 'admin' };
}

export function parseAccount(entry: string, problems: string[]): AwsAccountEntry {
  // "123456789012" or "123456789012=arn:aws:iam::123456789012:role/trailsight-reader"
  const [accountId = '', roleArn] = entry.split('=');
  if (!/^\d{12}$/.test(accountId))
    problems.push(`AWS_ACCOUNTS entries must start with a 12-digit account id, got "${entry}"`);
  if (roleArn !== undefined && !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(roleArn)) {
    problems.push(`AWS_ACCOUNTS role for ${accountId} must be an IAM role ARN, got "${roleArn}"`);
  }
  return roleArn ? { accountId, roleArn } : { accountId };
}

export function parseAllowedBucket(entry: string, problems: string[]): AllowedBucket {
  // "bucket" or "bucket/prefix" (the trail's key prefix, before AWSLogs/)
  const slash = entry.indexOf('/');
  const bucket = slash === -1 ? entry : entry.slice(0, slash);
  const prefix = slash === -1 ? '' : entry.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  if (!BUCKET_NAME.test(bucket))
    problems.push(`SQS_ALLOWED_BUCKETS entries must be "bucket" or "bucket/prefix", got "${entry}"`);
  return { bucket, prefix };
}

export function checkRegion(region: string, problems: string[]): string {
  if (!REGION.test(region)) problems.push(`AWS_REGIONS entries must look like us-east-1, got "${region}"`);
  return region;
}

/** REDIS_CLUSTER_NODES: `host:port` entries (IPv6 hosts in brackets), comma-separated. */
export function parseClusterNodes(entries: readonly string[], problems: string[]): ClusterNode[] {
  const nodes: ClusterNode[] = [];
  for (const entry of entries) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) {
      problems.push(`REDIS_CLUSTER_NODES must be host:port entries, comma-separated, got "${entry}"`);
      continue;
    }
    nodes.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
  }
  return nodes;
}
