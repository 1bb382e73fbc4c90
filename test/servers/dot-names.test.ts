/**
 * Names `.` and `..` at the storage servers (issue 14). Swift 2.30's account, container and
 * object servers take them as ordinary names, raw or percent-encoded (split_path refuses only
 * empty segments; the names are hashed into the on-disk path), and refuse them only as the device
 * or partition (validate_device_partition: 400 `Invalid device: ..` / `Invalid partition: .`).
 * The account update a container server sends for container `..` must reach
 * `/<dev>/<part>/<account>/..` as Swift's http_connect sends it: a URL parser would drop the
 * segment and report to `/<dev>/<part>/` instead, which the account server refuses with 400,
 * so the container would never appear in the account listing and be retried forever.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { startAccountServer } from '../../servers/account/server';
import { startContainerServer, type RunningContainerServer } from '../../servers/container/server';
import { startObjectServer, type RunningObjectServer } from '../../servers/object/server';
import type { RunningServer } from '../../servers/common/http';
import { dbPath } from '../../servers/common/db';
import { hashPath } from '../../src/common/hash-path';
import { makeDevices } from '../helpers/tmp';
import { req, testConf } from './object/helpers';

const conf = testConf();
const ACCEPTED = '<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>';
let tick = Math.floor(Date.now() / 1000);
const ts = () => `${++tick}.00000`;

/** The same name with every `.` written as `%2e` or `%2E`. */
const encodings = (name: string) => [name, name.replace(/\./g, '%2e'), name.replace(/\./g, '%2E')];

async function waitFor<T>(check: () => Promise<T>, what: string, ms = 10_000): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let devs: ReturnType<typeof makeDevices>;
let account: RunningServer;
let container: RunningContainerServer;
let object: RunningObjectServer;
let upd: Record<string, string>;
const stderr: string[] = [];

beforeAll(async () => {
  devs = makeDevices(['sda', 'sdb']);
  account = await startAccountServer({ devices: devs.dir, swiftConf: conf });
  container = await startContainerServer({ devices: devs.dir, swiftConf: conf, accountUpdateDelay: 0.05, updaterInterval: 1 });
  object = await startObjectServer({ devices: devs.dir, swiftConf: conf, updaterInterval: 0 });
  upd = { 'X-Account-Host': `127.0.0.1:${account.port}`, 'X-Account-Device': 'sdb', 'X-Account-Partition': '3' };
  // The container server reports failed account updates on stderr.
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) => {
    stderr.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stderr.write);
});
afterAll(async () => {
  vi.restoreAllMocks();
  await object?.close();
  await container?.close();
  await account?.close();
  devs?.remove();
});

describe.each([
  ['account', () => account.url, 'AUTH_d'],
  ['container', () => container.url, 'AUTH_d/c'],
])('%s server: `.` and `..` as device or partition', (_kind, url, path) => {
  it.each(['.', '..'])('refuses %s with Swift\'s 400, raw and encoded', async (name) => {
    for (const n of encodings(name)) {
      const part = await req(url(), 'PUT', `/sda/${n}/${path}`, { 'X-Timestamp': ts() });
      expect([part.status, part.body.toString()]).toEqual([400, `Invalid partition: ${name}`]);
      const dev = await req(url(), 'PUT', `/${n}/1/${path}`, { 'X-Timestamp': ts() });
      expect([dev.status, dev.body.toString()]).toEqual([400, `Invalid device: ${name}`]);
    }
  });
});

describe('account server', () => {
  it.each(['.', '..'])('stores account %s under every encoding of its name', async (name) => {
    const [raw, lower, upper] = encodings(name);
    const first = await req(account.url, 'PUT', `/sda/1/${raw}`, { 'X-Timestamp': ts() });
    expect([first.status, first.body.toString()]).toEqual([201, '']);
    const again = await req(account.url, 'PUT', `/sda/1/${upper}`, { 'X-Timestamp': ts() });
    expect([again.status, again.body.toString()]).toEqual([202, ACCEPTED]);
    expect((await req(account.url, 'POST', `/sda/1/${lower}`, { 'X-Timestamp': ts(), 'X-Account-Meta-Color': 'red' })).status).toBe(204);
    const head = await req(account.url, 'HEAD', `/sda/1/${upper}`);
    expect([head.status, head.headers['x-account-meta-color']]).toEqual([204, 'red']);
    // One database, at the hash of the name.
    expect(existsSync(dbPath(devs.dir, 'sda', 'accounts', '1', hashPath(conf.hash, name)))).toBe(true);
    expect((await req(account.url, 'DELETE', `/sda/1/${lower}`, { 'X-Timestamp': ts() })).status).toBe(204);
    expect((await req(account.url, 'HEAD', `/sda/1/${raw}`)).status).toBe(404);
  });
});

