/**
 * Concurrent overwrites of one object (issue 17): an object server answers 409 (with
 * X-Backend-Timestamp) to a PUT older than what it holds, and Swift's proxy turns that into 202
 * Accepted for the client (obj.py, "Object PUT returning 202 for 409"). Here against sluice's
 * own storage servers; put-race-swift.test.ts does the same against Swift's object servers.
 */
import pino from 'pino';
import { createServer as createNetServer } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../../src/testing/index';
import { makeDevices } from '../helpers/tmp';
import { startAccountServer, startContainerServer, startObjectServer, type RunningServer } from '../../servers/index';
import { parseSwiftConf } from '../../src/common/swift-conf';
import { buildRing, Ring } from '../../src/common/ring';
import { parseProxyConfig } from '../../src/proxy/config';
import { startProxyServer, type RunningProxy } from '../../src/proxy/server';
import { Timestamp } from '../../src/common/timestamp';
import { call, cluster, direct, proxyConf, uniq, type Resp } from './helpers';
import { ACCEPTED_BODY, md5, raceBody, racePuts, statusCounts } from './put-race-helpers';

const POLICY = { 'x-backend-storage-policy-index': '0' };

/** A timestamp `seconds` from now, as object servers take it in X-Timestamp. */
const tsIn = (seconds: number) => new Timestamp(Math.round((Date.now() / 1000 + seconds) * 100_000)).internal;

function expectAccepted(r: Resp | { status: number; headers: Record<string, string | string[] | undefined>; text: string }): void {
  expect(r.status).toBe(202);
  expect(r.text).toBe(ACCEPTED_BODY);
  expect(r.headers['content-type']).toBe('text/html; charset=UTF-8');
  expect(r.headers['content-length']).toBe(String(ACCEPTED_BODY.length));
  // swob's HTTPAccepted: no ETag, no Last-Modified (the write was not stored).
  expect(r.headers.etag).toBeUndefined();
  expect(r.headers['last-modified']).toBeUndefined();
  expect(r.headers['x-backend-timestamp']).toBeUndefined();
  expect(r.headers['x-trans-id']).toMatch(/^tx/);
}

describe('concurrent PUTs of one object, sluice object servers (3 replicas)', () => {
  let cl: TestCluster;
  let a: string;
  beforeAll(async () => {
    cl = await cluster();
    a = uniq('AUTH_race');
    expect((await call(cl.url, 'PUT', `/v1/${a}/c`)).status).toBe(201);
  });
  afterAll(async () => {
    await cl?.stop();
  });

  it('answers 201 or 202 to every one of 32 racing PUTs, and keeps the newest write on every replica', async () => {
    const path = `/v1/${a}/c/raced`;
    // Container info cached first, so each PUT takes its timestamp as soon as its headers arrive.
    expect((await call(cl.url, 'HEAD', path)).status).toBe(404);
    const answers = await racePuts(cl.url, path, 32, 25);
    const counts = statusCounts(answers);
    expect(Object.keys(counts).map(Number).sort(), JSON.stringify(counts)).toEqual(Object.keys(counts).length === 1 ? [201] : [201, 202]);
    // The newest write reached the object servers first: every older one met it there.
    expect(counts[202] ?? 0, JSON.stringify(counts)).toBeGreaterThanOrEqual(16);
    const newest = answers[31]!;
    expect(newest.status).toBe(201);
    expect(newest.headers.etag).toBe(md5(raceBody(31)));
    for (const r of answers.filter((x) => x.status === 202)) expectAccepted(r);
    for (const r of answers.filter((x) => x.status === 201)) expect(r.headers.etag).toBe(md5(raceBody(r.index)));

    const got = await call(cl.url, 'GET', path);
    expect(got.status).toBe(200);
    expect(got.raw.equals(raceBody(31))).toBe(true);
    const replicas = await direct(cl.proxy.state.rings.object.get(0)!, 'HEAD', [a, 'c', 'raced'], POLICY);
    expect(replicas.map((r) => [r.status, r.headers.etag, r.headers['x-timestamp']])).toEqual(replicas.map(() => [200, `"${md5(raceBody(31))}"`, got.headers['x-timestamp']]));
  }, 60_000);

  it('answers 202 when one replica holds a newer version, though the others stored the write', async () => {
    const ring = cl.proxy.state.rings.object.get(0)!;
    const part = ring.getPart(a, 'c', 'one-newer');
    const [first] = ring.getPartNodes(part);
    const newer = tsIn(1000);
    const seeded = await call(`http://${first!.ip}:${first!.port}`, 'PUT', `/${first!.device}/${part}/${a}/c/one-newer`, {
      ...POLICY,
      'x-timestamp': newer,
      'content-type': 'text/plain',
      'content-length': '5',
    }, { body: 'newer' });
    expect(seeded.status).toBe(201);
    const put = await call(cl.url, 'PUT', `/v1/${a}/c/one-newer`, { 'content-length': '5' }, { body: 'older' });
    expectAccepted(put);
    const replicas = await direct(ring, 'HEAD', [a, 'c', 'one-newer'], POLICY);
    expect(replicas[0]!.headers['x-timestamp']).toBe(newer);
  });

  it('answers 202 when every replica holds a newer version', async () => {
    const newer = tsIn(1000);
    const ring = cl.proxy.state.rings.object.get(0)!;
    const seeded = await direct(ring, 'PUT', [a, 'c', 'all-newer'], { ...POLICY, 'x-timestamp': newer, 'content-type': 'text/plain', 'content-length': '0' });
    expect(seeded.map((r) => r.status)).toEqual([201, 201, 201]);
    // What the object servers answer the proxy: 409 with the timestamp they hold.
    const conflicts = await direct(ring, 'PUT', [a, 'c', 'all-newer'], { ...POLICY, 'x-timestamp': tsIn(0), 'content-type': 'text/plain', 'content-length': '0' });
    expect(conflicts.map((r) => [r.status, r.headers['x-backend-timestamp']])).toEqual([[409, newer], [409, newer], [409, newer]]);
    const put = await call(cl.url, 'PUT', `/v1/${a}/c/all-newer`, { 'content-length': '5' }, { body: 'older' });
    expectAccepted(put);
    // Nothing changed.
    const replicas = await direct(ring, 'HEAD', [a, 'c', 'all-newer'], POLICY);
    expect(replicas.map((r) => r.headers['x-timestamp'])).toEqual([newer, newer, newer]);
  });

  it('answers 202 for a streamed (chunked) body the replicas refuse before reading it', async () => {
    const newer = tsIn(1000);
    const ring = cl.proxy.state.rings.object.get(0)!;
    expect((await direct(ring, 'PUT', [a, 'c', 'big-newer'], { ...POLICY, 'x-timestamp': newer, 'content-type': 'text/plain', 'content-length': '0' })).map((r) => r.status)).toEqual([201, 201, 201]);
    const body = Readable.from((function* () {
      for (let i = 0; i < 64; i++) yield Buffer.alloc(64 * 1024, i);
    })());
    const put = await call(cl.url, 'PUT', `/v1/${a}/c/big-newer`, { 'transfer-encoding': 'chunked' }, { body, timeoutMs: 20_000 });
    expectAccepted(put);
    expect((await call(cl.url, 'GET', '/healthcheck')).status).toBe(200);
  });

  it('If-None-Match: * still answers 412 when a replica has the object (Swift checks that first)', async () => {
    const ring = cl.proxy.state.rings.object.get(0)!;
    const part = ring.getPart(a, 'c', 'inm');
    const [first] = ring.getPartNodes(part);
    const seeded = await call(`http://${first!.ip}:${first!.port}`, 'PUT', `/${first!.device}/${part}/${a}/c/inm`, {
      ...POLICY,
      'x-timestamp': tsIn(1000),
      'content-type': 'text/plain',
      'content-length': '0',
    });
    expect(seeded.status).toBe(201);
    const put = await call(cl.url, 'PUT', `/v1/${a}/c/inm`, { 'content-length': '5', 'if-none-match': '*' }, { body: 'older' });
    expect(put.status).toBe(412);
  });
});

