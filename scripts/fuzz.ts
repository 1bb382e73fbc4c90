/**
 * `npm run fuzz -- --requests N --seed S [--url URL] [--concurrency C]`: an HTTP fuzzer against a
 * running cluster (a fresh in-process one from src/testing, development configuration, unless
 * --url is given). Requests come from fast-check arbitraries (scripts/lib/fuzz-requests.ts) and
 * go out over raw sockets (scripts/lib/raw-http.ts), from the development users' tokens
 * (test:tester, test:tester3, admin:admin), a made-up token and anonymously.
 *
 * Before and after, known objects in an account the fuzzer never names (AUTH_test2) are written
 * and read back by MD5. Exits non-zero on any 5xx, a crash (the cluster stops answering its
 * healthcheck), a hang (no answer within 30 s) or an object no longer intact; every 5xx and hang is
 * printed as one JSON line that `--replay LINE` sends again (with fresh tokens).
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import pino from 'pino';
import { fetch } from 'undici';
import { startCluster, type TestCluster } from '../src/testing/index';
import { fuzzRequest, PROTECTED_ACCOUNT, requestBytes, type FuzzRequest, type FuzzTokens } from './lib/fuzz-requests';
import { rawExchange, type RawResponse } from './lib/raw-http';

export const HANG_MS = 30_000;
const BATCH = 500;
const HEALTH_EVERY = 2000;

export interface FuzzOptions {
  requests: number;
  seed: number;
  /** The cluster's proxy, e.g. http://127.0.0.1:8080. */
  url: string;
  concurrency: number;
  /** A request unanswered this long is a hang (default HANG_MS). */
  hangMs?: number;
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
}

export interface FuzzFinding {
  seq: number;
  status: number;
  error?: string;
  ms: number;
  request: FuzzRequest;
}

export interface FuzzResult {
  seed: number;
  sent: number;
  durationMs: number;
  /** '2xx' ... '5xx', and 'none' for connections closed without a response. */
  byClass: Record<string, number>;
  byStatus: Record<string, number>;
  maxLatencyMs: number;
  maxLatencyRequest?: FuzzRequest;
  serverErrors: FuzzFinding[];
  hangs: FuzzFinding[];
  /** A few of the exchanges that ended without a status line (not failures by themselves). */
  noResponse: FuzzFinding[];
  /** The cluster stopped answering its healthcheck. */
  unreachable: boolean;
  /** Known objects that were missing or changed afterwards. */
  corrupted: string[];
  knownObjects: number;
}

export function fuzzFailed(r: FuzzResult): boolean {
  return r.serverErrors.length > 0 || r.hangs.length > 0 || r.unreachable || r.corrupted.length > 0;
}

const USERS: Record<keyof FuzzTokens | 'owner2', [string, string]> = {
  tester: ['test:tester', 'testing'],
  tester3: ['test:tester3', 'testing3'],
  admin: ['admin:admin', 'admin'],
  bogus: ['', ''],
  owner2: ['test2:tester2', 'testing2'],
};

async function login(url: string, user: string, key: string): Promise<string> {
  const res = await fetch(`${url}/auth/v1.0`, { headers: { 'X-Auth-User': user, 'X-Auth-Key': key } });
  await res.arrayBuffer();
  const token = res.headers.get('x-auth-token');
  if (res.status !== 200 || !token) throw new Error(`logging in as ${user} failed: ${res.status}`);
  return token;
}

export async function loginAll(url: string): Promise<FuzzTokens & { owner2: string }> {
  return {
    tester: await login(url, ...USERS.tester),
    tester3: await login(url, ...USERS.tester3),
    admin: await login(url, ...USERS.admin),
    // Well-formed but never issued.
    bogus: `AUTH_tk${'0'.repeat(32)}`,
    owner2: await login(url, ...USERS.owner2),
  };
}

async function expectStatus(res: Awaited<ReturnType<typeof fetch>>, ok: number[], what: string): Promise<Buffer> {
  const body = Buffer.from(await res.arrayBuffer());
  if (!ok.includes(res.status)) throw new Error(`${what}: ${res.status} ${body.toString().slice(0, 200)}`);
  return body;
}

