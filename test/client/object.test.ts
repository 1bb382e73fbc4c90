/**
 * ObjectStore against a real cluster with TempAuth: typed stats, listings paged with small
 * limits, put/get with ranges and ETag checks (a body corrupted on disk is detected), metadata,
 * copy, delete and bulk delete.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClientHttpError } from '../../src/client/types';
import { EtagMismatchError, ObjectStore, ObjectClientUsageError } from '../../src/client/object/index';
import { eventually, RecordingSession, useStoreCluster } from './token-session';

const f = useStoreCluster();

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Flips the first body byte of every stored replica of /AUTH_test/<c>/<o> (the .data trailer names it). */
function corruptOnDisk(dataDir: string, name: string): number {
  let n = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.data') && !p.includes('quarantined')) {
        const buf = readFileSync(p);
        const jsonLen = buf.readUInt32BE(buf.length - 12);
        const meta = JSON.parse(buf.subarray(buf.length - 28 - jsonLen, buf.length - 28).toString('utf8')) as { name: string };
        if (meta.name === name) {
          buf[0] = buf[0]! ^ 0xff;
          writeFileSync(p, buf);
          n++;
        }
      }
    }
  };
  walk(dataDir);
  return n;
}

describe('account and container', () => {
  it('creates, stats, posts metadata and deletes a container', async () => {
    const c = f.store.container('stats');
    expect(await c.create({ color: 'blue' })).toBe(true);
    expect(await c.create()).toBe(false);
    await f.store.object('stats', 'a').put('hello');
    await c.post({ shape: 'café' });
    await eventually(async () => {
      const st = await c.stat();
      expect(st.objectCount).toBe(1);
      expect(st.bytesUsed).toBe(5);
      expect(st.metadata).toEqual({ color: 'blue', shape: 'café' });
    });
    const acct = await f.store.account.stat();
    expect(acct.containerCount).toBeGreaterThanOrEqual(1);
    // Object counts reach the account asynchronously (container updates): only the type is certain.
    expect(Number.isInteger(acct.objectCount)).toBe(true);
    await expect(c.delete()).rejects.toMatchObject({ status: 409 });
    await f.store.object('stats', 'a').delete();
    await eventually(() => c.delete());
    await expect(c.stat()).rejects.toBeInstanceOf(ClientHttpError);
    await expect(c.stat()).rejects.toMatchObject({ status: 404 });
  });

  it('refuses bad names before any request', () => {
    expect(() => f.store.container('a/b')).toThrow(ObjectClientUsageError);
    expect(() => f.store.object('', 'x')).toThrow(ObjectClientUsageError);
    expect(() => f.store.object('c', '')).toThrow(ObjectClientUsageError);
  });
});

describe('listings', () => {
  it('pages through objects with a small limit, in order, one request per page', async () => {
    await f.store.container('listing').create();
    const names = ['a/1', 'a/2', 'b', 'c d', 'd/x/y', 'e', 'é'];
    for (const n of names) await f.store.object('listing', n).put(n);
    await eventually(async () => expect(await collect(f.store.container('listing').objects())).toHaveLength(names.length));
    const rec = new RecordingSession(f.env.session);
    const s = new ObjectStore(rec);
    const all = await collect(s.container('listing').objects({ limit: 2 }));
    expect(all.map((e) => (e.kind === 'object' ? e.name : e.subdir))).toEqual(names);
    const first = all[0]!;
    expect(first).toMatchObject({ kind: 'object', name: 'a/1', bytes: 3, hash: createHash('md5').update('a/1').digest('hex') });
    // 7 items, 2 a page: 2+2+2+1, the short page ends it.
    expect(rec.count('GET', /\/listing$/)).toBe(4);
    expect(rec.requests.filter((r) => r.method === 'GET').map((r) => r.query?.marker)).toEqual([undefined, 'a/2', 'c d', 'e']);
  });

  it('rolls up with a delimiter and honours prefix, marker and endMarker', async () => {
    const rolled = await collect(f.store.container('listing').objects({ delimiter: '/', limit: 1 }));
    expect(rolled.map((e) => (e.kind === 'object' ? e.name : `dir:${e.subdir}`))).toEqual(['dir:a/', 'b', 'c d', 'dir:d/', 'e', 'é']);
    const some = await collect(f.store.container('listing').objects({ prefix: 'a/', limit: 1 }));
    expect(some.map((e) => (e.kind === 'object' ? e.name : ''))).toEqual(['a/1', 'a/2']);
    const range = await collect(f.store.container('listing').objects({ marker: 'b', endMarker: 'e' }));
    expect(range.map((e) => (e.kind === 'object' ? e.name : ''))).toEqual(['c d', 'd/x/y']);
  });

  it('lists containers page by page', async () => {
    for (const n of ['pg-1', 'pg-2', 'pg-3']) await f.store.container(n).create();
    const got = await eventually(async () => {
      const all = await collect(f.store.account.containers({ prefix: 'pg-', limit: 1 }));
      expect(all.map((c) => c.name)).toEqual(['pg-1', 'pg-2', 'pg-3']);
      return all;
    });
    expect(got[0]).toMatchObject({ kind: 'container', count: 0, bytes: 0 });
  });
});

