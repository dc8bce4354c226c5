import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import type { ApiKeyStore } from './api-key.store.js';

/** How an operator who lost every admin key makes a new one: it needs Redis access, not a key. */
const RECOVERY_HINT = 'npm run cli -- keys create --scope admin (with the same REDIS_URL and REDIS_PREFIX)';

/**
 * Moves API keys from their names before the `{auth}` hash tag (ApiKeyStore.migrateKeyNames), once
 * per process whoever calls first, and says so. A Redis that fails it does not stop the boot: keys
 * left under the old names are not accepted until a later start moves them, which the log says.
 */
export async function migrateApiKeyNames(store: ApiKeyStore, logger: LoggerService): Promise<void> {
  try {
    const moved = await store.migrateKeyNames();
    if (moved > 0) logger.log(`moved ${moved} API key record(s) to their {auth} hash-tagged names`);
  } catch (error) {
    logger.error(
      `could not move API keys to their {auth} hash-tagged names (${(error as Error).message}); ` +
        'keys created before this version are not accepted until a later start moves them',
    );
  }
}

/**
 * Without API_KEYS, the first start of a deployment creates its admin key and writes it to
 * `file` (ADMIN_KEY_FILE) with mode 0600: never into a log, where shippers and container logs
 * would keep it. The key goes to a temporary file first and is renamed into place only by the
 * replica whose atomic create won, so racing replicas never overwrite each other's file and a
 * key that cannot be written is never stored.
 */
export async function bootstrapAdminKey(
  store: ApiKeyStore,
  file: string,
  logger: LoggerService,
  consoleUrl?: string,
): Promise<void> {
  // Before the marker is read: an old-named marker must not let a second admin key be made.
  await migrateApiKeyNames(store, logger);
  if (await store.bootstrapped()) {
    logger.log('API keys from Redis (API_KEYS is not set)');
    return;
  }
  const path = resolve(file);
  const temporary = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const key = store.newKey();
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(temporary, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    logger.error(
      `API_KEYS is not set and the first admin key cannot be written to ${path} (ADMIN_KEY_FILE): ` +
        `${(error as Error).message}. No key was created; make one with ${RECOVERY_HINT}`,
    );
    return;
  }
  let id: string | undefined;
  try {
    id = await store.createBootstrapKey(key);
    if (id !== undefined) await rename(temporary, path);
  } finally {
    if (id === undefined) await rm(temporary, { force: true });
  }
  if (id === undefined) {
    logger.log('API keys from Redis (API_KEYS is not set)');
    return;
  }
  logger.warn(
    `API_KEYS is not set: created the first admin API key (id ${id}) and wrote it to ${path} ` +
      '(mode 0600). Read it, keep it somewhere safe and delete the file; revoke it with DELETE /v1/keys/' +
      `${id} once you have made your own keys. Lost every admin key? ${RECOVERY_HINT}` +
      (consoleUrl === undefined ? '' : `. Sign in to the web console at ${consoleUrl} with it`),
  );
}