/** Deterministic content for known object i (sizes from empty to past 1 MiB). */
function knownContent(seed: number, i: number): Buffer {
  const sizes = [0, 1, 17, 4096, 65_537, 1_048_577];
  const size = sizes[i % sizes.length]!;
  const out = Buffer.alloc(size);
  let x = (seed ^ (i * 0x9e3779b1)) >>> 0 || 1;
  for (let j = 0; j < size; j++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[j] = x & 0xff;
  }
  return out;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const KNOWN = 6;
const knownPath = (url: string, i: number) => `${url}/v1/${PROTECTED_ACCOUNT}/fuzz-known/k${i}`;

/** Writes the known objects (and the fuzzed account's starting containers and objects). */
export async function seedCluster(url: string, seed: number, tokens: FuzzTokens & { owner2: string }): Promise<void> {
  const owner2 = { 'X-Auth-Token': tokens.owner2 };
  await expectStatus(await fetch(`${url}/v1/${PROTECTED_ACCOUNT}/fuzz-known`, { method: 'PUT', headers: owner2 }), [201, 202], 'creating the known container');
  for (let i = 0; i < KNOWN; i++) {
    const data = knownContent(seed, i);
    const res = await fetch(knownPath(url, i), { method: 'PUT', headers: owner2, body: data });
    await expectStatus(res, [201], `writing known object ${i}`);
    if (res.headers.get('etag') !== md5(data)) throw new Error(`known object ${i}: ETag ${res.headers.get('etag')} is not the MD5 written`);
  }
  const tester = { 'X-Auth-Token': tokens.tester };
  for (const c of ['fz-a', 'fz-b', 'fz-ver', 'fz-hist', 'fz-seg']) {
    await expectStatus(await fetch(`${url}/v1/AUTH_test/${c}`, { method: 'PUT', headers: tester }), [201, 202], `creating ${c}`);
  }
  for (const o of ['fz-a/o1', 'fz-b/o2', 'fz-seg/seg/1', 'fz-seg/seg/2']) {
    await expectStatus(await fetch(`${url}/v1/AUTH_test/${o}`, { method: 'PUT', headers: tester, body: `content of ${o}` }), [201], `writing ${o}`);
  }
}

/** The known objects that are no longer readable or whose bytes changed. */
export async function verifyKnown(url: string, seed: number, token: string): Promise<string[]> {
  const bad: string[] = [];
  for (let i = 0; i < KNOWN; i++) {
    const want = knownContent(seed, i);
    try {
      const res = await fetch(knownPath(url, i), { headers: { 'X-Auth-Token': token } });
      const got = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) bad.push(`k${i}: GET ${res.status}`);
      else if (md5(got) !== md5(want) || res.headers.get('etag') !== md5(want)) bad.push(`k${i}: ${got.length} bytes, MD5 ${md5(got)}, ETag ${res.headers.get('etag')}; wrote ${want.length} bytes, MD5 ${md5(want)}`);
    } catch (err) {
      bad.push(`k${i}: ${(err as Error).message}`);
    }
  }
  return bad;
}

/** The requests for a seed, generated lazily in batches (same seed, same requests). */
export function* requestStream(seed: number, count: number): Generator<FuzzRequest> {
  for (let batch = 0; batch * BATCH < count; batch++) {
    const n = Math.min(BATCH, count - batch * BATCH);
    yield* fc.sample(fuzzRequest, { seed: (seed + batch * 7919) | 0, numRuns: n });
  }
}

async function healthy(host: string, port: number): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await rawExchange(host, port, Buffer.from(`GET /healthcheck HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`), { headRequest: false, timeoutMs: 10_000 });
    if (r.status === 200) return true;
    await new Promise((res) => setTimeout(res, 1000));
  }
  return false;
}

