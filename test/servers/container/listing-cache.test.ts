/**
 * The container server's listing cache (servers/container/listing-cache.ts): a listing served
 * from it must be the listing the DB gives at that moment. Two servers share one devices
 * directory, one with the cache and one without (each with its own SQLite connections, as two
 * processes would have); every write goes through one or the other, and after each the cached
 * server's listings must equal the uncached one's, byte for byte, headers included.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ContainerBroker } from '../../../servers/container/broker';
import { ListingCache, LISTING_CACHE_MIN_BYTES } from '../../../servers/container/listing-cache';
import { startContainerServer } from '../../../servers/container/server';
import type { RunningServer } from '../../../servers/common/http';
import { makeDevices } from '../../helpers/tmp';
import { call, ts, twoPolicyConf, type Resp } from './helpers';

const conf = twoPolicyConf();
let devices: { dir: string; remove(): void };
let cached: RunningServer;
let plain: RunningServer;

beforeAll(async () => {
  devices = makeDevices(['sda']);
  cached = await startContainerServer({ devices: devices.dir, swiftConf: conf, updaterInterval: 0 });
  plain = await startContainerServer({ devices: devices.dir, swiftConf: conf, updaterInterval: 0, listingCacheBytes: 0 });
});
afterAll(async () => {
  await cached.close();
  await plain.close();
  devices.remove();
});

let n = 0;
const fresh = () => `/sda/3/AUTH_lc/c${++n}`;
const row = (server: RunningServer, path: string, size: number, extra: Record<string, string> = {}) =>
  call(server.url, 'PUT', path, { 'X-Timestamp': ts(), 'X-Size': String(size), 'X-Content-Type': 'text/plain', 'X-Etag': 'd41d8cd98f00b204e9800998ecf8427e', ...extra });
const name = (i: number) => `dir${i % 3}/obj-${String(i).padStart(5, '0')}`;

/** Rows enough for a JSON listing over the cache's minimum. */
async function filled(rows = 120): Promise<string> {
  const c = fresh();
  expect((await call(plain.url, 'PUT', c, { 'X-Timestamp': ts() })).status).toBe(201);
  for (let i = 0; i < rows; i++) expect((await row(i % 2 ? cached : plain, `${c}/${name(i)}`, i)).status).toBe(201);
  return c;
}

const QUERIES = ['format=json', 'format=xml', 'format=plain', 'format=json&prefix=dir1/', 'format=json&delimiter=/', 'format=json&limit=7&marker=dir0/obj-00030', 'format=json&reverse=on', 'format=json&end_marker=dir2'];

/** The response without what legitimately differs between two servers (Date). */
function comparable(r: Resp) {
  const { date: _date, ...headers } = r.headers;
  return { status: r.status, headers, body: r.raw.toString('latin1') };
}

async function expectSameListings(c: string): Promise<void> {
  for (const q of QUERIES) {
    const [a, b] = await Promise.all([call(cached.url, 'GET', `${c}?${q}`), call(plain.url, 'GET', `${c}?${q}`)]);
    expect(comparable(a), q).toEqual(comparable(b));
  }
}

describe('ListingCache', () => {
  it('keeps a listing under its stamp and query only, and neither small nor oversized ones', () => {
    const cache = new ListingCache(8 * LISTING_CACHE_MIN_BYTES);
    const body = Buffer.alloc(LISTING_CACHE_MIN_BYTES, 0x61);
    cache.set('1:1:5', 'q', body);
    expect(cache.get('1:1:5', 'q')).toBe(body);
    expect(cache.get('1:1:6', 'q')).toBeUndefined();
    expect(cache.get('1:1:5', 'q2')).toBeUndefined();
    cache.set('1:1:5', 'small', Buffer.alloc(LISTING_CACHE_MIN_BYTES - 1));
    expect(cache.get('1:1:5', 'small')).toBeUndefined();
    cache.set('1:1:5', 'big', Buffer.alloc(LISTING_CACHE_MIN_BYTES + 1));
    expect(cache.get('1:1:5', 'big')).toBeUndefined();
  });

  it('drops the least recently used listings beyond its size', () => {
    const cache = new ListingCache(8 * LISTING_CACHE_MIN_BYTES);
    for (let i = 0; i < 9; i++) cache.set('s', `q${i}`, Buffer.alloc(LISTING_CACHE_MIN_BYTES));
    expect(cache.size).toBe(8);
    expect(cache.get('s', 'q0')).toBeUndefined();
    expect(cache.get('s', 'q8')).toBeDefined();
  });
});