describe('a 409 without a write quorum (the other replicas unreachable)', () => {
  const swiftConf = parseSwiftConf('[swift-hash]\nswift_hash_path_suffix = put-race-test\n\n[storage-policy:0]\nname = gold\ndefault = yes\n');
  const devices = makeDevices(['d1', 'd2', 'd3']);
  let servers: RunningServer[] = [];
  let proxy: RunningProxy;
  let objectRing: Ring;
  let objectPort: number;

  beforeAll(async () => {
    const common = { devices: devices.dir, swiftConf, nodeTimeout: 0.5, connTimeout: 0.2 };
    const account = await startAccountServer(common);
    const container = await startContainerServer(common);
    const object = await startObjectServer(common);
    servers = [account, container, object];
    objectPort = object.port;
    const dead = createNetServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as { port: number }).port;
    await new Promise<void>((r) => dead.close(() => r()));
    // 3 replicas over d1..d3 (no handoffs); only d1's object server is up.
    const ring = (ports: number[]) =>
      new Ring(
        null,
        buildRing({ partPower: 4, replicas: 3, devices: ports.map((port, i) => ({ region: 1, zone: i + 1, ip: '127.0.0.1', port, device: `d${i + 1}` })) }),
        swiftConf.hash,
      );
    objectRing = ring([object.port, deadPort, deadPort]);
    const config = parseProxyConfig(proxyConf({ conn_timeout: '0.2', node_timeout: '0.5' }));
    proxy = await startProxyServer({
      config,
      rings: { account: ring([account.port, account.port, account.port]), container: ring([container.port, container.port, container.port]), object: new Map([[0, objectRing]]) },
      swiftConf,
      port: 0,
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await proxy?.close();
    for (const s of servers) await s.close();
    devices.remove();
  });

  it('answers 202 from one 409 alone: Swift looks for a 409 before it counts connections', async () => {
    expect((await call(proxy.url, 'PUT', '/v1/AUTH_q/c')).status).toBe(201);
    // Without a newer version anywhere, one replica of three is no quorum: 503.
    expect((await call(proxy.url, 'PUT', '/v1/AUTH_q/c/fresh', { 'content-length': '5' }, { body: 'fresh' })).status).toBe(503);
    const part = objectRing.getPart('AUTH_q', 'c', 'o');
    const live = objectRing.getPartNodes(part).find((n) => n.port === objectPort)!;
    const seeded = await call(`http://127.0.0.1:${live.port}`, 'PUT', `/${live.device}/${part}/AUTH_q/c/o`, {
      ...POLICY,
      'x-timestamp': tsIn(1000),
      'content-type': 'text/plain',
      'content-length': '0',
    });
    expect(seeded.status).toBe(201);
    expectAccepted(await call(proxy.url, 'PUT', '/v1/AUTH_q/c/o', { 'content-length': '5' }, { body: 'older' }));
  });
});
