/**
 * `npm run kill-loop -- --writes N --seed S [--concurrency C] [--max-bytes B]`: object PUTs of
 * random sizes and contents through a sluice proxy (in this process, the development pipeline,
 * as test:tester) to storage servers run as
 * processes of their own (scripts/lib/storage-processes.ts: three nodes, each with an account, a
 * container and an object server; every ring has three replicas), while storage servers are
 * killed with SIGKILL at random moments and started again on the same port. Some kills are aimed:
 * a write stops sending its body part way, one of its object's primary object servers is
 * killed, and the rest of the body follows.
 *
 * Afterwards, with every server up again, every PUT that got 201 must read back through the proxy
 * with its ETag and MD5, and from at least a quorum (2) of its primaries directly; a PUT that
 * failed may be absent or whole, never truncated or changed, on the proxy and on every replica.
 * Any answer other than 201 or 503 (Swift answers 503 when a write cannot reach a quorum) and any
 * connection the proxy drops without an answer is a failure too. Prints a summary; exits 1 on any
 * failure.
 *
 * The seed fixes the writes (sizes, contents, how they are sent, which are cut for an aimed kill),
 * the choice of servers to kill and the pauses between kills; where a kill lands in a write
 * depends on timing, so two runs with one seed differ in detail.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Agent, request } from 'undici';
import { backendPath, nodeOrigin } from '../src/common/backend-client';
import { Ring } from '../src/common/ring';
import { DEV_PROXY_CONF } from '../src/cluster/dev-cluster';
import { loadSwiftConf } from '../src/common/swift-conf';
import { parseProxyConfig } from '../src/proxy/config';
import { startProxyServer, type RunningProxy } from '../src/proxy/server';
import '../src/middleware/index';
import { SeededRandom } from './lib/seeded-random';
import { StorageProcesses, type StorageKind, type StorageProcess } from './lib/storage-processes';

const ACCOUNT = 'AUTH_test';
const CONTAINER = 'writes';
const CHUNK = 64 * 1024;
/** Seconds before the proxy gives up on a storage server that accepted a connection. */
const NODE_TIMEOUT = 5;
/** A write or read unanswered this long is a hang (a failure). */
const CLIENT_LIMIT_MS = 120_000;

/**
 * The development pipeline (TempAuth with its development users and every built-in filter), with
 * the node timeout above.
 */
const PROXY_CONF = DEV_PROXY_CONF.replace('[app:proxy-server]\n', `[app:proxy-server]\nnode_timeout = ${NODE_TIMEOUT}\nconn_timeout = 0.5\n`);
/** A development user, admin of ACCOUNT. */
const USER = ['test:tester', 'testing'] as const;

export interface KillLoopOptions {
  writes: number;
  seed: number;
  /** Writes in flight at once (default 4). */
  concurrency?: number;
  /** Largest object (default 4 MiB). */
  maxBytes?: number;
  /** Pause between random kills, in ms (default [150, 1200]). */
  killGapMs?: [number, number];
  /** How long a killed server stays down before it is started again, in ms (default [0, 1500]). */
  downMs?: [number, number];
  /** Share of the writes of 64 KiB or more cut for an aimed kill (default 0.15). */
  aimedShare?: number;
  /**
   * Servers down (or starting) at once, at most (default 3): one of a kind from random kills, a
   * second object server from an aimed kill, never all three.
   */
  maxDown?: number;
  /** Keep the data directory (printed) instead of removing it. */
  keep?: boolean;
  /** Runs once every server is up again, before the checks (the test damages a replica here). */
  beforeVerify?: (dataDir: string) => void | Promise<void>;
  progress?: (line: string) => void;
  /** The proxy's errors, and each kill and restart, on stderr. */
  verbose?: boolean;
}

