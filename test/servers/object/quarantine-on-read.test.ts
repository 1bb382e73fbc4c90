/**
 * A body read whole whose MD5 is not its ETag is quarantined after it is sent (Swift's
 * DiskFileReader), so the next read answers 404 and the proxy goes to a good replica. Ranged
 * reads, HEADs and a client that stops reading never quarantine.
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeDevices } from '../../helpers/tmp';
import { startObjectServer, type RunningObjectServer } from '../../../servers/object/server';
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
