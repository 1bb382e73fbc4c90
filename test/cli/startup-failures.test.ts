/**
 * A serving command that cannot start (a bad configuration, a missing ring or a broken
 * swift.conf, a port already in use, a data directory it cannot use) ends at once: a non-zero
 * exit, `sluice: error: <cause>` on stderr exactly once, and nothing it started left running or
 * listening. A supervisor must never see a live process that will never serve. Each case runs
 * the real CLI in its own process group, so any worker or server it left behind is found.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRing, writeRingFile } from '../../src/common/ring';
import { killGroup, survivors, withLimit as limit } from './process-group';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'sluice.js');
const HOST = '127.0.0.1';
/** Generous: through tsx (sources newer than the bundle) each process takes seconds to start. */
const RUN_LIMIT_MS = 30_000;
const TEST_LIMIT_MS = 45_000;

let dir: string;
/** A port held open by this test process for the whole file: "already in use" for the CLI. */
let blocker: Server;
let busyPort: number;

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, HOST, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Ports free right now, distinct from each other (all are held until every one is picked). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => listenOn(0)));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map(close));
  return ports;
}

async function isFree(port: number): Promise<boolean> {
  try {
    await close(await listenOn(port));
    return true;
  } catch {
    return false;
  }
}

interface Run {
  child: ChildProcess;
  pgid: number;
  stdout(): string;
  stderr(): string;
  /** When `text` first shows up on stdout. */
  printed(text: string | RegExp): Promise<void>;
  /** Exit code or signal, with when the first `sluice: error:` line and the exit happened. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; errorAt?: number; exitAt: number }>;
}

const running = new Set<Run>();

/** The test runner's environment without a Keystone service password, or with `password` as it. */
function keystoneEnv(password?: string): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.SLUICE_KEYSTONE_PASSWORD;
  if (password !== undefined) env.SLUICE_KEYSTONE_PASSWORD = password;
  return env;
}

/** Starts the CLI in a process group of its own, so everything it forks can be found and killed. */
function sluice(args: string[], env: NodeJS.ProcessEnv = keystoneEnv()): Run {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  let errorAt: number | undefined;
  const waiters: { test: string | RegExp; done: () => void }[] = [];
  const matches = (test: string | RegExp) => (typeof test === 'string' ? out.includes(test) : test.test(out));
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    for (const w of waiters.splice(0)) {
      if (matches(w.test)) w.done();
      else waiters.push(w);
    }
  });
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
    if (errorAt === undefined && err.includes('sluice: error:')) errorAt = performance.now();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; errorAt?: number; exitAt: number }>((resolve) => {
    child.on('exit', (code, signal) => {
      const exitAt = performance.now();
      // The last of stderr may still be in the pipe: read it before reporting.
      const settle = setTimeout(() => resolve({ code, signal, errorAt, exitAt }), 200);
      child.stderr!.once('end', () => {
        clearTimeout(settle);
        resolve({ code, signal, errorAt, exitAt });
      });
    });
  });
  const run: Run = {
    child,
    pgid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    printed: (test) =>
      new Promise<void>((resolve, reject) => {
        if (matches(test)) return resolve();
        waiters.push({ test, done: resolve });
        void exited.then(() => reject(new Error(`exited before printing ${String(test)}; stderr:\n${err}`)));
      }),
    exited,
  };
  running.add(run);
  return run;
}

const withLimit = <T>(p: Promise<T>, what: string, ms = RUN_LIMIT_MS): Promise<T> => limit(p, what, ms);

/**
 * Runs a command that must fail to start and checks how it ends: exit 1 within a second of its
 * error line, one such line, matching `cause`, its text nowhere else on stderr, no process of
 * its group left, and `ports` (ones it opened) free again.
 */
