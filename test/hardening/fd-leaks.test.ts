/**
 * Clients that go away mid-transfer leave nothing behind. Against an in-process cluster (proxy,
 * account, container and object servers, three replicas, all in this process), hundreds of
 * clients cut their connection part way: uploads with Content-Length and chunked, 4 MiB
 * downloads read partially (some after stalling), requests whose head never ends; cut with FIN
 * or with RST. Once the cluster has settled, this process's descriptors (/proc/self/fd) are
 * counted and each socket placed by its ports (/proc/net/tcp):
 *
 *  - no connection to the proxy is left (the clients' ends and the proxy's are all closed);
 *  - files (an object server still writing or reading an abandoned object holds its file open)
 *    and every socket that is neither a listener nor a storage connection are as many as before;
 *  - connections to storage servers (both ends are in this process) are at most what the
 *    keep-alive pools can hold for IN_FLIGHT requests (BACKEND_SOCKET_BOUND, 130 descriptors), a
 *    bound that does not grow with the number of interruptions (200 a round, checked after each
 *    of two rounds), and none has bytes queued either way (a download the proxy stopped reading
 *    but never ended would leave its object server's end full);
 *  - no temp file is left in the object servers' tmp directories, and no interrupted upload can
 *    be read.
 *
 * SLUICE_FD_FIGURES=<file> appends each round's counts there (for docs/reliability.md).
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../../src/testing/index';
import { call, cluster as startTestCluster } from '../proxy/helpers';

const ACCOUNT = 'AUTH_fdleak';
const CONTAINER = 'c';
/** Requests in flight at once (whole ones while warming up, interrupted ones after). */
const IN_FLIGHT = 8;
/**
 * Storage connections kept alive that IN_FLIGHT requests can account for (undici pools keep up to
 * as many connections as were ever busy at once), per request: the proxy's to the object server
 * (three replicas), the object server's container updates (one per replica written), the proxy's
 * container and account lookups when its info cache misses (one node at a time); and the
 * container server's account update for the container's PUT.
 */
const POOL_CONNECTIONS = IN_FLIGHT * (3 + 3 + 2) + 1;
/** Both ends of each are in this process. */
const BACKEND_SOCKET_BOUND = 2 * POOL_CONNECTIONS;
const UPLOAD_DECLARED = 2 * 1024 * 1024;
const BIG = randomBytes(4 * 1024 * 1024);
const SETTLE_DEADLINE_MS = 20_000;

let c: TestCluster;

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Socket inode -> local and remote port and TCP state, from /proc/net/tcp and tcp6. */
function tcpSockets(): Map<string, { local: number; remote: number; listening: boolean; queued: boolean }> {
  const out = new Map<string, { local: number; remote: number; listening: boolean; queued: boolean }>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const port = (addr: string) => parseInt(addr.slice(addr.lastIndexOf(':') + 1), 16);
      // tx_queue:rx_queue, in hex.
      out.set(f[9]!, { local: port(f[1]!), remote: port(f[2]!), listening: f[3] === '0A', queued: /[1-9a-f]/i.test(f[4]!) });
    }
  }
  return out;
}

interface FdCount {
  total: number;
  files: number;
  listeners: number;
  /** Connections with the proxy's port at either end. */
  client: number;
  /** Connections with a storage server's port at either end. */
  backend: number;
  /** Those with bytes waiting in a queue, to send or to be read. */
  backendQueued: number;
  /** Every other socket (pipes to vitest, Unix sockets, ...). */
  otherSockets: number;
}

function countFds(): FdCount {
  const tcp = tcpSockets();
  const storagePorts = new Set([c.account.port, c.container.port, c.object.port]);
  const n: FdCount = { total: 0, files: 0, listeners: 0, client: 0, backend: 0, backendQueued: 0, otherSockets: 0 };
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the directory listing's own descriptor, closed by now
    }
    n.total++;
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (!m) {
      n.files++;
      continue;
    }
    const t = tcp.get(m[1]!);
    if (!t) n.otherSockets++;
    else if (t.listening) n.listeners++;
    else if (t.local === c.proxy.port || t.remote === c.proxy.port) n.client++;
    else if (storagePorts.has(t.local) || storagePorts.has(t.remote)) {
      n.backend++;
      if (t.queued) n.backendQueued++;
    }
    else n.otherSockets++;
  }
  return n;
}