export interface KillLoopResult {
  seed: number;
  writes: number;
  /** Answers to the PUTs by status; 'none' for a connection dropped without one. */
  byStatus: Record<string, number>;
  bytesStored: number;
  kills: number;
  killsByKind: Record<StorageKind, number>;
  /** Kills aimed at a primary of a write whose body was part sent. */
  aimedKills: number;
  /** Kills of an object server while some write it was a primary for was in flight (aimed ones included). */
  midPutKills: number;
  restarts: number;
  /** Median and longest time from a kill to the server listening again, in ms. */
  downMs: { median: number; max: number };
  /** 201 objects read back intact through the proxy. */
  verified: number;
  /** Failed writes: absent afterwards, or there in full. */
  failedAbsent: number;
  failedWhole: number;
  /** Of the 201 objects: how many primaries hold them (replicas -> objects). */
  replicasOf201: Record<string, number>;
  /**
   * Temp files the killed object servers left in tmp/: never visible, but never removed either
   * (Swift's diskfile writes to an unnamed O_TMPFILE where it can, which a kill leaves nothing of).
   */
  tmpFilesLeft: number;
  /** Objects the object servers found corrupt and moved aside (a kill must never make one). */
  quarantined: number;
  failures: string[];
  writeMs: number;
  verifyMs: number;
  durationMs: number;
  dataDir?: string;
}

interface WritePlan {
  index: number;
  name: string;
  size: number;
  chunked: boolean;
  /** Body offset where the write waits for an aimed kill of its primary number `victim`. */
  cutAt?: number;
  victim?: number;
}

interface WriteOutcome {
  plan: WritePlan;
  md5: string;
  status: number;
  etag?: string;
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const md5Hex = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** Object i's bytes: a stream of their own, so they do not depend on the order writes run in. */
function contentOf(seed: number, plan: WritePlan): Buffer {
  return new SeededRandom(`kill-loop content ${plan.index}`, seed).bytes(plan.size);
}

/** Sizes from empty to maxBytes: a tenth empty, most small, a fifth past 256 KiB. */
export function planWrites(seed: number, writes: number, maxBytes: number, aimedShare: number): WritePlan[] {
  const r = new SeededRandom('kill-loop plan', seed);
  const plans: WritePlan[] = [];
  for (let index = 0; index < writes; index++) {
    const band = r.weighted<[number, number]>([
      [[0, 0], 1],
      [[1, 4096], 3],
      [[4097, 256 * 1024], 4],
      [[256 * 1024 + 1, maxBytes], 2],
    ]);
    const size = r.int(Math.min(band[0], maxBytes), Math.min(band[1], maxBytes));
    const plan: WritePlan = { index, name: `o${String(index).padStart(6, '0')}`, size, chunked: r.next() < 0.5 };
    if (size >= 64 * 1024 && r.next() < aimedShare) {
      plan.cutAt = r.int(1, size - 1);
      plan.victim = r.int(0, 2);
    }
    plans.push(plan);
  }
  return plans;
}

/** Kills storage servers: at random, and when a write asks for an aimed kill. */
class Killer {
  kills = 0;
  aimed = 0;
  midPut = 0;
  restarts = 0;
  /** Milliseconds from each kill to the server listening again. */
  readonly downFor: number[] = [];
  readonly byKind: Record<StorageKind, number> = { account: 0, container: 0, object: 0 };
  readonly problems: string[] = [];
  /** Ports of the object primaries of each write in flight. */
  readonly inFlight = new Map<number, number[]>();
  private readonly down = new Set<StorageProcess>();
  private readonly restarting = new Set<Promise<void>>();
  private running = true;
  private loop?: Promise<void>;
  /** Ends the pause between kills at once when stopping. */
  private wake = () => {};
  private readonly r: SeededRandom;

  constructor(
    private readonly sp: StorageProcesses,
    seed: number,
    private readonly opts: Required<Pick<KillLoopOptions, 'killGapMs' | 'downMs' | 'maxDown'>>,
    private readonly log?: (line: string) => void,
  ) {
    this.r = new SeededRandom('kill-loop kills', seed);
  }