async function expectStartupFailure(args: string[], cause: RegExp, ports: number[] = [], env?: NodeJS.ProcessEnv): Promise<void> {
  const run = sluice(args, env);
  try {
    const end = await withLimit(run.exited, `sluice ${args.join(' ')}`);
    const stderr = run.stderr();
    const context = `sluice ${args.join(' ')}\nstderr:\n${stderr}`;
    expect({ code: end.code, signal: end.signal }, context).toEqual({ code: 1, signal: null });
    const errorLines = stderr.split('\n').filter((l) => l.startsWith('sluice: error:'));
    expect(errorLines, context).toHaveLength(1);
    expect(errorLines[0], context).toMatch(cause);
    // Not repeated in any other form either (a worker printing it too, say).
    const causeText = errorLines[0]!.slice('sluice: error: '.length);
    expect(stderr.split(causeText).length - 1, context).toBe(1);
    expect(end.errorAt, context).toBeDefined();
    expect(end.exitAt - end.errorAt!, `${context}\nfrom the error line to the exit (ms)`).toBeLessThan(1000);
    expect(await survivors(run.pgid), `${context}\nprocesses left in its group`).toEqual([]);
    for (const port of ports) expect(await isFree(port), `${context}\nport ${port} still taken`).toBe(true);
  } finally {
    killGroup(run.pgid);
    running.delete(run);
  }
}

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A swift_dir with swift.conf and the rings; `without` leaves one ring out. */
function swiftDir(name: string, without?: string): string {
  const path = join(dir, name);
  mkdirSync(path);
  writeFileSync(join(path, 'swift.conf'), '[swift-hash]\nswift_hash_path_suffix = startup-test\n');
  for (const ring of ['account', 'container', 'object']) {
    if (ring === without) continue;
    writeRingFile(join(path, `${ring}.ring.gz`), buildRing({ partPower: 2, replicas: 1, devices: [{ region: 1, zone: 1, ip: HOST, port: 1, device: 'sda', weight: 1 }] }));
  }
  return path;
}

/** A proxy-server.conf using the rings in `swift`, with `appOptions` in [app:proxy-server]. */
function conf(name: string, swift: string, appOptions = ''): string {
  return write(
    name,
    `[DEFAULT]
swift_dir = ${swift}

[pipeline:main]
pipeline = catch_errors healthcheck proxy-server

[app:proxy-server]
use = egg:swift#proxy
${appOptions}
[filter:catch_errors]
use = egg:swift#catch_errors

[filter:healthcheck]
use = egg:swift#healthcheck
`,
  );
}

const UNKNOWN_FILTER_CONF = `[pipeline:main]
pipeline = catch_errors nosuchfilter proxy-server

[app:proxy-server]
use = egg:swift#proxy

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:nosuchfilter]
use = egg:swift#nosuchfilter
`;

let unknownFilterConf: string;
let goodSwiftDir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-startup-'));
  blocker = await listenOn(0);
  busyPort = (blocker.address() as { port: number }).port;
  unknownFilterConf = write('unknown-filter.conf', UNKNOWN_FILTER_CONF);
  goodSwiftDir = swiftDir('swift');
});

afterAll(async () => {
  // Whatever an assertion left behind.
  for (const run of running) killGroup(run.pgid);
  await close(blocker);
  rmSync(dir, { recursive: true, force: true });
});

const UNKNOWN_FILTER = /^sluice: error: .*nosuchfilter/;

