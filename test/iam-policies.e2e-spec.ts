import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The IAM policies under ops/iam/ that users attach: each parses as a policy document, holds the
 * actions of its source, is the one the README shows, and together they allow every AWS call the
 * code makes (found in the sources, so a new SDK command without a policy fails here).
 */
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const IAM = join(ROOT, 'ops/iam');

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
}
interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

const files = readdirSync(IAM).filter((file) => file.endsWith('.json'));
const policies = new Map(
  files.map((file) => [file, JSON.parse(readFileSync(join(IAM, file), 'utf8')) as PolicyDocument]),
);
const actionsOf = (policy: PolicyDocument) => policy.Statement.flatMap((s) => [s.Action].flat());

/** The IAM action each AWS SDK command the code sends needs (HeadObject is allowed by s3:GetObject). */
const ACTION_OF_COMMAND: Record<string, string> = {
  'client-cloudtrail:LookupEventsCommand': 'cloudtrail:LookupEvents',
  'client-s3:ListObjectsV2Command': 's3:ListBucket',
  'client-s3:HeadObjectCommand': 's3:GetObject',
  'client-s3:GetObjectCommand': 's3:GetObject',
  'client-s3:PutObjectCommand': 's3:PutObject',
  'client-sqs:ReceiveMessageCommand': 'sqs:ReceiveMessage',
  'client-sqs:DeleteMessageBatchCommand': 'sqs:DeleteMessage',
  'client-sqs:DeleteMessageCommand': 'sqs:DeleteMessage',
  'client-eventbridge:PutEventsCommand': 'events:PutEvents',
};

/** The SDK commands and credential providers the product code (not tests) imports. */
function awsCallsInCode(): string[] {
  const calls = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !/\.(int-)?spec\.ts$/.test(entry.name)) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/import \{([^}]*)\} from '@aws-sdk\/(client-[a-z0-9-]+)'/g)) {
          for (const name of (m[1] ?? '').split(',').map((n) => n.trim())) {
            if (/^[A-Za-z0-9]+Command$/.test(name)) calls.add(`${m[2]}:${name}`);
          }
        }
        if (/fromTemporaryCredentials\(\{ params: \{ RoleArn/.test(text)) calls.add('credential-providers:AssumeRole');
      }
    }
  };
  walk(join(ROOT, 'apps'));
  walk(join(ROOT, 'libs'));
  return [...calls].sort();
}

describe('IAM policies (ops/iam)', () => {
  it('are policy documents: version 2012-10-17, Allow statements with actions', () => {
    expect(files.sort()).toEqual([
      'assume-reader-roles.json',
      'insights-outputs.json',
      'lookup-events.json',
      'reader-role-trust.json',
      's3-trail-files.json',
      'sqs-trail-files.json',
    ]);
    for (const [file, policy] of policies) {
      expect([file, policy.Version]).toEqual([file, '2012-10-17']);
      expect([file, Array.isArray(policy.Statement) && policy.Statement.length > 0]).toEqual([file, true]);
      for (const statement of policy.Statement) {
        expect([file, statement.Effect]).toEqual([file, 'Allow']);
        for (const action of [statement.Action].flat()) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
        // An identity policy names resources; the trust policy names who may assume the role.
        expect([file, statement.Resource !== undefined || statement.Principal !== undefined]).toEqual([file, true]);
      }
    }
  });

  it('hold the actions of their source', () => {
    const expected: Record<string, string[]> = {
      'lookup-events.json': ['cloudtrail:LookupEvents'],
      'assume-reader-roles.json': ['sts:AssumeRole'],
      'reader-role-trust.json': ['sts:AssumeRole'],
      's3-trail-files.json': ['s3:ListBucket', 's3:GetObject', 'kms:Decrypt'],
      'sqs-trail-files.json': [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        's3:ListBucket',
        's3:GetObject',
        'kms:Decrypt',
      ],
      'insights-outputs.json': ['s3:PutObject', 'events:PutEvents'],
    };
    for (const [file, actions] of Object.entries(expected)) {
      expect([file, actionsOf(policies.get(file) ?? { Version: '', Statement: [] }).sort()]).toEqual([
        file,
        [...actions].sort(),
      ]);
    }
    // LookupEvents has no resource-level permissions: anything but * would deny it.
    expect(policies.get('lookup-events.json')?.Statement[0]?.Resource).toBe('*');
  });

  it('allow every AWS call the code makes', () => {
    const calls = awsCallsInCode();
    // What the code calls today (a sanity check of the scan itself).
    expect(calls).toEqual(
      expect.arrayContaining([
        'client-cloudtrail:LookupEventsCommand',
        'client-s3:GetObjectCommand',
        'client-sqs:ReceiveMessageCommand',
        'credential-providers:AssumeRole',
      ]),
    );
    const allowed = new Set([...policies.values()].flatMap(actionsOf));
    for (const call of calls) {
      const action = call === 'credential-providers:AssumeRole' ? 'sts:AssumeRole' : ACTION_OF_COMMAND[call];
      // An SDK command missing from ACTION_OF_COMMAND: add its IAM action there and to a policy.
      expect([call, action !== undefined && allowed.has(action)]).toEqual([call, true]);
    }
  });

  it('are the ones the README shows', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const [file, policy] of policies) {
      const block = new RegExp(
        `<!-- ops/iam/${file.replace('.', '\\.')} -->\\n\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``,
      ).exec(readme);
      expect([file, block === null]).toEqual([file, false]);
      expect([file, JSON.parse(block?.[1] ?? 'null')]).toEqual([file, policy]);
    }
  });
});
