/**
 * `npm run bench`: sluice's proxy under load, next to a bare passthrough in front of the same
 * storage servers (scripts/passthrough.ts), one row per operation. See docs/benchmarks.md.
 *
 * Local mode (default) starts, in a temp directory:
 *   - the storage servers: `sluice start --workers 0 --storage-ports 0,0,0` (its in-process proxy
 *     stays idle), which writes swift.conf and rings to <dir>/etc;
 *   - sluice's proxy as users run it: `sluice proxy --config <dir>/proxy-server.conf --workers N`
 *     (the development pipeline with TempAuth's dev users, swift_dir = <dir>/etc);
 *   - the passthrough with the same rings and worker count.
 * The proxy and the passthrough each run in their own process tree, so their RSS (primary +
 * workers, from /proc) is theirs alone; the storage servers they share are in a third process.
 *
 * Target mode (`--target URL`) drives any Swift endpoint instead; a passthrough baseline needs
 * that cluster's rings (`--swift-dir`), and RSS needs the proxy's pid (`--proxy-pid`).
 *
 * `--auth keystone` (local mode) also starts a second sluice proxy on the same storage servers,
 * with `authtoken keystoneauth` in TempAuth's place (devProxyConfWithKeystone), against the real
 * Keystone of scripts/keystone-dev.sh or a fake one (scripts/lib/bench-keystone.ts), and adds its
 * rows for the operations marked `keystone` next to TempAuth's, measured in the same run.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEV_PROXY_CONF, devProxyConfWithKeystone } from '../src/cluster/dev-cluster';
import { buildBundle, CLI_BUNDLE } from './build';
import { benchKeystone, type BenchKeystone } from './lib/bench-keystone';
import { runWrk, type LoadRequest, type LoadResult } from './lib/bench-wrk';
import { startMemcached, type Memcached } from '../test/helpers/memcached';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const USAGE = `Usage: npm run bench -- [options]

  --connections N     concurrent connections (default 32)
  --duration S        seconds of load per operation and target (default 5)
  --warmup S          seconds of unmeasured load before each measurement (default 1)
  --initial-warmup S  seconds of unmeasured load per server before the first measurement,
                      spread over the operations (default 8): a fresh server runs its first
                      seconds several times slower (JIT, pools, caches)
  --workers N|auto    proxy (and passthrough) worker processes (default auto = one per core)
  --baseline B        passthrough (default) or none
  --ops A,B,...       only these operations (names below)
  --json FILE         also write the results as JSON
  --proxy-node-arg A  extra node option for the sluice proxy (repeatable; e.g. --cpu-prof)
  --keep              keep the temp directory (logs, data, profiles)
  --auth keystone     also measure KEYSTONE_ROWS through a second sluice proxy with
                      authtoken + keystoneauth (same storage servers), a cached Keystone token:
                      the real Keystone when KEYSTONE_URL and KEYSTONE_FIXTURES are set
                      (eval "$(scripts/keystone-dev.sh env)"), else a fake one in the bench
  --two-proxy on|off  (local mode, default on) also measure TWO_PROXY_ROWS
                      through two more sluice proxies sharing one memcached (Debian's
                      /usr/bin/memcached), the load split across both, and one of them alone

  --target URL        benchmark this endpoint instead of a fresh local cluster
  --auth-url URL      TempAuth-style v1.0 auth URL (default TARGET/auth/v1.0)
  --user U --key K    the account owner (default test:tester / testing)
  --acl-user U --acl-key K
                      user granted read-only by account ACL for the ACL row
                      (default test:tester3 / testing3; the row is skipped if it cannot log in)
  --swift-dir DIR     with --target: that cluster's swift.conf and rings, for the passthrough
  --proxy-pid PID     with --target: sample this process tree's RSS

sluice and the passthrough run compiled (esbuild bundles, as \`npm install\` leaves sluice);
SLUICE_FROM_SOURCE=1 runs both from the TypeScript sources through tsx.

A row with any non-2xx answer is FAILED (in the table and in the JSON's failedRows), and the
bench then exits 1.

Operations: OPS`;

/** The operations `--auth keystone` measures with a Keystone token too. */
export const KEYSTONE_OPS = ['account-head', 'object-get-4k'];

/** Where the load goes, and how to find the server's processes for RSS. */
interface Endpoint {
  origin: string;
  /** Path of the auth endpoint on origin. */
  authPath: string;
  /** Path of the benchmark account (`/v1/AUTH_test`). */
  accountPath: string;
  pid?: number;
  /** Set when the bench runs the server: its worker count and start-up time, to wait out restarts. */
  workers?: { count: number; startupMs: number; firstSeen: Map<number, number> };
}

interface OpContext {
  token: string;
  aclToken: string;
  user: string;
  key: string;
  body4k: Buffer;
}

interface OpDef {
  name: string;
  label: string;
  /** Reports MB/s as the headline (large bodies). */
  bytes?: boolean;
  needsAcl?: boolean;
  request(ep: Endpoint, ctx: OpContext): autocannon.Request & { path: string };
}

const LIST_CONTAINER = 'sluice-bench-list';
const OBJ_CONTAINER = 'sluice-bench';
const LIST_SIZE = 1000;

let putCounter = 0;

export const OPS: OpDef[] = [
  {
    name: 'auth',
    label: 'GET /auth/v1.0',
    request: (ep, ctx) => ({ method: 'GET', path: ep.authPath, headers: { 'x-auth-user': ctx.user, 'x-auth-key': ctx.key } }),
  },
  {
    name: 'account-head',
    label: 'account HEAD',
    request: (ep, ctx) => ({ method: 'HEAD', path: ep.accountPath, headers: { 'x-auth-token': ctx.token } }),
  },
  {
    name: 'container-get',
    label: `container GET (${LIST_SIZE} objects, json)`,
    request: (ep, ctx) => ({ method: 'GET', path: `${ep.accountPath}/${LIST_CONTAINER}?format=json`, headers: { 'x-auth-token': ctx.token } }),
  },
  {
    name: 'object-put-4k',
    label: 'object PUT 4 KiB',
    request: (ep, ctx) => ({
      method: 'PUT',
      path: `${ep.accountPath}/${OBJ_CONTAINER}/put`,
      headers: { 'x-auth-token': ctx.token, 'content-type': 'application/octet-stream' },
      body: ctx.body4k,
      // A fresh name per request, so each PUT also adds a container row as new data does.
      setupRequest: (req) => ({ ...req, path: `${ep.accountPath}/${OBJ_CONTAINER}/put-${process.pid}-${++putCounter}` }),
    }),
  },
  {
    name: 'object-get-4k',
    label: 'object GET 4 KiB',
    request: (ep, ctx) => ({ method: 'GET', path: `${ep.accountPath}/${OBJ_CONTAINER}/obj-4k`, headers: { 'x-auth-token': ctx.token } }),
  },
  {
    name: 'object-head',
    label: 'object HEAD',
    request: (ep, ctx) => ({ method: 'HEAD', path: `${ep.accountPath}/${OBJ_CONTAINER}/obj-4k`, headers: { 'x-auth-token': ctx.token } }),
  },
  {
    name: 'object-get-1m',
    label: 'object GET 1 MiB',
    bytes: true,
    request: (ep, ctx) => ({ method: 'GET', path: `${ep.accountPath}/${OBJ_CONTAINER}/obj-1m`, headers: { 'x-auth-token': ctx.token } }),
  },
  {
    name: 'account-head-acl',
    label: 'account HEAD, ACL read-only user',
    needsAcl: true,
    request: (ep, ctx) => ({ method: 'HEAD', path: ep.accountPath, headers: { 'x-auth-token': ctx.aclToken } }),
  },
];