  start(): void {
    this.loop = (async () => {
      while (this.running) {
        const gap = this.r.int(...this.opts.killGapMs);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, gap);
          this.wake = () => (clearTimeout(t), resolve());
        });
        if (!this.running) break;
        const kind = this.r.weighted<StorageKind>([
          ['object', 6],
          ['container', 2],
          ['account', 2],
        ]);
        const candidates = this.sp.of(kind).filter((s) => !this.down.has(s));
        if (candidates.length) await this.kill(candidates[this.r.int(0, candidates.length - 1)]!, false);
      }
    })();
  }

  /** An aimed kill of the object server on `port`, if the down limit allows. */
  async aim(port: number): Promise<void> {
    const s = this.sp.byPort(port);
    if (s && !this.down.has(s)) await this.kill(s, true);
  }

  private async kill(s: StorageProcess, aimed: boolean): Promise<void> {
    // Random kills leave two of each kind up, so most writes can reach a quorum; an aimed kill may
    // take a second one down, and the writes then in flight (its own included) cannot.
    const sameKind = [...this.down].filter((d) => d.kind === s.kind).length;
    if (this.down.size >= this.opts.maxDown || sameKind >= (aimed ? 2 : 1)) return;
    this.down.add(s);
    const killedAt = performance.now();
    if (s.kind === 'object' && [...this.inFlight.values()].some((ports) => ports.includes(s.port))) this.midPut++;
    await this.sp.kill(s);
    this.kills++;
    this.byKind[s.kind]++;
    if (aimed) this.aimed++;
    this.log?.(`kill ${s.name}${aimed ? ' (aimed mid-body)' : ''}; down: ${[...this.down].map((d) => d.name).join(' ')}`);
    const restart = (async () => {
      await sleep(this.r.int(...this.opts.downMs));
      for (let attempt = 1; ; attempt++) {
        try {
          await this.sp.start(s);
          this.restarts++;
          this.downFor.push(performance.now() - killedAt);
          this.log?.(`${s.name} up again after ${Math.round(performance.now() - killedAt)} ms`);
          break;
        } catch (err) {
          if (attempt >= 3) {
            this.problems.push(`${s.name} did not start again: ${(err as Error).message}`);
            break;
          }
          await sleep(500);
        }
      }
      this.down.delete(s);
    })();
    this.restarting.add(restart);
    void restart.finally(() => this.restarting.delete(restart));
  }

  /** Stops killing and waits for every killed server to be up again. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    while (this.restarting.size) await Promise.all([...this.restarting]);
  }
}

async function startProxy(swiftDir: string, verbose: boolean): Promise<RunningProxy> {
  return startProxyServer({
    config: parseProxyConfig(PROXY_CONF, 'kill-loop proxy-server.conf'),
    host: '127.0.0.1',
    port: 0,
    swiftDir,
    swiftConf: loadSwiftConf(swiftDir),
    logger: verbose ? pino({ level: 'error' }, pino.destination(2)) : pino({ level: 'silent' }),
    accessLogger: pino({ level: 'silent' }),
  });
}

interface ProxyTarget {
  url: string;
  token: string;
}

async function login(agent: Agent, url: string): Promise<ProxyTarget> {
  const res = await request(`${url}/auth/v1.0`, { headers: { 'x-auth-user': USER[0], 'x-auth-key': USER[1] }, dispatcher: agent });
  await res.body.arrayBuffer();
  const token = res.headers['x-auth-token'];
  if (res.statusCode !== 200 || typeof token !== 'string') throw new Error(`logging in as ${USER[0]}: ${res.statusCode}`);
  return { url, token };
}

async function put(agent: Agent, proxy: ProxyTarget, plan: WritePlan, body: Buffer, atCut: () => Promise<void>): Promise<Pick<WriteOutcome, 'status' | 'etag' | 'error'>> {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let off = 0; off < body.length; off += CHUNK) {
      const end = Math.min(off + CHUNK, body.length);
      if (plan.cutAt !== undefined && plan.cutAt >= off && plan.cutAt < end) {
        if (plan.cutAt > off) yield body.subarray(off, plan.cutAt);
        await atCut();
        yield body.subarray(plan.cutAt, end);
      } else yield body.subarray(off, end);
    }
  }
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'x-auth-token': proxy.token };
  if (!plan.chunked) headers['content-length'] = String(body.length);
  try {
    const res = await request(`${proxy.url}/v1/${ACCOUNT}/${CONTAINER}/${plan.name}`, {
      method: 'PUT',
      headers,
      body: Readable.from(chunks()),
      dispatcher: agent,
      headersTimeout: CLIENT_LIMIT_MS,
      bodyTimeout: CLIENT_LIMIT_MS,
    });
    await res.body.arrayBuffer();
    const etag = res.headers['etag'];
    return { status: res.statusCode, etag: typeof etag === 'string' ? etag : undefined };
  } catch (err) {
    return { status: 0, error: `${(err as Error).message}${(err as { code?: string }).code ? ` (${(err as { code?: string }).code})` : ''}` };
  }
}

/** A GET's status, ETag and body MD5, or the error that cut it. */
async function read(agent: Agent, url: string, headers: Record<string, string> = {}): Promise<{ status: number; etag?: string; md5?: string; bytes?: number; error?: string }> {
  try {
    const res = await request(url, { headers, dispatcher: agent, headersTimeout: CLIENT_LIMIT_MS, bodyTimeout: CLIENT_LIMIT_MS });
    const body = Buffer.from(await res.body.arrayBuffer());
    const etag = res.headers['etag'];
    return { status: res.statusCode, etag: typeof etag === 'string' ? etag.replace(/^"|"$/g, '') : undefined, md5: md5Hex(body), bytes: body.length };
  } catch (err) {
    return { status: 0, error: (err as Error).message };
  }
}

