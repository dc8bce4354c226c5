import { spawnSync } from 'node:child_process';

/**
 * docker-compose.yml as Compose resolves it (`docker-compose config`, or `docker compose config`):
 * Redis needs a password that every Trailsight service's REDIS_URL carries, nothing but the API
 * is published beyond the host's loopback, and the simulator's control routes reach the host
 * only through their own profile. Skipped, saying so, where no Compose is installed.
 */
const compose = ['docker-compose', 'docker compose'].find((command) => {
  const [bin = '', ...args] = command.split(' ');
  return spawnSync(bin, [...args, 'version'], { encoding: 'utf8' }).status === 0;
});
if (!compose)
  console.warn('SKIPPED the docker-compose.yml checks: neither docker-compose nor docker compose is installed');
const maybe = compose ? it : it.skip;

const PASSWORD = '0123456789abcdef0123456789abcdef';

function config(env: Record<string, string>, ...extra: string[]) {
  const [bin = '', ...args] = (compose ?? '').split(' ');
  const { PATH, HOME } = process.env;
  return spawnSync(bin, [...args, '-f', 'docker-compose.yml', ...extra, 'config'], {
    encoding: 'utf8',
    env: { PATH, HOME, ...env },
  });
}

/** The `services:` blocks of a resolved config, by name (two-space indented keys). */
function services(text: string): Map<string, string> {
  const body = text.slice(text.indexOf('\nservices:\n') + 1).split(/\n(?=\S)/)[0] ?? '';
  const blocks = new Map<string, string>();
  for (const block of body.split(/\n(?= {2}[a-z][\w-]*:\n)/).slice(1)) {
    blocks.set(block.trim().split(':')[0] ?? '', block);
  }
  return blocks;
}

/** Published ports of a service block, as `[host ip or '', host port, container port]`. */
function ports(block: string): string[][] {
  return [
    ...block.matchAll(
      /^ {4}- (?:(?:target: (\d+)[\s\S]*?published: '?(\d+)'?)|'?(?:([\d.]+):)?(\d+):(\d+)(?:\/tcp)?'?)$/gm,
    ),
  ].map((m) => [m[3] ?? '', m[4] ?? m[2] ?? '', m[5] ?? m[1] ?? '']);
}

describe('docker-compose.yml', () => {
  maybe('validates without REDIS_PASSWORD, but then its redis refuses to start, naming it', () => {
    const result = config({});
    expect(result.status).toBe(0);
    const redis = services(result.stdout).get('redis') ?? '';
    expect(redis).toMatch(/-z "\$\$?REDIS_PASSWORD" \]; then echo 'set REDIS_PASSWORD/);
    expect(redis).toMatch(/exit 64/);
  });

  maybe('gives Redis a password and every Trailsight service a REDIS_URL that carries it', () => {
    const result = config({ REDIS_PASSWORD: PASSWORD });
    expect(result.stderr).not.toMatch(/invalid|error/i);
    expect(result.status).toBe(0);
    const all = services(result.stdout);
    const redis = all.get('redis') ?? '';
    expect(redis).toMatch(/requirepass/);
    expect(redis).toMatch(/REDIS_PASSWORD: '?0123456789abcdef/);
    expect(redis).toMatch(/REDISCLI_AUTH=/);
    for (const name of ['api', 'poller', 'detector', 'simulator']) {
      expect([name, all.get(name)?.includes(`REDIS_URL: redis://default:${PASSWORD}@redis:6379`)]).toEqual([
        name,
        true,
      ]);
      expect([name, /SECRETS_KEY:/.test(all.get(name) ?? '')]).toEqual([name, true]);
    }
  });

  maybe('publishes only the API beyond the host loopback; the simulator control routes only in their profile', () => {
    const plain = services(config({ REDIS_PASSWORD: PASSWORD }).stdout);
    for (const [name, block] of plain) {
      for (const [ip, host] of ports(block)) {
        if (name === 'api') continue;
        expect([name, host, ip]).toEqual([name, host, '127.0.0.1']);
      }
    }
    expect(ports(plain.get('simulator') ?? '')).toEqual([['127.0.0.1', '4599', '4600']]);
    expect(plain.get('simulator')).toMatch(/SIMULATOR_CONTROL: loopback/);

    const withControl = services(config({ REDIS_PASSWORD: PASSWORD }, '--profile', 'simulator-control').stdout);
    const control = withControl.get('simulator-control') ?? '';
    // Only started with `--profile simulator-control`.
    expect(control).toMatch(/profiles:\n\s+- simulator-control/);
    expect(control).toMatch(/network_mode: service:simulator/);
    expect(control).toMatch(/TCP:127\.0\.0\.1:4599/);
    expect(ports(control)).toEqual([]);
  });
});