describe('objects', () => {
  beforeAll(async () => {
    await f.store.container('objs').create();
  });

  it('puts and gets a body with its ETag checked', async () => {
    const body = 'The quick brown fox';
    const put = await f.store.object('objs', 'fox').put(body, { contentType: 'text/plain', meta: { who: 'fox' } });
    expect(put.status).toBe(201);
    expect(put.etag).toBe(createHash('md5').update(body).digest('hex'));
    const got = await f.store.object('objs', 'fox').get();
    expect(got.status).toBe(200);
    expect(got.verifying).toBe(true);
    expect(got.stat).toMatchObject({ contentLength: body.length, contentType: 'text/plain', etag: put.etag, metadata: { who: 'fox' } });
    expect(await text(got.body)).toBe(body);
  });

  it('sends a given ETag, which the server checks (422)', async () => {
    await expect(f.store.object('objs', 'bad').put('abc', { etag: '0'.repeat(32) })).rejects.toMatchObject({ status: 422 });
    await expect(f.store.object('objs', 'bad').stat()).rejects.toMatchObject({ status: 404 });
  });

  it('gets byte ranges without claiming to verify them', async () => {
    const got = await f.store.object('objs', 'fox').get({ range: { start: 4, end: 8 } });
    expect(got.status).toBe(206);
    expect(got.verifying).toBe(false);
    expect(got.headers['content-range']).toBe('bytes 4-8/19');
    expect(await text(got.body)).toBe('quick');
    const tail = await f.store.object('objs', 'fox').get({ range: { suffix: 3 } });
    expect(await text(tail.body)).toBe('fox');
    const open = await f.store.object('objs', 'fox').get({ range: { start: 16 } });
    expect(await text(open.body)).toBe('fox');
    await expect(f.store.object('objs', 'fox').get({ range: { start: 5, end: 2 } })).rejects.toThrow(ObjectClientUsageError);
  });

  it('detects a body that does not match its ETag (corrupted on disk)', async () => {
    await f.store.object('objs', 'rotten').put('precious bytes, every one');
    expect(corruptOnDisk(f.env.cluster.dataDir, '/AUTH_test/objs/rotten')).toBeGreaterThan(0);
    const got = await f.store.object('objs', 'rotten').get();
    await expect(text(got.body)).rejects.toBeInstanceOf(EtagMismatchError);
  });

  it('a download that fails its ETag check leaves no file behind', async () => {
    await f.store.object('objs', 'rotten2').put('more precious bytes');
    corruptOnDisk(f.env.cluster.dataDir, '/AUTH_test/objs/rotten2');
    const dest = join(f.tmp, 'rotten2');
    await expect(f.store.download('objs', 'rotten2', dest)).rejects.toBeInstanceOf(EtagMismatchError);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('downloads to a file, with ranges', async () => {
    const dest = join(f.tmp, 'fox');
    const seen: number[] = [];
    const res = await f.store.download('objs', 'fox', dest, { onProgress: (p) => seen.push(p.bytesDone) });
    expect(res).toMatchObject({ bytes: 19, verified: true, status: 200 });
    expect(readFileSync(dest, 'utf8')).toBe('The quick brown fox');
    expect(seen.at(-1)).toBe(19);
    const part = await f.store.download('objs', 'fox', join(f.tmp, 'fox-part'), { range: { start: 10, end: 14 } });
    expect(part).toMatchObject({ bytes: 5, verified: false, status: 206 });
    expect(readFileSync(join(f.tmp, 'fox-part'), 'utf8')).toBe('brown');
  });

  it('posts metadata, copies with or without it, deletes', async () => {
    const o = f.store.object('objs', 'meta');
    await o.put('m', { meta: { a: '1' } });
    await o.post({ b: '2' }, { contentType: 'text/x-test' });
    expect(await o.stat()).toMatchObject({ metadata: { b: '2' }, contentType: 'text/x-test' });
    await o.copy('objs/meta-copy');
    expect((await f.store.object('objs', 'meta-copy').stat()).metadata).toEqual({ b: '2' });
    await o.copy({ container: 'objs', object: 'meta-fresh' }, { freshMetadata: true, meta: { c: '3' } });
    expect((await f.store.object('objs', 'meta-fresh').stat()).metadata).toEqual({ c: '3' });
    await expect(o.copy('nocontainer')).rejects.toThrow(ObjectClientUsageError);
    await o.delete();
    await expect(o.stat()).rejects.toMatchObject({ status: 404 });
    await expect(o.delete()).rejects.toMatchObject({ status: 404 });
  });
});

describe('bulk delete', () => {
  it('deletes many paths in one bulk-delete request when /info has bulk_delete', async () => {
    await f.store.container('bulk').create();
    for (const n of ['1', '2', 'sp ace', 'ü']) await f.store.object('bulk', n).put(n);
    const rec = new RecordingSession(f.env.session);
    const res = await new ObjectStore(rec).bulkDelete(['bulk/1', '/bulk/2', { container: 'bulk', object: 'sp ace' }, 'bulk/ü', 'bulk/missing']);
    expect(res).toEqual({ deleted: 4, notFound: 1, errors: [], bulk: true });
    expect(rec.requests.filter((r) => r.method === 'POST').map((r) => r.query)).toEqual([{ 'bulk-delete': '' }]);
    expect(rec.count('DELETE', /./)).toBe(0);
    await eventually(async () => expect(await collect(f.store.container('bulk').objects())).toEqual([]));
    // A non-empty container cannot go: reported per path, not thrown.
    await f.store.object('bulk', 'keep').put('k');
    await eventually(async () => expect((await f.store.container('bulk').stat()).objectCount).toBe(1));
    const conflict = await f.store.bulkDelete(['bulk']);
    expect(conflict.deleted).toBe(0);
    expect(conflict.errors).toEqual([{ path: '/bulk', status: '409 Conflict' }]);
  });

  it('falls back to one DELETE per path without bulk_delete in /info', async () => {
    await f.store.container('bulk2').create();
    for (const n of ['x', 'y']) await f.store.object('bulk2', n).put(n);
    class NoInfo extends RecordingSession {
      override request(url: string, opts?: Parameters<RecordingSession['request']>[1]) {
        return super.request(url.endsWith('/info') ? `${url}-not-here` : url, opts);
      }
    }
    const rec = new NoInfo(f.env.session);
    const res = await new ObjectStore(rec).bulkDelete(['bulk2/x', 'bulk2/y', 'bulk2/z']);
    expect(res).toEqual({ deleted: 2, notFound: 1, errors: [], bulk: false });
    expect(rec.count('DELETE', /\/bulk2\//)).toBe(3);
    expect(rec.count('POST', /./)).toBe(0);
  });
});