/** Runs `fn` over `items` with `n` at a time. */
async function eachLimited<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Checks one write through the proxy and on each of its primaries. */
async function verifyOne(agent: Agent, proxy: ProxyTarget, ring: Ring, o: WriteOutcome, result: KillLoopResult): Promise<void> {
  const ok = o.status === 201;
  const what = `${o.plan.name} (${o.plan.size} bytes, PUT ${o.status || o.error})`;
  const viaProxy = await read(agent, `${proxy.url}/v1/${ACCOUNT}/${CONTAINER}/${o.plan.name}`, { 'x-auth-token': proxy.token });
  const whole = viaProxy.status === 200 && viaProxy.md5 === o.md5 && viaProxy.etag === o.md5 && viaProxy.bytes === o.plan.size;
  if (ok) {
    if (whole) result.verified++;
    else result.failures.push(`${what}: proxy GET ${viaProxy.status || viaProxy.error}, ${viaProxy.bytes ?? 0} bytes, MD5 ${viaProxy.md5}, ETag ${viaProxy.etag}; wrote MD5 ${o.md5}`);
  } else if (viaProxy.status === 404) result.failedAbsent++;
  else if (whole) result.failedWhole++;
  else result.failures.push(`${what}: a failed write reads back as ${viaProxy.status || viaProxy.error}, ${viaProxy.bytes ?? 0} bytes, MD5 ${viaProxy.md5}`);

  const { part, nodes } = ring.getNodes(ACCOUNT, CONTAINER, o.plan.name);
  let holding = 0;
  for (const node of nodes) {
    const r = await read(agent, `${nodeOrigin(node)}${backendPath(node, part, `/${ACCOUNT}/${CONTAINER}/${o.plan.name}`)}`, { 'X-Backend-Storage-Policy-Index': '0' });
    if (r.status === 404) continue;
    if (r.status === 200 && r.md5 === o.md5 && r.etag === o.md5 && r.bytes === o.plan.size) holding++;
    else result.failures.push(`${what}: replica on ${node.device} (port ${node.port}) answers ${r.status || r.error}, ${r.bytes ?? 0} bytes, MD5 ${r.md5}, ETag ${r.etag}`);
  }
  if (ok) {
    result.replicasOf201[holding] = (result.replicasOf201[holding] ?? 0) + 1;
    // 201 is a quorum of 2 that each wrote and renamed the file: a kill cannot take that back.
    if (holding < 2) result.failures.push(`${what}: only ${holding} of ${nodes.length} replicas hold it after a 201`);
  }
}