describe('container server and its account updates', () => {
  it.each(['.', '..'])('container %s reaches the account listing, with its object counts', async (name) => {
    const a = `AUTH_dots${name.length}`;
    expect((await req(account.url, 'PUT', `/sdb/3/${a}`, { 'X-Timestamp': ts() })).status).toBe(201);
    const [raw, lower, upper] = encodings(name);
    const put = await req(container.url, 'PUT', `/sda/2/${a}/${lower}`, { 'X-Timestamp': ts(), ...upd });
    expect([put.status, put.body.toString()]).toEqual([201, '']);
    const again = await req(container.url, 'PUT', `/sda/2/${a}/${raw}`, { 'X-Timestamp': ts(), ...upd });
    expect([again.status, again.body.toString()]).toEqual([202, ACCEPTED]);
    expect(existsSync(dbPath(devs.dir, 'sda', 'containers', '2', hashPath(conf.hash, a, name)))).toBe(true);
    // The container PUT's own account update landed under the container's name.
    const listed = await req(account.url, 'GET', `/sdb/3/${a}`);
    expect([listed.status, listed.body.toString()]).toEqual([200, `${name}\n`]);

    // Object rows reach the account through the updater.
    for (const o of ['..', 'a/../b']) {
      const row = await req(container.url, 'PUT', `/sda/2/${a}/${upper}/${o}`, { 'X-Timestamp': ts(), 'X-Size': '4', 'X-Content-Type': 'text/plain', 'X-Etag': 'e' });
      expect(row.status).toBe(201);
    }
    const counted = await waitFor(async () => {
      const r = await req(account.url, 'GET', `/sdb/3/${a}?format=json`);
      const rows = JSON.parse(r.body.toString()) as { name: string; count: number; bytes: number }[];
      return rows[0]?.count === 2 ? rows : undefined;
    }, 'object count 2 in the account listing');
    expect(counted.map((r) => [r.name, r.count, r.bytes])).toEqual([[name, 2, 8]]);
    const objects = await req(container.url, 'GET', `/sda/2/${a}/${raw}`);
    expect([objects.status, objects.body.toString()]).toEqual([200, '..\na/../b\n']);

    for (const o of ['..', 'a/../b']) expect((await req(container.url, 'DELETE', `/sda/2/${a}/${lower}/${o}`, { 'X-Timestamp': ts() })).status).toBe(204);
    expect((await req(container.url, 'DELETE', `/sda/2/${a}/${upper}`, { 'X-Timestamp': ts(), ...upd })).status).toBe(204);
    const gone = await req(account.url, 'GET', `/sdb/3/${a}`);
    expect([gone.status, gone.body.toString()]).toEqual([204, '']);
    expect(stderr.join('')).not.toMatch(/account update failed/i);
  });
});

describe('object server', () => {
  it.each(['.', '..', 'a/../b', '../x', 'x/..', './.'])('object %s is one object under every encoding', async (name) => {
    const [raw, lower, upper] = encodings(name);
    const put = await req(object.url, 'PUT', `/sda/4/AUTH_d/c/${raw}`, { 'X-Timestamp': ts(), 'Content-Type': 'text/plain', 'Content-Length': 5 }, 'hello');
    expect(put.status).toBe(201);
    const got = await req(object.url, 'GET', `/sda/4/AUTH_d/c/${upper}`);
    expect([got.status, got.body.toString()]).toEqual([200, 'hello']);
    expect((await req(object.url, 'POST', `/sda/4/AUTH_d/c/${lower}`, { 'X-Timestamp': ts(), 'X-Object-Meta-Color': 'blue' })).status).toBe(202);
    const head = await req(object.url, 'HEAD', `/sda/4/AUTH_d/c/${raw}`);
    expect([head.status, head.headers['x-object-meta-color']]).toEqual([200, 'blue']);
    expect((await req(object.url, 'DELETE', `/sda/4/AUTH_d/c/${upper}`, { 'X-Timestamp': ts() })).status).toBe(204);
    expect((await req(object.url, 'HEAD', `/sda/4/AUTH_d/c/${lower}`)).status).toBe(404);
  });

  it('refuses `.` and `..` as device or partition (400, no body on HEAD)', async () => {
    for (const n of [...encodings('.'), ...encodings('..')]) {
      expect((await req(object.url, 'HEAD', `/sda/${n}/AUTH_d/c/o`)).status).toBe(400);
      expect((await req(object.url, 'HEAD', `/${n}/4/AUTH_d/c/o`)).status).toBe(400);
    }
  });
});
