import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startContainerServer } from '../../../servers/container/server';
import { ContainerBroker } from '../../../servers/container/broker';
import type { RunningServer } from '../../../servers/common/http';
import { dbPath } from '../../../servers/common/db';
import { hashPath } from '../../../src/common/hash-path';
import { makeDevices } from '../../helpers/tmp';
import { call, ts, twoPolicyConf } from './helpers';

const conf = twoPolicyConf();
let devices: { dir: string; remove(): void };
let server: RunningServer;
let n = 0;
/** A fresh container path per test. */
const fresh = () => `/sda/7/AUTH_t/c${++n}`;

beforeAll(async () => {
  devices = makeDevices(['sda']);
  // The updater is off here: these tests count the account updates requests cause themselves
  // (test/servers/container/updater.test.ts covers the updater).
  server = await startContainerServer({ devices: devices.dir, swiftConf: conf, updaterInterval: 0 });
});
afterAll(async () => {
  await server.close();
  devices.remove();
});

const put = (path: string, headers: Record<string, string> = {}) => call(server.url, 'PUT', path, { 'X-Timestamp': ts(), ...headers });
const row = (path: string, size: number, t = ts(), extra: Record<string, string> = {}) =>
  call(server.url, 'PUT', path, { 'X-Timestamp': t, 'X-Size': String(size), 'X-Content-Type': 'text/plain', 'X-Etag': `etag-${size}`, ...extra });
const del = (path: string, t = ts(), extra: Record<string, string> = {}) => call(server.url, 'DELETE', path, { 'X-Timestamp': t, ...extra });
const head = (path: string) => call(server.url, 'HEAD', path);
const listJson = async (path: string, query = '') => {
  const r = await call(server.url, 'GET', `${path}?format=json${query}`);
  expect(r.status).toBe(200);
  return JSON.parse(r.text) as Record<string, unknown>[];
};
const names = (items: Record<string, unknown>[]) => items.map((i) => (i.subdir as string | undefined) ?? (i.name as string));

