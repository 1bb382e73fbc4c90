/**
 * Disk full on a real filesystem (issue 14): the object server's device is a 2 MiB tmpfs, filled
 * by real writes. Needs root (mount); elsewhere the suite is skipped with the reason, and
 * ./disk-full.test.ts covers the same answers with a simulated ENOSPC.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDevices } from '../../helpers/tmp';
import { startObjectServer, type RunningObjectServer } from '../../../servers/object/server';
import { req, testConf, ts, walk } from './helpers';

const SIZE = 2 * 1024 * 1024;

/** Mounts a tmpfs of SIZE at `dir`; the reason when this machine does not allow it. */
function mountTmpfs(dir: string): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: mounting a tmpfs needs it';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `mount -t tmpfs failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
}

const devs = makeDevices(['sda']);
const device = join(devs.dir, 'sda');
mkdirSync(device, { recursive: true });
const cannot = mountTmpfs(device);
const NOW = Math.floor(Date.now() / 1000);
let seq = 0;
const next = () => ts(NOW + ++seq);
const objectFiles = () => walk(devs.dir).filter((f) => /(^|\/)(objects|tmp)\//.test(f));

if (cannot) it.skip(`a real full tmpfs: ${cannot}`, () => undefined);

describe.skipIf(!!cannot)('object server on a full tmpfs', () => {
  let srv: RunningObjectServer;
  beforeAll(async () => {
    srv = await startObjectServer({ devices: devs.dir, swiftConf: testConf(), updaterInterval: 0 });
  });
  afterAll(async () => {
    await srv?.close();
    if (!cannot) execFileSync('umount', ['-l', device]);
    devs.remove();
  });

  it('fills the device, then answers 507 with no partial file, frees space with DELETE, and stores again', async () => {
    // Fill it with 256 KiB objects until the server says the disk is full.
    const stored: string[] = [];
    let full: Awaited<ReturnType<typeof req>> | undefined;
    for (let i = 0; i < 16 && !full; i++) {
      const r = await req(srv.url, 'PUT', `/sda/${i}/a/c/fill${i}`, { 'X-Timestamp': next(), 'Content-Type': 'x', 'Content-Length': 256 * 1024 }, Buffer.alloc(256 * 1024, i));
      if (r.status === 201) stored.push(`/sda/${i}/a/c/fill${i}`);
      else full = r;
    }
    expect(full?.status).toBe(507);
    expect(full?.body.toString()).toContain('sda');
    expect(stored.length).toBeGreaterThanOrEqual(4);
    const tmpLeft = () => objectFiles().filter((f) => f.includes('/tmp/'));
    expect(tmpLeft()).toEqual([]);

    // Bigger and smaller bodies: 507 each, and no temp or .data file of theirs.
    const before = objectFiles();
    for (const size of [600 * 1024, 3 * 1024 * 1024]) {
      const r = await req(srv.url, 'PUT', `/sda/0/a/c/big${size}`, { 'X-Timestamp': next(), 'Content-Type': 'x', 'Content-Length': size }, Buffer.alloc(size, 7));
      expect(r.status, `PUT ${size}`).toBe(507);
    }
    expect(objectFiles()).toEqual(before);

    // Every stored object is intact.
    for (const path of stored) {
      const got = await req(srv.url, 'GET', path);
      expect(got.status).toBe(200);
      expect(got.body.equals(Buffer.alloc(256 * 1024, Number(path.split('/')[2])))).toBe(true);
    }
    console.info(`tmpfs of ${SIZE} bytes: ${stored.length} objects of 256 KiB stored, the next PUT ${full?.status}`);

    // DELETE works on the full disk (a tombstone is an empty file) and frees the space.
    for (const path of stored.slice(0, 2)) expect((await req(srv.url, 'DELETE', path, { 'X-Timestamp': next() })).status).toBe(204);
    const again = await req(srv.url, 'PUT', '/sda/0/a/c/after', { 'X-Timestamp': next(), 'Content-Type': 'x', 'Content-Length': 200 * 1024 }, Buffer.alloc(200 * 1024, 9));
    expect(again.status).toBe(201);
    expect((await req(srv.url, 'GET', '/sda/0/a/c/after')).body.length).toBe(200 * 1024);
    expect(tmpLeft()).toEqual([]);
  });
});
