/**
 * `npm run bench -- --compare-swift`: sluice next to Debian's Swift 2.30 on this machine, per
 * operation (issue 17). See docs/benchmarks.md, "sluice against Swift".
 *
 *   full stack (default): sluice's proxy + storage servers against Swift's proxy + storage
 *     servers (scripts/lib/bench-swift-cluster.ts);
 *   --proxy-only: sluice's proxy and Swift's proxy in front of the same Swift storage servers;
 *   --big: a 1 GiB object PUT then GET through each proxy (a generated stream), and a GET of a
 *     1 GiB SLO made of 16 ranges of that object, with the proxy's RSS before and during.
 *
 * Load, warm-up, RSS and CPU sampling are scripts/bench.ts's (autocannon, 100 ms /proc samples);
 * the rounds alternate which side goes first, per operation, so both see the same machine.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { call, login, measure, OBJ_CONTAINER, OPS, prepare, sampleTree, sleep, waitForQuiet, warmUp, type BenchIo, type BenchOptions, type Endpoint, type LoadGenerator, type OpContext, type OpDef, type OpStats } from './bench';
import { Stack, startSluiceProxy, startSluiceStorage, startSwiftProxy, startSwiftStorage } from './lib/bench-swift-cluster';
import { WRK, wrkInstalled } from './lib/bench-wrk';
import { bigOk, compareRow, failedAnswersInLog, failures, formatBig, formatCompare, isFlat, type BigTransfer, type CompareRow } from './lib/bench-swift-report';

export const USAGE = `Usage: npm run bench -- --compare-swift [options]

  --proxy-only        sluice's proxy and Swift's proxy in front of the same Swift storage servers
                      (default: each full stack, proxy and its own storage servers)
  --duration S        seconds of load per operation, side and round (default 10)
  --rounds N          alternating rounds (default 2; the side that goes first alternates)
  --connections N     concurrent connections (default 32)
  --warmup S          unmeasured load before each measurement (default 1)
  --initial-warmup S  unmeasured load per proxy before the first measurement (default 8)
  --workers N         proxy workers, both sides (default 2)
  --ops A,B,...|none  only these operations (names below)
  --load G            load generator: wrk (default when /usr/bin/wrk is installed, as issue 17
                      measured; HEAD rows still use autocannon, whose parser knows HEAD answers
                      have no body) or autocannon
  --big               also PUT then GET a 1 GiB object, and GET a 1 GiB SLO, through each proxy, RSS sampled
  --sluice-node-arg A node option for sluice's proxy and storage servers (repeatable; e.g. --cpu-prof)
  --json FILE         also write the results as JSON
  --keep              keep the work directory (/tmp/sluice-bench-swift-*: logs, configs, profiles)

Exits 1 if any row got a non-2xx answer on either side, or a 1 GiB transfer failed; the
failures then list what sluice's proxy logged about them (status, method, path, transaction id,
errors).

Operations: OPS`;

/** 32 clients overwriting one object: the race in which Swift answers 202 for a superseded PUT. */
const PUT_ONE: OpDef = {
  name: 'object-put-4k',
  label: 'object PUT 4 KiB (one object overwritten)',
  request: (ep, ctx) => ({
    method: 'PUT',
    path: `${ep.accountPath}/${OBJ_CONTAINER}/put-one`,
    headers: { 'x-auth-token': ctx.token, 'content-type': 'application/octet-stream' },
    body: ctx.body4k,
  }),
};

const byName = (name: string): OpDef => {
  const op = OPS.find((o) => o.name === name);
  if (!op) throw new Error(`scripts/bench.ts has no operation ${name}`);
  return op;
};

/** The issue's rows, in its order. */
export const COMPARE_OPS: OpDef[] = [
  byName('auth'),
  { ...byName('account-head'), label: 'account HEAD, owner' },
  byName('account-head-acl'),
  byName('container-get'),
  byName('object-get-4k'),
  byName('object-head'),
  PUT_ONE,
  byName('object-get-1m'),
];

export interface CompareOptions {
  proxyOnly: boolean;
  duration: number;
  rounds: number;
  connections: number;
  warmup: number;
  initialWarmup: number;
  workers: number;
  ops: string[];
  big: boolean;
  load: LoadGenerator;
  sluiceNodeArgs: string[];
  json?: string;
  keep: boolean;
}

class UsageError extends Error {}