/** The count once it has stayed the same for a second (or at the deadline). */
async function settledCount(): Promise<FdCount> {
  const until = performance.now() + SETTLE_DEADLINE_MS;
  let last = JSON.stringify(countFds());
  let sameSince = performance.now();
  while (performance.now() < until) {
    await sleep(200);
    const now = JSON.stringify(countFds());
    if (now !== last) {
      last = now;
      sameSince = performance.now();
    } else if (performance.now() - sameSince >= 1000) break;
  }
  return JSON.parse(last) as FdCount;
}

function tmpFiles(): string[] {
  const node = join(c.dataDir, 'node');
  const out: string[] = [];
  for (const dev of readdirSync(node)) {
    for (const sub of readdirSync(join(node, dev)).filter((s) => /^tmp(-\d+)?$/.test(s))) {
      out.push(...readdirSync(join(node, dev, sub)).map((f) => join(dev, sub, f)));
    }
  }
  return out;
}

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(c.proxy.port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Writes `b`, waiting for the socket to drain; false once the socket is gone. */
async function write(s: Socket, b: Buffer | string): Promise<boolean> {
  if (s.destroyed) return false;
  if (s.write(b)) return true;
  await new Promise<void>((r) => {
    s.once('drain', r);
    s.once('close', r);
  });
  return !s.destroyed;
}

/** Cuts the connection: RST (`reset`) or FIN, and waits for it to close. */
async function cut(s: Socket, reset: boolean): Promise<void> {
  const closed = new Promise((r) => s.once('close', r));
  if (reset) s.resetAndDestroy();
  else s.destroy();
  await closed;
}

/** A deterministic stream of choices, so a failing round can be run again the same way. */
function chooser(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

type Interruption = 'upload-length' | 'upload-chunked' | 'download' | 'download-stalled' | 'head';

/** One client that goes away part way; `name` is an upload's object name. */
async function interrupt(kind: Interruption, name: string, pick: (n: number) => number): Promise<void> {
  const s = await open();
  s.on('error', () => undefined); // the proxy may answer and close first (EPIPE, ECONNRESET)
  s.on('data', () => undefined);
  const reset = pick(2) === 0;
  if (kind === 'head') {
    await write(s, `PUT /v1/${ACCOUNT}/${CONTAINER}/${name} HTTP/1.1\r\nHost: x\r\nContent-Len`);
    await sleep(pick(20));
    return cut(s, reset);
  }
  if (kind === 'upload-length' || kind === 'upload-chunked') {
    const chunked = kind === 'upload-chunked';
    await write(s, `PUT /v1/${ACCOUNT}/${CONTAINER}/${name} HTTP/1.1\r\nHost: x\r\n${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${UPLOAD_DECLARED}`}\r\n\r\n`);
    // From nothing past the head to most of the body, never all of it.
    const bytes = pick(4) === 0 ? pick(1024) : pick(UPLOAD_DECLARED - 1);
    for (let sent = 0; sent < bytes; ) {
      const n = Math.min(64 * 1024, bytes - sent);
      const piece = BIG.subarray(sent, sent + n);
      if (!(await write(s, chunked ? Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece))) break;
      sent += n;
    }
    await sleep(pick(30));
    return cut(s, reset);
  }
  // Downloads: read part of a 4 MiB object, at once or after a stall with the reading paused.
  await write(s, `GET /v1/${ACCOUNT}/${CONTAINER}/big HTTP/1.1\r\nHost: x\r\n\r\n`);
  const want = pick(BIG.length - 1);
  let got = 0;
  await new Promise<void>((resolve) => {
    s.on('data', (b: Buffer) => {
      got += b.length;
      if (got >= want) resolve();
    });
    s.once('close', () => resolve());
  });
  if (kind === 'download-stalled') {
    s.pause();
    await sleep(200 + pick(300));
  }
  return cut(s, reset);
}

/** `count` interruptions of every kind, IN_FLIGHT at a time; returns the upload names. */
async function round(label: string, count: number, seed: number): Promise<string[]> {
  const pick = chooser(seed);
  const kinds: Interruption[] = ['upload-length', 'upload-chunked', 'download', 'download-stalled', 'head'];
  const jobs = Array.from({ length: count }, (_, i) => ({ kind: kinds[i % kinds.length]!, name: `${label}-${i}` }));
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        await interrupt(job.kind, job.name, pick);
      }
    }),
  );
  return jobs.filter((j) => j.kind !== 'download' && j.kind !== 'download-stalled').map((j) => j.name);
}

/** Whole transfers IN_FLIGHT at a time, so the pools hold what this load needs before counting. */
async function warmUp(): Promise<void> {
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, i) => {
      const small = randomBytes(100_000 + i);
      const put = await call(c.url, 'PUT', `/v1/${ACCOUNT}/${CONTAINER}/warm-${i}`, {}, { body: small });
      expect(put.status).toBe(201);
      const got = await call(c.url, 'GET', `/v1/${ACCOUNT}/${CONTAINER}/big`);
      expect(md5(got.raw)).toBe(md5(BIG));
    }),
  );
}

let baseline: FdCount;

beforeAll(async () => {
  c = await startTestCluster();
  expect((await call(c.url, 'PUT', `/v1/${ACCOUNT}/${CONTAINER}`)).status).toBe(201);
  expect((await call(c.url, 'PUT', `/v1/${ACCOUNT}/${CONTAINER}/big`, {}, { body: BIG })).status).toBe(201);
  await warmUp();
  baseline = await settledCount();
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe('clients that disconnect mid-upload and mid-download', () => {
  for (const [label, seed] of [
    ['first', 1203],
    ['second', 4711],
  ] as const) {
    it(`leave no descriptor, socket or temp file behind (${label} round of 200)`, async () => {
      const uploads = await round(label, 200, seed);
      const t = performance.now();
      const after = await settledCount();
      if (process.env.SLUICE_FD_FIGURES) appendFileSync(process.env.SLUICE_FD_FIGURES, `${JSON.stringify({ round: label, interruptions: 200, settleMs: Math.round(performance.now() - t), baseline, after })}\n`);
      // What the numbers were, should an assertion fail.
      const seen = { baseline, after };
      expect(after.client, JSON.stringify(seen)).toBe(0);
      expect(after.files, JSON.stringify(seen)).toBe(baseline.files);
      expect(after.otherSockets, JSON.stringify(seen)).toBe(baseline.otherSockets);
      expect(after.listeners, JSON.stringify(seen)).toBe(baseline.listeners);
      expect(after.backend, JSON.stringify(seen)).toBeLessThanOrEqual(BACKEND_SOCKET_BOUND);
      expect(after.backendQueued, JSON.stringify(seen)).toBe(0);
      expect(after.total, JSON.stringify(seen)).toBeLessThanOrEqual(baseline.total - baseline.backend - baseline.client + BACKEND_SOCKET_BOUND);

      let left = tmpFiles();
      for (const until = performance.now() + SETTLE_DEADLINE_MS; left.length && performance.now() < until; left = tmpFiles()) await sleep(200);
      expect(left).toEqual([]);
      for (const name of uploads.filter((_, i) => i % 10 === 0)) {
        expect((await call(c.url, 'HEAD', `/v1/${ACCOUNT}/${CONTAINER}/${name}`)).status, name).toBe(404);
      }
      // And the cluster still serves whole transfers.
      const got = await call(c.url, 'GET', `/v1/${ACCOUNT}/${CONTAINER}/big`);
      expect(got.status).toBe(200);
      expect(md5(got.raw)).toBe(md5(BIG));
    }, 60_000);
  }
});
