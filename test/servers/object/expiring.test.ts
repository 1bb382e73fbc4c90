/**
 * The object server's side of expiring objects: the DELETE the object expirer sends
 * (X-Timestamp and X-If-Delete-At at the delete-at time), and the upkeep of the
 * `.expiring_objects` queue rows (X-Backend-Clean-Expiring-Object-Queue, the queue container
 * worked out with the configured divisor when the proxy names none).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDevices } from '../../helpers/tmp';
import { expirerContainer } from '../../../src/common/expiring-objects';
import { startObjectServer } from '../../../servers/object/server';
import { fakeContainer, req, testConf, ts, walk } from './helpers';

const conf = testConf();
const NOW = Math.floor(Date.now() / 1000);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(opts: { expiringObjectsContainerDivisor?: number } = {}) {
  const devs = makeDevices(['sda']);
  const srv = await startObjectServer({ devices: devs.dir, swiftConf: conf, updaterInterval: 0, ...opts });
  cleanups.push(() => devs.remove(), () => srv.close());
  const put = (path: string, headers: Record<string, string | number>, body = 'data') =>
    req(srv.url, 'PUT', path, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), ...headers }, body);
  const pendings = () =>
    walk(join(devs.dir, 'sda', 'async_pending')).map((f) => JSON.parse(readFileSync(join(devs.dir, 'sda', 'async_pending', f), 'utf8')) as Record<string, unknown>);
  const files = (part: string) => walk(join(devs.dir, 'sda', 'objects', part));
  return { devs, srv, put, pendings, files };
}

describe('the expirer DELETE (X-If-Delete-At at the delete-at time)', () => {
  it('removes the expired object and its container row, and leaves the queue to the expirer', async () => {
    const { srv, put, pendings, files } = await setup();
    const c = await fakeContainer(204);
    cleanups.push(() => c.close());
    const at = NOW + 1000;
    expect((await put('/sda/1/a/c/o', { 'X-Timestamp': ts(NOW), 'X-Delete-At': at })).status).toBe(201);
    const atTs = ts(at);
    const r = await req(srv.url, 'DELETE', '/sda/1/a/c/o', {
      'X-Timestamp': atTs,
      'X-If-Delete-At': atTs,
      'X-Backend-Clean-Expiring-Object-Queue': 'no',
      'X-Container-Host': `${c.host}:${c.port}`,
      'X-Container-Device': 'sdc',
      'X-Container-Partition': '7',
    });
    expect(r.status).toBe(204);
    await srv.settle();
    expect(files('1').filter((f) => f.endsWith('.data'))).toEqual([]);
    expect(files('1').some((f) => f.endsWith(`${atTs}.ts`))).toBe(true);
    expect(c.calls.map((x) => [x.method, x.url, x.headers['x-timestamp']])).toEqual([['DELETE', '/sdc/7/a/c/o', atTs]]);
    expect(pendings()).toEqual([]);
  });

  it('404 without any object, 412 over an older tombstone, 409 under a newer write, 412 on another time', async () => {
    const { srv, put } = await setup();
    const at = ts(NOW + 500);
    const del = (path: string, ifAt = at) => req(srv.url, 'DELETE', path, { 'X-Timestamp': at, 'X-If-Delete-At': ifAt, 'X-Backend-Clean-Expiring-Object-Queue': 'no' });

    expect((await del('/sda/2/a/c/none')).status).toBe(404);

    expect((await put('/sda/2/a/c/tomb', { 'X-Timestamp': ts(NOW) })).status).toBe(201);
    expect((await req(srv.url, 'DELETE', '/sda/2/a/c/tomb', { 'X-Timestamp': ts(NOW + 1) })).status).toBe(204);
    const overTomb = await del('/sda/2/a/c/tomb');
    expect([overTomb.status, overTomb.body.toString()]).toEqual([412, 'X-If-Delete-At and X-Delete-At do not match']);

    expect((await put('/sda/2/a/c/newer', { 'X-Timestamp': ts(NOW + 600) })).status).toBe(201);
    expect((await del('/sda/2/a/c/newer')).status).toBe(409);
    expect((await req(srv.url, 'GET', '/sda/2/a/c/newer')).status).toBe(200);

    expect((await put('/sda/2/a/c/moved', { 'X-Timestamp': ts(NOW), 'X-Delete-At': NOW + 900 })).status).toBe(201);
    expect((await del('/sda/2/a/c/moved')).status).toBe(412);
    expect((await req(srv.url, 'HEAD', '/sda/2/a/c/moved')).status).toBe(200);
  });
});

describe('queue row upkeep', () => {
  it('a DELETE asks for the old queue row to go unless told not to', async () => {
    const { srv, put, pendings } = await setup();
    const at = NOW + 2000;
    expect((await put('/sda/3/a/c/o', { 'X-Timestamp': ts(NOW), 'X-Delete-At': at })).status).toBe(201);
    expect((await req(srv.url, 'DELETE', '/sda/3/a/c/o', { 'X-Timestamp': ts(NOW + 1), 'X-Backend-Clean-Expiring-Object-Queue': 'f' })).status).toBe(204);
    await srv.settle();
    expect(pendings()).toEqual([]);

    expect((await put('/sda/3/a/c/p', { 'X-Timestamp': ts(NOW), 'X-Delete-At': at })).status).toBe(201);
    expect((await req(srv.url, 'DELETE', '/sda/3/a/c/p', { 'X-Timestamp': ts(NOW + 1) })).status).toBe(204);
    await srv.settle();
    const queued = pendings();
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({
      op: 'DELETE',
      account: '.expiring_objects',
      container: expirerContainer(at, 86400, conf.hash, 'a', 'c', 'p'),
      obj: `${at}-a/c/p`,
    });
  });

  it('works out the queue container with its configured divisor when the proxy names none', async () => {
    const { srv, put } = await setup({ expiringObjectsContainerDivisor: 3600 });
    const c = await fakeContainer();
    cleanups.push(() => c.close());
    // Hourly and daily queue containers coincide for some times of day: take one where they differ.
    let at = NOW + 7200;
    while (expirerContainer(at, 3600, conf.hash, 'a', 'c', 'o') === expirerContainer(at, 86400, conf.hash, 'a', 'c', 'o')) at += 3600;
    const r = await put('/sda/4/a/c/o', {
      'X-Timestamp': ts(NOW),
      'X-Delete-At': at,
      'X-Delete-At-Host': `${c.host}:${c.port}`,
      'X-Delete-At-Device': 'sdq',
      'X-Delete-At-Partition': '5',
    });
    expect(r.status).toBe(201);
    await srv.settle();
    const hourly = expirerContainer(at, 3600, conf.hash, 'a', 'c', 'o');
    expect(hourly).not.toBe(expirerContainer(at, 86400, conf.hash, 'a', 'c', 'o'));
    expect(c.calls.map((x) => [x.method, x.url])).toEqual([['PUT', `/sdq/5/.expiring_objects/${hourly}/${at}-a/c/o`]]);
  });
});