function number(name: string, raw: string | undefined, dflt: number, opts: { integer?: boolean; min?: number } = {}): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < (opts.min ?? 0) || (opts.integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be a ${opts.integer ? 'whole ' : ''}number >= ${opts.min ?? 0} (got ${JSON.stringify(raw)})`);
  }
  return n;
}

export function parseCompareArgs(argv: string[]): CompareOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'proxy-only': { type: 'boolean' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      warmup: { type: 'string' },
      'initial-warmup': { type: 'string' },
      workers: { type: 'string' },
      ops: { type: 'string' },
      big: { type: 'boolean' },
      load: { type: 'string' },
      'sluice-node-arg': { type: 'string', multiple: true },
      json: { type: 'string' },
      keep: { type: 'boolean' },
    },
  });
  if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const ops = values.ops === 'none' ? [] : values.ops ? values.ops.split(',').map((s) => s.trim()).filter(Boolean) : COMPARE_OPS.map((o) => o.name);
  for (const o of ops) if (!COMPARE_OPS.some((d) => d.name === o)) throw new UsageError(`unknown operation ${JSON.stringify(o)}`);
  if (!ops.length && !values.big) throw new UsageError('--ops none leaves nothing to measure without --big');
  const load = values.load ?? (wrkInstalled() ? 'wrk' : 'autocannon');
  if (load !== 'wrk' && load !== 'autocannon') throw new UsageError(`--load must be wrk or autocannon (got ${JSON.stringify(load)})`);
  if (load === 'wrk' && !wrkInstalled()) throw new UsageError(`--load wrk needs ${WRK} (Debian package wrk)`);
  const duration = number('duration', values.duration, 10);
  if (duration <= 0) throw new UsageError('--duration must be more than 0');
  return {
    proxyOnly: values['proxy-only'] ?? false,
    duration,
    rounds: number('rounds', values.rounds, 2, { integer: true, min: 1 }),
    connections: number('connections', values.connections, 32, { integer: true, min: 1 }),
    warmup: number('warmup', values.warmup, 1),
    initialWarmup: number('initial-warmup', values['initial-warmup'], 8),
    workers: number('workers', values.workers, 2, { integer: true, min: 1 }),
    ops,
    big: values.big ?? false,
    load,
    sluiceNodeArgs: values['sluice-node-arg'] ?? [],
    json: values.json,
    keep: values.keep ?? false,
  };
}

interface Side {
  name: 'sluice' | 'Swift';
  ep: Endpoint;
  ctx: OpContext;
  storagePid: number;
}

/** Logs in as the owner and the ACL grantee; prepares the data unless another side shares it. */
async function sideContext(ep: Endpoint, prepareData: boolean, log: (l: string) => void): Promise<OpContext> {
  const authUrl = new URL(ep.authPath, ep.origin).href;
  const owner = await login(authUrl, 'test:tester', 'testing');
  ep.accountPath = new URL(owner.storageUrl).pathname;
  const storageUrl = new URL(ep.accountPath, ep.origin).href;
  if (prepareData) {
    await prepare(storageUrl, owner.token, log);
    // Account ACLs are set by the account's owner (Swift: swift_owner only).
    await call('POST', storageUrl, owner.token, { 'x-account-access-control': JSON.stringify({ 'read-only': ['test:tester3'] }) });
  }
  const acl = await login(authUrl, 'test:tester3', 'testing3');
  await call('HEAD', storageUrl, acl.token);
  return { token: owner.token, aclToken: acl.token, user: 'test:tester', key: 'testing', body4k: Buffer.alloc(4096, 0x63) };
}

export const BIG_SIZE = 2 ** 30;
const CHUNK = 1 << 20;

/** A generated body: the same 1 MiB buffer `size / 1 MiB` times (no file, no 1 GiB in memory). */
function generated(size: number): Readable {
  const chunk = Buffer.alloc(CHUNK, 0x6b);
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, CHUNK);
      left -= n;
      this.push(n === CHUNK ? chunk : chunk.subarray(0, n));
    },
  });
}

async function idleRss(pid: number | undefined): Promise<number | null> {
  const s = sampleTree(pid);
  await sleep(1000);
  return s.stop().peakRssMiB;
}

async function bigTransfer(side: Side, method: 'PUT' | 'GET', size: number, object = 'big-1g', kind?: BigTransfer['kind']): Promise<BigTransfer> {
  const { ep, ctx } = side;
  const idleRssMiB = await idleRss(ep.pid);
  const sampler = sampleTree(ep.pid);
  const started = process.hrtime.bigint();
  const res = await request(new URL(`${ep.accountPath}/${OBJ_CONTAINER}/${object}`, ep.origin), {
    method,
    headers: { 'x-auth-token': ctx.token, ...(method === 'PUT' ? { 'content-type': 'application/octet-stream', 'content-length': String(size) } : {}) },
    body: method === 'PUT' ? generated(size) : undefined,
    headersTimeout: 600_000,
    bodyTimeout: 600_000,
  });
  let received = 0;
  for await (const chunk of res.body) received += (chunk as Buffer).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const { peakRssMiB } = sampler.stop();
  return { target: side.name, method, ...(kind ? { kind } : {}), bytes: method === 'PUT' ? (res.statusCode < 300 ? size : 0) : received, seconds, status: res.statusCode, idleRssMiB, peakRssMiB };
}

/** Segments of the 1 GiB SLO: ranges of the 1 GiB object, so no second GiB is uploaded. */
const SLO_SEGMENTS = 16;

/**
 * Stores `big-1g-slo`, a Static Large Object whose segments are 16 consecutive ranges of
 * `big-1g` (SLO's `range` segment key): its GET streams the whole GiB through slo's segment
 * subrequests. Resolves to the manifest PUT's status.
 */
async function putSloOverBig(side: Side, size: number): Promise<number> {
  const { ep, ctx } = side;
  const piece = size / SLO_SEGMENTS;
  const manifest = Array.from({ length: SLO_SEGMENTS }, (_, i) => ({ path: `/${OBJ_CONTAINER}/big-1g`, etag: null, size_bytes: null, range: `${i * piece}-${(i + 1) * piece - 1}` }));
  const res = await request(new URL(`${ep.accountPath}/${OBJ_CONTAINER}/big-1g-slo?multipart-manifest=put`, ep.origin), {
    method: 'PUT',
    headers: { 'x-auth-token': ctx.token, 'content-type': 'application/octet-stream' },
    body: JSON.stringify(manifest),
  });
  await res.body.dump();
  return res.statusCode;
}

export interface CompareReport {
  date: string;
  mode: 'full-stack' | 'proxy-only';
  options: Omit<CompareOptions, 'json' | 'keep'>;
  machine: { nproc: number; node: string; loadBefore: number[]; loadAfter: number[] };
  rows: CompareRow[];
  big: BigTransfer[];
  failures: string[];
}

export async function runCompare(opts: CompareOptions, log: (l: string) => void): Promise<CompareReport> {
  const dir = mkdtempSync('/tmp/sluice-bench-swift-');
  const stack = new Stack();
  const onSignal = () => void stack.stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const loadBefore = loadavg();
  try {
    log(`work directory ${dir}; starting Swift's storage servers`);
    const swiftStorage = await startSwiftStorage(stack, dir, log);
    const swiftEp = await startSwiftProxy(stack, dir, swiftStorage, opts.workers);
    log(`Swift proxy (${opts.workers} workers) on ${swiftEp.origin}`);
    let sluiceEp: Endpoint;
    let sluiceStoragePid: number;
    if (opts.proxyOnly) {
      sluiceEp = await startSluiceProxy(stack, dir, swiftStorage.etc, opts.workers, opts.sluiceNodeArgs);
      sluiceStoragePid = swiftStorage.pid;
    } else {
      const storage = await startSluiceStorage(stack, dir, opts.sluiceNodeArgs);
      sluiceEp = await startSluiceProxy(stack, dir, storage.etc, opts.workers, opts.sluiceNodeArgs);
      sluiceStoragePid = storage.pid;
    }
    log(`sluice proxy (${opts.workers} workers) on ${sluiceEp.origin}${opts.proxyOnly ? ', on the Swift storage servers' : ''}`);

    const sides: Side[] = [];
    sides.push({ name: 'Swift', ep: swiftEp, ctx: await sideContext(swiftEp, true, log), storagePid: swiftStorage.pid });
    // Over the same storage servers the data is already there.
    sides.push({ name: 'sluice', ep: sluiceEp, ctx: await sideContext(sluiceEp, !opts.proxyOnly, log), storagePid: sluiceStoragePid });
    sides.reverse();

    const benchOpts: BenchOptions = {
      auth: 'tempauth',
      connections: opts.connections,
      duration: opts.duration,
      warmup: opts.warmup,
      initialWarmup: opts.initialWarmup,
      workers: opts.workers,
      baseline: 'none',
      ops: opts.ops,
      user: 'test:tester',
      key: 'testing',
      aclUser: 'test:tester3',
      aclKey: 'testing3',
      proxyNodeArgs: [],
      keep: opts.keep,
      loadGenerator: opts.load,
    };
    const ops = COMPARE_OPS.filter((o) => opts.ops.includes(o.name));
    const stackPids = [...new Set(sides.flatMap((s) => [s.ep.pid, s.storagePid]).filter((p): p is number => p !== undefined))];
    for (const s of sides) await warmUp(s.name, s.ep, ops, s.ctx, benchOpts, log);
    const stats = new Map<string, { sluice: OpStats[]; Swift: OpStats[] }>(ops.map((o) => [o.name, { sluice: [], Swift: [] }]));
    for (let round = 0; round < opts.rounds; round++) {
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const op of ops) {
        for (const s of order) {
          // Each side starts from idle cores: the other side's servers may still be answering
          // requests queued during its own run.
          const quiet = await waitForQuiet(stackPids);
          if (quiet === undefined) log('the servers were still busy after 20 s; measuring anyway');
          log(`round ${round + 1}/${opts.rounds}, ${op.label}: ${s.name}${quiet && quiet > 1000 ? ` (after ${(quiet / 1000).toFixed(1)} s for the servers to go idle)` : ''}`);
          stats.get(op.name)![s.name].push(await measure(s.ep, op, s.ctx, benchOpts, log, s.storagePid));
        }
      }
    }
    const rows = ops.map((o) => compareRow(o.name, o.label, o.bytes ?? false, stats.get(o.name)!.sluice, stats.get(o.name)!.Swift));

    const big: BigTransfer[] = [];
    if (opts.big) {
      for (const s of sides) {
        for (const method of ['PUT', 'GET'] as const) {
          log(`${method} of a 1 GiB object through ${s.name}'s proxy`);
          big.push(await bigTransfer(s, method, BIG_SIZE));
        }
        log(`GET of a 1 GiB SLO (${SLO_SEGMENTS} ranged segments) through ${s.name}'s proxy`);
        const manifest = await putSloOverBig(s, BIG_SIZE);
        if (manifest >= 300) throw new Error(`${s.name}: the SLO manifest PUT answered ${manifest}`);
        big.push(await bigTransfer(s, 'GET', BIG_SIZE, 'big-1g-slo', 'SLO'));
        // Leave the disk as found.
        for (const name of ['big-1g-slo', 'big-1g']) await call('DELETE', new URL(`${s.ep.accountPath}/${OBJ_CONTAINER}/${name}`, s.ep.origin).href, s.ctx.token).catch(() => undefined);
      }
    }
    const failed = failures(rows);
    for (const t of big) if (!bigOk(t, BIG_SIZE)) failed.push(`${t.method} 1 GiB, ${t.target}: status ${t.status}, ${t.bytes} bytes`);
    // Which answers failed, and why, while the logs still exist (the run directory goes at stop).
    const proxyLog = join(dir, 'sluice-proxy.log');
    if (failed.length && existsSync(proxyLog)) {
      const logged = failedAnswersInLog(readFileSync(proxyLog, 'utf8'));
      if (logged.length) failed.push(`sluice proxy's log: ${logged.join(' | ')}`);
    }
    const { json: _json, keep: _keep, ...reported } = opts;
    return {
      date: new Date().toISOString(),
      mode: opts.proxyOnly ? 'proxy-only' : 'full-stack',
      options: reported,
      machine: { nproc: availableParallelism(), node: process.version, loadBefore, loadAfter: loadavg() },
      rows,
      big,
      failures: failed,
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stack.stop();
    if (opts.keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');

export function formatReport(r: CompareReport): string {
  const o = r.options;
  const what =
    r.mode === 'proxy-only'
      ? `sluice's proxy and Swift 2.30's proxy in front of the same Swift storage servers`
      : `sluice (proxy + its storage servers) against Swift 2.30 (proxy + Swift's storage servers)`;
  const out = [
    `${what}: ${o.connections} connections, ${o.duration} s per operation and side after ${o.warmup} s warm-up, ` +
      `${o.rounds} alternating round(s), ${o.workers} proxy workers each, load from ${o.load === 'wrk' ? 'wrk (autocannon for HEAD)' : 'autocannon'}; ${r.machine.nproc} cores, node ${r.machine.node}; ` +
      `load average before ${load(r.machine.loadBefore)}, after ${load(r.machine.loadAfter)}`,
    '',
  ];
  if (r.rows.length) out.push(formatCompare(r.rows), '');
  if (r.big.length) {
    out.push(formatBig(r.big, BIG_SIZE));
    const sluice = r.big.filter((t) => t.target === 'sluice');
    const flat = sluice.map((t) => isFlat(t));
    out.push('', `sluice's proxy RSS during the 1 GiB transfers: ${flat.every((f) => f === true) ? 'flat' : flat.some((f) => f === null) ? 'unknown (no /proc)' : 'NOT flat'}`, '');
  }
  return out.join('\n').trimEnd();
}

export async function main(argv: string[], io: BenchIo): Promise<number> {
  let opts: CompareOptions;
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out(USAGE.replace(/OPS$/, COMPARE_OPS.map((o) => o.name).join(', ')));
      return 0;
    }
    opts = parseCompareArgs(argv);
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`bench --compare-swift: ${(err as Error).message}\nRun "npm run bench -- --compare-swift --help" for usage.`);
      return 2;
    }
    throw err;
  }
  const started = Date.now();
  const report = await runCompare(opts, (l) => io.err(`bench [${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s]: ${l}`));
  io.out(formatReport(report));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 2) + '\n');
  if (report.failures.length) {
    io.err(`bench --compare-swift: FAILED: ${report.failures.join('; ')}`);
    return 1;
  }
  return 0;
}