export type LoadGenerator = 'autocannon' | 'wrk';

export interface BenchOptions {
  /** keystone: also the KEYSTONE_OPS rows through authtoken + keystoneauth (local mode). */
  auth: 'tempauth' | 'keystone';
  /** Also the TWO_PROXY_OPS rows through two proxies sharing memcached (local mode). */
  twoProxy?: boolean;
  connections: number;
  duration: number;
  warmup: number;
  initialWarmup: number;
  workers: number;
  baseline: 'passthrough' | 'none';
  ops: string[];
  target?: string;
  authUrl?: string;
  user: string;
  key: string;
  aclUser: string;
  aclKey: string;
  swiftDir?: string;
  proxyPid?: number;
  proxyNodeArgs: string[];
  keep: boolean;
  /** autocannon (default) or wrk (`--compare-swift`, as issue 17 measured): see drive(). */
  loadGenerator?: LoadGenerator;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface OpStats {
  /** Completed responses per second. */
  reqPerSec: number;
  /** Response bytes per second, in MB (10^6). */
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Connection errors, timeouts included. */
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** Any non-2xx answer makes the row a failed one (its figures measured errors, not the operation). */
  failed: boolean;
  /** Highest sampled RSS of the server's process tree during this operation, MiB; null if unknown. */
  peakRssMiB: number | null;
  /**
   * CPU time (user + system) the server's process tree spent during the measured run, per
   * completed request, in microseconds; null if unknown. Unlike req/s this barely depends on
   * what else the machine is doing, so it is the number to compare between changes.
   */
  cpuUsPerReq: number | null;
  /** The same for the storage servers' process (local mode), in microseconds per request; null if unknown. */
  storageCpuUsPerReq: number | null;
  /** Worker processes that exited (and were replaced) during warm-up, measurement and recovery; null if unknown. */
  workerExits: number | null;
}

export interface OpResult {
  op: string;
  label: string;
  sluice: OpStats;
  passthrough: OpStats | null;
  /** sluice req/s over passthrough req/s. */
  ratio: number | null;
  /** With --auth keystone, for KEYSTONE_OPS: the same operation through the Keystone proxy with a cached token. */
  keystone?: OpStats;
  /** Keystone's proxy over TempAuth's (sluice above), same run: req/s and CPU µs/req. */
  keystoneVsTempauth?: { reqPerSec: number | null; cpuUsPerReq: number | null };
  /** Token validations Keystone answered during the Keystone row (warm-up and measurement); null when unknown. */
  keystoneValidations?: number | null;
  /** With --two-proxy, for TWO_PROXY_OPS: one memcached-configured proxy alone, then two sharing the load (see measureTwoProxies). */
  memcached?: OpStats;
  twoProxies?: OpStats;
}

export interface FailedRow {
  op: string;
  label: string;
  /** The table's target cell: sluice, "sluice, Keystone" or passthrough. */
  target: string;
  requests: number;
  non2xx: number;
  /** Only the statuses outside 2xx. */
  statusCodes: Record<string, number>;
}

/** Every row (sluice, Keystone, passthrough) that got any answer outside 2xx. */
export function failedRowsOf(results: readonly OpResult[]): FailedRow[] {
  const out: FailedRow[] = [];
  for (const r of results) {
    const rows: [string, OpStats | null | undefined][] = [['sluice', r.sluice], ['sluice, Keystone', r.keystone], [ONE_PROXY_TARGET, r.memcached], [TWO_PROXY_TARGET, r.twoProxies], ['passthrough', r.passthrough]];
    for (const [target, s] of rows) {
      if (!s?.failed) continue;
      const statusCodes = Object.fromEntries(Object.entries(s.statusCodes).filter(([code]) => !/^2\d\d$/.test(code)));
      out.push({ op: r.op, label: r.label, target, requests: s.requests, non2xx: s.non2xx, statusCodes });
    }
  }
  return out;
}

export interface BenchReport {
  date: string;
  machine: { nproc: number; memTotalGiB: number; node: string; platform: string };
  mode: 'local' | 'target';
  target: string;
  /** code: compiled (esbuild bundles, as after `npm install`) or source (SLUICE_FROM_SOURCE=1, tsx). */
  options: { connections: number; duration: number; warmup: number; initialWarmup: number; workers: number; baseline: string; code: 'compiled' | 'source'; auth: 'tempauth' | 'keystone' };
  /** With --auth keystone: which Keystone the Keystone rows used. */
  keystone: { source: 'real' | 'fake'; url: string } | null;
  results: OpResult[];
  skipped: { op: string; reason: string }[];
  /** The rows with non-2xx answers (the bench then exits 1): operation, target and status counts. */
  failedRows: FailedRow[];
  /** Lifetime peak (VmHWM summed over primary + workers), MiB, read at the end. */
  hwmMiB: { sluice: number | null; passthrough: number | null; keystone?: number | null };
}

// ---------------------------------------------------------------------------------------------
// Processes and RSS

interface Child {
  name: string;
  proc: ChildProcess;
  logPath: string;
}

function spawnLogged(name: string, args: string[], dir: string): Child {
  const logPath = join(dir, `${name}.log`);
  const fd = openSync(logPath, 'a');
  // Output goes to a file, as a user's redirected logs would: a pipe the bench had to drain
  // would put the access log's cost on the load generator.
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', fd, fd], env: { ...process.env } });
  closeSync(fd);
  return { name, proc, logPath };
}

async function waitForLine(child: Child, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = readFileSync(child.logPath, 'utf8');
    const m = pattern.exec(text);
    if (m) return m;
    if (child.proc.exitCode !== null || child.proc.signalCode !== null || Date.now() > deadline) {
      throw new Error(`${child.name} did not start (${child.proc.exitCode ?? child.proc.signalCode ?? 'timed out'}); its log:\n${text.slice(-2000)}`);
    }
    await sleep(100);
  }
}

