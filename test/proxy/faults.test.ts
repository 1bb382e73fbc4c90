/**
 * The proxy under replica faults: rings whose three replicas are fake servers (sluice/testing's
 * startFakeServer) forwarding to real account, container and object servers, each of which can
 * be told to fail: answer 5xx, hang, stall mid-body, reset, send a short body, be slow, or refuse.
 *
 * - one replica failing: every operation still succeeds, with whole bodies and right ETags;
 * - two failing: writes answer 503 within a bound derived from conn_timeout and node_timeout,
 *   and nothing half-written can be read afterwards;
 * - GET resumption (Swift's GetOrHeadHandler): a replica failing mid-body hands over to the next
 *   with a Range for the bytes still owed; when none can continue, the client's connection is cut.
 */
import pino from 'pino';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeDevices } from '../helpers/tmp';
import { startAccountServer, startContainerServer, startObjectServer, type RunningServer } from '../../servers/index';
import { parseSwiftConf } from '../../src/common/swift-conf';
import { backendPath } from '../../src/common/backend-client';
import { buildRing, Ring } from '../../src/common/ring';
import { parseProxyConfig } from '../../src/proxy/config';
import { startProxyServer, type RunningProxy } from '../../src/proxy/server';
import { startFakeServer, type FakeBehaviour, type FakeRequestInfo, type FakeServer } from '../../src/testing/index';
import { call, directTs, proxyConf, uniq } from './helpers';

// Short enough to keep hangs cheap, long enough for storage servers on a loaded 2-core machine
// with a few tests running at once. The storage servers give up on their own account and
// container updates sooner (Swift: container_update_timeout 1 s against node_timeout 10 s), so
// a hanging container replica cannot hold an object PUT past the proxy's node_timeout.
const CONN_TIMEOUT = 0.5;
const NODE_TIMEOUT = 2;
const SERVER_UPDATE_TIMEOUT = 0.5;
/**
 * Generous: a write asks every replica at once, each failing within conn_timeout + node_timeout
 * (undici's timers fire up to a second late); twice that, and three seconds for a busy machine.
 */
const WRITE_503_BOUND_MS = (2 * (CONN_TIMEOUT + NODE_TIMEOUT + 1) + 3) * 1000;

type Kind = 'account' | 'container' | 'object';
const KINDS: Kind[] = ['account', 'container', 'object'];
const PASS: FakeBehaviour = { kind: 'pass' };
const REFUSE: FakeBehaviour = { kind: 'refuse' };
const swiftConf = parseSwiftConf('[swift-hash]\nswift_hash_path_suffix = faults-test\n\n[storage-policy:0]\nname = gold\ndefault = yes\n');
const devices = makeDevices(['d1', 'd2', 'd3']);
const real = {} as Record<Kind, RunningServer>;
/** fakes[kind][i] serves device d(i+1) of that ring, forwarding to the real server. */
const fakes = {} as Record<Kind, FakeServer[]>;
/**
 * Faults by account, per fake: a test fails only its own account's requests (the proxy's and
 * the storage servers' updates alike), so the tests of a group can run at once.
 */
const faults = {} as Record<Kind, Map<string, FakeBehaviour>[]>;
const rings = {} as Record<Kind, Ring>;
let proxy: RunningProxy;
let url: string;
/** Figures for docs/reliability.md, written to $SLUICE_FAULT_FIGURES when set. */
const figures: Record<string, unknown>[] = [];

const BIG = randomBytes(150_000);
const SMALL = randomBytes(20_000);
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** The fault a fake applies: the one set for the request's account, else none. */
function byAccount(kind: Kind, i: number): (req: FakeRequestInfo) => FakeBehaviour {
  return (req) => faults[kind][i]!.get(decodeURIComponent(req.path.split('?')[0]!.split('/')[3] ?? '')) ?? PASS;
}

