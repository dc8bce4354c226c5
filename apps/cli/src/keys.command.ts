import {
  ApiKeyStore,
  AwsKeysUnavailableError,
  closeRedis,
  connectRedis,
  KeySpace,
  loadConfig,
  SecretsCipher,
  workerConnectionOptions,
  type ApiKeyInfo,
} from '@trailsight/core';
import { UsageError } from './usage-error.js';

/**
 * `keys create --scope admin|read [--kind aws [--account-id <12 digits>]]`, `keys list`,
 * `keys revoke <id>`: API keys (and aws keys, SigV4 credentials for /aws) managed straight in
 * Redis (REDIS_URL, REDIS_PREFIX), with no API key needed: the way back in for an operator who
 * lost every admin key. Revocations reach every running api process at once (pub/sub).
 */
export async function keys(
  args: readonly string[],
  options: { scope?: string; kind?: string; accountId?: string },
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'create' && action !== 'list' && action !== 'revoke')
    throw new UsageError(`keys needs create, list or revoke, got "${action ?? ''}"`);
  const { scope, kind = 'api', accountId } = options;
  if (action === 'create' && scope !== 'admin' && scope !== 'read')
    throw new UsageError('keys create needs --scope admin or --scope read');
  if (kind !== 'api' && kind !== 'aws') throw new UsageError(`--kind must be api or aws, got "${kind}"`);
  if (accountId !== undefined && (kind !== 'aws' || !/^\d{12}$/.test(accountId)))
    throw new UsageError('--account-id takes 12 digits, with --kind aws only');
  if (action === 'revoke' && rest.length !== 1) throw new UsageError('keys revoke needs one key id (see keys list)');

  const config = loadConfig(env);
  // REDIS_URL, or the Redis Cluster of REDIS_CLUSTER_NODES.
  const redis = connectRedis(config, {
    ...workerConnectionOptions(config),
    // A CLI gives up quickly when Redis does not answer, rather than waiting the outage out.
    maxRetriesPerRequest: 1,
    connectTimeout: 3_000,
    retryStrategy: (attempt) => (attempt > 2 ? null : 200),
  });
  redis.on('error', () => undefined);
  try {
    const store = new ApiKeyStore(redis, new KeySpace(config.redisPrefix), {
      configured: config.apiKeys,
      cipher: config.secretsKey && new SecretsCipher(config.secretsKey),
    });
    if (store.fromConfig && action !== 'list') {
      err.write('trailsight: API_KEYS is set, so keys come from it; change API_KEYS instead\n');
      return 1;
    }
    // Keys made before the {auth} hash tag are moved first, as every process does at startup.
    await store.migrateKeyNames();
    switch (action) {
      case 'create': {
        if (kind === 'aws') {
          const created = await store.createAws(scope as 'admin' | 'read', accountId);
          // The pair on stdout in the AWS CLI's environment form; what it is on stderr.
          out.write(`AWS_ACCESS_KEY_ID=${created.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${created.secretAccessKey}\n`);
          err.write(
            `created ${String(scope)} aws key ${created.keyId}: the secret is shown only now, Redis keeps it encrypted\n`,
          );
          return 0;
        }
        const { key, keyId } = await store.create(scope as 'admin' | 'read');
        // The key alone on stdout (for a pipe or a secrets manager); what it is on stderr.
        out.write(`${key}\n`);
        err.write(`created ${String(scope)} key ${keyId}: shown only now, Redis keeps its sha256\n`);
        return 0;
      }
      case 'list':
        out.write(formatKeys(await store.list()));
        return 0;
      case 'revoke': {
        const id = rest[0];
        if (!(await store.revoke(id))) {
          err.write(`trailsight: no API key with id ${id} (see keys list)\n`);
          return 1;
        }
        err.write(`revoked key ${id}\n`);
        return 0;
      }
    }
  } catch (error) {
    if (!(error instanceof AwsKeysUnavailableError)) throw error;
    err.write(`trailsight: ${error.message}\n`);
    return 1;
  } finally {
    await closeRedis(redis);
  }
}

function formatKeys(items: readonly ApiKeyInfo[]): string {
  const rows = [
    ['ID', 'SCOPE', 'SOURCE', 'KIND', 'ACCESS KEY ID', 'CREATED', 'LAST USED'],
    ...items.map((k) => [
      k.id,
      k.scope,
      k.source,
      k.kind,
      k.accessKeyId ?? '-',
      k.createdAt ?? '-',
      k.lastUsedAt ?? '-',
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return (
    rows
      .map((row) =>
        row
          .map((cell, c) => cell.padEnd(widths[c]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