async function stopChild(child: Child): Promise<void> {
  const { proc } = child;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * A port that was free a moment ago. Servers get a fixed one rather than 0: with 0, workers that
 * replace dead ones (once all have died) would each pick a new port.
 */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => done(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** The pid and its descendants (Linux /proc; empty elsewhere). */
function processTree(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    let kids: string;
    try {
      kids = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8');
    } catch {
      return;
    }
    for (const k of kids.split(/\s+/)) if (k) walk(Number(k));
  };
  walk(pid);
  return out;
}

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function treeMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  if (!readdirSafe('/proc')) return null;
  const kib = processTree(pid).reduce((sum, p) => sum + statusKiB(p, field), 0);
  return kib > 0 ? kib / 1024 : null;
}

function readdirSafe(path: string): boolean {
  try {
    readdirSync(path);
    return true;
  } catch {
    return false;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Notes when each worker pid was first seen (a replaced worker shows up as a new pid). */
function noteWorkers(ep: Endpoint): number[] {
  if (ep.pid === undefined || !ep.workers) return [];
  const now = Date.now();
  const kids = childPids(ep.pid);
  for (const k of kids) if (!ep.workers.firstSeen.has(k)) ep.workers.firstSeen.set(k, now);
  return kids;
}

/**
 * Waits (bounded) until the server has all its workers again, each up at least as long as the
 * first ones took to start, and answers: a worker that died under the last run is replaced by
 * the primary, and the next measurement must not count its start-up.
 */
async function settle(ep: Endpoint, log: (l: string) => void): Promise<void> {
  if (ep.pid === undefined || !ep.workers) return;
  // A worker hurt by the clients the load generator just dropped dies a moment later.
  await sleep(500);
  const { count, startupMs, firstSeen } = ep.workers;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const kids = noteWorkers(ep);
    const now = Date.now();
    if (kids.length >= count && kids.every((k) => now - firstSeen.get(k)! >= startupMs)) {
      const ok = await fetch(new URL('/healthcheck', ep.origin)).then(
        async (r) => (await r.arrayBuffer(), true),
        () => false,
      );
      if (ok) return;
    }
    if (now > deadline) {
      log(`warning: ${ep.origin} has not recovered its ${count} workers after 60 s`);
      return;
    }
    await sleep(100);
  }
}

/** utime + stime of one process, in clock ticks (Linux /proc; undefined once it is gone). */
function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) in parentheses: state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** USER_HZ: Linux reports CPU times in 1/100 s on every architecture node runs on. */
const TICKS_PER_SECOND = 100;

/**
 * Samples a process tree every 100 ms: its summed RSS (peak) and its CPU time. A process's
 * CPU counts from the first sample that sees it (0 for processes started during the run) to
 * the last one that saw it, so a worker that dies mid-run keeps what it used until then.
 */
/**
 * Waits until the process trees of `pids` use almost no CPU (under 4% of one core over half a
 * second), at most `maxMs`: a server that queued requests for seconds (Swift's proxy under 32
 * connections, p99 of several seconds) keeps answering them after the load generator stops,
 * and would otherwise take CPU from whatever is measured next. Resolves with the wait in ms,
 * or undefined when the trees did not settle in time.
 */
async function waitForQuiet(pids: readonly number[], maxMs = 20_000): Promise<number | undefined> {
  const total = () => {
    let ticks = 0;
    for (const pid of pids) for (const p of processTree(pid)) ticks += cpuTicks(p) ?? 0;
    return ticks;
  };
  const started = Date.now();
  let before = total();
  while (Date.now() - started < maxMs) {
    await sleep(500);
    const now = total();
    // Clock ticks are 10 ms: 2 of them in 500 ms is 4% of a core.
    if (now - before <= 2) return Date.now() - started;
    before = now;
  }
  return undefined;
}