describe.concurrent('sluice start', { timeout: TEST_LIMIT_MS }, () => {
  for (const workers of ['2', '0']) {
    it(`exits 1 on a pipeline naming a filter sluice lacks (--workers ${workers}), leaving nothing running`, async () => {
      const [proxy, a, c, o] = await freePorts(4);
      const args = ['start', '--config', unknownFilterConf, '--data-dir', join(dir, `start-unknown-filter-${workers}`), '--port', String(proxy), '--storage-ports', `${a},${c},${o}`, '--workers', workers];
      await expectStartupFailure(args, UNKNOWN_FILTER, [proxy!, a!, c!, o!]);
    });
  }

  it('exits 1 on a bad option value, stopping the storage servers it started', async () => {
    // The proxy's options are checked once the rings are there, so after the storage servers started.
    const [proxy, a, c, o] = await freePorts(4);
    const path = conf('start-bad-value.conf', goodSwiftDir, 'node_timeout = soon\n');
    const args = ['start', '--config', path, '--data-dir', join(dir, 'start-bad-value'), '--port', String(proxy), '--storage-ports', `${a},${c},${o}`, '--workers', '2'];
    await expectStartupFailure(args, /^sluice: error: .*node_timeout.*"soon"/, [proxy!, a!, c!, o!]);
  });

  it('exits 1 on a policy file it cannot use, naming the file, rule and column on the error line', async () => {
    const policy = write('bad-policy.yaml', '"swift:object:get": "rule:swift:account_owner or (role:x"\n"swift:container:put": "rule:nosuch"\n');
    const path = write('bad-policy.conf', readFileSync(conf('bad-policy-base.conf', goodSwiftDir), 'utf8').replace('pipeline = catch_errors healthcheck proxy-server', 'pipeline = catch_errors healthcheck cache tempauth proxy-server') + `\n[filter:cache]\nuse = egg:swift#memcache\n\n[filter:tempauth]\nuse = egg:swift#tempauth\npolicy_file = ${policy}\n`);
    const [proxy, a, c, o] = await freePorts(4);
    const args = ['start', '--config', path, '--data-dir', join(dir, 'start-bad-policy'), '--port', String(proxy), '--storage-ports', `${a},${c},${o}`, '--workers', '2'];
    await expectStartupFailure(args, /^sluice: error: invalid policy: .*bad-policy\.yaml:1: rule "swift:object:get", column 29: this "\(" is never closed \(and 1 more problem\)$/, [proxy!, a!, c!, o!]);
  });

  it('exits 1 on a configuration it cannot parse', async () => {
    const conf = write('no-filter-section.conf', '[pipeline:main]\npipeline = catch_errors healthcheck proxy-server\n\n[app:proxy-server]\nuse = egg:swift#proxy\n\n[filter:catch_errors]\nuse = egg:swift#catch_errors\n');
    const [proxy, a, c, o] = await freePorts(4);
    const args = ['start', '--config', conf, '--data-dir', join(dir, 'start-unparsed'), '--port', String(proxy), '--storage-ports', `${a},${c},${o}`, '--workers', '2'];
    await expectStartupFailure(args, /^sluice: error: .*healthcheck/, [proxy!, a!, c!, o!]);
  });

  it('exits 1 when the proxy port is in use, stopping its workers, storage servers and expirer', async () => {
    const [a, c, o] = await freePorts(3);
    const args = ['start', '--data-dir', join(dir, 'start-proxy-port'), '--port', String(busyPort), '--storage-ports', `${a},${c},${o}`, '--workers', '2'];
    await expectStartupFailure(args, new RegExp(`^sluice: error: proxy-server: .*EADDRINUSE.*:${busyPort}$`), [a!, c!, o!]);
  });

  for (const [i, server] of ['account', 'container', 'object'].entries()) {
    it(`exits 1 when the ${server} server's port is in use, stopping the servers already started`, async () => {
      const ports = await freePorts(4);
      const storage = ports.slice(1);
      storage[i] = busyPort;
      const args = ['start', '--data-dir', join(dir, `start-${server}-port`), '--port', String(ports[0]), '--storage-ports', storage.join(','), '--workers', '0'];
      await expectStartupFailure(args, new RegExp(`^sluice: error: ${server}-server: .*EADDRINUSE.*:${busyPort}$`), [ports[0]!, ...storage.filter((p) => p !== busyPort)]);
    });
  }

  it('exits 1 when the data directory cannot be used', async () => {
    const notADir = write('a-file', '');
    await expectStartupFailure(['start', '--data-dir', notADir, '--port', '0', '--storage-ports', '0,0,0', '--workers', '0'], /^sluice: error: data directory .*a-file cannot be used: ENOTDIR/);
  });
});