beforeAll(async () => {
  const common = { devices: devices.dir, swiftConf, nodeTimeout: SERVER_UPDATE_TIMEOUT, connTimeout: SERVER_UPDATE_TIMEOUT };
  real.account = await startAccountServer(common);
  real.container = await startContainerServer(common);
  real.object = await startObjectServer(common);
  for (const kind of KINDS) {
    fakes[kind] = [];
    faults[kind] = [];
    for (let i = 0; i < 3; i++) {
      faults[kind].push(new Map());
      fakes[kind].push(await startFakeServer({ behaviour: byAccount(kind, i), upstream: `http://127.0.0.1:${real[kind].port}` }));
    }
    rings[kind] = new Ring(
      null,
      buildRing({
        partPower: 4,
        replicas: 3,
        devices: fakes[kind].map((f, i) => ({ region: 1, zone: i + 1, ip: '127.0.0.1', port: f.port, device: `d${i + 1}` })),
      }),
      swiftConf.hash,
    );
  }
  // Account and container info is cached as by default: the client's own account and
  // container requests still reach the replicas, without a lookup before each of them.
  const config = parseProxyConfig(proxyConf({ conn_timeout: String(CONN_TIMEOUT), node_timeout: String(NODE_TIMEOUT) }));
  proxy = await startProxyServer({
    config,
    rings: { account: rings.account, container: rings.container, object: new Map([[0, rings.object]]) },
    swiftConf,
    port: 0,
    logger: pino({ level: 'silent' }),
  });
  url = proxy.url;
});

afterAll(async () => {
  await proxy?.close();
  for (const kind of KINDS) for (const f of fakes[kind] ?? []) await f.close();
  for (const kind of KINDS) await real[kind]?.close();
  devices.remove();
  if (process.env.SLUICE_FAULT_FIGURES) writeFileSync(process.env.SLUICE_FAULT_FIGURES, JSON.stringify(figures, null, 1));
});

interface Replica {
  fake: FakeServer;
  device: string;
  part: number;
  /** Fails this replica for account `a` (refuse: the whole server stops listening). */
  fail(a: string, b: FakeBehaviour): Promise<void>;
  /** Undoes fail(). */
  heal(a: string): Promise<void>;
}

/** The primaries of a name, in the order the proxy reads them. */
function replicas(kind: Kind, a: string, c?: string, o?: string): Replica[] {
  const ring = rings[kind];
  const part = ring.getPart(a, c, o);
  return ring.getPartNodes(part).map((n) => {
    const i = Number(n.device.slice(1)) - 1;
    const fake = fakes[kind][i]!;
    return {
      fake,
      device: n.device,
      part,
      fail: async (acct, b) => {
        if (b.kind === 'refuse') await fake.setBehaviour(b);
        else faults[kind][i]!.set(acct, b);
      },
      heal: async (acct) => {
        faults[kind][i]!.delete(acct);
        await fake.setBehaviour(byAccount(kind, i));
      },
    };
  });
}

/** A container with an object in it, written while every replica is up. */
async function seed(body: Buffer): Promise<{ a: string; path: string; o: string }> {
  const a = uniq('AUTH_f');
  expect((await call(url, 'PUT', `/v1/${a}/c`)).status).toBe(201);
  const put = await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': String(body.length) }, { body });
  expect(put.status).toBe(201);
  return { a, o: 'o', path: `/v1/${a}/c/o` };
}

/** The backend GETs a fake saw for an object, as `GET <range or ->` lines. */
function seen(fake: FakeServer, path: string): string[] {
  return fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith(path)).map((r) => `${r.method} ${r.headers.range ?? '-'}`);
}

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, ms: Math.round(performance.now() - t0) };
}

/**
 * Faults chosen per request (by account); `refuse` closes a whole port and has its own group, and
 * a stall mid-body (hang-after-headers) is among the GET resumption cases.
 */
const ONE_DOWN: [string, FakeBehaviour][] = [
  ['503', { kind: 'status', status: 503 }],
  ['507', { kind: 'status', status: 507 }],
  ['hang', { kind: 'hang' }],
  ['reset on request', { kind: 'reset', after: 1000, on: 'request' }],
  ['reset on response', { kind: 'reset', after: 1000, on: 'response' }],
  ['short body', { kind: 'short-body', bytes: 1000 }],
  ['slow', { kind: 'slow', bytesPerSecond: 1_000_000 }],
];
/** Faults mid-body: worth a small object too (read whole before the answer starts). */
const BODY_FAULTS = new Set(['reset on response', 'short body']);

