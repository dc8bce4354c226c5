import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * docker-compose.yml (and docker-compose.aws.yml over it) as Compose resolves them
 * (`docker-compose config`, or `docker compose config`): Redis needs a password that every
 * Trailsight service's REDIS_URL carries, nothing but the API is published beyond the host's
 * loopback, the simulator's control routes reach the host only through their own profile, every
 * service has a healthcheck and waits for healthy dependencies, the simulator runs only in the
 * `demo` profile, and the real-account override passes credentials, settings and trail files.
 * Skipped, saying so, where no Compose is installed. The Dockerfile's checks need no Compose.
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
  const files = extra[0] === '-f' ? [] : ['-f', 'docker-compose.yml'];
  return spawnSync(bin, [...args, ...files, ...extra, 'config'], {
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

  maybe('lets poller and detector scale (--scale poller=2 --scale detector=2): no fixed name, no host port', () => {
    const result = config({ REDIS_PASSWORD: PASSWORD });
    expect(result.status).toBe(0);
    const all = services(result.stdout);
    for (const name of ['poller', 'detector']) {
      const block = all.get(name) ?? '';
      expect([name, block.length > 0]).toEqual([name, true]);
      expect([name, /^ {4}container_name:/m.test(block)]).toEqual([name, false]);
      expect([name, ports(block)]).toEqual([name, []]);
    }
    // The file says how.
    expect(readFileSync('docker-compose.yml', 'utf8')).toContain('--scale poller=2 --scale detector=2');
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

/** The `depends_on` entries of a service block: name and condition (`started` for the short form). */
function dependsOn(block: string): [string, string][] {
  const section = /^ {4}depends_on:\n((?: {6}.*\n?)+)/m.exec(block)?.[1] ?? '';
  const long = [...section.matchAll(/^ {6}([\w-]+):\n {8}condition: (\w+)/gm)].map((m): [string, string] => [
    m[1] ?? '',
    m[2] ?? '',
  ]);
  const short = [...section.matchAll(/^ {6}- ([\w-]+)$/gm)].map((m): [string, string] => [m[1] ?? '', 'started']);
  return [...long, ...short];
}

/** The `environment:` of a service block as a map (`null` for a pass-through without a value). */
function environment(block: string): Map<string, string> {
  const section = /^ {4}environment:\n((?: {6}.*\n?)+)/m.exec(block)?.[1] ?? '';
  return new Map(
    [...section.matchAll(/^ {6}([A-Z][A-Z0-9_]*): ?(.*)$/gm)].map((m) => [
      m[1] ?? '',
      (m[2] ?? '').replace(/^'|'$/g, ''),
    ]),
  );
}

describe('docker-compose.yml: health and profiles', () => {
  maybe('gives every service a healthcheck; what waits, waits for a healthy dependency', () => {
    const result = config({ REDIS_PASSWORD: PASSWORD }, '--profile', 'demo', '--profile', 'simulator-control');
    expect(result.status).toBe(0);
    const all = services(result.stdout);
    expect([...all.keys()].sort()).toEqual(['api', 'detector', 'poller', 'redis', 'simulator', 'simulator-control']);
    for (const [name, block] of all) {
      expect([name, /^ {4}healthcheck:\n {6}/m.test(block)]).toEqual([name, true]);
      expect([name, /^ {6}disable: true/m.test(block)]).toEqual([name, false]);
      for (const [dependency, condition] of dependsOn(block)) {
        expect([name, dependency, condition]).toEqual([name, dependency, 'service_healthy']);
      }
    }
    for (const name of ['api', 'poller', 'detector']) {
      expect([name, dependsOn(all.get(name) ?? '')]).toEqual([name, [['redis', 'service_healthy']]]);
      // Its own /health/ready, answered by the process itself (every app serves it on PORT).
      expect(all.get(name)).toMatch(/fetch\(''http:\/\/127\.0\.0\.1:3000\/health\/ready''\)/);
    }
    expect(dependsOn(all.get('simulator-control') ?? '')).toEqual([['simulator', 'service_healthy']]);
  });

  maybe('runs the simulated account only in the demo profile, and nothing else waits for it', () => {
    const all = services(config({ REDIS_PASSWORD: PASSWORD }, '--profile', 'demo').stdout);
    expect(all.get('simulator')).toMatch(/^ {4}profiles:\n(?: {4}- .*\n)*? {4}- demo$/m);
    for (const name of ['api', 'poller', 'detector', 'redis']) {
      expect([name, /^ {4}profiles:/m.test(all.get(name) ?? '')]).toEqual([name, false]);
      expect([name, dependsOn(all.get(name) ?? '').some(([d]) => d === 'simulator')]).toEqual([name, false]);
    }
  });
});

describe('docker-compose.aws.yml over docker-compose.yml', () => {
  const files = ['-f', 'docker-compose.yml', '-f', 'docker-compose.aws.yml'];
  const env = {
    REDIS_PASSWORD: PASSWORD,
    AWS_ACCOUNTS: '111122223333,444455556666=arn:aws:iam::444455556666:role/trailsight-reader',
    AWS_REGIONS: 'eu-west-1,us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00',
    AWS_SECRET_ACCESS_KEY: 'secret-from-the-shell',
    CLOUDTRAIL_SOURCE: 'sqs',
    S3_BUCKET: 'org-trail-bucket',
    SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/trail-files',
    TRAIL_FILES: '/srv/trails',
    AWS_CONFIG_DIR: '/srv/aws-config',
  };

  maybe('refuses to resolve without AWS_ACCOUNTS, naming it', () => {
    const result = config({ REDIS_PASSWORD: PASSWORD }, ...files);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/AWS_ACCOUNTS/);
  });

  maybe(
    'passes the account, regions, source settings, credentials and trail files to the processes that read them',
    () => {
      const result = config(env, ...files);
      expect(result.stderr).not.toMatch(/invalid|error/i);
      expect(result.status).toBe(0);
      const all = services(result.stdout);
      for (const name of ['api', 'poller', 'detector']) {
        const vars = environment(all.get(name) ?? '');
        expect([name, vars.get('AWS_ACCOUNTS'), vars.get('AWS_REGIONS'), vars.get('CLOUDTRAIL_SOURCE')]).toEqual([
          name,
          env.AWS_ACCOUNTS,
          env.AWS_REGIONS,
          'sqs',
        ]);
        // Real AWS, not the simulated account's endpoint of docker-compose.yml.
        expect([name, vars.get('CLOUDTRAIL_ENDPOINT') ?? '']).toEqual([name, '']);
        expect([name, vars.get('S3_BUCKET'), vars.get('SQS_QUEUE_URL')]).toEqual([
          name,
          env.S3_BUCKET,
          env.SQS_QUEUE_URL,
        ]);
        expect([name, vars.get('TRAIL_DIR')]).toEqual([name, '/trails']);
      }
      // Credentials and their files only where AWS is called: LookupEvents, S3 and SQS (poller), trail
      // files and the outputs (detector).
      for (const name of ['poller', 'detector']) {
        const block = all.get(name) ?? '';
        const vars = environment(block);
        expect([name, vars.get('AWS_ACCESS_KEY_ID'), vars.get('AWS_SECRET_ACCESS_KEY')]).toEqual([
          name,
          env.AWS_ACCESS_KEY_ID,
          env.AWS_SECRET_ACCESS_KEY,
        ]);
        expect(block).toMatch(
          /- \/srv\/aws-config:\/home\/node\/\.aws:ro|source: \/srv\/aws-config\n\s+target: \/home\/node\/\.aws\n\s+read_only: true/,
        );
        expect(block).toMatch(
          /- \/srv\/trails:\/trails:ro|source: \/srv\/trails\n\s+target: \/trails\n\s+read_only: true/,
        );
      }
      expect(environment(all.get('api') ?? '').has('AWS_SECRET_ACCESS_KEY')).toBe(false);
    },
  );

  maybe('leaves credentials unset in the containers when the shell has none (an instance or task role)', () => {
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...withoutKeys } = env;
    const all = services(config(withoutKeys, ...files).stdout);
    const vars = environment(all.get('poller') ?? '');
    // null (or absent) is "not set": the SDK's chain goes on to a profile, then the role.
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) {
      expect([name, ['null', undefined].includes(vars.get(name))]).toEqual([name, true]);
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('checks /health/ready, carries OCI labels and turns Scarf analytics off', () => {
    expect(runtime).toMatch(/^HEALTHCHECK [^\n]*\\\n\s+CMD \["node", "-e", "fetch\([^\n]*\/health\/ready/m);
    for (const label of ['title', 'description', 'licenses', 'version', 'revision']) {
      expect([label, new RegExp(`org\\.opencontainers\\.image\\.${label}="[^"]+"`).test(runtime)]).toEqual([
        label,
        true,
      ]);
    }
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { license: string; version: string };
    expect(runtime).toContain(`org.opencontainers.image.licenses="${pkg.license}"`);
    expect(runtime).toContain(`ARG VERSION=${pkg.version}`);
    // Where npm installs (build stage) and in the image.
    for (const stage of dockerfile.split(/\nFROM /).slice(1))
      expect(stage).toMatch(/^ENV (?:[^\n]*\\\n)*[^\n]*SCARF_ANALYTICS=false/m);
  });

  it('ships no benchmarks or test support, and everything the apps import', () => {
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(dockerfile).toMatch(/RUN npm run build:image /);
    const swc = /\bswc ((?:[\w/.-]+ )+)-d dist (.*?) &&/.exec(scripts['build:image'] ?? '');
    expect(swc).not.toBeNull();
    const inputs = (swc?.[1] ?? '').trim().split(' ');
    expect(inputs).toEqual(['apps', 'libs']);
    // Nor are they in the build context.
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['bench', 'test']));

    // The same compilation into a scratch directory: no bench/ or test/, and every relative import
    // of what is there resolves inside it (the image's dist is complete without them).
    const out = mkdtempSync(join(tmpdir(), 'trailsight-image-dist-'));
    try {
      const built = spawnSync(
        'npx',
        ['swc', ...inputs, '-d', out, '--ignore', '**/*.spec.ts,**/*.int-spec.ts', '--quiet'],
        { encoding: 'utf8' },
      );
      expect(built.stderr).toBe('');
      expect(built.status).toBe(0);
      expect(readdirSync(out).sort()).toEqual(['apps', 'libs']);
      const missing: string[] = [];
      const walk = (dir: string): void => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) walk(path);
          else if (entry.name.endsWith('.js')) {
            const text = readFileSync(path, 'utf8');
            for (const m of text.matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
              const target = resolve(dirname(path), m[1] ?? '');
              if (!existsSync(target)) missing.push(`${path.slice(out.length)} -> ${m[1]}`);
            }
          }
        }
      };
      walk(out);
      expect(missing).toEqual([]);
      for (const app of ['api', 'poller', 'detector', 'simulator', 'cli', 'trailsight']) {
        expect([app, existsSync(join(out, `apps/${app}/src/main.js`))]).toEqual([app, true]);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