function sampleTree(pid: number | undefined, onSample?: () => void): { stop(): { peakRssMiB: number | null; cpuSeconds: number | null } } {
  if (pid === undefined) return { stop: () => ({ peakRssMiB: null, cpuSeconds: null }) };
  let peak: number | null = null;
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let sampled = 0;
  const take = () => {
    onSample?.();
    const v = treeMiB(pid, 'VmRSS');
    if (v !== null && (peak === null || v > peak)) peak = v;
    for (const p of processTree(pid)) {
      const t = cpuTicks(p);
      if (t === undefined) continue;
      if (!first.has(p)) first.set(p, sampled === 0 ? t : 0);
      last.set(p, t);
    }
    sampled++;
  };
  take();
  const timer = setInterval(take, 100);
  return {
    stop() {
      clearInterval(timer);
      take();
      let ticks = 0;
      for (const [p, t] of last) ticks += t - first.get(p)!;
      return { peakRssMiB: peak, cpuSeconds: last.size > 0 ? ticks / TICKS_PER_SECOND : null };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Load

// autocannon's parser (http-parser-js) is not told that a HEAD response has no body, so a HEAD
// answered with a Content-Length waits for bytes that never come. Returning true from the
// headers-complete callback is the parser's "skip body" signal, as node:http does for HEAD.
const K_ON_HEADERS_COMPLETE: number = (() => {
  const req = createRequire(createRequire(import.meta.url).resolve('autocannon'));
  return (req('http-parser-js') as { HTTPParser: { kOnHeadersComplete: number } }).HTTPParser.kOnHeadersComplete;
})();

function skipHeadBodies(client: autocannon.Client): void {
  const parser = (client as unknown as { parser: Record<number, unknown> }).parser;
  let inner: ((info: unknown) => unknown) | undefined;
  Object.defineProperty(parser, K_ON_HEADERS_COMPLETE, {
    configurable: true,
    get: () => (info: unknown) => {
      inner?.(info);
      return true;
    },
    set: (fn: (info: unknown) => unknown) => {
      inner = fn;
    },
  });
}

/**
 * One run of load: wrk when the options ask for it (it can, for every method but HEAD: wrk's
 * parser waits for the body a HEAD answer's Content-Length announces), else autocannon.
 */
async function drive(ep: Endpoint, req: autocannon.Request & { path: string }, connections: number, seconds: number, generator: LoadGenerator = 'autocannon', measured = false): Promise<LoadResult> {
  // wrk counts each status only outside measured runs (see wrkScript).
  if (generator === 'wrk' && req.method !== 'HEAD') return runWrk(ep.origin, req as LoadRequest, connections, seconds, { countStatuses: !measured });
  return fromAutocannon(
    await autocannon({
      url: ep.origin,
      connections,
      duration: seconds,
      timeout: 10,
      requests: [req],
      setupClient: req.method === 'HEAD' ? skipHeadBodies : undefined,
    }),
  );
}

/**
 * A measured run's result with the non-2xx answers of the warm-up just before it added (as
 * `<status> (warm-up)`): with wrk, the warm-up is where each status is counted.
 */
function withWarmUpFailures(r: LoadResult, warm: LoadResult | undefined): LoadResult {
  if (!warm?.non2xx) return r;
  const statusCodes = { ...r.statusCodes };
  for (const [code, n] of Object.entries(warm.statusCodes)) if (!code.startsWith('2')) statusCodes[`${code} (warm-up)`] = n;
  return { ...r, non2xx: r.non2xx + warm.non2xx, statusCodes };
}

function fromAutocannon(r: autocannon.Result): LoadResult {
  const statusCodes: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = s.count ?? 0;
  return {
    requests: r.requests.total,
    seconds: r.duration > 0 ? r.duration : 1,
    bytes: r.throughput.total,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statusCodes,
  };
}

interface TreeUsage {
  peakRssMiB: number | null;
  cpuSeconds: number | null;
}

function statsOf(r: LoadResult, server: TreeUsage, storage: TreeUsage, workerExits: number | null): OpStats {
  return {
    reqPerSec: r.requests / r.seconds,
    mbPerSec: r.bytes / r.seconds / 1e6,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    requests: r.requests,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statusCodes: r.statusCodes,
    failed: r.non2xx > 0,
    peakRssMiB: server.peakRssMiB,
    cpuUsPerReq: perRequest(server.cpuSeconds, r.requests),
    storageCpuUsPerReq: perRequest(storage.cpuSeconds, r.requests),
    workerExits,
  };
}

function perRequest(cpuSeconds: number | null, requests: number): number | null {
  return cpuSeconds === null || requests === 0 ? null : (cpuSeconds * 1e6) / requests;
}

async function measure(ep: Endpoint, op: OpDef, ctx: OpContext, opts: BenchOptions, log: (l: string) => void, storagePid?: number): Promise<OpStats> {
  const seenBefore = ep.workers?.firstSeen.size;
  let warm: LoadResult | undefined;
  if (opts.warmup > 0) {
    warm = await drive(ep, op.request(ep, ctx), opts.connections, opts.warmup, opts.loadGenerator);
    await settle(ep, log);
  }
  const server = sampleTree(ep.pid, () => noteWorkers(ep));
  const storage = sampleTree(storagePid);
  const r = withWarmUpFailures(await drive(ep, op.request(ep, ctx), opts.connections, opts.duration, opts.loadGenerator, true), warm);
  const serverUsage = server.stop();
  const storageUsage = storage.stop();
  await settle(ep, log);
  const exits = seenBefore === undefined ? null : ep.workers!.firstSeen.size - seenBefore;
  if (exits) log(`warning: ${exits} worker(s) exited and were replaced during ${op.label}`);
  return statsOf(r, serverUsage, storageUsage, exits);
}

/**
 * The first seconds of a fresh server are not its steady state: V8 compiles the hot paths as
 * they run, pools open their connections, caches fill. Each server gets `initialWarmup` seconds
 * of every operation before any measurement, so the first rows are not slower for it.
 */
async function warmUp(name: string, ep: Endpoint, ops: OpDef[], ctx: OpContext, opts: BenchOptions, log: (l: string) => void): Promise<void> {
  if (opts.initialWarmup <= 0 || ops.length === 0) return;
  log(`warming up ${name}: ${opts.initialWarmup} s over ${ops.length} operation(s)`);
  const seenBefore = ep.workers?.firstSeen.size;
  for (const op of ops) await drive(ep, op.request(ep, ctx), opts.connections, opts.initialWarmup / ops.length, opts.loadGenerator);
  await settle(ep, log);
  const exits = seenBefore === undefined ? 0 : ep.workers!.firstSeen.size - seenBefore;
  if (exits) log(`warning: ${exits} ${name} worker(s) exited and were replaced during the warm-up`);
}

/** Starts a server child and waits for its "listening on URL" line. */
async function startServer(name: string, args: string[], dir: string, pattern: RegExp, workers: number): Promise<{ child: Child; ep: Endpoint }> {
  const started = Date.now();
  const child = spawnLogged(name, args, dir);
  try {
    const url = new URL((await waitForLine(child, pattern))[1]!);
    const startupMs = Math.max(1000, Date.now() - started);
    const ep: Endpoint = { origin: url.origin, authPath: '/auth/v1.0', accountPath: '', pid: child.proc.pid, workers: { count: workers, startupMs, firstSeen: new Map() } };
    // The first workers count as up since start-up.
    for (const k of childPids(child.proc.pid!)) ep.workers!.firstSeen.set(k, started);
    return { child, ep };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Preparing data (through the proxy under test, with plain fetch)

async function login(authUrl: string, user: string, key: string): Promise<{ token: string; storageUrl: string }> {
  const res = await fetch(authUrl, { headers: { 'x-auth-user': user, 'x-auth-key': key } });
  await res.arrayBuffer();
  const token = res.headers.get('x-auth-token');
  const storageUrl = res.headers.get('x-storage-url');
  if (res.status >= 300 || !token || !storageUrl) throw new Error(`auth as ${user} at ${authUrl} failed: ${res.status}`);
  return { token, storageUrl };
}

async function call(method: string, url: string, token: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Response> {
  const res = await fetch(url, { method, headers: { 'x-auth-token': token, ...headers }, body });
  await res.arrayBuffer();
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status}`);
  return res;
}

async function prepare(storageUrl: string, token: string, log: (l: string) => void): Promise<void> {
  log(`preparing: ${LIST_SIZE} objects in ${LIST_CONTAINER}, 4 KiB and 1 MiB objects in ${OBJ_CONTAINER}`);
  await call('PUT', `${storageUrl}/${LIST_CONTAINER}`, token);
  await call('PUT', `${storageUrl}/${OBJ_CONTAINER}`, token);
  let next = 0;
  const putOne = async (): Promise<void> => {
    while (next < LIST_SIZE) {
      const i = next++;
      await call('PUT', `${storageUrl}/${LIST_CONTAINER}/obj-${String(i).padStart(4, '0')}`, token, { 'content-type': 'text/plain' }, Buffer.from(`object ${i}\n`));
    }
  };
  await Promise.all(Array.from({ length: 16 }, putOne));
  await call('PUT', `${storageUrl}/${OBJ_CONTAINER}/obj-4k`, token, { 'content-type': 'application/octet-stream' }, Buffer.alloc(4096, 0x61));
  await call('PUT', `${storageUrl}/${OBJ_CONTAINER}/obj-1m`, token, { 'content-type': 'application/octet-stream' }, Buffer.alloc(1 << 20, 0x62));
  // Container rows land with the object PUTs here, but a real Swift may queue them: wait (bounded).
  for (let i = 0; i < 50; i++) {
    const res = await call('HEAD', `${storageUrl}/${LIST_CONTAINER}`, token);
    if (Number(res.headers.get('x-container-object-count')) >= LIST_SIZE) return;
    await sleep(200);
  }
  log(`warning: ${LIST_CONTAINER} does not list ${LIST_SIZE} objects yet`);
}

// ---------------------------------------------------------------------------------------------

/** A development proxy-server.conf reading the storage cluster's rings. */
function withSwiftDir(conf: string, swiftDir: string): string {
  return conf.replace('[DEFAULT]\n', `[DEFAULT]\nswift_dir = ${swiftDir}\n`);
}

function proxyConf(swiftDir: string): string {
  // The development pipeline as `sluice start` runs it.
  return withSwiftDir(DEV_PROXY_CONF, swiftDir);
}

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => undefined);
  const ops = opts.ops.length ? OPS.filter((o) => opts.ops.includes(o.name)) : OPS;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const code: 'compiled' | 'source' = process.env.SLUICE_FROM_SOURCE === '1' ? 'source' : 'compiled';
  let passthroughBundle: string | undefined;
  const children: Child[] = [];
  let keystone: BenchKeystone | undefined;
  let twoProxies: TwoProxies | null = null;
  const cleanup = async () => {
    for (const c of children.reverse()) await stopChild(c).catch(() => undefined);
    children.length = 0;
    await twoProxies?.memcached.stop().catch(() => undefined);
    await keystone?.stop().catch(() => undefined);
    keystone = undefined;
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  try {
    let sluice: Endpoint;
    let swiftDir = opts.swiftDir;
    let storagePid: number | undefined;
    let authUrl: string;
    if (opts.target) {
      const target = new URL(opts.target);
      authUrl = opts.authUrl ?? new URL('/auth/v1.0', target).href;
      sluice = { origin: target.origin, authPath: new URL(authUrl).pathname, accountPath: '', pid: opts.proxyPid };
    } else {
      // sluice runs as users run it after `npm install`: the compiled bundle bin/sluice.js
      // prefers (SLUICE_FROM_SOURCE=1 measures the TypeScript sources through tsx instead).
      if (code === 'compiled') await buildBundle('src/cli/main.ts', CLI_BUNDLE);
      log(`starting storage servers and sluice proxy (${opts.workers} workers, ${code} code) in ${dir}`);
      const storage = spawnLogged('storage', ['bin/sluice.js', 'start', '--data-dir', join(dir, 'data'), '--port', '0', '--storage-ports', '0,0,0', '--workers', '0'], dir);
      children.push(storage);
      storagePid = storage.proc.pid;
      await waitForLine(storage, /^storage servers: .*$/m);
      swiftDir = join(dir, 'data', 'etc');
      const confPath = join(dir, 'proxy-server.conf');
      writeFileSync(confPath, proxyConf(swiftDir));
      const proxy = await startServer(
        'sluice-proxy',
        [...opts.proxyNodeArgs, 'bin/sluice.js', 'proxy', '--config', confPath, '--port', String(await freePort()), '--workers', String(opts.workers)],
        dir,
        /proxy-server listening on (\S+)/,
        opts.workers,
      );
      children.push(proxy.child);
      sluice = proxy.ep;
      authUrl = new URL(sluice.authPath, sluice.origin).href;
    }

    // The Keystone proxy: the same pipeline with authtoken keystoneauth, the same rings and workers.
    let keystoneEp: Endpoint | null = null;
    const keystoneOps = opts.auth === 'keystone' ? ops.filter((o) => KEYSTONE_OPS.includes(o.name)) : [];
    if (opts.auth === 'keystone' && swiftDir) {
      keystone = await benchKeystone();
      log(`Keystone (${keystone.source}) at ${keystone.url}: starting the Keystone proxy`);
      const confPath = join(dir, 'proxy-server-keystone.conf');
      // It holds the service password: this user's alone.
      writeFileSync(confPath, withSwiftDir(devProxyConfWithKeystone(keystone.service), swiftDir), { mode: 0o600 });
      const proxy = await startServer(
        'sluice-keystone',
        [...opts.proxyNodeArgs, 'bin/sluice.js', 'proxy', '--config', confPath, '--port', String(await freePort()), '--workers', String(opts.workers)],
        dir,
        /proxy-server listening on (\S+)/,
        opts.workers,
      );
      children.push(proxy.child);
      keystoneEp = { ...proxy.ep, authPath: '', accountPath: `/v1/AUTH_${keystone.projectId}` };
      const accountUrl = new URL(keystoneEp.accountPath, keystoneEp.origin).href;
      log(`preparing the Keystone account: ${OBJ_CONTAINER}/obj-4k`);
      await call('PUT', `${accountUrl}/${OBJ_CONTAINER}`, keystone.ownerToken);
      await call('PUT', `${accountUrl}/${OBJ_CONTAINER}/obj-4k`, keystone.ownerToken, { 'content-type': 'application/octet-stream' }, Buffer.alloc(4096, 0x61));
    }

    const owner = await login(authUrl, opts.user, opts.key);
    sluice.accountPath = new URL(owner.storageUrl).pathname;
    const storageUrl = new URL(sluice.accountPath, sluice.origin).href;
    await prepare(storageUrl, owner.token, log);

    const skipped: { op: string; reason: string }[] = [];
    let aclToken = '';
    if (ops.some((o) => o.needsAcl)) {
      try {
        // Account ACLs are set by the account's owner (Swift: swift_owner only).
        await call('POST', storageUrl, owner.token, { 'x-account-access-control': JSON.stringify({ 'read-only': [opts.aclUser] }) });
        aclToken = (await login(authUrl, opts.aclUser, opts.aclKey)).token;
        await call('HEAD', storageUrl, aclToken);
      } catch (err) {
        skipped.push({ op: 'account-head-acl', reason: (err as Error).message });
        log(`skipping the ACL row: ${(err as Error).message}`);
      }
    }

    let passthrough: Endpoint | null = null;
    if (opts.baseline === 'passthrough') {
      if (!swiftDir) {
        skipped.push({ op: 'passthrough', reason: 'no --swift-dir for the target cluster' });
        log('no passthrough baseline: --target needs --swift-dir for it');
      } else {
        // Compiled too, so the limit it measures is not slowed by tsx.
        let script = ['--import', 'tsx', 'scripts/passthrough.ts'];
        if (code === 'compiled') {
          passthroughBundle = join(ROOT, 'dist', 'bench', `passthrough-${process.pid}.mjs`);
          await buildBundle('scripts/passthrough.ts', passthroughBundle);
          script = [passthroughBundle];
        }
        const pt = await startServer(
          'passthrough',
          [...script, '--swift-dir', swiftDir, '--port', String(await freePort()), '--workers', String(opts.workers)],
          dir,
          /passthrough listening on (\S+)/,
          opts.workers,
        );
        children.push(pt.child);
        passthrough = { ...pt.ep, authPath: sluice.authPath, accountPath: sluice.accountPath };
      }
    }

    const ctx: OpContext = { token: owner.token, aclToken, user: opts.user, key: opts.key, body4k: Buffer.alloc(4096, 0x63) };
    const twoProxyOps = opts.twoProxy && !opts.target && swiftDir ? ops.filter((o) => TWO_PROXY_OPS.includes(o.name)) : [];
    if (twoProxyOps.length) {
      try {
        twoProxies = await startTwoProxies(swiftDir!, dir, sluice.accountPath, opts, ctx, children, log);
      } catch (err) {
        skipped.push({ op: 'two-proxy', reason: (err as Error).message });
        log(`no two-proxy rows: ${(err as Error).message}`);
      }
    }
    const keystoneCtx: OpContext = { ...ctx, token: keystone?.ownerToken ?? '' };
    const runnable = ops.filter((o) => !o.needsAcl || aclToken);
    for (const [name, ep] of [['sluice', sluice], ['passthrough', passthrough]] as const) {
      if (ep) await warmUp(name, ep, runnable, ctx, opts, log);
    }
    if (keystoneEp) await warmUp('sluice (Keystone)', keystoneEp, keystoneOps, keystoneCtx, opts, log);
    if (twoProxies) for (const ep of [twoProxies.a, twoProxies.b]) await warmUp('sluice (memcached)', ep, twoProxyOps, twoProxies.ctx, opts, log);
    const results: OpResult[] = [];
    for (const op of ops) {
      if (op.needsAcl && !aclToken) continue;
      log(`${op.label}: sluice`);
      const s = await measure(sluice, op, ctx, opts, log, storagePid);
      const result: OpResult = { op: op.name, label: op.label, sluice: s, passthrough: null, ratio: null };
      if (keystoneEp && keystoneOps.includes(op)) {
        // Right after TempAuth's row, so both see the same machine.
        log(`${op.label}: sluice (Keystone)`);
        const before = keystone!.validations();
        const k = await measure(keystoneEp, op, keystoneCtx, opts, log, storagePid);
        const after = keystone!.validations();
        result.keystone = k;
        result.keystoneVsTempauth = {
          reqPerSec: s.reqPerSec > 0 ? k.reqPerSec / s.reqPerSec : null,
          cpuUsPerReq: k.cpuUsPerReq !== null && s.cpuUsPerReq ? k.cpuUsPerReq / s.cpuUsPerReq : null,
        };
        result.keystoneValidations = before === null || after === null ? null : after - before;
      }
      if (twoProxies && twoProxyOps.includes(op)) {
        log(`${op.label}: one proxy, then two, through memcached`);
        Object.assign(result, await measureTwoProxies(twoProxies, op, opts, log, storagePid));
      }
      if (passthrough) {
        log(`${op.label}: passthrough`);
        const p = await measure(passthrough, op, ctx, opts, log, storagePid);
        result.passthrough = p;
        result.ratio = p.reqPerSec > 0 ? s.reqPerSec / p.reqPerSec : null;
      }
      results.push(result);
    }

    const hwm = (pid: number | undefined) => (pid === undefined ? null : treeMiB(pid, 'VmHWM'));
    return {
      date: new Date().toISOString(),
      machine: { nproc: availableParallelism(), memTotalGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.version, platform: `${process.platform}-${process.arch}` },
      mode: opts.target ? 'target' : 'local',
      target: opts.target ?? 'local cluster (sluice proxy, dev pipeline)',
      options: {
        connections: opts.connections,
        duration: opts.duration,
        warmup: opts.warmup,
        initialWarmup: opts.initialWarmup,
        workers: opts.workers,
        baseline: passthrough ? 'passthrough' : 'none',
        code,
        auth: opts.auth,
      },
      keystone: keystone ? { source: keystone.source, url: keystone.url } : null,
      results,
      skipped,
      failedRows: failedRowsOf(results),
      hwmMiB: { sluice: hwm(sluice.pid), passthrough: hwm(passthrough?.pid), ...(keystoneEp ? { keystone: hwm(keystoneEp.pid) } : {}) },
    };
  } finally {
    process.off('SIGINT', onSignal);
    await cleanup();
    if (passthroughBundle) for (const f of [passthroughBundle, `${passthroughBundle}.map`]) rmSync(f, { force: true });
    if (opts.keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Two proxies through memcached: how proxies scale out (README, "How proxies scale")

/** The operations measured through two proxies: a token check and a small read, the cache's work. */
export const TWO_PROXY_OPS = ['account-head', 'object-get-4k'];
const ONE_PROXY_TARGET = 'sluice, memcached';
const TWO_PROXY_TARGET = 'sluice ×2, memcached';

interface TwoProxies {
  a: Endpoint;
  b: Endpoint;
  memcached: Memcached;
  /** A token issued through proxy A, so held in memcached: proxy B honours it too. */
  ctx: OpContext;
}

/**
 * Two more sluice proxies on the same storage servers, each with the bench's worker count and
 * the development pipeline with `memcache_servers` naming one shared memcached: the layout of
 * docs/deploy.md (stateless proxies behind a balancer), on one machine.
 */
async function startTwoProxies(swiftDir: string, dir: string, accountPath: string, opts: BenchOptions, ctx: OpContext, children: Child[], log: (l: string) => void): Promise<TwoProxies> {
  const memcached = await startMemcached();
  try {
    const confPath = join(dir, 'proxy-server-memcached.conf');
    writeFileSync(confPath, proxyConf(swiftDir).replace('[filter:cache]\nuse = egg:swift#memcache\n', `[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = ${memcached.server}\n`));
    log(`starting two sluice proxies (${opts.workers} workers each) sharing memcached at ${memcached.server}`);
    const eps: Endpoint[] = [];
    for (const name of ['sluice-memcached-a', 'sluice-memcached-b']) {
      const args = [...opts.proxyNodeArgs, 'bin/sluice.js', 'proxy', '--config', confPath, '--port', String(await freePort()), '--workers', String(opts.workers)];
      const proxy = await startServer(name, args, dir, /proxy-server listening on (\S+)/, opts.workers);
      children.push(proxy.child);
      eps.push({ ...proxy.ep, accountPath });
    }
    const [a, b] = eps as [Endpoint, Endpoint];
    const token = (await login(new URL(a.authPath, a.origin).href, opts.user, opts.key)).token;
    // The token A stored in memcached is good on B: the proxies share their state there.
    await call('HEAD', new URL(accountPath, b.origin).href, token);
    return { a, b, memcached, ctx: { ...ctx, token } };
  } catch (err) {
    await memcached.stop();
    throw err;
  }
}

/** Two rows' figures as one: counts and rates add up, latency percentiles are the worse proxy's. */
function combinedStats(x: OpStats, y: OpStats, cpuSeconds: number | null, storageCpuSeconds: number | null): OpStats {
  const statusCodes = { ...x.statusCodes };
  for (const [code, n] of Object.entries(y.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  const requests = x.requests + y.requests;
  return {
    reqPerSec: x.reqPerSec + y.reqPerSec,
    mbPerSec: x.mbPerSec + y.mbPerSec,
    p50Ms: Math.max(x.p50Ms, y.p50Ms),
    p99Ms: Math.max(x.p99Ms, y.p99Ms),
    requests,
    errors: x.errors + y.errors,
    timeouts: x.timeouts + y.timeouts,
    non2xx: x.non2xx + y.non2xx,
    statusCodes,
    failed: x.failed || y.failed,
    peakRssMiB: x.peakRssMiB === null || y.peakRssMiB === null ? null : x.peakRssMiB + y.peakRssMiB,
    cpuUsPerReq: perRequest(cpuSeconds, requests),
    storageCpuUsPerReq: perRequest(storageCpuSeconds, requests),
    workerExits: x.workerExits === null || y.workerExits === null ? null : x.workerExits + y.workerExits,
  };
}

/**
 * One operation through proxy A alone (all connections), then through A and B at once (the
 * connections split between them, as a balancer would), in the same minute so both rows see
 * the same machine.
 */
async function measureTwoProxies(tp: TwoProxies, op: OpDef, opts: BenchOptions, log: (l: string) => void, storagePid?: number): Promise<{ memcached: OpStats; twoProxies: OpStats }> {
  const memcached = await measure(tp.a, op, tp.ctx, opts, log, storagePid);
  const pairs = [
    { ep: tp.a, connections: Math.ceil(opts.connections / 2) },
    { ep: tp.b, connections: Math.max(1, Math.floor(opts.connections / 2)) },
  ];
  if (opts.warmup > 0) {
    await Promise.all(pairs.map((p) => drive(p.ep, op.request(p.ep, tp.ctx), p.connections, opts.warmup)));
    for (const p of pairs) await settle(p.ep, log);
  }
  const seenBefore = pairs.map((p) => p.ep.workers?.firstSeen.size ?? 0);
  const samplers = pairs.map((p) => sampleTree(p.ep.pid, () => noteWorkers(p.ep)));
  const storage = sampleTree(storagePid);
  const runs = await Promise.all(pairs.map((p) => drive(p.ep, op.request(p.ep, tp.ctx), p.connections, opts.duration)));
  const usage = samplers.map((s) => s.stop());
  const storageUsage = storage.stop();
  for (const p of pairs) await settle(p.ep, log);
  const rows = runs.map((r, i) => statsOf(r, usage[i]!, { peakRssMiB: null, cpuSeconds: null }, (pairs[i]!.ep.workers?.firstSeen.size ?? 0) - seenBefore[i]!));
  const cpu = usage[0]!.cpuSeconds === null || usage[1]!.cpuSeconds === null ? null : usage[0]!.cpuSeconds + usage[1]!.cpuSeconds;
  return { memcached, twoProxies: combinedStats(rows[0]!, rows[1]!, cpu, storageUsage.cpuSeconds) };
}

function twoProxyFooter(report: BenchReport): string[] {
  const rows = report.results.filter((r) => r.memcached && r.twoProxies);
  if (!rows.length) return [];
  const out = ['', 'two proxies sharing memcached over one of them alone (same configuration, same run; p50/p99 of the slower proxy):'];
  for (const r of rows) {
    const one = r.memcached!;
    const two = r.twoProxies!;
    const cpu = one.cpuUsPerReq && two.cpuUsPerReq !== null ? two.cpuUsPerReq / one.cpuUsPerReq : null;
    out.push(`  ${r.label}: req/s ×${num(one.reqPerSec > 0 ? two.reqPerSec / one.reqPerSec : null, 2)}, CPU µs/req ×${num(cpu, 2)}; memcached instead of the in-process cache, one proxy: req/s ×${num(r.sluice.reqPerSec > 0 ? one.reqPerSec / r.sluice.reqPerSec : null, 2)}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output

const COLUMNS = [
  'operation',
  'target',
  'req/s',
  'MB/s',
  'p50 ms',
  'p99 ms',
  'errors',
  'non-2xx',
  'peak RSS MiB',
  'CPU µs/req',
  'storage CPU µs/req',
  'worker exits',
  'sluice/passthrough',
] as const;

function num(v: number | null, digits: number): string {
  return v === null || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

function row(label: string, target: string, s: OpStats, ratio: string): string[] {
  return [label, target, num(s.reqPerSec, 0), num(s.mbPerSec, 1), num(s.p50Ms, 0), num(s.p99Ms, 0), String(s.errors), s.failed ? `FAILED ${s.non2xx}` : String(s.non2xx), num(s.peakRssMiB, 0), num(s.cpuUsPerReq, 0), num(s.storageCpuUsPerReq, 0), s.workerExits === null ? '-' : String(s.workerExits), ratio];
}

/** The results as a Markdown table (readable in a terminal, pasteable into docs). */
export function formatTable(report: BenchReport): string {
  const rows: string[][] = [];
  for (const r of report.results) {
    rows.push(row(r.label, 'sluice', r.sluice, r.ratio === null ? '-' : r.ratio.toFixed(2)));
    if (r.keystone) {
      const ratio = r.passthrough && r.passthrough.reqPerSec > 0 ? (r.keystone.reqPerSec / r.passthrough.reqPerSec).toFixed(2) : '-';
      rows.push(row('', 'sluice, Keystone', r.keystone, ratio));
    }
    if (r.memcached) rows.push(row('', ONE_PROXY_TARGET, r.memcached, '-'));
    if (r.twoProxies) rows.push(row('', TWO_PROXY_TARGET, r.twoProxies, '-'));
    if (r.passthrough) rows.push(row('', 'passthrough', r.passthrough, ''));
  }
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const numeric = (i: number) => i >= 2;
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (numeric(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  const o = report.options;
  const head = [
    `${report.target}: ${o.connections} connections, ${o.duration} s per operation after ${o.warmup} s warm-up ` +
      `(and ${o.initialWarmup} s for each server before the first), ${o.workers} worker(s), ${o.code} code; ` +
      `${report.machine.nproc} cores, node ${report.machine.node}`,
    '',
  ];
  const foot: string[] = [];
  if (report.hwmMiB.sluice !== null || report.hwmMiB.passthrough !== null) {
    foot.push('', `lifetime peak RSS (VmHWM, primary + workers): sluice ${num(report.hwmMiB.sluice, 0)} MiB, passthrough ${num(report.hwmMiB.passthrough, 0)} MiB`);
  }
  if (report.keystone) {
    foot.push('', `Keystone (${report.keystone.source}, ${report.keystone.url}) next to TempAuth, same run: the Keystone proxy over TempAuth's`);
    for (const r of report.results) {
      if (!r.keystone || !r.keystoneVsTempauth) continue;
      const v = r.keystoneVsTempauth;
      const validations = r.keystoneValidations === null || r.keystoneValidations === undefined ? '' : `; ${r.keystoneValidations} token validation(s) by Keystone during the row`;
      foot.push(`  ${r.label}: req/s ×${num(v.reqPerSec, 2)}, CPU µs/req ×${num(v.cpuUsPerReq, 2)}${validations}`);
    }
  }
  foot.push(...twoProxyFooter(report));
  if (report.hwmMiB.keystone !== undefined) foot.push(`lifetime peak RSS of the Keystone proxy (VmHWM): ${num(report.hwmMiB.keystone, 0)} MiB`);
  for (const s of report.skipped) foot.push(`skipped ${s.op}: ${s.reason}`);
  if (report.failedRows.length) {
    foot.push('', `FAILED: ${report.failedRows.length} row(s) with non-2xx answers (their figures measure errors, not the operation)`);
    for (const f of report.failedRows) {
      const codes = Object.entries(f.statusCodes).map(([code, n]) => `${code} ×${n}`).join(', ');
      foot.push(`  ${f.label}, ${f.target}: ${f.non2xx} of ${f.requests} answers non-2xx (${codes})`);
    }
  }
  return [...head, line(COLUMNS), sep, ...rows.map(line), ...foot].join('\n');
}

// For scripts/bench-compare-swift.ts, which measures with the same machinery.
export { measure, warmUp, waitForQuiet, startServer, spawnLogged, waitForLine, stopChild, freePort, sleep, childPids, login, call, prepare, sampleTree, withSwiftDir, OBJ_CONTAINER, type Endpoint, type OpContext, type OpDef, type Child };

// ---------------------------------------------------------------------------------------------
// CLI

export interface BenchIo {
  out(text: string): void;
  err(text: string): void;
}

class UsageError extends Error {}

function positiveNumber(name: string, raw: string | undefined, dflt: number, integer: boolean): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be a ${integer ? 'whole ' : ''}number >= 0 (got ${JSON.stringify(raw)})`);
  return n;
}

export function parseBenchArgs(argv: string[]): BenchOptions & { json?: string } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      connections: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'initial-warmup': { type: 'string' },
      workers: { type: 'string' },
      baseline: { type: 'string' },
      ops: { type: 'string' },
      json: { type: 'string' },
      'proxy-node-arg': { type: 'string', multiple: true },
      keep: { type: 'boolean' },
      target: { type: 'string' },
      'auth-url': { type: 'string' },
      user: { type: 'string' },
      key: { type: 'string' },
      'acl-user': { type: 'string' },
      'acl-key': { type: 'string' },
      'swift-dir': { type: 'string' },
      'proxy-pid': { type: 'string' },
      auth: { type: 'string' },
      'two-proxy': { type: 'string' },
    },
  });
  if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const baseline = values.baseline ?? 'passthrough';
  if (baseline !== 'passthrough' && baseline !== 'none') throw new UsageError(`--baseline must be passthrough or none (got ${JSON.stringify(baseline)})`);
  const ops = values.ops ? values.ops.split(',').map((s) => s.trim()).filter(Boolean) : [];
  for (const o of ops) if (!OPS.some((d) => d.name === o)) throw new UsageError(`unknown operation ${JSON.stringify(o)}`);
  const connections = positiveNumber('connections', values.connections, 32, true);
  if (connections < 1) throw new UsageError('--connections must be at least 1');
  const duration = positiveNumber('duration', values.duration, 5, false);
  if (duration <= 0) throw new UsageError('--duration must be more than 0');
  const workers = values.workers === undefined || values.workers === 'auto' ? availableParallelism() : positiveNumber('workers', values.workers, 0, true);
  if (workers < 1) throw new UsageError('--workers must be at least 1');
  if (!values.target && (values['swift-dir'] || values['proxy-pid'] || values['auth-url'])) throw new UsageError('--swift-dir, --proxy-pid and --auth-url go with --target');
  if (values.target && !/^https?:\/\//.test(values.target)) throw new UsageError(`--target must be an http(s) URL (got ${JSON.stringify(values.target)})`);
  const auth = values.auth ?? 'tempauth';
  if (auth !== 'tempauth' && auth !== 'keystone') throw new UsageError(`--auth must be tempauth or keystone (got ${JSON.stringify(auth)})`);
  const twoProxy = values['two-proxy'] ?? 'on';
  if (twoProxy !== 'on' && twoProxy !== 'off') throw new UsageError(`--two-proxy must be on or off (got ${JSON.stringify(twoProxy)})`);
  if (auth === 'keystone' && values.target) throw new UsageError('--auth keystone starts its own Keystone proxy: not with --target');
  if (auth === 'keystone' && ops.length && !ops.some((o) => KEYSTONE_OPS.includes(o))) throw new UsageError(`--auth keystone measures ${KEYSTONE_OPS.join(', ')}: --ops has neither`);
  return {
    auth,
    twoProxy: twoProxy === 'on' && !values.target,
    connections,
    duration,
    warmup: positiveNumber('warmup', values.warmup, 1, false),
    initialWarmup: positiveNumber('initial-warmup', values['initial-warmup'], 8, false),
    workers,
    baseline,
    ops,
    json: values.json,
    proxyNodeArgs: values['proxy-node-arg'] ?? [],
    keep: values.keep ?? false,
    target: values.target,
    authUrl: values['auth-url'],
    user: values.user ?? 'test:tester',
    key: values.key ?? 'testing',
    aclUser: values['acl-user'] ?? 'test:tester3',
    aclKey: values['acl-key'] ?? 'testing3',
    swiftDir: values['swift-dir'],
    proxyPid: values['proxy-pid'] === undefined ? undefined : positiveNumber('proxy-pid', values['proxy-pid'], 0, true),
  };
}

export async function main(argv: string[], io: BenchIo): Promise<number> {
  // sluice next to Debian's Swift: scripts/bench-compare-swift.ts (its own options).
  if (argv.includes('--compare-swift')) return (await import('./bench-compare-swift')).main(argv.filter((a) => a !== '--compare-swift'), io);
  let opts;
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out(USAGE.replace('KEYSTONE_ROWS', KEYSTONE_OPS.join(' and ')).replace('TWO_PROXY_ROWS', TWO_PROXY_OPS.join(' and ')).replace(/OPS$/, OPS.map((o) => o.name).join(', ')));
      return 0;
    }
    opts = parseBenchArgs(argv);
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`bench: ${(err as Error).message}\nRun "npm run bench -- --help" for usage.`);
      return 2;
    }
    throw err;
  }
  const started = Date.now();
  const report = await runBench({ ...opts, log: (l) => io.err(`bench [${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s]: ${l}`) });
  io.out(formatTable(report));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 2) + '\n');
  if (report.failedRows.length) {
    io.err(`bench: ${report.failedRows.length} row(s) FAILED with non-2xx answers: ${report.failedRows.map((f) => `${f.label} (${f.target})`).join(', ')}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), { out: (t) => process.stdout.write(t + '\n'), err: (t) => process.stderr.write(t + '\n') }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: Error) => {
      process.stderr.write(`bench: error: ${err.stack ?? err.message}\n`);
      process.exitCode = 1;
    },
  );
}