/** The whole run: servers, proxy, writes under kills, checks. Always stops what it started. */
export async function runKillLoop(opts: KillLoopOptions): Promise<KillLoopResult> {
  const t0 = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-kill-loop-'));
  const result: KillLoopResult = {
    seed: opts.seed,
    writes: 0,
    byStatus: {},
    bytesStored: 0,
    kills: 0,
    killsByKind: { account: 0, container: 0, object: 0 },
    aimedKills: 0,
    midPutKills: 0,
    restarts: 0,
    downMs: { median: 0, max: 0 },
    verified: 0,
    failedAbsent: 0,
    failedWhole: 0,
    replicasOf201: {},
    tmpFilesLeft: 0,
    quarantined: 0,
    failures: [],
    writeMs: 0,
    verifyMs: 0,
    durationMs: 0,
    ...(opts.keep ? { dataDir } : {}),
  };
  const concurrency = opts.concurrency ?? 4;
  let sp: StorageProcesses | undefined;
  const agent = new Agent({ connections: concurrency * 4, keepAliveTimeout: 10_000 });
  let proxy: RunningProxy | undefined;
  try {
    sp = await StorageProcesses.create({ dir: dataDir, nodeTimeout: 3 });
    await sp.startAll();
    proxy = await startProxy(sp.swiftDir, opts.verbose ?? false);
    const target = await login(agent, proxy.url);
    const made = await request(`${proxy.url}/v1/${ACCOUNT}/${CONTAINER}`, { method: 'PUT', headers: { 'x-auth-token': target.token }, dispatcher: agent });
    await made.body.arrayBuffer();
    if (made.statusCode !== 201 && made.statusCode !== 202) throw new Error(`creating the container: ${made.statusCode}`);
    const ring = Ring.forKind(sp.swiftDir, 'object', loadSwiftConf(sp.swiftDir).hash);

    const plans = planWrites(opts.seed, opts.writes, opts.maxBytes ?? 4 * 1024 * 1024, opts.aimedShare ?? 0.15);
    const killer = new Killer(sp!, opts.seed, { killGapMs: opts.killGapMs ?? [150, 1200], downMs: opts.downMs ?? [0, 1500], maxDown: opts.maxDown ?? 3 }, opts.verbose ? (l) => console.error(l) : undefined);
    const outcomes: WriteOutcome[] = [];
    const tw = performance.now();
    killer.start();
    try {
      await eachLimited(plans, concurrency, async (plan) => {
        const body = contentOf(opts.seed, plan);
        const ports = ring.getNodes(ACCOUNT, CONTAINER, plan.name).nodes.map((n) => n.port);
        killer.inFlight.set(plan.index, ports);
        const answer = await put(agent, target, plan, body, () => killer.aim(ports[plan.victim!]!));
        killer.inFlight.delete(plan.index);
        const outcome: WriteOutcome = { plan, md5: md5Hex(body), ...answer };
        outcomes.push(outcome);
        const key = outcome.status ? String(outcome.status) : 'none';
        result.byStatus[key] = (result.byStatus[key] ?? 0) + 1;
        if (outcome.status === 201) {
          result.bytesStored += plan.size;
          if (outcome.etag !== outcome.md5) result.failures.push(`${plan.name}: 201 with ETag ${outcome.etag}, wrote MD5 ${outcome.md5}`);
        } else if (outcome.status !== 503) {
          result.failures.push(`${plan.name} (${plan.size} bytes${plan.chunked ? ', chunked' : ''}): PUT answered ${outcome.status || `nothing: ${outcome.error}`}; only 201 or 503 may be`);
        }
        if (opts.progress && outcomes.length % 100 === 0) {
          opts.progress(`${outcomes.length}/${plans.length} writes, ${killer.kills} kills, ${Math.round((performance.now() - tw) / 1000)} s, ${JSON.stringify(result.byStatus)}`);
        }
      });
    } finally {
      await killer.stop();
    }
    result.writeMs = Math.round(performance.now() - tw);
    result.writes = outcomes.length;
    const down = [...killer.downFor].sort((a, b) => a - b);
    result.downMs = { median: Math.round(down[Math.floor(down.length / 2)] ?? 0), max: Math.round(down[down.length - 1] ?? 0) };
    Object.assign(result, { kills: killer.kills, aimedKills: killer.aimed, midPutKills: killer.midPut, restarts: killer.restarts, killsByKind: killer.byKind });
    result.failures.push(...killer.problems);
    // Every server up again before anything is read.
    await sp.startAll();
    await opts.beforeVerify?.(dataDir);

    const tv = performance.now();
    outcomes.sort((a, b) => a.plan.index - b.plan.index);
    await eachLimited(outcomes, concurrency, (o) => verifyOne(agent, target, ring, o, result));
    result.verifyMs = Math.round(performance.now() - tv);
    result.tmpFilesLeft = sp.tmpFiles().length;
    const quarantined = sp.quarantined();
    result.quarantined = quarantined.length;
    if (quarantined.length) result.failures.push(`quarantined by the object servers (stored corrupt): ${quarantined.join(', ')}`);
  } finally {
    await proxy?.close();
    await agent.close();
    await sp?.stopAll();
    if (!opts.keep) rmSync(dataDir, { recursive: true, force: true });
  }
  result.durationMs = Math.round(performance.now() - t0);
  return result;
}