describe('the container server with its listing cache', () => {
  it('answers a repeated listing of an unchanged container without walking the DB again', async () => {
    const c = await filled();
    const walks = vi.spyOn(ContainerBroker.prototype, 'listObjects');
    try {
      const first = await call(cached.url, 'GET', `${c}?format=json`);
      expect(first.raw.length).toBeGreaterThan(LISTING_CACHE_MIN_BYTES);
      const second = await call(cached.url, 'GET', `${c}?format=json`);
      expect(second.raw.equals(first.raw)).toBe(true);
      expect(walks).toHaveBeenCalledTimes(1);
      // A write through the same server changes the stamp: the next listing walks again.
      expect((await row(cached, `${c}/zz-new`, 1)).status).toBe(201);
      const third = await call(cached.url, 'GET', `${c}?format=json`);
      expect(walks).toHaveBeenCalledTimes(2);
      expect((JSON.parse(third.text) as { name: string }[]).at(-1)!.name).toBe('zz-new');
    } finally {
      walks.mockRestore();
    }
  });

  it('keeps nothing with listingCacheBytes 0', async () => {
    const c = await filled();
    const walks = vi.spyOn(ContainerBroker.prototype, 'listObjects');
    try {
      for (let i = 0; i < 3; i++) expect((await call(plain.url, 'GET', `${c}?format=json`)).status).toBe(200);
      expect(walks).toHaveBeenCalledTimes(3);
    } finally {
      walks.mockRestore();
    }
  });

  it('sees rows written through another connection (another process) at once', async () => {
    const c = await filled();
    const before = await call(cached.url, 'GET', `${c}?format=json`);
    expect((await row(plain, `${c}/${name(5)}`, 99_999)).status).toBe(201);
    const after = await call(cached.url, 'GET', `${c}?format=json`);
    expect(after.raw.equals(before.raw)).toBe(false);
    expect((JSON.parse(after.text) as { name: string; bytes: number }[]).find((o) => o.name === name(5))!.bytes).toBe(99_999);
    await expectSameListings(c);
  });

  it('matches the uncached server after every kind of write, through either server', async () => {
    const c = await filled();
    await expectSameListings(c);
    const steps: [string, () => Promise<Resp>][] = [
      ['overwrite through the cached server', () => row(cached, `${c}/${name(10)}`, 12_345)],
      ['delete through the other', () => call(plain.url, 'DELETE', `${c}/${name(11)}`, { 'X-Timestamp': ts() })],
      ['delete through the cached server', () => call(cached.url, 'DELETE', `${c}/${name(12)}`, { 'X-Timestamp': ts() })],
      ['a new content type (swift_bytes) through the other', () => row(plain, `${c}/${name(13)}`, 0, { 'X-Content-Type': 'application/x-manifest;swift_bytes=777' })],
      ['a row in another policy', () => row(plain, `${c}/other-policy`, 5, { 'X-Backend-Storage-Policy-Index': '1' })],
      ['container metadata (headers change, rows do not)', () => call(cached.url, 'POST', c, { 'X-Timestamp': ts(), 'X-Container-Meta-Color': 'blue' })],
      ['an older write that loses', () => call(plain.url, 'PUT', `${c}/${name(10)}`, { 'X-Timestamp': '1000000000.00000', 'X-Size': '1', 'X-Content-Type': 'text/plain', 'X-Etag': 'x' })],
    ];
    for (const [what, step] of steps) {
      expect((await step()).status, what).toBeLessThan(300);
      await expectSameListings(c);
    }
    const meta = await call(cached.url, 'GET', `${c}?format=json`);
    expect(meta.headers['x-container-meta-color']).toBe('blue');
  });

  it('answers 404 once the container is deleted, and lists again once it is re-created', async () => {
    const c = await filled();
    expect((await call(cached.url, 'GET', `${c}?format=json`)).status).toBe(200);
    for (let i = 0; i < 120; i++) expect((await call(plain.url, 'DELETE', `${c}/${name(i)}`, { 'X-Timestamp': ts() })).status).toBe(204);
    expect((await call(plain.url, 'DELETE', c, { 'X-Timestamp': ts() })).status).toBe(204);
    expect((await call(cached.url, 'GET', `${c}?format=json`)).status).toBe(404);
    expect((await call(plain.url, 'PUT', c, { 'X-Timestamp': ts() })).status).toBe(201);
    const empty = await call(cached.url, 'GET', `${c}?format=json`);
    expect(empty.status).toBe(200);
    expect(empty.text).toBe('[]');
  });
});
