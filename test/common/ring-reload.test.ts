/**
 * Ring changes reach running proxies without a restart, as Swift's: each Ring re-reads its file
 * when the file's mtime has changed, checked at most once per reload_time (Swift's
 * DEFAULT_RELOAD_TIME, 15 s; swift.common.ring.Ring._reload / has_changed). scripts/multinode.sh
 * shows the same with swift-ring-builder's rings pushed to two running proxies.
 */
import { mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildRing, deserializeRing, writeRingFile, type RingData } from '../../src/common/ring';
import { loadRings } from '../../src/proxy/state';
import { loadSwiftConf } from '../../src/common/swift-conf';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { freePort } from '../helpers/memcached';
import { call } from '../proxy/helpers';

const SWIFT_RELOAD_MS = 15_000;

const ringWithPort = (port: number): RingData =>
  buildRing({ partPower: 4, replicas: 1, devices: [{ ip: '127.0.0.1', port, device: 'sda' }] });

/** Rewrites a ring file (atomically, as writeRingFile does) with an mtime `ageMs` from now. */
function rewrite(path: string, data: RingData, ageMs = 0): void {
  writeRingFile(path, data);
  const t = new Date(Date.now() + ageMs);
  utimesSync(path, t, t);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("the proxy's rings (loadRings)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-ring-reload-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("re-read a changed ring file only once Swift's 15 s reload time has passed", () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    for (const kind of ['account', 'container', 'object']) rewrite(join(dir, `${kind}.ring.gz`), ringWithPort(1000), -60_000);
    const rings = loadRings(dir, loadSwiftConf(dir, { prefix: '', suffix: 'reload-test' }));
    const all = () => [rings.account, rings.container, rings.object.get(0)!];
    for (const r of all()) expect(r.getPartNodes(0)[0]!.port).toBe(1000);
    for (const kind of ['account', 'container', 'object']) rewrite(join(dir, `${kind}.ring.gz`), ringWithPort(2000));
    vi.setSystemTime(start + SWIFT_RELOAD_MS - 1000);
    for (const r of all()) expect(r.getPartNodes(0)[0]!.port).toBe(1000);
    vi.setSystemTime(start + SWIFT_RELOAD_MS + 1000);
    for (const r of all()) expect(r.getPartNodes(0)[0]!.port).toBe(2000);
  });

  it('keep the ring they have when the mtime is unchanged, as Swift compares only the mtime', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    const path = join(dir, 'object.ring.gz');
    rewrite(path, ringWithPort(3000), -60_000);
    const mtime = new Date(Date.now() - 60_000);
    const rings = loadRings(dir, loadSwiftConf(dir, { prefix: '', suffix: 'reload-test' }));
    const ring = rings.object.get(0)!;
    writeRingFile(path, ringWithPort(4000));
    utimesSync(path, mtime, mtime);
    vi.setSystemTime(start + 2 * SWIFT_RELOAD_MS);
    expect(ring.getPartNodes(0)[0]!.port).toBe(3000);
    // Touched: read at the next check.
    const now = new Date(start + 2 * SWIFT_RELOAD_MS);
    utimesSync(path, now, now);
    vi.setSystemTime(start + 3 * SWIFT_RELOAD_MS + 1);
    expect(ring.getPartNodes(0)[0]!.port).toBe(4000);
  });
});

describe('a running proxy', () => {
  let cluster: TestCluster;
  let token = '';
  beforeAll(async () => {
    cluster = await startCluster();
    const r = await call(cluster.url, 'GET', '/auth/v1.0', { 'x-auth-user': 'test:tester', 'x-auth-key': 'testing' });
    expect(r.status).toBe(200);
    token = r.headers['x-auth-token'] as string;
    expect((await call(cluster.url, 'PUT', '/v1/AUTH_test/c', { 'x-auth-token': token })).status).toBe(201);
    expect((await call(cluster.url, 'PUT', '/v1/AUTH_test/c/o', { 'x-auth-token': token, 'content-length': '2' }, { body: 'hi' })).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('routes by a ring pushed into its swift_dir, without a restart', async () => {
    const path = join(cluster.swiftDir, 'object.ring.gz');
    const good = deserializeRing(readFileSync(path));
    const get = async () => (await call(cluster.url, 'GET', '/v1/AUTH_test/c/o', { 'x-auth-token': token })).status;
    expect(await get()).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    // Every object device moved to a port nothing listens on: once re-read, reads cannot succeed.
    const nowhere = await freePort();
    rewrite(path, { ...good, devs: good.devs.map((d) => (d ? { ...d, port: nowhere, replication_port: nowhere } : d)) }, 1000);
    expect(await get()).toBe(200);
    vi.setSystemTime(start + SWIFT_RELOAD_MS + 1000);
    expect(await get()).toBe(503);
    // The good ring back: served again at the next check.
    rewrite(path, good, 2000);
    vi.setSystemTime(start + 2 * SWIFT_RELOAD_MS + 2000);
    expect(await get()).toBe(200);
  });
});