async function oneObjectReplicaDown(name: string, behaviour: FakeBehaviour): Promise<void> {
  const a = uniq('AUTH_f');
  expect((await call(url, 'PUT', `/v1/${a}/c`)).status).toBe(201);
  const objects = BODY_FAULTS.has(name) ? ([['big', BIG], ['small', SMALL]] as const) : ([['big', BIG]] as const);
  for (const [o, body] of objects) {
    // The replica the proxy reads first is the one that fails (it is also one of the three written).
    const [first] = replicas('object', a, 'c', o);
    await first!.fail(a, behaviour);
    const before = first!.fake.requests.length;
    const put = await timed(() => call(url, 'PUT', `/v1/${a}/c/${o}`, { 'content-length': String(body.length) }, { body }));
    expect(put.value.status).toBe(201);
    expect(put.value.headers.etag).toBe(md5(body));
    const get = await timed(() => call(url, 'GET', `/v1/${a}/c/${o}`));
    expect(get.value.status).toBe(200);
    expect(get.value.headers.etag).toBe(md5(body));
    expect(get.value.raw.equals(body)).toBe(true);
    const head = await call(url, 'HEAD', `/v1/${a}/c/${o}`);
    expect(head.status).toBe(200);
    expect(head.headers.etag).toBe(md5(body));
    expect(head.headers['content-length']).toBe(String(body.length));
    await first!.heal(a);
    // The failing replica was asked (PUT, then GET first), unless nothing listened there.
    if (behaviour.kind !== 'refuse') expect(first!.fake.requests.length).toBeGreaterThanOrEqual(before + 2);
    figures.push({ case: `one object replica: ${name}`, object: o, putMs: put.ms, getMs: get.ms });
  }
}

async function oneAccountReplicaDown(name: string, behaviour: FakeBehaviour): Promise<void> {
  const a = uniq('AUTH_f');
  // Reads go to the first primary: that is the one failing.
  const [replica] = replicas('account', a);
  await replica!.fail(a, behaviour);
  const t0 = performance.now();
  expect((await call(url, 'PUT', `/v1/${a}`)).status).toBe(201);
  expect((await call(url, 'POST', `/v1/${a}`, { 'X-Account-Meta-Colour': 'blue' })).status).toBe(204);
  expect((await call(url, 'PUT', `/v1/${a}/c`)).status).toBe(201);
  const head = await call(url, 'HEAD', `/v1/${a}`);
  expect(head.status).toBe(204);
  expect(head.headers['x-account-meta-colour']).toBe('blue');
  expect(head.headers['x-account-container-count']).toBe('1');
  const listing = await call(url, 'GET', `/v1/${a}?format=json`);
  expect(listing.status).toBe(200);
  expect(JSON.parse(listing.text).map((e: { name: string }) => e.name)).toEqual(['c']);
  const ms = Math.round(performance.now() - t0);
  await replica!.heal(a);
  figures.push({ case: `one account replica: ${name}`, operations: 5, totalMs: ms });
}

async function oneContainerReplicaDown(name: string, behaviour: FakeBehaviour): Promise<void> {
  const a = uniq('AUTH_f');
  const [replica] = replicas('container', a, 'c');
  await replica!.fail(a, behaviour);
  const t0 = performance.now();
  expect((await call(url, 'PUT', `/v1/${a}/c`)).status).toBe(201);
  expect((await call(url, 'POST', `/v1/${a}/c`, { 'X-Container-Meta-Size': 'large' })).status).toBe(204);
  expect((await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '5' }, { body: 'hello' })).status).toBe(201);
  const head = await call(url, 'HEAD', `/v1/${a}/c`);
  expect(head.status).toBe(204);
  expect(head.headers['x-container-meta-size']).toBe('large');
  const listing = await call(url, 'GET', `/v1/${a}/c`);
  expect(listing.status).toBe(200);
  expect(listing.text).toBe('o\n');
  expect((await call(url, 'DELETE', `/v1/${a}/c/o`)).status).toBe(204);
  expect((await call(url, 'DELETE', `/v1/${a}/c`)).status).toBe(204);
  const ms = Math.round(performance.now() - t0);
  await replica!.heal(a);
  figures.push({ case: `one container replica: ${name}`, operations: 7, totalMs: ms });
}