/** Sends opts.requests fuzzed requests (the cluster must already be seeded with seedCluster). */
export async function fuzzRequests(opts: FuzzOptions, tokens: FuzzTokens): Promise<Omit<FuzzResult, 'corrupted' | 'knownObjects'>> {
  const u = new URL(opts.url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 80);
  const stream = requestStream(opts.seed, opts.requests);
  const result: Omit<FuzzResult, 'corrupted' | 'knownObjects'> = { seed: opts.seed, sent: 0, durationMs: 0, byClass: {}, byStatus: {}, maxLatencyMs: 0, serverErrors: [], hangs: [], noResponse: [], unreachable: false };
  const started = performance.now();
  let seq = 0;
  let stop = false;
  const record = (n: number, req: FuzzRequest, r: RawResponse) => {
    result.sent++;
    const cls = r.status ? `${Math.floor(r.status / 100)}xx` : r.timedOut ? 'hang' : 'none';
    result.byClass[cls] = (result.byClass[cls] ?? 0) + 1;
    if (r.status) result.byStatus[r.status] = (result.byStatus[r.status] ?? 0) + 1;
    if (r.ms > result.maxLatencyMs) {
      result.maxLatencyMs = r.ms;
      result.maxLatencyRequest = req;
    }
    const finding: FuzzFinding = { seq: n, status: r.status, ms: Math.round(r.ms), request: req, ...(r.error ? { error: r.error } : {}) };
    if (r.status >= 500) result.serverErrors.push(finding);
    else if (r.timedOut) result.hangs.push(finding);
    else if (!r.status && result.noResponse.length < 20) result.noResponse.push(finding);
    if (opts.progress && result.sent % Math.max(1000, Math.round(opts.requests / 10)) === 0) {
      opts.progress(`${result.sent}/${opts.requests} requests, ${Math.round((performance.now() - started) / 1000)} s, ${JSON.stringify(result.byClass)}`);
    }
  };
  const worker = async () => {
    for (;;) {
      if (stop) return;
      const next = stream.next();
      if (next.done) return;
      const n = seq++;
      const req = next.value;
      const r = await rawExchange(host, port, requestBytes(req, tokens, `${u.host}`), { headRequest: req.method === 'HEAD', timeoutMs: opts.hangMs ?? HANG_MS });
      record(n, req, r);
      if ((r.error === 'ECONNREFUSED' || (n > 0 && n % HEALTH_EVERY === 0)) && !(await healthy(host, port))) {
        result.unreachable = true;
        stop = true;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  if (!result.unreachable && !(await healthy(host, port))) result.unreachable = true;
  result.durationMs = Math.round(performance.now() - started);
  return result;
}

/** The whole campaign: log in, seed, fuzz, verify. */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const tokens = await loginAll(opts.url);
  await seedCluster(opts.url, opts.seed, tokens);
  const before = await verifyKnown(opts.url, opts.seed, tokens.owner2);
  if (before.length) throw new Error(`known objects unreadable before fuzzing: ${before.join('; ')}`);
  const result = await fuzzRequests(opts, tokens);
  // Fresh tokens: the fuzzer may have logged users out or changed keys' validity by design.
  const after = result.unreachable ? ['cluster unreachable'] : await verifyKnown(opts.url, opts.seed, (await loginAll(opts.url)).owner2);
  return { ...result, corrupted: after, knownObjects: KNOWN };
}

/** One JSON line per finding, replayable with `npm run fuzz -- --replay '<line>'`. */
export function findingLine(kind: string, f: FuzzFinding): string {
  return JSON.stringify({ kind, seq: f.seq, status: f.status, ms: f.ms, ...(f.error ? { error: f.error } : {}), request: f.request });
}

export function summary(r: FuzzResult): string {
  const lines = [
    `seed ${r.seed}: ${r.sent} requests in ${(r.durationMs / 1000).toFixed(1)} s (${Math.round(r.sent / (r.durationMs / 1000))}/s)`,
    `by class: ${Object.entries(r.byClass).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `by status: ${Object.entries(r.byStatus).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `max latency: ${Math.round(r.maxLatencyMs)} ms`,
    `known objects: ${r.knownObjects - r.corrupted.length}/${r.knownObjects} intact`,
    `cluster reachable afterwards: ${r.unreachable ? 'NO' : 'yes'}`,
  ];
  for (const c of r.corrupted) lines.push(`CORRUPTED ${c}`);
  for (const f of r.serverErrors) lines.push(findingLine('5xx', f));
  for (const f of r.hangs) lines.push(findingLine('hang', f));
  // Not failures (Node drops CONNECT and upgrade requests without a word): a short sample.
  for (const f of r.noResponse.slice(0, 5)) {
    const line = findingLine('no-response', f);
    lines.push(line.length > 400 ? `${line.slice(0, 400)}...` : line);
  }
  lines.push(fuzzFailed(r) ? 'FAILED' : 'OK');
  return lines.join('\n');
}

export const USAGE = `Usage: npm run fuzz -- [options]

  --requests N     requests to send (default 10000)
  --seed S         fast-check seed (default: random, printed)
  --url URL        fuzz this proxy (development users required) instead of a fresh in-process cluster
  --concurrency C  concurrent connections (default 4)
  --replay LINE    send the request of one printed JSON line again and print the answer
  --verbose        (in-process cluster) log the proxy's errors to stderr`;

async function replay(url: string, line: string): Promise<void> {
  const parsed = JSON.parse(line) as { request?: FuzzRequest } & FuzzRequest;
  const req = parsed.request ?? parsed;
  const tokens = await loginAll(url);
  const u = new URL(url);
  const r = await rawExchange(u.hostname, Number(u.port || 80), requestBytes(req, tokens, u.host), { headRequest: req.method === 'HEAD', timeoutMs: HANG_MS });
  console.log(`status ${r.status}${r.error ? ` (${r.error})` : ''} in ${Math.round(r.ms)} ms`);
  for (const [k, v] of r.headers) console.log(`${k}: ${v}`);
  console.log(r.body.subarray(0, 2000).toString('latin1'));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '10000' },
      seed: { type: 'string' },
      url: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      replay: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const requests = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (!Number.isInteger(requests) || requests < 1 || !Number.isInteger(concurrency) || concurrency < 1 || !Number.isInteger(seed)) {
    console.error(USAGE);
    return 2;
  }
  let cluster: TestCluster | undefined;
  if (!values.url) {
    // An uncaught exception in the in-process cluster is a crash: report it, not just die.
    process.on('uncaughtException', (err) => {
      console.error(`CRASH: uncaught exception in the cluster: ${err.stack ?? err}`);
      console.error(`FAILED (seed ${seed})`);
      process.exit(3);
    });
    cluster = await startCluster(values.verbose ? { logger: pino({ level: 'error' }, pino.destination(2)) } : {});
  }
  const url = values.url ?? cluster!.url;
  try {
    if (values.replay) {
      await replay(url, values.replay);
      return 0;
    }
    console.log(`fuzzing ${url}: ${requests} requests, seed ${seed}, ${concurrency} connections`);
    const result = await runFuzz({ url, requests, seed, concurrency, progress: (l) => console.error(l) });
    console.log(summary(result));
    return fuzzFailed(result) ? 1 : 0;
  } finally {
    await cluster?.stop();
  }
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
