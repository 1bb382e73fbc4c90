import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeDevices } from '../../helpers/tmp';
import { hashPath } from '../../../src/common/hash-path';
import { startObjectServer, type RunningObjectServer } from '../../../servers/object/server';
import { fakeContainer, req, testConf, ts, walk } from './helpers';

const conf = testConf();
const NOW = Math.floor(Date.now() / 1000);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(opts: { nodeTimeout?: number; connTimeout?: number; containerUpdateTimeout?: number } = {}) {
  const devs = makeDevices(['sda']);
  const srv = await startObjectServer({ devices: devs.dir, swiftConf: conf, updaterInterval: 0, ...opts });
  cleanups.push(() => devs.remove(), () => srv.close());
  return { devs, srv };
}

/** A port nothing listens on (bound then released). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const pendingDir = (dir: string) => join(dir, 'sda', 'async_pending');

describe('container updates', () => {
  it('PUT sends the row to every container replica with Swift headers', async () => {
    const { srv, devs } = await setup();
    const c1 = await fakeContainer();
    const c2 = await fakeContainer();
    cleanups.push(() => c1.close(), () => c2.close());
    const t = ts(NOW);
    const r = await req(
      srv.url,
      'PUT',
      '/sda/3/a/c/dir/ob%20j',
      {
        'X-Timestamp': t,
        'Content-Type': 'text/plain',
        'Content-Length': 4,
        'X-Container-Host': `${c1.host}:${c1.port}, ${c2.host}:${c2.port}`,
        'X-Container-Device': 'sdc,sdd',
        'X-Container-Partition': '42',
        'X-Trans-Id': 'tx123',
        'X-Backend-Storage-Policy-Index': '1',
      },
      'data',
    );
    expect(r.status).toBe(201);
    await srv.settle();
    expect(c1.calls).toHaveLength(1);
    expect(c2.calls).toHaveLength(1);
    const [u] = c1.calls;
    expect(u!.method).toBe('PUT');
    expect(u!.url).toBe('/sdc/42/a/c/dir/ob%20j');
    expect(c2.calls[0]!.url).toBe('/sdd/42/a/c/dir/ob%20j');
    expect(u!.headers['x-size']).toBe('4');
    expect(u!.headers['x-content-type']).toBe('text/plain');
    expect(u!.headers['x-etag']).toBe('8d777f385d3dfec8815d20f7496026dc');
    expect(u!.headers['x-timestamp']).toBe(t);
    expect(u!.headers['x-trans-id']).toBe('tx123');
    expect(u!.headers['x-backend-storage-policy-index']).toBe('1');
    expect(u!.headers['user-agent']).toBe(`object-server ${process.pid}`);
    expect(u!.headers.referer).toMatch(/^PUT http:\/\/.*\/sda\/3\/a\/c\/dir\/ob%20j$/);
    expect(existsSync(pendingDir(devs.dir))).toBe(false);
  });

  it('DELETE sends a DELETE row update; POST sends a PUT with content-type and meta timestamps', async () => {
    const { srv, devs } = await setup();
    const c = await fakeContainer();
    cleanups.push(() => c.close());
    const ch = { 'X-Container-Host': `${c.host}:${c.port}`, 'X-Container-Device': 'sdc', 'X-Container-Partition': '7' };
    const tPut = ts(NOW);
    const tPost = ts(NOW + 1);
    const tDel = ts(NOW + 2);
    expect((await req(srv.url, 'PUT', '/sda/1/a/c/o', { 'X-Timestamp': tPut, 'Content-Type': 'a/b', 'Content-Length': 1, ...ch }, 'x')).status).toBe(201);
    expect((await req(srv.url, 'POST', '/sda/1/a/c/o', { 'X-Timestamp': tPost, 'Content-Type': 'c/d', ...ch })).status).toBe(202);
    expect((await req(srv.url, 'DELETE', '/sda/1/a/c/o', { 'X-Timestamp': tDel, ...ch })).status).toBe(204);
    await srv.settle();
    expect(c.calls.map((x) => x.method)).toEqual(['PUT', 'PUT', 'DELETE']);
    const post = c.calls[1]!.headers;
    expect(post['x-timestamp']).toBe(tPut);
    expect(post['x-content-type']).toBe('c/d');
    expect(post['x-content-type-timestamp']).toBe(tPost);
    expect(post['x-meta-timestamp']).toBe(tPost);
    expect(post['x-size']).toBe('1');
    expect(post['x-etag']).toBe('9dd4e461268c8034f5c8564e155c67a6');
    const del = c.calls[2]!;
    expect(del.url).toBe('/sdc/7/a/c/o');
    expect(del.headers['x-timestamp']).toBe(tDel);
    expect(del.headers['x-size']).toBeUndefined();
    expect(walk(join(devs.dir, 'sda', 'async_pending'))).toEqual([]);
  });

  it('applies container-update override headers', async () => {
    const { srv } = await setup();
    const c = await fakeContainer();
    cleanups.push(() => c.close());
    const r = await req(srv.url, 'PUT', '/sda/1/a/c/ov', {
      'X-Timestamp': ts(NOW),
      'Content-Type': 'a/b',
      'Content-Length': 1,
      'X-Container-Host': `${c.host}:${c.port}`,
      'X-Container-Device': 'sdc',
      'X-Container-Partition': '7',
      'X-Backend-Container-Update-Override-Etag': 'override-etag',
      'X-Object-Sysmeta-Container-Update-Override-Size': '999',
    }, 'x');
    expect(r.status).toBe(201);
    await srv.settle();
    expect(c.calls[0]!.headers['x-etag']).toBe('override-etag');
    expect(c.calls[0]!.headers['x-size']).toBe('999');
  });

  it('saves an async pending when the container is down and the updater delivers it later', async () => {
    const { srv, devs } = await setup({ connTimeout: 0.5, nodeTimeout: 1 });
    const port = await freePort();
    const t = ts(NOW);
    const r = await req(srv.url, 'PUT', '/sda/1/a/c/later', {
      'X-Timestamp': t,
      'Content-Type': 'a/b',
      'Content-Length': 2,
      'X-Container-Host': `127.0.0.1:${port}`,
      'X-Container-Device': 'sdc',
      'X-Container-Partition': '9',
    }, 'hi');
    expect(r.status).toBe(201);
    await srv.settle();
    const hash = hashPath(conf.hash, 'a', 'c', 'later');
    const file = join(devs.dir, 'sda', 'async_pending', hash.slice(-3), `${hash}-${t}`);
    expect(existsSync(file)).toBe(true);
    const pending = JSON.parse(readFileSync(file, 'utf8'));
    expect(pending).toMatchObject({ op: 'PUT', account: 'a', container: 'c', obj: 'later', targets: [{ host: `127.0.0.1:${port}`, device: 'sdc', partition: '9' }] });
    expect(pending.headers['X-Timestamp']).toBe(t);
    expect(walk(join(devs.dir, 'sda', 'tmp'))).toEqual([]);

    // Still down: the pending survives a sweep.
    const s1 = await srv.updater!.runOnce();
    expect(s1.failures).toBe(1);
    expect(existsSync(file)).toBe(true);

    const c = await fakeContainer(201, port);
    cleanups.push(() => c.close());
    const s2 = await srv.updater!.runOnce();
    expect(s2.successes).toBe(1);
    expect(c.calls).toHaveLength(1);
    expect(c.calls[0]!.url).toBe('/sdc/9/a/c/later');
    expect(c.calls[0]!.headers['x-timestamp']).toBe(t);
    expect(c.calls[0]!.headers['user-agent']).toBe(`object-updater ${process.pid}`);
    expect(existsSync(file)).toBe(false);
  });

  /**
   * An object server with a 0.1 s updater interval whose DELETE left an async pending (its
   * container server answered 503), and a container server answering 204 on that port now.
   */
  async function pendingAfterFailedUpdate(opts: { backgroundSweeps?: boolean } = {}) {
    const devs = makeDevices(['sda']);
    const bad = await fakeContainer(503);
    const srv = await startObjectServer({ devices: devs.dir, swiftConf: conf, updaterInterval: 0.1, ...opts });
    cleanups.push(() => devs.remove(), () => srv.close(), () => bad.close());
    const r = await req(srv.url, 'DELETE', '/sda/1/a/c/x', {
      'X-Timestamp': ts(NOW),
      'X-Container-Host': `${bad.host}:${bad.port}`,
      'X-Container-Device': 'sdc',
      'X-Container-Partition': '1',
    });
    expect(r.status).toBe(404);
    await srv.settle();
    const pendings = () => walk(join(devs.dir, 'sda', 'async_pending'));
    expect(pendings()).toHaveLength(1);
    const port = bad.port;
    await bad.close();
    const good = await fakeContainer(204, port);
    cleanups.push(() => good.close());
    return { srv, good, pendings };
  }

  it('a non-2xx answer is a failure too, and the background updater loop retries it', async () => {
    const { good, pendings } = await pendingAfterFailedUpdate();
    for (let i = 0; i < 100 && pendings().length > 0; i++) await new Promise((res) => setTimeout(res, 50));
    expect(pendings()).toEqual([]);
    expect(good.calls[0]!.method).toBe('DELETE');
  });

  it('with backgroundSweeps false (a server worker other than the first) the loop does not run; the updater still works when asked', async () => {
    const { srv, good, pendings } = await pendingAfterFailedUpdate({ backgroundSweeps: false });
    // Ten sweep intervals: a running loop would have sent it (the test above).
    await new Promise((res) => setTimeout(res, 1000));
    expect(pendings()).toHaveLength(1);
    expect(good.calls).toEqual([]);
    expect((await srv.updater!.runOnce()).successes).toBe(1);
    expect(pendings()).toEqual([]);
  });

  it('does not hang on a container server that never answers', async () => {
    const { srv, devs } = await setup({ nodeTimeout: 0.3, containerUpdateTimeout: 0.1 });
    const sockets = new Set<import('node:net').Socket>();
    const black: Server = createServer(() => {
      /* never respond */
    });
    black.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => black.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          black.close(() => r());
        }),
    );
    const port = (black.address() as AddressInfo).port;
    const r = await req(srv.url, 'PUT', '/sda/1/a/c/slow', {
      'X-Timestamp': ts(NOW),
      'Content-Type': 'a/b',
      'Content-Length': 1,
      'X-Container-Host': `127.0.0.1:${port}`,
      'X-Container-Device': 'sdc',
      'X-Container-Partition': '1',
    }, 'x');
    expect(r.status).toBe(201);
    await srv.settle();
    expect(walk(join(devs.dir, 'sda', 'async_pending'))).toHaveLength(1);
  });

  it('newer pendings supersede older ones for the same object', async () => {
    const { srv, devs } = await setup();
    const c = await fakeContainer();
    cleanups.push(() => c.close());
    const hash = hashPath(conf.hash, 'a', 'c', 'o');
    const dir = join(devs.dir, 'sda', 'async_pending', hash.slice(-3));
    mkdirSync(dir, { recursive: true });
    const target = [{ host: `${c.host}:${c.port}`, device: 'sdc', partition: '5' }];
    const old = ts(NOW);
    const newer = ts(NOW + 1);
    writeFileSync(join(dir, `${hash}-${old}`), JSON.stringify({ op: 'PUT', account: 'a', container: 'c', obj: 'o', headers: { 'X-Timestamp': old }, targets: target }));
    writeFileSync(join(dir, `${hash}-${newer}`), JSON.stringify({ op: 'DELETE', account: 'a', container: 'c', obj: 'o', headers: { 'X-Timestamp': newer }, targets: target }));
    const stats = await srv.updater!.runOnce();
    expect(stats.successes).toBe(1);
    expect(c.calls).toHaveLength(1);
    expect(c.calls[0]!.method).toBe('DELETE');
    expect(c.calls[0]!.headers['x-timestamp']).toBe(newer);
    expect(c.calls[0]!.headers['x-backend-storage-policy-index']).toBe('0');
    expect(walk(join(devs.dir, 'sda', 'async_pending'))).toEqual([]);
  });

  it('queues expiring-object rows for X-Delete-At', async () => {
    const { srv } = await setup();
    const c = await fakeContainer();
    cleanups.push(() => c.close());
    const at = NOW + 86400 * 3;
    const r = await req(srv.url, 'PUT', '/sda/1/a/c/exp', {
      'X-Timestamp': ts(NOW),
      'Content-Type': 'a/b',
      'Content-Length': 1,
      'X-Delete-At': String(at),
      'X-Delete-At-Host': `${c.host}:${c.port}`,
      'X-Delete-At-Device': 'sdx',
      'X-Delete-At-Partition': '3',
      'X-Delete-At-Container': '1700000000',
    }, 'x');
    expect(r.status).toBe(201);
    await srv.settle();
    expect(c.calls).toHaveLength(1);
    expect(c.calls[0]!.url).toBe(`/sdx/3/.expiring_objects/1700000000/${at}-a/c/exp`);
    expect(c.calls[0]!.headers['x-size']).toBe('0');
    expect(c.calls[0]!.headers['x-content-type']).toBe('text/plain');
    expect(c.calls[0]!.headers['x-etag']).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(c.calls[0]!.headers['x-backend-storage-policy-index']).toBe('0');
  });
});