describe('container PUT / HEAD', () => {
  it('creates (201), then accepts (202), and HEAD reports Swift headers', async () => {
    const c = fresh();
    const t1 = ts();
    const r1 = await call(server.url, 'PUT', c, { 'X-Timestamp': t1 });
    expect(r1.status).toBe(201);
    expect(r1.headers['x-backend-storage-policy-index']).toBe('0');
    const t2 = ts();
    const r2 = await call(server.url, 'PUT', c, { 'X-Timestamp': t2 });
    expect(r2.status).toBe(202);
    const h = await head(c);
    expect(h.status).toBe(204);
    expect(h.headers['x-container-object-count']).toBe('0');
    expect(h.headers['x-container-bytes-used']).toBe('0');
    expect(h.headers['x-put-timestamp']).toBe(t2);
    expect(h.headers['x-backend-put-timestamp']).toBe(t2);
    expect(h.headers['x-backend-delete-timestamp']).toBe('0000000000.00000');
    expect(h.headers['x-backend-status-changed-at']).toBe(t1);
    expect(h.headers['x-backend-storage-policy-index']).toBe('0');
    expect(h.headers['x-backend-sharding-state']).toBe('unsharded');
    // X-Timestamp is the DB's creation time (server clock), as Swift's created_at.
    expect(h.headers['x-timestamp']).toMatch(/^\d{10}\.\d{5}$/);
    expect(h.headers['x-backend-timestamp']).toBe(h.headers['x-timestamp']);
    expect(h.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(h.headers['last-modified']).toBe(new Date((Number(t2) + 0) * 1000).toUTCString());
  });

  it('HEAD of a missing container is 404 with zeroed X-Backend timestamps', async () => {
    const h = await head(fresh());
    expect(h.status).toBe(404);
    expect(h.headers['x-backend-put-timestamp']).toBe('0000000000.00000');
    expect(h.headers['x-backend-storage-policy-index']).toBe('0');
    expect(h.headers['x-container-object-count']).toBeUndefined();
  });

  it('rejects bad requests with Swift statuses', async () => {
    expect((await call(server.url, 'PUT', '/sdz/1/a/c', { 'X-Timestamp': ts() })).status).toBe(507);
    const noTs = await call(server.url, 'PUT', fresh());
    expect(noTs.status).toBe(400);
    expect(noTs.text).toBe('Missing X-Timestamp header');
    expect((await call(server.url, 'PUT', fresh(), { 'X-Timestamp': 'nope' })).status).toBe(400);
    const bad = await call(server.url, 'PUT', '/sda/1/a/%ff', { 'X-Timestamp': ts() });
    expect(bad.status).toBe(412);
    expect(bad.text).toBe('Invalid UTF8 or contains NULL');
    const short = await call(server.url, 'PUT', '/sda/1/a', { 'X-Timestamp': ts() });
    expect(short.status).toBe(400);
    expect(short.text).toBe('Invalid path: /sda/1/a');
    const resv = await call(server.url, 'PUT', '/sda/1/a/c%00x', { 'X-Timestamp': ts() });
    expect(resv.status).toBe(400);
    expect(resv.text).toBe('Invalid reserved-namespace container');
    expect((await call(server.url, 'POST', '/sda/1/a/c/o', { 'X-Timestamp': ts() })).status).toBe(400);
    expect((await call(server.url, 'PATCH', fresh())).status).toBe(405);
    const pol = await put(fresh(), { 'X-Backend-Storage-Policy-Index': '9' });
    expect(pol.status).toBe(400);
    expect(pol.text).toBe('Invalid X-Backend-Storage-Policy-Index 9');
    const pol2 = await put(fresh(), { 'X-Backend-Storage-Policy-Index': 'x' });
    expect(pol2.text).toBe("Invalid X-Backend-Storage-Policy-Index 'x'");
    const sync = await put(fresh(), { 'X-Container-Sync-To': 'ftp://127.0.0.1/a/c' });
    expect(sync.status).toBe(400);
    expect(sync.text).toBe('Invalid scheme \'ftp\' in X-Container-Sync-To, must be "//", "http", or "https".');
    const syncHost = await put(fresh(), { 'X-Container-Sync-To': 'http://10.9.9.9/v1/a/c' });
    expect(syncHost.text).toBe("Invalid host '10.9.9.9' in X-Container-Sync-To");
    expect((await put(fresh(), { 'X-Container-Sync-To': 'http://127.0.0.1:8080/v1/a/c' })).status).toBe(201);
  });

  it('takes the policy from the index or the default header, 409 on conflict', async () => {
    const c = fresh();
    const r = await put(c, { 'X-Backend-Storage-Policy-Index': '1' });
    expect(r.status).toBe(201);
    expect(r.headers['x-backend-storage-policy-index']).toBe('1');
    const conflict = await put(c, { 'X-Backend-Storage-Policy-Index': '0' });
    expect(conflict.status).toBe(409);
    expect(conflict.headers['x-backend-storage-policy-index']).toBe('1');
    // Without an explicit index the existing policy stands.
    const again = await put(c, { 'X-Backend-Storage-Policy-Default': '0' });
    expect(again.status).toBe(202);
    expect(again.headers['x-backend-storage-policy-index']).toBe('1');
    const d = fresh();
    expect((await put(d, { 'X-Backend-Storage-Policy-Default': '1' })).headers['x-backend-storage-policy-index']).toBe('1');
    // A deleted container may be re-created in another policy.
    expect((await del(d)).status).toBe(204);
    const re = await put(d, { 'X-Backend-Storage-Policy-Index': '0' });
    expect(re.status).toBe(201);
    expect(re.headers['x-backend-storage-policy-index']).toBe('0');
  });
});

describe('metadata', () => {
  it('stores ACLs, sync headers, meta and sysmeta; last writer wins; empty deletes', async () => {
    const c = fresh();
    const t0 = ts();
    const ü = Buffer.from('wért', 'utf8').toString('latin1');
    expect(
      (
        await call(server.url, 'PUT', c, {
          'X-Timestamp': t0,
          'X-Container-Read': '.r:*',
          'X-Container-Write': 'AUTH_x',
          'X-Container-Sync-Key': 'k',
          'X-Container-Meta-Color': ü,
          'X-Container-Meta-Gone': 'soon',
          'X-Container-Sysmeta-Thing': 's',
          'X-Versions-Location': 'v',
          'X-Object-Meta-Nope': 'n',
        })
      ).status,
    ).toBe(201);
    let h = await head(c);
    expect(h.headers['x-container-read']).toBe('.r:*');
    expect(h.headers['x-container-write']).toBe('AUTH_x');
    expect(h.headers['x-container-sync-key']).toBe('k');
    expect(Buffer.from(h.headers['x-container-meta-color'] as string, 'latin1').toString('utf8')).toBe('wért');
    expect(h.headers['x-container-sysmeta-thing']).toBe('s');
    expect(h.headers['x-versions-location']).toBeUndefined(); // allow_versions is off, as in Swift
    expect(h.headers['x-object-meta-nope']).toBeUndefined();

    const t1 = ts();
    expect((await call(server.url, 'POST', c, { 'X-Timestamp': t1, 'X-Container-Meta-Color': 'blue', 'X-Container-Meta-Gone': '' })).status).toBe(204);
    // An older POST loses to the newer values.
    expect((await call(server.url, 'POST', c, { 'X-Timestamp': t0, 'X-Container-Meta-Color': 'old', 'X-Container-Meta-Gone': 'back' })).status).toBe(204);
    h = await head(c);
    expect(h.headers['x-container-meta-color']).toBe('blue');
    expect(h.headers['x-container-meta-gone']).toBeUndefined();
    // POST moves the put timestamp forward, as Swift's does.
    expect(h.headers['x-put-timestamp']).toBe(t1);
  });

  it('POST to a missing or deleted container is 404', async () => {
    expect((await call(server.url, 'POST', fresh(), { 'X-Timestamp': ts() })).status).toBe(404);
    const c = fresh();
    await put(c);
    await del(c);
    expect((await call(server.url, 'POST', c, { 'X-Timestamp': ts() })).status).toBe(404);
  });

  it('rejects too much metadata with 400 and changes nothing', async () => {
    const c = fresh();
    await put(c, { 'X-Container-Meta-Keep': '1' });
    const many: Record<string, string> = { 'X-Timestamp': ts() };
    for (let i = 0; i < 91; i++) many[`X-Container-Meta-K${i}`] = 'v';
    const r = await call(server.url, 'POST', c, many);
    expect(r.status).toBe(400);
    expect(r.text).toBe('Too many metadata items; max 90');
    const big = await call(server.url, 'POST', c, { 'X-Timestamp': ts(), 'X-Container-Meta-A': 'x'.repeat(4000), 'X-Container-Meta-B': 'y'.repeat(200) });
    expect(big.text).toBe('Total metadata too large; max 4096');
    const h = await head(c);
    expect(h.headers['x-container-meta-k0']).toBeUndefined();
    expect(h.headers['x-container-meta-a']).toBeUndefined();
    expect(h.headers['x-container-meta-keep']).toBe('1');
    // A PUT that would create the container with bad metadata leaves no container behind.
    const c2 = fresh();
    expect((await call(server.url, 'PUT', c2, many)).status).toBe(400);
    expect((await head(c2)).status).toBe(404);
  });
});

describe('object rows', () => {
  it('counts rows and bytes, and 404s for a missing container unless auto-created', async () => {
    const c = fresh();
    expect((await row(`${c}/o`, 1)).status).toBe(404);
    await put(c);
    expect((await row(`${c}/a`, 10)).status).toBe(201);
    expect((await row(`${c}/b`, 5)).status).toBe(201);
    expect((await row(`${c}/a`, 3)).status).toBe(201); // overwrite
    let h = await head(c);
    expect(h.headers['x-container-object-count']).toBe('2');
    expect(h.headers['x-container-bytes-used']).toBe('8');
    expect((await del(`${c}/b`)).status).toBe(204);
    h = await head(c);
    expect(h.headers['x-container-object-count']).toBe('1');
    expect(h.headers['x-container-bytes-used']).toBe('3');
    // Internal accounts are auto-created by row updates.
    const auto = '/sda/3/.expiring_objects/1700000000';
    expect((await row(`${auto}/x`, 1, ts(), { 'X-Backend-Storage-Policy-Index': '1' })).status).toBe(201);
    const ah = await head(auto);
    expect(ah.status).toBe(204);
    expect(ah.headers['x-backend-storage-policy-index']).toBe('1');
    expect(ah.headers['x-container-object-count']).toBe('1');
  });

  it('rejects malformed row updates without creating anything', async () => {
    const c = fresh();
    await put(c);
    expect((await call(server.url, 'PUT', `${c}/o`, { 'X-Timestamp': ts(), 'X-Content-Type': 'a/b', 'X-Etag': 'e' })).status).toBe(400);
    expect((await call(server.url, 'PUT', `${c}/o`, { 'X-Timestamp': ts(), 'X-Size': '-1', 'X-Content-Type': 'a/b', 'X-Etag': 'e' })).status).toBe(400);
    expect((await call(server.url, 'PUT', `${c}/o`, { 'X-Timestamp': ts(), 'X-Size': '1', 'X-Etag': 'e' })).status).toBe(400);
    expect((await row(`${c}/o`, 1, ts(), { 'X-Meta-Timestamp': 'bogus' })).status).toBe(400);
    expect((await head(c)).headers['x-container-object-count']).toBe('0');
  });

  it('an older PUT after a newer one loses', async () => {
    const c = fresh();
    await put(c);
    const old = ts();
    const neu = ts();
    await row(`${c}/o`, 7, neu);
    await row(`${c}/o`, 100, old);
    const [item] = await listJson(c);
    expect(item).toMatchObject({ name: 'o', bytes: 7, hash: 'etag-7' });
    expect((await head(c)).headers['x-container-bytes-used']).toBe('7');
  });

  it('delete then an older put stays deleted (tombstone kept)', async () => {
    const c = fresh();
    await put(c);
    const old = ts();
    const neu = ts();
    expect((await del(`${c}/o`, neu)).status).toBe(204);
    await row(`${c}/o`, 9, old);
    expect(await listJson(c)).toEqual([]);
    expect((await head(c)).headers['x-container-object-count']).toBe('0');
    const b = ContainerBroker.open(dbPath(devices.dir, 'sda', 'containers', '7', hashPath(conf.hash, 'AUTH_t', c.split('/').pop()!)))!;
    expect(b.getObjectRow('o', 0)).toMatchObject({ deleted: 1, data_ts: neu, size: 0, content_type: 'application/deleted' });
    b.close();
  });

  it('put then an older delete keeps the object', async () => {
    const c = fresh();
    await put(c);
    const old = ts();
    const neu = ts();
    await row(`${c}/o`, 4, neu);
    await del(`${c}/o`, old);
    expect(names(await listJson(c))).toEqual(['o']);
    expect((await head(c)).headers['x-container-object-count']).toBe('1');
  });

  it('merges content-type and metadata timestamps field by field', async () => {
    const c = fresh();
    await put(c);
    const tData = ts();
    const tPost = ts();
    const tLater = ts();
    // A POST's update (new content type at tPost) arrives before the PUT's own update.
    await row(`${c}/o`, 5, tData, { 'X-Content-Type': 'image/png', 'X-Content-Type-Timestamp': tPost, 'X-Meta-Timestamp': tLater, 'X-Etag': 'post' });
    await row(`${c}/o`, 5, tData, { 'X-Content-Type': 'text/plain', 'X-Etag': 'e1' });
    let [item] = await listJson(c);
    expect(item!.content_type).toBe('image/png');
    expect(item!.last_modified).toBe(new Date(Number(tLater) * 1000).toISOString().replace('Z', '000'));
    // A newer data write keeps the newer content type from the POST but takes its own data.
    const tData2 = `${Number(tData)}.50000`;
    await row(`${c}/o`, 6, tData2, { 'X-Content-Type': 'text/old', 'X-Etag': 'e2' });
    [item] = await listJson(c);
    expect(item).toMatchObject({ bytes: 6, hash: 'e2', content_type: 'image/png' });
  });

  it('lists swift_bytes as bytes and keeps stats on the raw size', async () => {
    const c = fresh();
    await put(c);
    await row(`${c}/slo`, 100, ts(), { 'X-Content-Type': 'application/octet-stream;swift_bytes=12345; x=y' });
    const [item] = await listJson(c);
    expect(item).toMatchObject({ bytes: 12345, content_type: 'application/octet-stream;x=y' });
    expect((await head(c)).headers['x-container-bytes-used']).toBe('100');
  });

  it('keeps exact totals under 50 concurrent row updates', async () => {
    const c = fresh();
    await put(c);
    await Promise.all(Array.from({ length: 50 }, (_, i) => row(`${c}/obj-${i}`, i + 1)));
    // And concurrent overwrites of one name.
    await Promise.all(Array.from({ length: 20 }, (_, i) => row(`${c}/same`, 1000 + i, `1800000000.${String(i).padStart(5, '0')}`)));
    const h = await head(c);
    expect(h.headers['x-container-object-count']).toBe('51');
    expect(h.headers['x-container-bytes-used']).toBe(String((50 * 51) / 2 + 1019));
  });

  it('keeps rows per policy and lists the requested policy', async () => {
    const c = fresh();
    await put(c, { 'X-Backend-Storage-Policy-Index': '1' });
    await row(`${c}/in1`, 1, ts(), { 'X-Backend-Storage-Policy-Index': '1' });
    await row(`${c}/in0`, 2, ts(), { 'X-Backend-Storage-Policy-Index': '0' });
    expect((await head(c)).headers['x-container-object-count']).toBe('1');
    expect(names(await listJson(c))).toEqual(['in1']);
    const r = await call(server.url, 'GET', `${c}?format=json`, { 'X-Backend-Storage-Policy-Index': '0' });
    expect(r.headers['x-backend-record-storage-policy-index']).toBe('0');
    expect(names(JSON.parse(r.text))).toEqual(['in0']);
  });
});

describe('container DELETE', () => {
  it('409 when not empty, 204 when empty, 404 missing; tombstones the DB', async () => {
    expect((await del(fresh())).status).toBe(404);
    const c = fresh();
    await put(c, { 'X-Container-Meta-Old': 'x' });
    await row(`${c}/o`, 1);
    const busy = await del(c);
    expect(busy.status).toBe(409);
    expect(busy.text).toBe('<html><h1>Conflict</h1><p>There was a conflict when trying to complete your request.</p></html>');
    await del(`${c}/o`);
    const tDel = ts();
    expect((await del(c, tDel)).status).toBe(204);
    const h = await head(c);
    expect(h.status).toBe(404);
    expect(h.headers['x-backend-delete-timestamp']).toBe(tDel);
    expect(h.headers['x-backend-status-changed-at']).toBe(tDel);
    expect(h.headers['x-container-object-count']).toBeUndefined();
    expect((await call(server.url, 'GET', c)).status).toBe(404);
    // Deleting again: still deleted, 404.
    expect((await del(c)).status).toBe(404);
    // A PUT older than the DELETE cannot revive it.
    expect((await call(server.url, 'PUT', c, { 'X-Timestamp': '1600000000.00000' })).status).toBe(409);
    // A newer PUT re-creates it, without the old metadata.
    const re = await put(c);
    expect(re.status).toBe(201);
    const h2 = await head(c);
    expect(h2.status).toBe(204);
    expect(h2.headers['x-container-meta-old']).toBeUndefined();
  });

  it('a DELETE older than the PUT is 409 and the container stays', async () => {
    const c = fresh();
    await put(c);
    expect((await del(c, '1600000000.00000')).status).toBe(409);
    expect((await head(c)).status).toBe(204);
  });
});

describe('listing', () => {
  let c: string;
  beforeAll(async () => {
    c = fresh();
    await put(c);
    for (const name of ['a', 'b/1', 'b/2', 'b/3/x', 'c', 'c/d', 'd', 'é']) await row(`${c}/${encodeURIComponent(name).replace(/%2F/g, '/')}`, name.length);
  });

  it('renders JSON items as Swift does', async () => {
    const r = await call(server.url, 'GET', `${c}?format=json&limit=1`);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers['x-backend-record-type']).toBe('object');
    const items = JSON.parse(r.text);
    expect(Object.keys(items[0])).toEqual(['bytes', 'hash', 'name', 'content_type', 'last_modified']);
    expect(items[0]).toMatchObject({ name: 'a', bytes: 1, hash: 'etag-1', content_type: 'text/plain' });
    expect(items[0].last_modified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    expect(r.text).toMatch(/^\[\{"bytes": 1, "hash": "etag-1"/);
    const all = await call(server.url, 'GET', `${c}?format=json`);
    expect(all.text).toContain('"name": "\\u00e9"');
  });

  it('supports marker, end_marker, limit, prefix, delimiter, path and reverse', async () => {
    expect(names(await listJson(c))).toEqual(['a', 'b/1', 'b/2', 'b/3/x', 'c', 'c/d', 'd', 'é']);
    expect(names(await listJson(c, '&marker=b/1&limit=2'))).toEqual(['b/2', 'b/3/x']);
    expect(names(await listJson(c, '&marker=b&end_marker=c/d'))).toEqual(['b/1', 'b/2', 'b/3/x', 'c']);
    expect(names(await listJson(c, '&prefix=b/'))).toEqual(['b/1', 'b/2', 'b/3/x']);
    expect(names(await listJson(c, '&delimiter=/'))).toEqual(['a', 'b/', 'c', 'c/', 'd', 'é']);
    expect(names(await listJson(c, '&delimiter=/&prefix=b/'))).toEqual(['b/1', 'b/2', 'b/3/']);
    expect(names(await listJson(c, '&path=b'))).toEqual(['b/1', 'b/2']);
    expect(names(await listJson(c, '&reverse=on'))).toEqual(['é', 'd', 'c/d', 'c', 'b/3/x', 'b/2', 'b/1', 'a']);
    expect(names(await listJson(c, '&reverse=true&delimiter=/&limit=3'))).toEqual(['é', 'd', 'c/']);
    const subdir = await listJson(c, '&delimiter=/&prefix=c');
    expect(subdir).toEqual([expect.objectContaining({ name: 'c' }), { subdir: 'c/' }]);
  });

  it('renders plain and XML, and answers empty plain listings with 204', async () => {
    const plain = await call(server.url, 'GET', `${c}?prefix=b/`);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(plain.text).toBe('b/1\nb/2\nb/3/x\n');
    const xml = await call(server.url, 'GET', `${c}?prefix=c&delimiter=/`, { Accept: 'application/xml' });
    expect(xml.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(xml.text).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<container name="c\d+"><object><name>c<\/name><hash>etag-1<\/hash><bytes>1<\/bytes><content_type>text\/plain<\/content_type><last_modified>[^<]+<\/last_modified><\/object><subdir name="c\/"><name>c\/<\/name><\/subdir><\/container>$/);
    const empty = await call(server.url, 'GET', `${c}?prefix=zzz`);
    expect(empty.status).toBe(204);
    expect(empty.text).toBe('');
    const emptyJson = await call(server.url, 'GET', `${c}?prefix=zzz&format=json`);
    expect(emptyJson.status).toBe(200);
    expect(emptyJson.text).toBe('[]');
  });

  it('rejects over-limit and bad parameters', async () => {
    const r = await call(server.url, 'GET', `${c}?limit=10001`);
    expect(r.status).toBe(412);
    expect(r.text).toBe('Maximum limit is 10000');
    expect((await call(server.url, 'GET', `${c}?prefix=%ff`)).status).toBe(400);
    expect((await call(server.url, 'GET', c, { Accept: 'image/png' })).status).toBe(406);
    expect((await call(server.url, 'GET', '/sdz/1/a/c')).status).toBe(507);
  });

  it('scans the (deleted, policy, name) index, never the whole object table', () => {
    const b = ContainerBroker.open(dbPath(devices.dir, 'sda', 'containers', '7', hashPath(conf.hash, 'AUTH_t', c.split('/').pop()!)))!;
    try {
      for (const q of [
        { reverse: false, limit: 10 },
        { gt: 'b', lt: 'c', reverse: false, limit: 10 },
        { gte: 'b/', lt: 'b0', reverse: true, limit: 10 },
      ]) {
        const { sql, args } = b.listQuery(q, 0);
        const plan = b.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[];
        const details = plan.map((p) => p.detail).join('\n');
        expect(details).toContain('USING INDEX ix_object_deleted_policy_name');
        expect(details).not.toMatch(/SCAN object/);
        expect(details).not.toContain('TEMP B-TREE');
      }
    } finally {
      b.close();
    }
  });
});

describe('account updates', () => {
  interface Captured {
    method: string;
    url: string;
    headers: IncomingMessage['headers'];
  }
  let fake: Server;
  let fakePort: number;
  let captured: Captured[] = [];
  let status = 201;
  let hang: Server;
  let hangPort: number;
  const hung: IncomingMessage[] = [];

  beforeAll(async () => {
    fake = createServer((req, res) => {
      captured.push({ method: req.method!, url: req.url!, headers: req.headers });
      req.resume();
      res.writeHead(status, { 'Content-Length': '0' });
      res.end();
    });
    hang = createServer((req) => {
      hung.push(req); // never answers
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    fakePort = (fake.address() as AddressInfo).port;
    hangPort = (hang.address() as AddressInfo).port;
  });
  afterAll(async () => {
    fake.closeAllConnections();
    hang.closeAllConnections();
    await new Promise((r) => fake.close(r));
    await new Promise((r) => hang.close(r));
  });
  afterEach(() => {
    captured = [];
    status = 201;
  });

  it('PUTs the container stats to every account replica', async () => {
    const c = fresh();
    const t = ts();
    const r = await call(server.url, 'PUT', c, {
      'X-Timestamp': t,
      'X-Account-Host': `127.0.0.1:${fakePort},127.0.0.1:${fakePort}`,
      'X-Account-Device': 'sdb,sdc',
      'X-Account-Partition': '42',
      'X-Trans-Id': 'tx123',
      'X-Backend-Storage-Policy-Index': '1',
      'X-Account-Override-Deleted': 'yes',
    });
    expect(r.status).toBe(201);
    expect(captured.map((x) => `${x.method} ${x.url}`).sort()).toEqual([`PUT /sdb/42${c.slice(6)}`, `PUT /sdc/42${c.slice(6)}`]);
    const h = captured[0]!.headers;
    expect(h['x-put-timestamp']).toBe(t);
    expect(h['x-delete-timestamp']).toBe('0000000000.00000');
    expect(h['x-object-count']).toBe('0');
    expect(h['x-bytes-used']).toBe('0');
    expect(h['x-trans-id']).toBe('tx123');
    expect(h['x-backend-storage-policy-index']).toBe('1');
    expect(h['x-account-override-deleted']).toBe('yes');
    expect(h['user-agent']).toMatch(/^container-server \d+$/);

    await row(`${c}/o`, 11, ts(), { 'X-Backend-Storage-Policy-Index': '1' });
    // A tombstone in another policy does not empty the container.
    await del(`${c}/o`);
    expect((await del(c)).status).toBe(409);
    await del(`${c}/o`, ts(), { 'X-Backend-Storage-Policy-Index': '1' });
    captured = [];
    const tDel = ts();
    expect((await del(c, tDel, { 'X-Account-Host': `127.0.0.1:${fakePort}`, 'X-Account-Device': 'sdb', 'X-Account-Partition': '42' })).status).toBe(204);
    expect(captured).toHaveLength(1);
    expect(captured[0]!.headers['x-delete-timestamp']).toBe(tDel);
    expect(captured[0]!.headers['x-put-timestamp']).toBe(t);
  });

  it('quotes names in the account update path', async () => {
    const c = '/sda/7/AUTH_t/caf%C3%A9%20x';
    expect((await put(c, { 'X-Account-Host': `127.0.0.1:${fakePort}`, 'X-Account-Device': 'sdb', 'X-Account-Partition': '1' })).status).toBe(201);
    expect(captured[0]!.url).toBe('/sdb/1/AUTH_t/caf%C3%A9%20x');
  });

  it('answers 400 for mismatched host and device lists, before changing anything', async () => {
    const c = fresh();
    const r = await put(c, { 'X-Account-Host': `127.0.0.1:${fakePort},127.0.0.1:${fakePort}`, 'X-Account-Device': 'sdb', 'X-Account-Partition': '1' });
    expect(r.status).toBe(400);
    expect(captured).toHaveLength(0);
    expect((await head(c)).status).toBe(404);
  });

  it('answers 404 when every account replica answers 404 (the container stays created)', async () => {
    status = 404;
    const c = fresh();
    const r = await put(c, { 'X-Account-Host': `127.0.0.1:${fakePort},127.0.0.1:${fakePort}`, 'X-Account-Device': 'sdb,sdc', 'X-Account-Partition': '1' });
    expect(r.status).toBe(404);
    expect(captured).toHaveLength(2);
    expect((await head(c)).status).toBe(204);
    // One 404 among successes is not enough.
    status = 201;
    const ok = await put(c, { 'X-Account-Host': `127.0.0.1:${fakePort},127.0.0.1:1`, 'X-Account-Device': 'sdb,sdc', 'X-Account-Partition': '1' });
    expect(ok.status).toBe(202);
  });

  it('does not hang on an unresponsive account server', async () => {
    const d = makeDevices(['sda']);
    const quick = await startContainerServer({ devices: d.dir, swiftConf: conf, nodeTimeout: 0.3, connTimeout: 0.2, updaterInterval: 0 });
    try {
      const r = await call(quick.url, 'PUT', '/sda/1/a/c', {
        'X-Timestamp': ts(),
        'X-Account-Host': `127.0.0.1:${hangPort},127.0.0.1:${fakePort}`,
        'X-Account-Device': 'sdb,sdc',
        'X-Account-Partition': '1',
      });
      expect(r.status).toBe(201);
      expect(hung.length).toBeGreaterThan(0);
      expect((await call(quick.url, 'HEAD', '/sda/1/a/c')).status).toBe(204);
    } finally {
      await quick.close();
      d.remove();
    }
  });
});

describe('with the real account server', () => {
  it('reports container stats that the account then lists', async () => {
    const { startAccountServer } = await import('../../../servers/account/server');
    const d = makeDevices(['sdb']);
    const account = await startAccountServer({ devices: d.dir, swiftConf: conf });
    try {
      const acct = '/sdb/3/AUTH_real';
      expect((await call(account.url, 'PUT', acct, { 'X-Timestamp': ts() })).status).toBe(201);
      const upd = { 'X-Account-Host': `127.0.0.1:${account.port}`, 'X-Account-Device': 'sdb', 'X-Account-Partition': '3' };
      const c = '/sda/7/AUTH_real/box';
      expect((await put(c, upd)).status).toBe(201);
      await row(`${c}/o1`, 40);
      // With the updater off, row updates do not report by themselves; a PUT does.
      expect((await put(c, upd)).status).toBe(202);
      const h = await call(account.url, 'HEAD', acct);
      expect(h.headers['x-account-container-count']).toBe('1');
      expect(h.headers['x-account-object-count']).toBe('1');
      expect(h.headers['x-account-bytes-used']).toBe('40');
      // A container PUT for a missing account is 404 (every replica said so).
      expect((await put('/sda/7/AUTH_nobody/box', { ...upd })).status).toBe(404);
    } finally {
      await account.close();
      d.remove();
    }
  });
});