async function twoReplicasDown(name: string, behaviour: FakeBehaviour): Promise<void> {
  const { a } = await seed(SMALL);
  const objectReplicas = replicas('object', a, 'c', 'new');
  const failing = [...objectReplicas.slice(0, 2), ...replicas('container', a, 'c2').slice(0, 2), ...replicas('account', a).slice(0, 2)];
  for (const r of objectReplicas.slice(0, 2)) await r.fail(a, behaviour);
  // Requests without a body are cut as soon as they arrive.
  const bodiless = behaviour.kind === 'reset' ? { ...behaviour, after: 0 } : behaviour;
  for (const r of failing.slice(2)) await r.fail(a, bodiless);

  const put = await timed(() => call(url, 'PUT', `/v1/${a}/c/new`, { 'content-length': String(BIG.length) }, { body: BIG }));
  expect(put.value.status).toBe(503);
  expect(put.ms).toBeLessThan(WRITE_503_BOUND_MS);
  const cput = await timed(() => call(url, 'PUT', `/v1/${a}/c2`));
  expect(cput.value.status).toBe(503);
  expect(cput.ms).toBeLessThan(WRITE_503_BOUND_MS);
  const apost = await timed(() => call(url, 'POST', `/v1/${a}`, { 'X-Account-Meta-X': '1' }));
  expect(apost.value.status).toBe(503);
  expect(apost.ms).toBeLessThan(WRITE_503_BOUND_MS);
  figures.push({ case: `two replicas: ${name}`, objectPutMs: put.ms, containerPutMs: cput.ms, accountPostMs: apost.ms, boundMs: WRITE_503_BOUND_MS });

  // Every replica back: the one replica that did store the object may serve it, whole.
  for (const r of failing) await r.heal(a);
  const get = await call(url, 'GET', `/v1/${a}/c/new`);
  expect([200, 404]).toContain(get.status);
  if (get.status === 200) {
    expect(get.raw.equals(BIG)).toBe(true);
    expect(get.headers.etag).toBe(md5(BIG));
  }
  // And no replica holds a partial copy.
  for (const r of objectReplicas) {
    const direct = await call(`http://127.0.0.1:${real.object.port}`, 'GET', backendPath({ device: r.device }, r.part, `/${a}/c/new`), { 'x-backend-storage-policy-index': '0' });
    expect([200, 404]).toContain(direct.status);
    if (direct.status === 200) expect(direct.raw.equals(BIG)).toBe(true);
  }
}

// The tests of this group run a few at a time (faults are per account), overlapping the waits
// for hanging replicas; more at once and the servers, all in this one process, fall behind
// node_timeout on a loaded machine.
vi.setConfig({ maxConcurrency: 2 });