/** The largest stored .data file under `dir` (the test damages one to see the checks catch it). */
export function largestDataFile(dir: string): string | undefined {
  let best: { path: string; size: number } | undefined;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    if (!name.endsWith('.data')) continue;
    const size = statSync(join(dir, name)).size;
    if (!best || size > best.size) best = { path: join(dir, name), size };
  }
  return best?.path;
}

/** Changes 16 bytes in the middle of a file, in place (its size and metadata stay). */
export function corruptMiddle(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    const at = Math.floor(fstatSync(fd).size / 2);
    const b = Buffer.alloc(16);
    const n = readSync(fd, b, 0, 16, at);
    for (let i = 0; i < n; i++) b[i] = b[i]! ^ 0xff;
    writeSync(fd, b, 0, n, at);
  } finally {
    closeSync(fd);
  }
}

export function killLoopFailed(r: KillLoopResult): boolean {
  return r.failures.length > 0;
}

export function summary(r: KillLoopResult): string {
  const s = (n: number) => (n / 1000).toFixed(1);
  const statuses = Object.entries(r.byStatus).sort().map(([k, v]) => `${k} ${v}`).join(', ');
  const lines = [
    `seed ${r.seed}: ${r.writes} writes in ${s(r.writeMs)} s (${statuses}); ${(r.bytesStored / 1024 / 1024).toFixed(1)} MiB stored by 201s`,
    `kills: ${r.kills} (object ${r.killsByKind.object}, container ${r.killsByKind.container}, account ${r.killsByKind.account}); ${r.midPutKills} during a PUT to that server, ${r.aimedKills} aimed mid-body; ${r.restarts} restarts, down ${r.downMs.median} ms (median) to ${r.downMs.max} ms`,
    `verified: ${r.verified}/${r.byStatus['201'] ?? 0} 201 objects intact through the proxy; replicas holding them: ${Object.entries(r.replicasOf201).sort().map(([k, v]) => `${k}: ${v}`).join(', ')}`,
    `failed writes: ${r.failedAbsent} absent, ${r.failedWhole} there in full`,
    `temp files left by killed object servers: ${r.tmpFilesLeft}; objects quarantined: ${r.quarantined}`,
    `checks took ${s(r.verifyMs)} s; whole run ${s(r.durationMs)} s${r.dataDir ? `; data kept in ${r.dataDir}` : ''}`,
    `failures: ${r.failures.length}`,
    ...r.failures.slice(0, 50).map((f) => `FAIL ${f}`),
    killLoopFailed(r) ? 'FAILED' : 'OK',
  ];
  return lines.join('\n');
}

export const USAGE = `Usage: npm run kill-loop -- [options]

  --writes N       object PUTs (default 1000)
  --seed S         seed (default: random, printed)
  --concurrency C  PUTs in flight at once (default 4)
  --max-bytes B    largest object (default 4194304)
  --keep           keep the data directory
  --verbose        the proxy's errors, and each kill and restart, on stderr`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      writes: { type: 'string', default: '1000' },
      seed: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      'max-bytes': { type: 'string', default: String(4 * 1024 * 1024) },
      keep: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const writes = Number(values.writes);
  const concurrency = Number(values.concurrency);
  const maxBytes = Number(values['max-bytes']);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (![writes, concurrency, seed].every(Number.isInteger) || writes < 1 || concurrency < 1 || !Number.isInteger(maxBytes) || maxBytes < 0) {
    console.error(USAGE);
    return 2;
  }
  // The servers run in process groups of their own, out of reach of a ^C: exit through the
  // handler that kills them.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  console.log(`kill loop: ${writes} writes, seed ${seed}, ${concurrency} at once, up to ${maxBytes} bytes`);
  const result = await runKillLoop({ writes, seed, concurrency, maxBytes, keep: values.keep, verbose: values.verbose, progress: (l) => console.error(l) });
  console.log(summary(result));
  return killLoopFailed(result) ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(2);
    },
  );
}
