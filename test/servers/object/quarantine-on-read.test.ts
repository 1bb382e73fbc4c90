/**
 * A body read whole whose MD5 is not its ETag is quarantined after it is sent (Swift's
 * DiskFileReader), so the next read answers 404 and the proxy goes to a good replica. Ranged
 * reads, HEADs and a client that stops reading never quarantine. A file unchanged since its
 * last passing whole read is not hashed again within verifiedReadSeconds; any change is.
 */
import { closeSync, openSync, statSync, utimesSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeDevices } from '../../helpers/tmp';
import { startObjectServer, type RunningObjectServer } from '../../../servers/object/server';
import { VerifiedReads } from '../../../servers/object/verified-reads';
import { req, testConf, ts, walk } from './helpers';

const NOW = Math.floor(Date.now() / 1000);
let seq = 0;
const next = () => ts(NOW + ++seq);
let devs: ReturnType<typeof makeDevices>;
let srv: RunningObjectServer;

beforeAll(async () => {
  devs = makeDevices(['sda']);
  srv = await startObjectServer({ devices: devs.dir, swiftConf: testConf(), updaterInterval: 0 });
});
afterAll(async () => {
  await srv?.close();
  devs?.remove();
});

/** PUTs `body` at `path` and flips one byte of its .data file in place. */
async function corrupted(path: string, body: Buffer): Promise<string> {
  expect((await req(srv.url, 'PUT', path, { 'X-Timestamp': next(), 'Content-Type': 'x', 'Content-Length': body.length }, body)).status).toBe(201);
  const data = walk(devs.dir).filter((f) => f.endsWith('.data') && !f.includes('quarantined'));
  const file = join(devs.dir, data.find((f) => f.includes(`/${path.split('/')[2]}/`))!);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from([body[10]! ^ 0xff]), 0, 1, 10);
  closeSync(fd);
  return file;
}

it('quarantines an object whose whole body does not match its ETag, after serving it', async () => {
  const body = Buffer.alloc(100_000, 7);
  await corrupted('/sda/11/a/c/bad', body);
  const range = await req(srv.url, 'GET', '/sda/11/a/c/bad', { Range: 'bytes=0-99' });
  expect(range.status).toBe(206);
  expect((await req(srv.url, 'HEAD', '/sda/11/a/c/bad')).status).toBe(200);
  const first = await req(srv.url, 'GET', '/sda/11/a/c/bad');
  expect(first.status).toBe(200);
  expect(first.body.length).toBe(body.length);
  expect(first.body.equals(body)).toBe(false);
  // Quarantined once the body is sent, as Swift's DiskFileReader.close(): a client that has the
  // last byte can ask again before the rename; wait for it (at most 10 s).
  let again = await req(srv.url, 'GET', '/sda/11/a/c/bad');
  for (let i = 0; i < 100 && again.status === 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    again = await req(srv.url, 'GET', '/sda/11/a/c/bad');
  }
  expect(again.status).toBe(404);
  expect(walk(devs.dir).filter((f) => f.includes('quarantined/') && f.endsWith('.data'))).toHaveLength(1);
});

it('leaves a good object alone however often it is read', async () => {
  const body = Buffer.alloc(50_000, 3);
  expect((await req(srv.url, 'PUT', '/sda/12/a/c/good', { 'X-Timestamp': next(), 'Content-Type': 'x', 'Content-Length': body.length }, body)).status).toBe(201);
  for (let i = 0; i < 3; i++) expect((await req(srv.url, 'GET', '/sda/12/a/c/good')).body.equals(body)).toBe(true);
});

it('still quarantines a file changed in place after a whole read passed, mtime put back or not', async () => {
  const body = Buffer.alloc(80_000, 5);
  expect((await req(srv.url, 'PUT', '/sda/13/a/c/later', { 'X-Timestamp': next(), 'Content-Type': 'x', 'Content-Length': body.length }, body)).status).toBe(201);
  const file = join(devs.dir, walk(devs.dir).find((f) => f.endsWith('.data') && f.includes('/13/'))!);
  // A whole-second mtime, so that putting it back restores it to the nanosecond.
  const mtime = Math.floor(Date.now() / 1000) - 100;
  utimesSync(file, mtime, mtime);
  // Passes, so the server remembers this file as checked.
  expect((await req(srv.url, 'GET', '/sda/13/a/c/later')).body.equals(body)).toBe(true);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from([0]), 0, 1, 500);
  closeSync(fd);
  utimesSync(file, mtime, mtime);
  expect(statSync(file, { bigint: true }).mtimeNs).toBe(BigInt(mtime) * 1_000_000_000n);
  const served = await req(srv.url, 'GET', '/sda/13/a/c/later');
  expect(served.body.equals(body)).toBe(false);
  let again = served;
  for (let i = 0; i < 100 && again.status === 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    again = await req(srv.url, 'GET', '/sda/13/a/c/later');
  }
  expect(again.status).toBe(404);
});

describe('verifiedReadSeconds', () => {
  afterEach(() => vi.restoreAllMocks());

  it('skips the hash of an unchanged file read whole again within the interval', async () => {
    const has = vi.spyOn(VerifiedReads.prototype, 'has');
    const body = Buffer.alloc(70_000, 9);
    expect((await req(srv.url, 'PUT', '/sda/14/a/c/hot', { 'X-Timestamp': next(), 'Content-Type': 'x', 'Content-Length': body.length }, body)).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await req(srv.url, 'GET', '/sda/14/a/c/hot')).body.equals(body)).toBe(true);
    expect(has.mock.results.map((r) => r.value)).toEqual([false, true, true]);
    // A ranged read neither consults nor feeds it.
    expect((await req(srv.url, 'GET', '/sda/14/a/c/hot', { Range: 'bytes=0-9' })).status).toBe(206);
    expect(has).toHaveBeenCalledTimes(3);
  });

  it('0 hashes every whole read, as Swift', async () => {
    const has = vi.spyOn(VerifiedReads.prototype, 'has');
    const dir = makeDevices(['sda']);
    const plain = await startObjectServer({ devices: dir.dir, swiftConf: testConf(), updaterInterval: 0, verifiedReadSeconds: 0 });
    try {
      const body = Buffer.alloc(70_000, 4);
      expect((await req(plain.url, 'PUT', '/sda/15/a/c/o', { 'X-Timestamp': next(), 'Content-Type': 'x', 'Content-Length': body.length }, body)).status).toBe(201);
      for (let i = 0; i < 2; i++) expect((await req(plain.url, 'GET', '/sda/15/a/c/o')).body.equals(body)).toBe(true);
      expect(has).not.toHaveBeenCalled();
      // And a corruption is found on the very next read.
      const file = join(dir.dir, walk(dir.dir).find((f) => f.endsWith('.data'))!);
      const fd = openSync(file, 'r+');
      writeSync(fd, Buffer.from([0]), 0, 1, 5);
      closeSync(fd);
      await req(plain.url, 'GET', '/sda/15/a/c/o');
      let again = await req(plain.url, 'GET', '/sda/15/a/c/o');
      for (let i = 0; i < 100 && again.status === 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        again = await req(plain.url, 'GET', '/sda/15/a/c/o');
      }
      expect(again.status).toBe(404);
    } finally {
      await plain.close();
      dir.remove();
    }
  });
});
