import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDevices } from '../../helpers/tmp';
import { startObjectServer } from '../../../servers/object/server';
import { req, testConf, ts, walk } from './helpers';

const FIXTURE = fileURLToPath(new URL('./fixtures/child-server.ts', import.meta.url));
const conf = testConf();
const NOW = Math.floor(Date.now() / 1000);
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

async function startChild(devices: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, devices, conf.hash.suffix], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve(JSON.parse(line!).port);
    });
    child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

/** Starts a large PUT and SIGKILLs the server once a few MiB have reached its temp file. */
async function killMidUpload(devices: string, url: string, child: ChildProcess, path: string): Promise<void> {
  const total = 64 * 1024 * 1024;
  const u = new URL(url);
  const r = httpRequest({ host: u.hostname, port: u.port, method: 'PUT', path, agent: false, headers: { 'X-Timestamp': ts(NOW + 10), 'Content-Type': 'application/octet-stream', 'Content-Length': total } });
  r.on('error', () => undefined);
  let stop = false;
  const feed = (async () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    for (let sent = 0; sent < total && !stop && !r.destroyed; sent += chunk.length) {
      if (!r.write(chunk)) await new Promise((res) => { r.once('drain', res); r.once('close', res); });
    }
  })();
  const tmp = join(devices, 'sda', 'tmp');
  for (let i = 0; i < 400; i++) {
    const files = walk(tmp);
    if (files.some((f) => statSync(join(tmp, f)).size > 4 * 1024 * 1024)) break;
    await new Promise((res) => setTimeout(res, 25));
  }
  expect(walk(tmp).length).toBe(1); // the upload really was in progress
  child.kill('SIGKILL');
  await new Promise((res) => child.once('exit', res));
  stop = true;
  r.destroy();
  await feed.catch(() => undefined);
}

/** Every .data on disk must end with a complete metadata trailer. */
function assertNoPartialData(devices: string): void {
  for (const f of walk(join(devices, 'sda', 'objects')).filter((p) => p.endsWith('.data'))) {
    const p = join(devices, 'sda', 'objects', f);
    const size = statSync(p).size;
    const fd = openSync(p, 'r');
    const tail = Buffer.alloc(8);
    readSync(fd, tail, 0, 8, size - 8);
    closeSync(fd);
    expect(tail.toString('latin1')).toBe('SLUICE01');
  }
}

describe('crash safety', () => {
  it('SIGKILL mid-upload keeps the previous object intact', async () => {
    const devs = makeDevices(['sda']);
    try {
      const { child, url } = await startChild(devs.dir);
      const old = Buffer.alloc(3 * 1024 * 1024 + 17, 3);
      const p = await req(url, 'PUT', '/sda/1/a/c/obj', { 'X-Timestamp': ts(NOW), 'Content-Type': 'x/old', 'Content-Length': old.length }, old);
      expect(p.status).toBe(201);
      await killMidUpload(devs.dir, url, child, '/sda/1/a/c/obj');

      const srv = await startObjectServer({ devices: devs.dir, swiftConf: conf, updaterInterval: 0 });
      try {
        const g = await req(srv.url, 'GET', '/sda/1/a/c/obj');
        expect(g.status).toBe(200);
        expect(g.body.length).toBe(old.length);
        expect(md5(g.body)).toBe(md5(old));
        expect(g.headers.etag).toBe(`"${md5(old)}"`);
        expect(g.headers['content-type']).toBe('x/old');
        assertNoPartialData(devs.dir);
      } finally {
        await srv.close();
      }
    } finally {
      devs.remove();
    }
  });

  it('SIGKILL mid-upload of a new object leaves it absent (404), never partial', async () => {
    const devs = makeDevices(['sda']);
    try {
      const { child, url } = await startChild(devs.dir);
      await killMidUpload(devs.dir, url, child, '/sda/1/a/c/fresh');
      const srv = await startObjectServer({ devices: devs.dir, swiftConf: conf, updaterInterval: 0 });
      try {
        expect((await req(srv.url, 'GET', '/sda/1/a/c/fresh')).status).toBe(404);
        expect(walk(join(devs.dir, 'sda', 'objects'))).toEqual([]);
        assertNoPartialData(devs.dir);
      } finally {
        await srv.close();
      }
    } finally {
      devs.remove();
    }
  });
});