describe.concurrent('sluice start --auth (checked before anything starts)', { timeout: TEST_LIMIT_MS }, () => {
  const KEYSTONE = 'http://127.0.0.1:5000/v3';
  /** `sluice start` on free ports with `extra` options; the ports must be free again after. */
  async function failsToStart(name: string, extra: string[], cause: RegExp, env?: NodeJS.ProcessEnv): Promise<void> {
    const [proxy, a, c, o] = await freePorts(4);
    const args = ['start', '--data-dir', join(dir, `auth-${name}`), '--port', String(proxy), '--storage-ports', `${a},${c},${o}`, '--workers', '2', ...extra];
    await expectStartupFailure(args, cause, [proxy!, a!, c!, o!], env);
    // Nothing started, not even the data directory.
    expect(() => readdirSync(join(dir, `auth-${name}`))).toThrow(/ENOENT/);
  }
  const withPassword = () => keystoneEnv('not-checked-before-start');

  it('exits 1 on an unknown --auth', () => failsToStart('unknown', ['--auth', 'ldap'], /^sluice: error: --auth must be tempauth or keystone \(got "ldap"\)$/));

  it('exits 1 on --keystone-url without --auth keystone', async () => {
    await failsToStart('url-only', ['--keystone-url', KEYSTONE], /^sluice: error: --keystone-url needs --auth keystone$/, withPassword());
    await failsToStart('url-tempauth', ['--auth', 'tempauth', '--keystone-user', 'x'], /^sluice: error: --keystone-user needs --auth keystone$/);
  });

  it('exits 1 on --auth keystone without --keystone-url', () =>
    failsToStart('no-url', ['--auth', 'keystone'], /^sluice: error: --auth keystone needs --keystone-url/, withPassword()));

  it('exits 1 on --auth keystone without a password (SLUICE_KEYSTONE_PASSWORD unset, no --keystone-password-file)', () =>
    failsToStart('no-password', ['--auth', 'keystone', '--keystone-url', KEYSTONE], /^sluice: error: --auth keystone needs the service user's password: set SLUICE_KEYSTONE_PASSWORD or give --keystone-password-file FILE$/));

  it('exits 1 on a password given on the command line, naming the safe ways', () =>
    failsToStart('argv-password', ['--auth', 'keystone', '--keystone-url', KEYSTONE, '--keystone-password', 'hunter2'], /^sluice: error: there is no --keystone-password: .*visible to every local user; set SLUICE_KEYSTONE_PASSWORD or give --keystone-password-file FILE$/));

  it('exits 1 on a password file it cannot read, or an empty one', async () => {
    await failsToStart('missing-file', ['--auth', 'keystone', '--keystone-url', KEYSTONE, '--keystone-password-file', join(dir, 'no-such-file')], /^sluice: error: --keystone-password-file .*no-such-file cannot be read: ENOENT/);
    const empty = write('empty-password', '\n');
    await failsToStart('empty-file', ['--auth', 'keystone', '--keystone-url', KEYSTONE, '--keystone-password-file', empty], /^sluice: error: --keystone-password-file .*empty-password is empty$/);
  });

  const badUrls: [string, string][] = [
    ['127.0.0.1:5000/v3', 'is not a URL \\(e\\.g\\. http://127\\.0\\.0\\.1:5000/v3\\)'],
    ['localhost:5000/v3', 'is not http\\(s\\)'],
    ['not a url', 'is not a URL \\(e\\.g\\. http://127\\.0\\.0\\.1:5000/v3\\)'],
    ['ftp://127.0.0.1:5000/v3', 'is not http\\(s\\)'],
    ['http://admin:pw@127.0.0.1:5000/v3', 'must not hold credentials'],
    ['http://127.0.0.1:5000/v3?x=1', 'must not have a query or fragment'],
  ];
  for (const [url, why] of badUrls) {
    it(`exits 1 on --keystone-url ${url}`, () =>
      failsToStart(`url-${url.replace(/\W+/g, '-')}`, ['--auth', 'keystone', '--keystone-url', url], new RegExp(`^sluice: error: --keystone-url: Keystone URL .* ${why}$`), withPassword()));
  }

  it('exits 1 on --auth keystone with --config (which --auth does not change)', () =>
    failsToStart('with-config', ['--auth', 'keystone', '--keystone-url', KEYSTONE, '--config', unknownFilterConf], /^sluice: error: --auth keystone changes the built-in configuration; with --config/, withPassword()));
});

describe.concurrent('sluice proxy', { timeout: TEST_LIMIT_MS }, () => {
  for (const workers of ['2', '0']) {
    it(`exits 1 when a ring is missing (--workers ${workers})`, async () => {
      const swift = swiftDir(`swift-no-object-ring-${workers}`, 'object');
      const [port] = await freePorts(1);
      await expectStartupFailure(['proxy', '--config', conf(`no-ring-${workers}.conf`, swift), '--port', String(port), '--workers', workers], /^sluice: error: ring file .*object\.ring\.gz not found$/, [port!]);
    });

    it(`exits 1 when its port is in use (--workers ${workers})`, async () => {
      const args = ['proxy', '--config', conf(`busy-${workers}.conf`, goodSwiftDir), '--port', String(busyPort), '--workers', workers];
      await expectStartupFailure(args, new RegExp(`^sluice: error: proxy-server: .*EADDRINUSE.*:${busyPort}$`));
    });
  }

  it('exits 1 on a configuration with a syntax error', async () => {
    const [port] = await freePorts(1);
    const path = write('syntax.conf', `an option line before any [section]\n${readFileSync(conf('syntax-base.conf', goodSwiftDir), 'utf8')}`);
    await expectStartupFailure(['proxy', '--config', path, '--port', String(port), '--workers', '2'], /^sluice: error: .*syntax\.conf\b/, [port!]);
  });

  it('exits 1 on a bad option value', async () => {
    const [port] = await freePorts(1);
    const path = conf('bad-value.conf', goodSwiftDir, 'node_timeout = soon\n');
    await expectStartupFailure(['proxy', '--config', path, '--port', String(port), '--workers', '2'], /^sluice: error: .*node_timeout.*"soon"/, [port!]);
  });

  it('exits 1 on a swift.conf it cannot use', async () => {
    const swift = join(dir, 'swift-bad-conf');
    mkdirSync(swift);
    writeFileSync(join(swift, 'swift.conf'), '[swift-hash]\n');
    const [port] = await freePorts(1);
    await expectStartupFailure(['proxy', '--config', conf('bad-swift-conf.conf', swift), '--port', String(port), '--workers', '2'], /^sluice: error: .*swift\.conf: \[swift-hash\] needs/, [port!]);
  });
});

describe.concurrent('the storage servers and the expirer', { timeout: TEST_LIMIT_MS }, () => {
  for (const server of ['account', 'container', 'object']) {
    // With workers, each worker's failure reaches the primary, which says it once.
    for (const workers of ['0', '2']) {
      it(`${server}-server --workers ${workers} exits 1 when its port is in use`, async () => {
        const devices = join(dir, `${server}-${workers}-devices`);
        mkdirSync(join(devices, 'sda'), { recursive: true });
        const args = [`${server}-server`, '--port', String(busyPort), '--devices', devices, '--swift-dir', goodSwiftDir, '--workers', workers];
        await expectStartupFailure(args, new RegExp(`^sluice: error: ${server}-server: .*EADDRINUSE.*:${busyPort}$`));
      });
    }
  }

  it('object-server exits 1 when its devices directory does not exist', async () => {
    const [port] = await freePorts(1);
    await expectStartupFailure(['object-server', '--port', String(port), '--devices', join(dir, 'no-such-devices')], /^sluice: error: --devices .*no-such-devices does not exist$/, [port!]);
  });

  it.each([
    ['container', 'listing-cache-mb', 'object', '1.5', /^sluice: --listing-cache-mb must be a whole number of MiB \(got "1\.5"\)$/m],
    ['object', 'verified-read-seconds', 'container', '-1', /^sluice: --verified-read-seconds must be a whole number of seconds \(got "-1"\)$/m],
  ] as const)('%s-server refuses a --%s that is not a whole number (usage, exit 2); the %s server does not take it', async (takes, flag, other, bad, message) => {
    const devices = join(dir, `${flag}-devices`);
    mkdirSync(join(devices, 'sda'), { recursive: true });
    for (const [server, value, expected] of [
      [takes, bad, message],
      [other, '5', new RegExp(`^sluice: Unknown option '--${flag}'`, 'm')],
    ] as const) {
      const run = sluice([`${server}-server`, '--port', '0', '--devices', devices, `--${flag}=${value}`]);
      try {
        const end = await withLimit(run.exited, `${server}-server --${flag}`);
        expect(end.code, run.stderr()).toBe(2);
        expect(run.stderr()).toMatch(expected);
      } finally {
        killGroup(run.pgid);
        running.delete(run);
      }
    }
  });

  it('object-expirer exits 1 when a ring is missing', async () => {
    await expectStartupFailure(['object-expirer', '--swift-dir', swiftDir('swift-no-account-ring', 'account')], /^sluice: error: ring file .*account\.ring\.gz not found$/);
  });

  it('object-expirer exits 1 on a swift.conf it cannot use', async () => {
    const swift = join(dir, 'expirer-bad-conf');
    mkdirSync(swift);
    writeFileSync(join(swift, 'swift.conf'), '[swift-hash]\n');
    await expectStartupFailure(['object-expirer', '--swift-dir', swift], /^sluice: error: .*swift\.conf: \[swift-hash\] needs/);
  });
});

/** The pids of the proxy workers: the primary's child processes. */
function childPids(pid: number): number[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return children ? children.split(/\s+/).map(Number) : [];
}

/** How many replacement workers the primary reported listening. */
function startedLines(stderr: string): number {
  return stderr.split('\n').filter((l) => /^proxy worker \d+ started$/.test(l)).length;
}

async function healthcheck(url: string): Promise<number> {
  const res = await fetch(`${url}/healthcheck`);
  await res.arrayBuffer();
  return res.status;
}

describe.concurrent('proxy workers after start-up', { timeout: TEST_LIMIT_MS }, () => {
  it('replaces workers that die after they served, on the same port, and stops cleanly on SIGTERM', async () => {
    const swift = swiftDir('swift-replace');
    const run = sluice(['proxy', '--config', conf('replace.conf', swift), '--port', '0', '--workers', '2']);
    try {
      await withLimit(run.printed(/proxy-server listening on http:\/\/\S+\n/), 'proxy start-up');
      const url = /proxy-server listening on (http:\/\/\S+)\n/.exec(run.stdout())![1]!;
      expect(await healthcheck(url)).toBe(200);
      // One at a time: the first replacement joins the port the other original still serves.
      for (const victim of childPids(run.pgid)) {
        const before = startedLines(run.stderr());
        process.kill(victim, 'SIGKILL');
        await withLimit(
          (async () => {
            while (startedLines(run.stderr()) === before) {
              if (run.child.exitCode !== null) throw new Error(`exited (${run.child.exitCode}) instead; stderr:\n${run.stderr()}`);
              await new Promise((r) => setTimeout(r, 50));
            }
          })(),
          `replacing worker ${victim}`,
        );
        expect(run.stderr()).toContain(`proxy worker ${victim} died (SIGKILL); starting another`);
        expect(await healthcheck(url)).toBe(200);
      }
      expect(run.stderr()).not.toContain('sluice: error:');
      run.child.kill('SIGTERM');
      const end = await withLimit(run.exited, 'stopping');
      expect({ code: end.code, signal: end.signal }, run.stderr()).toEqual({ code: 0, signal: null });
      expect(await survivors(run.pgid)).toEqual([]);
      expect(await isFree(Number(new URL(url).port))).toBe(true);
    } finally {
      killGroup(run.pgid);
      running.delete(run);
    }
  });

  it('logs an unknown option once, not once per worker', async () => {
    const swift = swiftDir('swift-unknown-option');
    const path = conf('unknown-option.conf', swift);
    writeFileSync(path, readFileSync(path, 'utf8').replace('use = egg:swift#healthcheck\n', 'use = egg:swift#healthcheck\ndisable_pth = /typo\n'));
    const run = sluice(['proxy', '--config', path, '--port', '0', '--workers', '2']);
    try {
      await withLimit(run.printed(/proxy-server listening on http:\/\/\S+\n/), 'proxy start-up');
      const url = /proxy-server listening on (http:\/\/\S+)\n/.exec(run.stdout())![1]!;
      // Both workers have built their pipelines once both answer.
      for (let i = 0; i < 4; i++) expect(await healthcheck(url)).toBe(200);
      run.child.kill('SIGTERM');
      const end = await withLimit(run.exited, 'stopping');
      expect({ code: end.code, signal: end.signal }, run.stderr()).toEqual({ code: 0, signal: null });
      const warnings = run.stdout().split('\n').filter((l) => l.includes('ignores unknown option'));
      expect(warnings, run.stdout()).toHaveLength(1);
      expect(warnings[0]).toContain('[filter:healthcheck] ignores unknown option disable_pth');
    } finally {
      killGroup(run.pgid);
      running.delete(run);
    }
  });

  it('exits 1 when a replacement worker cannot start, stopping the others', async () => {
    const swift = swiftDir('swift-replacement-fails');
    const run = sluice(['proxy', '--config', conf('replacement-fails.conf', swift), '--port', '0', '--workers', '2']);
    try {
      await withLimit(run.printed(/proxy-server listening on http:\/\/\S+\n/), 'proxy start-up');
      const url = /proxy-server listening on (http:\/\/\S+)\n/.exec(run.stdout())![1]!;
      // The replacement reads the rings again, and finds one gone.
      unlinkSync(join(swift, 'object.ring.gz'));
      process.kill(childPids(run.pgid)[0]!, 'SIGKILL');
      const end = await withLimit(run.exited, 'the failed replacement');
      const stderr = run.stderr();
      expect({ code: end.code, signal: end.signal }, stderr).toEqual({ code: 1, signal: null });
      expect(stderr.split('\n').filter((l) => l.startsWith('sluice: error:')), stderr).toEqual([expect.stringMatching(/^sluice: error: ring file .*object\.ring\.gz not found$/)]);
      expect(end.exitAt - end.errorAt!).toBeLessThan(1000);
      expect(await survivors(run.pgid)).toEqual([]);
      expect(await isFree(Number(new URL(url).port))).toBe(true);
    } finally {
      killGroup(run.pgid);
      running.delete(run);
    }
  });
});