describe.concurrent('replica faults', () => {
  it.each(ONE_DOWN)('one object replica, %s: PUT 201, GET and HEAD 200 with the whole body and its ETag', oneObjectReplicaDown);
  // Account and container reads share one path (a hang costs node_timeout per read: once is enough).
  const pick = (...names: string[]) => ONE_DOWN.filter(([name]) => names.includes(name));
  it.each(pick('503', 'short body'))('one account replica, %s: every operation succeeds', oneAccountReplicaDown);
  it.each(pick('503', 'hang', 'short body'))('one container replica, %s: every operation succeeds', oneContainerReplicaDown);
  it.each(pick('503', 'hang', 'reset on request'))('two replicas, %s: writes answer 503 in bounded time, and nothing half-written is readable', twoReplicasDown);

  // GET resumption from the next replica.
  const tail = (from: number) => `GET bytes=${from}-${BIG.length - 1}`;

  /** Fails the first replica of a new object, GETs it (whole, right ETag): the GETs the second saw. */
  async function getWithFirstFailing(behaviour: FakeBehaviour): Promise<{ ms: number; asked: string[] }> {
    const { a, path } = await seed(BIG);
    const [first, second] = replicas('object', a, 'c', 'o');
    await first!.fail(a, behaviour);
    const get = await timed(() => call(url, 'GET', path));
    expect(get.value.status).toBe(200);
    expect(get.value.headers.etag).toBe(md5(BIG));
    expect(get.value.raw.equals(BIG)).toBe(true);
    return { ms: get.ms, asked: seen(second!.fake, `/${a}/c/o`) };
  }

  it('reset after N bytes: the next replica sends the rest', async () => {
    const { ms, asked } = await getWithFirstFailing({ kind: 'reset', after: 60_000, on: 'response' });
    // Asked from the first byte the proxy had not received (at most the 60,000 sent).
    expect(asked).toHaveLength(1);
    const from = Number(/bytes=(\d+)-/.exec(asked[0]!)![1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(60_000);
    expect(asked[0]).toBe(tail(from));
    figures.push({ case: 'resume: reset', resumedAt: from, getMs: ms });
  });

  it('short body: the next replica is asked for exactly the missing bytes', async () => {
    const { ms, asked } = await getWithFirstFailing({ kind: 'short-body', bytes: 70_000 });
    expect(asked).toEqual([tail(70_000)]);
    figures.push({ case: 'resume: short body', resumedAt: 70_000, getMs: ms });
  });

  it('a replica that stalls mid-body past node_timeout: the next replica sends the rest', async () => {
    const { ms, asked } = await getWithFirstFailing({ kind: 'hang-after-headers', afterBytes: 80_000 });
    expect(asked).toEqual([tail(80_000)]);
    expect(ms).toBeGreaterThanOrEqual(NODE_TIMEOUT * 1000 - 50);
    figures.push({ case: 'resume: stall', resumedAt: 80_000, getMs: ms, nodeTimeoutMs: NODE_TIMEOUT * 1000 });
  });

  it('a small object (read whole before answering) resumes too', async () => {
    const { a, path } = await seed(SMALL);
    const [first, second] = replicas('object', a, 'c', 'o');
    await first!.fail(a, { kind: 'short-body', bytes: 5000 });
    const get = await call(url, 'GET', path);
    expect(get.status).toBe(200);
    expect(get.raw.equals(SMALL)).toBe(true);
    expect(seen(second!.fake, `/${a}/c/o`)).toEqual([`GET bytes=5000-${SMALL.length - 1}`]);
  });

  it('a client range resumes within the range', async () => {
    const { a, path } = await seed(BIG);
    const [first, second, third] = replicas('object', a, 'c', 'o');
    await first!.fail(a, { kind: 'short-body', bytes: 50_000 });
    const get = await call(url, 'GET', path, { range: 'bytes=1000-120000' });
    expect(get.status).toBe(206);
    expect(get.headers['content-range']).toBe(`bytes 1000-120000/${BIG.length}`);
    expect(get.raw.equals(BIG.subarray(1000, 120_001))).toBe(true);
    expect(seen(second!.fake, `/${a}/c/o`)).toEqual(['GET bytes=51000-120000']);

    // A suffix range is resumed in absolute bytes (learnt from the first Content-Range), and
    // a second failure moves on again, to the third replica.
    await second!.fail(a, { kind: 'short-body', bytes: 10_000 });
    const suffix = await call(url, 'GET', path, { range: 'bytes=-100000' });
    expect(suffix.status).toBe(206);
    expect(suffix.raw.equals(BIG.subarray(BIG.length - 100_000))).toBe(true);
    const start = BIG.length - 100_000;
    expect(seen(second!.fake, `/${a}/c/o`).slice(1)).toEqual([`GET bytes=${start + 50_000}-${BIG.length - 1}`]);
    expect(seen(third!.fake, `/${a}/c/o`)).toEqual([`GET bytes=${start + 60_000}-${BIG.length - 1}`]);
  });

  it('never splices in another version: a replica with another ETag is skipped', async () => {
    const { a, path } = await seed(BIG);
    const [first, second, third] = replicas('object', a, 'c', 'o');
    // The second replica holds a newer version (replication has not caught up on the others).
    const other = randomBytes(BIG.length);
    const direct = await call(`http://127.0.0.1:${real.object.port}`, 'PUT', backendPath({ device: second!.device }, second!.part, `/${a}/c/o`), {
      'x-timestamp': directTs(),
      'content-type': 'application/octet-stream',
      'content-length': String(other.length),
      'x-backend-storage-policy-index': '0',
    }, { body: other });
    expect(direct.status).toBe(201);
    await first!.fail(a, { kind: 'short-body', bytes: 60_000 });
    const get = await call(url, 'GET', path);
    expect(get.status).toBe(200);
    expect(get.raw.equals(BIG)).toBe(true);
    expect(seen(second!.fake, `/${a}/c/o`)).toEqual([tail(60_000)]);
    expect(seen(third!.fake, `/${a}/c/o`)).toEqual([tail(60_000)]);
  });

  it('when no replica can continue, the client connection is cut, never a short 200', async () => {
    // Each replica sends n bytes and fails: 3n is less than the object, so nobody can finish it.
    for (const [o, body, n] of [['big', BIG, 40_000], ['small', SMALL, 5000]] as const) {
      const a = uniq('AUTH_f');
      expect((await call(url, 'PUT', `/v1/${a}/c`)).status).toBe(201);
      expect((await call(url, 'PUT', `/v1/${a}/c/${o}`, { 'content-length': String(body.length) }, { body })).status).toBe(201);
      for (const r of replicas('object', a, 'c', o)) await r.fail(a, { kind: 'short-body', bytes: n });
      const cut = await call(url, 'GET', `/v1/${a}/c/${o}`).then(
        (r) => ({ complete: true, length: r.raw.length }),
        () => ({ complete: false, length: -1 }),
      );
      expect(cut).toEqual({ complete: false, length: -1 });
      // Three replicas asked: the first for everything, then two resumptions.
      const asked = replicas('object', a, 'c', o).map((r) => seen(r.fake, `/${a}/c/${o}`));
      expect(asked).toEqual([['GET -'], [`GET bytes=${n}-${body.length - 1}`], [`GET bytes=${2 * n}-${body.length - 1}`]]);
    }
  });

  it('a client gone mid-body: no other replica is asked to resume', async () => {
    const { a, path } = await seed(BIG);
    const [first, second] = replicas('object', a, 'c', 'o');
    await first!.fail(a, { kind: 'hang-after-headers', afterBytes: 80_000 });
    const u = new URL(url);
    const got = await new Promise<number>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path, agent: false }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          // Gone while the replica stalls, before node_timeout expires.
          if (n >= 60_000) {
            req.destroy();
            resolve(n);
          }
        });
      });
      req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
      req.end();
    });
    expect(got).toBeLessThan(BIG.length);
    // Past node_timeout (and undici's timer granularity): the stalled read has failed by now.
    await new Promise((r) => setTimeout(r, (NODE_TIMEOUT + 1.5) * 1000));
    expect(seen(second!.fake, `/${a}/c/o`)).toEqual([]);
  });

  it('a multipart (several ranges) answer is not resumed, and a failure cuts the connection', async () => {
    const { a, path } = await seed(BIG);
    const [first] = replicas('object', a, 'c', 'o');
    const ok = await call(url, 'GET', path, { range: 'bytes=0-9,100000-100009' });
    expect(ok.status).toBe(206);
    expect(ok.headers['content-type']).toMatch(/^multipart\/byteranges/);
    await first!.fail(a, { kind: 'short-body', bytes: 50 });
    await expect(call(url, 'GET', path, { range: 'bytes=0-9,100000-100009' })).rejects.toThrow();
  });
});

// A port with nothing listening refuses every account's connections: one test at a time.
describe('replicas with nothing listening', () => {
  it('one object replica: PUT 201, GET and HEAD 200', () => oneObjectReplicaDown('refuse', REFUSE));
  it('one account replica: every operation succeeds', () => oneAccountReplicaDown('refuse', REFUSE));
  it('one container replica: every operation succeeds', () => oneContainerReplicaDown('refuse', REFUSE));
  it('two replicas: writes answer 503 in bounded time', () => twoReplicasDown('refuse', REFUSE));
});
