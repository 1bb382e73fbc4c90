/**
 * The two clusters `npm run bench -- --compare-swift` measures, on loopback and free ports:
 *
 *   - Debian's Swift 2.30 as a production node runs it: account, container and object servers
 *     (Swift's default worker count, one per core), a proxy with 2 workers and memcached, log
 *     level INFO to syslog (no -v console copy), Swift's own rings (swift-ring-builder);
 *   - sluice: its account, container and object servers as a storage node runs them (the three
 *     server commands, each with Swift's default worker count), and `sluice proxy --workers N`
 *     with the development pipeline.
 *
 * Swift reads /etc/swift/swift.conf whatever swift_dir says, so while a Swift cluster runs this
 * holds /tmp/sluice-interop.lock (the interop scripts' lock, scripts/lib/interop-run.sh), writes
 * its own swift.conf there and puts the previous one back when it stops.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_PROXY_CONF } from '../../src/cluster/dev-cluster';
import { startMemcached, type Memcached } from '../../test/helpers/memcached';
import { buildBundle, CLI_BUNDLE } from '../build';
import { childPids, freePort, sleep, startServer, stopChild, withSwiftDir, type Child, type Endpoint } from '../bench';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SWIFT_CONF = '/etc/swift/swift.conf';
const LOCK = '/tmp/sluice-interop.lock';
const PY = '/usr/bin/python3';

/** The same hash prefix and suffix as the interop scripts, so a swift.conf either writes is the other's. */
export const BENCH_SWIFT_CONF = `[swift-hash]
swift_hash_path_prefix = sluice-interop-prefix
swift_hash_path_suffix = sluice-interop-suffix

[storage-policy:0]
name = Policy-0
default = yes
`;

/** Processes to stop (in reverse) and undo steps, run once by stop(). */
export class Stack {
  readonly children: Child[] = [];
  private readonly undo: (() => Promise<void> | void)[] = [];

  onStop(fn: () => Promise<void> | void): void {
    this.undo.push(fn);
  }

