/**
 * Disk full (issue 14), simulated by ./full-disk (no root needed): the object server answers
 * 507 as Swift's does for DiskFileNoSpace, leaves no temp or .data file behind, never stalls a
 * sender, and a DELETE still works because a tombstone needs no data block. Through the proxy,
 * three 507s are no quorum: 503, at once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { makeDevices } from '../../helpers/tmp';
import { startObjectServer, type RunningObjectServer } from '../../../servers/object/server';
import { startCluster, type TestCluster } from '../../../src/testing/index';
import { call } from '../../proxy/helpers';
import { req, testConf, ts, walk } from './helpers';
import { simulateFullDisk, type FullDisk } from './full-disk';

const NOW = Math.floor(Date.now() / 1000);
let seq = 0;
const next = () => ts(NOW + ++seq);
const objectFiles = (dir: string) => walk(dir).filter((f) => /(^|\/)(objects|tmp)\//.test(f));

describe('object server on a full disk', () => {
  let devs: ReturnType<typeof makeDevices>;
  let srv: RunningObjectServer;
  let disk: FullDisk;
  beforeAll(async () => {
    devs = makeDevices(['sda']);
    srv = await startObjectServer({ devices: devs.dir, swiftConf: testConf(), updaterInterval: 0 });
    disk = await simulateFullDisk(devs.dir);
  });
  afterEach(() => {
    disk.full = false;
  });
  afterAll(async () => {
    disk?.restore();
    await srv?.close();
    devs?.remove();
  });

  it.each([10, 200_000, 3_000_000])('answers a %i-byte PUT 507 at once and leaves no file', async (size) => {
    const before = objectFiles(devs.dir);
    disk.full = true;
    const t0 = Date.now();
    const r = await req(srv.url, 'PUT', `/sda/1/a/c/o${size}`, { 'X-Timestamp': next(), 'Content-Type': 'x', 'Content-Length': size }, Buffer.alloc(size, 1));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.status).toBe(507);
    expect(r.body.toString()).toContain('sda');
    expect(disk.refused).toBeGreaterThan(0);
    // Only tmp/ may have appeared (empty); no temp file, no .data.
    expect(objectFiles(devs.dir).filter((f) => !before.includes(f))).toEqual([]);
  });

  it('deletes on a full disk with an empty tombstone, freeing the .data', async () => {
    const put = await req(srv.url, 'PUT', '/sda/2/a/c/keep', { 'X-Timestamp': next(), 'Content-Type': 'x', 'Content-Length': 5 }, 'hello');
    expect(put.status).toBe(201);
    disk.full = true;
    const delTs = next();
    const del = await req(srv.url, 'DELETE', '/sda/2/a/c/keep', { 'X-Timestamp': delTs });
    expect(del.status).toBe(204);
    const files = objectFiles(devs.dir).filter((f) => f.includes('/2/'));
    expect(files.map((f) => f.split('/').pop())).toEqual([`${delTs}.ts`]);
    disk.full = false;
    const head = await req(srv.url, 'HEAD', '/sda/2/a/c/keep');
    expect(head.status).toBe(404);
    expect(head.headers['x-backend-timestamp']).toBe(delTs);
  });

  it('answers a DELETE 507 when not even the tombstone can be made (as Swift)', async () => {
    // A new partition: its directories do not exist and need blocks.
    disk.full = true;
    const del = await req(srv.url, 'DELETE', '/sda/3/a/c/none', { 'X-Timestamp': next() });
    expect(del.status).toBe(507);
    expect(objectFiles(devs.dir).filter((f) => f.includes('/3/') || f.startsWith('sda/tmp/'))).toEqual([]);
  });
});

describe('proxy in front of full disks', () => {
  let cl: TestCluster;
  let disk: FullDisk;
  let h: Record<string, string>;
  beforeAll(async () => {
    cl = await startCluster({ replicas: 3 });
    disk = await simulateFullDisk(join(cl.dataDir, 'node'));
    const auth = await call(cl.url, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' });
    h = { 'X-Auth-Token': String(auth.headers['x-auth-token']) };
    expect((await call(cl.url, 'PUT', '/v1/AUTH_test/full', h)).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    disk?.restore();
    await cl?.stop();
  });

  it('answers every PUT 503 quickly (three 507s are no quorum) and DELETE 204 frees space', async () => {
    expect((await call(cl.url, 'PUT', '/v1/AUTH_test/full/keep', h, { body: 'x'.repeat(1000) })).status).toBe(201);
    const nodes = join(cl.dataDir, 'node');
    const before = objectFiles(nodes);
    disk.full = true;
    // The issue saw a 10.5 s hang every other PUT (keep-alive connections to a server that stopped reading).
    for (const size of [10, 200_000, 200_000, 200_000, 3_000_000, 10]) {
      const t0 = Date.now();
      const r = await call(cl.url, 'PUT', `/v1/AUTH_test/full/o${size}`, h, { body: 'y'.repeat(size) });
      expect(r.status, `PUT ${size}`).toBe(503);
      expect(Date.now() - t0, `PUT ${size}`).toBeLessThan(3000);
    }
    expect(objectFiles(nodes)).toEqual(before);
    const del = await call(cl.url, 'DELETE', '/v1/AUTH_test/full/keep', h);
    expect(del.status).toBe(204);
    const left = objectFiles(nodes);
    expect(left.filter((f) => f.endsWith('.data'))).toEqual([]);
    expect(left.filter((f) => f.endsWith('.ts'))).toHaveLength(3);
    expect((await call(cl.url, 'GET', '/v1/AUTH_test/full/keep', h)).status).toBe(404);
  }, 60_000);
});