  async stop(): Promise<void> {
    for (const c of this.children.splice(0).reverse()) await stopChild(c).catch(() => undefined);
    for (const fn of this.undo.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
  }
}

/** A non-node command with its output to <dir>/<name>.log (spawnLogged runs node). */
function spawnCommand(name: string, cmd: string, args: string[], dir: string): Child {
  const logPath = join(dir, `${name}.log`);
  const fd = openSync(logPath, 'a');
  const proc: ChildProcess = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  return { name, proc, logPath };
}

async function waitHealthy(origin: string, child: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${origin}/healthcheck`).then(
      async (r) => (await r.arrayBuffer(), r.status === 200),
      () => false,
    );
    if (ok) return;
    if (child.proc.exitCode !== null || child.proc.signalCode !== null || Date.now() > deadline) {
      throw new Error(`${child.name} is not answering ${origin}/healthcheck; its log:\n${readFileSync(child.logPath, 'utf8').slice(-2000)}`);
    }
    await sleep(100);
  }
}

/** Holds the interop lock until release() (or this process's death: the holder reads our pipe). */
async function takeInteropLock(): Promise<() => void> {
  // flock(1) hands the locked descriptor to `cat`, which exits when stdin closes.
  const holder = spawn('flock', ['-w', '300', LOCK, '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((done, fail) => {
    holder.stdout!.once('data', () => done());
    holder.once('exit', (code) => fail(new Error(`another interop run holds ${LOCK} (flock exited ${code})`)));
    holder.once('error', fail);
  });
  return () => holder.stdin!.end();
}

/** Swift's swift.conf in /etc/swift for the run (the previous one restored at stop). */
async function installSwiftConf(stack: Stack): Promise<void> {
  const release = await takeInteropLock();
  stack.onStop(release);
  mkdirSync('/etc/swift', { recursive: true });
  const previous = existsSync(SWIFT_CONF) ? readFileSync(SWIFT_CONF) : null;
  stack.onStop(() => (previous === null ? rmSync(SWIFT_CONF, { force: true }) : writeFileSync(SWIFT_CONF, previous)));
  writeFileSync(SWIFT_CONF, BENCH_SWIFT_CONF);
}

function storageConf(kind: string, port: number, etc: string, devices: string, user: string): string {
  // workers unset: Swift's default (one per core), as a packaged node runs.
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
user = ${user}
swift_dir = ${etc}
devices = ${devices}
mount_check = false
log_name = ${kind}-server
log_level = INFO

[pipeline:main]
pipeline = healthcheck ${kind}-server

[filter:healthcheck]
use = egg:swift#healthcheck

[app:${kind}-server]
use = egg:swift#${kind}
`;
}

/**
 * Memcache connections per Swift proxy worker. Swift's default of 2, under 32 clients on a loaded
 * machine, ran out: requests waited past pool_timeout (1 s), Swift's memcache client counted
 * errors, error-limited memcached for 60 s (ERROR_LIMIT_DURATION in swift/common/memcached.py),
 * and tempauth then answered 401 to every token for that minute. One per bench connection
 * never makes a request wait for the pool.
 */
export const MEMCACHE_CONNECTIONS = 32;

/**
 * Seconds for Swift's memcache connect, pool and I/O timeouts (defaults 0.3, 1.0 and 2.0).
 * Driven by wrk at 3,000+ requests a second, Swift's two CPU-bound eventlet workers got to their
 * memcache sockets too late: after 10 timeouts in 60 s its client error-limited memcached and
 * tempauth answered 401 to 8,128 of 65,606 auth requests and 2 in 3 account HEADs. memcached
 * on loopback answers in microseconds; these timeouts only measure a starved worker, so they
 * are set beyond any wait of the run.
 */
export const MEMCACHE_TIMEOUT = 10;

/**
 * Swift's proxy-server.conf: sluice's development pipeline, filter for filter (both sides run
 * the same middleware), with the bench users spelled out (Swift has no dev_users) and memcached.
 */
export function swiftProxyConf(opts: { port: number; workers: number; etc: string; user: string; memcache: string }): string {
  const defaults = `[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = ${opts.port}\nworkers = ${opts.workers}\nuser = ${opts.user}\nswift_dir = ${opts.etc}\nlog_name = proxy-server\nlog_level = INFO\n`;
  const users = 'user_test_tester = testing .admin\nuser_test_tester3 = testing3';
  const conf = DEV_PROXY_CONF.replace(/\[DEFAULT\]\n[^[]*/, `${defaults}\n`)
    .replace(/^dev_users = true$/m, users)
    .replace('use = egg:swift#memcache\n', `use = egg:swift#memcache\nmemcache_servers = ${opts.memcache}\nmemcache_max_connections = ${MEMCACHE_CONNECTIONS}\nconnect_timeout = ${MEMCACHE_TIMEOUT}\npool_timeout = ${MEMCACHE_TIMEOUT}\nio_timeout = ${MEMCACHE_TIMEOUT}\n`);
  if (!conf.includes(`\n${users}\n`) || /^dev_users/m.test(conf) || !conf.includes(opts.memcache) || !conf.includes(`workers = ${opts.workers}`)) throw new Error('DEV_PROXY_CONF changed shape: update swiftProxyConf');
  return conf;
}

export interface SwiftStorage {
  /** swift_dir: swift.conf and the rings. */
  etc: string;
  /** The process whose tree holds the three servers (for CPU and RSS). */
  pid: number;
}

/** Swift's account, container and object servers, one device each, rings of one replica. */
export async function startSwiftStorage(stack: Stack, dir: string, log: (l: string) => void): Promise<SwiftStorage> {
  await installSwiftConf(stack);
  const etc = join(dir, 'swift-etc');
  const devices = join(dir, 'swift-node');
  mkdirSync(join(devices, 'sda'), { recursive: true });
  mkdirSync(etc, { recursive: true });
  writeFileSync(join(etc, 'swift.conf'), BENCH_SWIFT_CONF);
  const user = userInfo().username;
  const ports: Record<string, number> = {};
  for (const kind of ['account', 'container', 'object']) {
    ports[kind] = await freePort();
    writeFileSync(join(etc, `${kind}-server.conf`), storageConf(kind, ports[kind]!, etc, devices, user));
    const builder = join(etc, `${kind}.builder`);
    execFileSync('swift-ring-builder', [builder, 'create', '8', '1', '1'], { stdio: 'ignore' });
    execFileSync('swift-ring-builder', [builder, 'add', `r1z1-127.0.0.1:${ports[kind]}/sda`, '1'], { stdio: 'ignore' });
    // rebalance exits 1 for warnings (a fresh ring), 2 for errors.
    try {
      execFileSync('swift-ring-builder', [builder, 'rebalance'], { stdio: 'ignore' });
    } catch (err) {
      if ((err as { status?: number }).status !== 1) throw err;
    }
  }
  // One shell parent for the three servers, so their CPU and RSS add up in one process tree.
  const script =
    'trap \'kill $(jobs -p) 2>/dev/null; wait; exit 0\' TERM INT; ' +
    ['account', 'container', 'object'].map((k) => `${PY} /usr/bin/swift-${k}-server ${join(etc, `${k}-server.conf`)} &`).join(' ') +
    ' wait';
  const child = spawnCommand('swift-storage', 'bash', ['-c', script], dir);
  stack.children.push(child);
  for (const kind of ['account', 'container', 'object']) await waitHealthy(`http://127.0.0.1:${ports[kind]}`, child);
  log(`Swift storage servers: account ${ports.account}, container ${ports.container}, object ${ports.object}`);
  return { etc, pid: child.proc.pid! };
}

/** Swift's proxy (with its own memcached) reading `storage`'s rings. */
export async function startSwiftProxy(stack: Stack, dir: string, storage: SwiftStorage, workers: number): Promise<Endpoint> {
  const mc: Memcached = await startMemcached();
  stack.onStop(() => mc.stop());
  const port = await freePort();
  const conf = join(dir, 'swift-proxy-server.conf');
  writeFileSync(conf, swiftProxyConf({ port, workers, etc: storage.etc, user: userInfo().username, memcache: mc.server }));
  const started = Date.now();
  const child = spawnCommand('swift-proxy', PY, ['/usr/bin/swift-proxy-server', conf], dir);
  stack.children.push(child);
  const origin = `http://127.0.0.1:${port}`;
  await waitHealthy(origin, child);
  // Swift's parent forks its workers after it binds: wait until all are there.
  while (childPids(child.proc.pid!).length < workers) await sleep(100);
  const ep: Endpoint = { origin, authPath: '/auth/v1.0', accountPath: '', pid: child.proc.pid, workers: { count: workers, startupMs: Math.max(1000, Date.now() - started), firstSeen: new Map() } };
  for (const k of childPids(child.proc.pid!)) ep.workers!.firstSeen.set(k, started);
  return ep;
}

export interface SluiceStorage {
  etc: string;
  pid: number;
}

/**
 * sluice's storage servers as a storage node runs them, beside Swift's: `sluice account-server`,
 * `container-server` and `object-server`, each with `--workers auto` (one per core, Swift's
 * default), rings of one replica from `sluice ring build`, under one shell parent so their CPU
 * and RSS add up in one process tree. `nodeArgs` (e.g. --cpu-prof) reach every worker.
 */
export async function startSluiceStorage(stack: Stack, dir: string, nodeArgs: string[]): Promise<SluiceStorage> {
  if (process.env.SLUICE_FROM_SOURCE !== '1') await buildBundle('src/cli/main.ts', CLI_BUNDLE);
  const etc = join(dir, 'sluice-etc');
  const devices = join(dir, 'sluice-node');
  mkdirSync(join(devices, 'sda'), { recursive: true });
  mkdirSync(etc, { recursive: true });
  writeFileSync(join(etc, 'swift.conf'), BENCH_SWIFT_CONF);
  const bin = join(ROOT, 'bin', 'sluice.js');
  const kinds = ['account', 'container', 'object'] as const;
  const ports: Record<string, number> = {};
  for (const kind of kinds) {
    ports[kind] = await freePort();
    execFileSync(process.execPath, [bin, 'ring', 'build', kind, '--swift-dir', etc, '--part-power', '8', '--replicas', '1', '--device', `127.0.0.1:${ports[kind]}/sda`], { stdio: 'ignore' });
  }
  const node = [process.execPath, ...nodeArgs].map(shellWord).join(' ');
  const script =
    "trap 'kill $(jobs -p) 2>/dev/null; wait; exit 0' TERM INT; " +
    kinds.map((k) => `${node} ${shellWord(bin)} ${k}-server --port ${ports[k]} --devices ${shellWord(devices)} --swift-dir ${shellWord(etc)} --workers auto &`).join(' ') +
    ' wait';
  const child = spawnCommand('sluice-storage', 'bash', ['-c', script], dir);
  stack.children.push(child);
  for (const kind of kinds) await waitHealthy(`http://127.0.0.1:${ports[kind]}`, child);
  return { etc, pid: child.proc.pid! };
}

/** `word` quoted for bash. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `sluice proxy --workers N` with the development pipeline, reading the rings in `swiftDir`. */
export async function startSluiceProxy(stack: Stack, dir: string, swiftDir: string, workers: number, nodeArgs: string[], name = 'sluice-proxy'): Promise<Endpoint> {
  const conf = join(dir, `${name}.conf`);
  writeFileSync(conf, withSwiftDir(DEV_PROXY_CONF, swiftDir));
  const proxy = await startServer(name, [...nodeArgs, 'bin/sluice.js', 'proxy', '--config', conf, '--port', String(await freePort()), '--workers', String(workers)], dir, /proxy-server listening on (\S+)/, workers);
  stack.children.push(proxy.child);
  return proxy.ep;
}
