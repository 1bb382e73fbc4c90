import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeDevices } from '../../helpers/tmp';
import { hashPath } from '../../../src/common/hash-path';
import { startObjectServer, type RunningObjectServer } from '../../../servers/object/server';
import { rawRequest, req, testConf, ts, walk } from './helpers';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const conf = testConf({ max_file_size: 1024 * 1024 * 64 });
const NOW = Math.floor(Date.now() / 1000);

let devs: ReturnType<typeof makeDevices>;
let srv: RunningObjectServer;
let seq = 0;
/** Monotonic timestamps so tests never collide. */
const next = () => ts(NOW + ++seq);

beforeAll(async () => {
  devs = makeDevices(['sda', 'sdb']);
  srv = await startObjectServer({ devices: devs.dir, swiftConf: conf, updaterInterval: 0 });
});
afterAll(async () => {
  await srv.close();
  devs.remove();
});

const put = (path: string, body: string | Buffer, headers: Record<string, string | number> = {}) =>
  req(srv.url, 'PUT', path, { 'X-Timestamp': next(), 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), ...headers }, body);

describe('PUT / GET / HEAD', () => {
  it('stores an object and serves it back with Swift headers', async () => {
    const t = next();
    const r = await req(srv.url, 'PUT', '/sda/7/a/c/dir/obj.txt', { 'X-Timestamp': t, 'Content-Type': 'text/plain', 'Content-Length': 5, 'X-Object-Meta-Color': 'blue', 'Content-Disposition': 'inline', 'X-Object-Sysmeta-Secret': 's', 'X-Backend-Junk': 'no' }, 'hello');
    expect(r.status).toBe(201);
    expect(r.headers.etag).toBe(`"${md5('hello')}"`);
    expect(r.body.length).toBe(0);

    const g = await req(srv.url, 'GET', '/sda/7/a/c/dir/obj.txt');
    expect(g.status).toBe(200);
    expect(g.body.toString()).toBe('hello');
    expect(g.headers['content-length']).toBe('5');
    expect(g.headers['content-type']).toBe('text/plain');
    expect(g.headers.etag).toBe(`"${md5('hello')}"`);
    expect(g.headers['x-timestamp']).toBe(t);
    expect(g.headers['x-backend-timestamp']).toBe(t);
    expect(g.headers['x-backend-data-timestamp']).toBe(t);
    expect(g.headers['last-modified']).toBe(new Date(Math.ceil(Number(t)) * 1000).toUTCString());
    expect(g.headers['x-object-meta-color']).toBe('blue');
    expect(g.headers['x-object-sysmeta-secret']).toBe('s');
    expect(g.headers['content-disposition']).toBe('inline');
    expect(g.headers['x-backend-junk']).toBeUndefined();

    const h = await req(srv.url, 'HEAD', '/sda/7/a/c/dir/obj.txt');
    expect(h.status).toBe(200);
    expect(h.headers['content-length']).toBe('5');
    expect(h.body.length).toBe(0);

    // On-disk layout: objects/<part>/<hash[-3:]>/<hash>/<ts>.data
    const hash = hashPath(conf.hash, 'a', 'c', 'dir/obj.txt');
    expect(readdirSync(join(devs.dir, 'sda', 'objects', '7', hash.slice(-3), hash))).toEqual([`${t}.data`]);
  });

  it('uses objects-N for a non-zero policy and 503 for an unknown one', async () => {
    const t = next();
    const r = await put('/sda/3/a/c/pol', 'x', { 'X-Timestamp': t, 'X-Backend-Storage-Policy-Index': 1 });
    expect(r.status).toBe(201);
    const hash = hashPath(conf.hash, 'a', 'c', 'pol');
    expect(existsSync(join(devs.dir, 'sda', 'objects-1', '3', hash.slice(-3), hash, `${t}.data`))).toBe(true);
    expect((await req(srv.url, 'GET', '/sda/3/a/c/pol')).status).toBe(404);
    expect((await req(srv.url, 'GET', '/sda/3/a/c/pol', { 'X-Backend-Storage-Policy-Index': 1 })).status).toBe(200);
    const bad = await req(srv.url, 'GET', '/sda/3/a/c/pol', { 'X-Backend-Storage-Policy-Index': 9 });
    expect(bad.status).toBe(503);
    expect(bad.body.toString()).toBe('No policy with index 9');
  });

  it('round-trips UTF-8 metadata and names', async () => {
    const path = '/sda/1/a/c/' + encodeURIComponent('naïve ☃');
    const value = Buffer.from('żółć ☃', 'utf8').toString('latin1');
    expect((await put(path, 'u', { 'X-Object-Meta-Snow': value, 'Content-Type': Buffer.from('text/plain; name=☃').toString('latin1') })).status).toBe(201);
    const g = await req(srv.url, 'GET', path);
    expect(g.status).toBe(200);
    expect(Buffer.from(g.headers['x-object-meta-snow'] as string, 'latin1').toString('utf8')).toBe('żółć ☃');
    expect(Buffer.from(g.headers['content-type'] as string, 'latin1').toString('utf8')).toBe('text/plain; name=☃');
  });

  it('accepts a chunked upload and an empty object', async () => {
    const r = await req(srv.url, 'PUT', '/sda/1/a/c/chunked', { 'X-Timestamp': next(), 'Content-Type': 'a/b', 'Transfer-Encoding': 'chunked' }, (async function* () {
      yield Buffer.from('abc');
      yield Buffer.from('def');
    })());
    expect(r.status).toBe(201);
    expect((await req(srv.url, 'GET', '/sda/1/a/c/chunked')).body.toString()).toBe('abcdef');
    expect((await put('/sda/1/a/c/empty', '')).status).toBe(201);
    const g = await req(srv.url, 'GET', '/sda/1/a/c/empty');
    expect(g.status).toBe(200);
    expect(g.headers.etag).toBe(`"${md5('')}"`);
  });

  it('streams a 20 MiB body in and out with the right ETag', async () => {
    const size = 20 * 1024 * 1024;
    const hasher = createHash('md5');
    async function* gen() {
      let sent = 0;
      let i = 0;
      while (sent < size) {
        const n = Math.min(256 * 1024, size - sent);
        const chunk = Buffer.alloc(n, i++ % 251);
        hasher.update(chunk);
        sent += n;
        yield chunk;
      }
    }
    const r = await req(srv.url, 'PUT', '/sda/2/a/c/big', { 'X-Timestamp': next(), 'Content-Type': 'application/octet-stream', 'Content-Length': size }, gen());
    const expected = hasher.digest('hex');
    expect(r.status).toBe(201);
    expect(r.headers.etag).toBe(`"${expected}"`);
    const g = await req(srv.url, 'GET', '/sda/2/a/c/big');
    expect(g.body.length).toBe(size);
    expect(md5(g.body)).toBe(expected);
  });
});

describe('PUT errors', () => {
  it('400 without or with a bad X-Timestamp', async () => {
    const r = await req(srv.url, 'PUT', '/sda/1/a/c/o', { 'Content-Type': 'x/y', 'Content-Length': 0 }, '');
    expect(r.status).toBe(400);
    expect(r.body.toString()).toBe('Missing X-Timestamp header');
    const b = await req(srv.url, 'PUT', '/sda/1/a/c/o', { 'X-Timestamp': 'nope', 'Content-Type': 'x/y', 'Content-Length': 0 }, '');
    expect(b.status).toBe(400);
    expect(b.body.toString()).toBe("X-Timestamp should be a UNIX timestamp float value; was 'nope'");
  });

  it('411 without Content-Length or chunked encoding', async () => {
    const raw = await rawRequest(srv.url, `PUT /sda/1/a/c/o HTTP/1.1\r\nHost: x\r\nX-Timestamp: ${next()}\r\nContent-Type: x/y\r\n\r\n`);
    expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 411 Length Required');
    expect(raw.endsWith('\r\n\r\nMissing Content-Length header.')).toBe(true);
  });

  it('413 above max_file_size', async () => {
    const r = await req(srv.url, 'PUT', '/sda/1/a/c/o', { 'X-Timestamp': next(), 'Content-Type': 'x/y', 'Content-Length': conf.constraints.max_file_size + 1 });
    expect(r.status).toBe(413);
    expect(r.body.toString()).toBe('Your request is too large.');
  });

  it('400 for missing content type, bad X-Delete-At and bad metadata', async () => {
    const noCt = await req(srv.url, 'PUT', '/sda/1/a/c/o', { 'X-Timestamp': next(), 'Content-Length': 0 }, '');
    expect([noCt.status, noCt.body.toString()]).toEqual([400, 'No content type']);
    const past = await put('/sda/1/a/c/o', '', { 'X-Delete-At': String(NOW - 10) });
    expect([past.status, past.body.toString()]).toEqual([400, 'X-Delete-At in past']);
    const nonInt = await put('/sda/1/a/c/o', '', { 'X-Delete-At': 'soon' });
    expect([nonInt.status, nonInt.body.toString()]).toEqual([400, 'Non-integer X-Delete-At']);
    const after = await put('/sda/1/a/c/o', '', { 'X-Delete-After': 'x' });
    expect([after.status, after.body.toString()]).toEqual([400, 'Non-integer X-Delete-After']);
    const longName = await put('/sda/1/a/c/o', '', { ['X-Object-Meta-' + 'n'.repeat(129)]: 'v' });
    expect(longName.status).toBe(400);
    expect(longName.body.toString()).toMatch(/^Metadata name too long: /);
    const longVal = await put('/sda/1/a/c/o', '', { 'X-Object-Meta-K': 'v'.repeat(257) });
    expect([longVal.status, longVal.body.toString()]).toEqual([400, 'Metadata value longer than 256: x-object-meta-K']);
    expect((await req(srv.url, 'GET', '/sda/1/a/c/o')).status).toBe(404);
  });

  it('422 when the ETag disagrees, leaving nothing behind', async () => {
    const r = await put('/sda/4/a/c/etag', 'data', { ETag: md5('other') });
    expect(r.status).toBe(422);
    expect((await req(srv.url, 'GET', '/sda/4/a/c/etag')).status).toBe(404);
    const hash = hashPath(conf.hash, 'a', 'c', 'etag');
    expect(existsSync(join(devs.dir, 'sda', 'objects', '4', hash.slice(-3), hash))).toBe(false);
    expect(walk(join(devs.dir, 'sda', 'tmp'))).toEqual([]);
    const ok = await put('/sda/4/a/c/etag', 'data', { ETag: `"${md5('data')}"` });
    expect(ok.status).toBe(201);
  });

  it('507 for a missing device, with the drive named', async () => {
    const r = await put('/nodev/1/a/c/o', 'x');
    expect(r.status).toBe(507);
    expect(r.body.toString()).toContain('Drive: nodev');
  });

  it('400 for a bad path and 405 for other methods', async () => {
    expect((await req(srv.url, 'GET', '/sda/1/a/c')).status).toBe(400);
    expect((await req(srv.url, 'GET', '/sda/1/a')).status).toBe(400);
    // OPTIONS is answered (200, test/servers/recon.test.ts), as Swift's BaseStorageServer does.
    expect((await req(srv.url, 'PATCH', '/sda/1/a/c/o')).status).toBe(405);
    expect((await req(srv.url, 'GET', '/sda/1/a/c/%FF')).status).toBe(412);
  });

  it('409 for a PUT not newer than the existing object, with X-Backend-Timestamp', async () => {
    const t = next();
    expect((await put('/sda/1/a/c/conflict', 'new', { 'X-Timestamp': t })).status).toBe(201);
    const older = await put('/sda/1/a/c/conflict', 'old', { 'X-Timestamp': ts(NOW - 100) });
    expect(older.status).toBe(409);
    expect(older.headers['x-backend-timestamp']).toBe(t);
    const same = await put('/sda/1/a/c/conflict', 'same', { 'X-Timestamp': t });
    expect(same.status).toBe(409);
    expect((await req(srv.url, 'GET', '/sda/1/a/c/conflict')).body.toString()).toBe('new');
  });

  it('412 for If-None-Match: * or a matching etag when the object exists', async () => {
    expect((await put('/sda/1/a/c/inm', 'v1', { 'If-None-Match': '*' })).status).toBe(201);
    expect((await put('/sda/1/a/c/inm', 'v2', { 'If-None-Match': '*' })).status).toBe(412);
    expect((await put('/sda/1/a/c/inm', 'v2', { 'If-None-Match': `"${md5('v1')}"` })).status).toBe(412);
    expect((await put('/sda/1/a/c/inm', 'v2', { 'If-None-Match': 'abc' })).status).toBe(201);
  });

  it('answers Expect: 100-continue only after its checks pass', async () => {
    const t = next();
    expect((await put('/sda/1/a/c/expect', 'v', { 'X-Timestamp': t })).status).toBe(201);
    const url = new URL(srv.url);
    const attempt = (stamp: string) =>
      new Promise<{ status: number; sawContinue: boolean }>((resolve, reject) => {
        let sawContinue = false;
        const r = httpRequest({ host: url.hostname, port: url.port, method: 'PUT', path: '/sda/1/a/c/expect', agent: false, headers: { 'X-Timestamp': stamp, 'Content-Type': 'x/y', 'Content-Length': 3, Expect: '100-continue' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, sawContinue }));
        });
        r.on('continue', () => {
          sawContinue = true;
          r.end('abc');
        });
        r.on('error', reject);
        r.flushHeaders();
      });
    expect(await attempt(ts(NOW - 1000))).toEqual({ status: 409, sawContinue: false });
    expect(await attempt(next())).toEqual({ status: 201, sawContinue: true });
    expect((await req(srv.url, 'GET', '/sda/1/a/c/expect')).body.toString()).toBe('abc');
  });

  it('499 and nothing written when the client disconnects mid-upload', async () => {
    const url = new URL(srv.url);
    const tmpBefore = walk(join(devs.dir, 'sda', 'tmp'));
    await new Promise<void>((resolve) => {
      const r = httpRequest({ host: url.hostname, port: url.port, method: 'PUT', path: '/sda/5/a/c/gone', agent: false, headers: { 'X-Timestamp': next(), 'Content-Type': 'x/y', 'Content-Length': 1_000_000 } });
      r.on('error', () => resolve());
      r.write(Buffer.alloc(100_000, 1), () => setTimeout(() => r.destroy(), 50));
    });
    // Give the server a moment to notice the disconnect and clean up.
    for (let i = 0; i < 50 && walk(join(devs.dir, 'sda', 'tmp')).length > tmpBefore.length; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    expect((await req(srv.url, 'GET', '/sda/5/a/c/gone')).status).toBe(404);
    const hash = hashPath(conf.hash, 'a', 'c', 'gone');
    expect(existsSync(join(devs.dir, 'sda', 'objects', '5', hash.slice(-3), hash))).toBe(false);
    expect(walk(join(devs.dir, 'sda', 'tmp'))).toEqual(tmpBefore);
  });

  it('499 when a body is shorter than its Content-Length', async () => {
    // A raw socket lets us send a short body then half-close, as a dying proxy would.
    const raw = await rawRequest(srv.url, `PUT /sda/5/a/c/short HTTP/1.1\r\nHost: x\r\nX-Timestamp: ${next()}\r\nContent-Type: x/y\r\nContent-Length: 10\r\n\r\nabc`, true);
    expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 499 Client Disconnect');
    await new Promise((r) => setTimeout(r, 100));
    expect((await req(srv.url, 'GET', '/sda/5/a/c/short')).status).toBe(404);
  });
});

describe('DELETE and tombstones', () => {
  it('204 when it existed, then 404 with X-Backend-Timestamp; 404 when missing', async () => {
    const t1 = next();
    expect((await put('/sda/6/a/c/del', 'x', { 'X-Timestamp': t1 })).status).toBe(201);
    const t2 = next();
    const d = await req(srv.url, 'DELETE', '/sda/6/a/c/del', { 'X-Timestamp': t2 });
    expect(d.status).toBe(204);
    expect(d.headers['x-backend-timestamp']).toBe(t2);
    expect(d.headers['x-backend-content-type']).toBe('text/plain');
    const g = await req(srv.url, 'GET', '/sda/6/a/c/del');
    expect(g.status).toBe(404);
    expect(g.headers['x-backend-timestamp']).toBe(t2);
    const hash = hashPath(conf.hash, 'a', 'c', 'del');
    expect(readdirSync(join(devs.dir, 'sda', 'objects', '6', hash.slice(-3), hash))).toEqual([`${t2}.ts`]);
    const again = await req(srv.url, 'DELETE', '/sda/6/a/c/del', { 'X-Timestamp': next() });
    expect(again.status).toBe(404);
    const never = await req(srv.url, 'DELETE', '/sda/6/a/c/never', { 'X-Timestamp': next() });
    expect(never.status).toBe(404);
    expect((await req(srv.url, 'DELETE', '/sda/6/a/c/never')).status).toBe(400);
  });

  it('delete then an older PUT: 409 and the object stays deleted', async () => {
    const tPut = next();
    const tDel = next();
    expect((await req(srv.url, 'DELETE', '/sda/6/a/c/order1', { 'X-Timestamp': tDel })).status).toBe(404);
    const p = await put('/sda/6/a/c/order1', 'late', { 'X-Timestamp': tPut });
    expect(p.status).toBe(409);
    expect(p.headers['x-backend-timestamp']).toBe(tDel);
    expect((await req(srv.url, 'GET', '/sda/6/a/c/order1')).status).toBe(404);
  });

  it('put then an older DELETE: 409 and the object stays', async () => {
    const tDel = next();
    const tPut = next();
    expect((await put('/sda/6/a/c/order2', 'keep', { 'X-Timestamp': tPut })).status).toBe(201);
    const d = await req(srv.url, 'DELETE', '/sda/6/a/c/order2', { 'X-Timestamp': tDel });
    expect(d.status).toBe(409);
    expect(d.headers['x-backend-timestamp']).toBe(tPut);
    expect((await req(srv.url, 'GET', '/sda/6/a/c/order2')).body.toString()).toBe('keep');
  });

  it('X-If-Delete-At: 412 on mismatch, 204 on match, 400 when malformed', async () => {
    const at = NOW + 100_000;
    expect((await put('/sda/6/a/c/ifdel', 'x', { 'X-Delete-At': String(at) })).status).toBe(201);
    expect((await req(srv.url, 'DELETE', '/sda/6/a/c/ifdel', { 'X-Timestamp': next(), 'X-If-Delete-At': 'bad' })).status).toBe(400);
    const mismatch = await req(srv.url, 'DELETE', '/sda/6/a/c/ifdel', { 'X-Timestamp': next(), 'X-If-Delete-At': String(at + 1) });
    expect([mismatch.status, mismatch.body.toString()]).toEqual([412, 'X-If-Delete-At and X-Delete-At do not match']);
    expect((await req(srv.url, 'DELETE', '/sda/6/a/c/ifdel', { 'X-Timestamp': next(), 'X-If-Delete-At': String(at) })).status).toBe(204);
    expect((await req(srv.url, 'GET', '/sda/6/a/c/ifdel')).status).toBe(404);
  });
});

describe('X-Delete-At expiry', () => {
  it('404 once past, unless X-Backend-Replication', async () => {
    const at = NOW + 50_000;
    expect((await put('/sda/8/a/c/exp', 'bye', { 'X-Delete-At': String(at) })).status).toBe(201);
    const before = await req(srv.url, 'GET', '/sda/8/a/c/exp');
    expect(before.status).toBe(200);
    expect(before.headers['x-delete-at']).toBe(String(at));
    // The request's X-Timestamp is the "current time" the object server checks expiry against.
    const after = await req(srv.url, 'GET', '/sda/8/a/c/exp', { 'X-Timestamp': ts(at + 1) });
    expect(after.status).toBe(404);
    expect((await req(srv.url, 'HEAD', '/sda/8/a/c/exp', { 'X-Timestamp': ts(at) })).status).toBe(404);
    const repl = await req(srv.url, 'GET', '/sda/8/a/c/exp', { 'X-Timestamp': ts(at + 1), 'X-Backend-Replication': 'true' });
    expect(repl.status).toBe(200);
    expect(repl.body.toString()).toBe('bye');
    expect((await req(srv.url, 'POST', '/sda/8/a/c/exp', { 'X-Timestamp': ts(at + 2) })).status).toBe(404);
  });

  it('X-Delete-After becomes a stored X-Delete-At', async () => {
    const t = NOW + ++seq;
    expect((await put('/sda/8/a/c/after', 'x', { 'X-Timestamp': ts(t), 'X-Delete-After': '100' })).status).toBe(201);
    const g = await req(srv.url, 'HEAD', '/sda/8/a/c/after');
    expect(g.headers['x-delete-at']).toBe(String(t + 100).padStart(10, '0'));
  });
});

describe('POST', () => {
  it('replaces user metadata, keeps data and sysmeta; 202', async () => {
    const tPut = next();
    expect((await put('/sda/9/a/c/post', 'body', { 'X-Timestamp': tPut, 'X-Object-Meta-A': '1', 'X-Object-Meta-B': '2', 'X-Object-Sysmeta-S': 'sys', 'Content-Type': 'text/x' })).status).toBe(201);
    const tPost = next();
    const p = await req(srv.url, 'POST', '/sda/9/a/c/post', { 'X-Timestamp': tPost, 'X-Object-Meta-C': '3', 'Content-Disposition': 'attachment' });
    expect(p.status).toBe(202);
    expect(p.headers['x-backend-content-type']).toBe('text/x');
    expect(p.headers['x-object-sysmeta-s']).toBe('sys');
    expect(p.body.toString()).toBe('<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>');
    const g = await req(srv.url, 'GET', '/sda/9/a/c/post');
    expect(g.status).toBe(200);
    expect(g.body.toString()).toBe('body');
    expect(g.headers['x-object-meta-a']).toBeUndefined();
    expect(g.headers['x-object-meta-b']).toBeUndefined();
    expect(g.headers['x-object-meta-c']).toBe('3');
    expect(g.headers['x-object-sysmeta-s']).toBe('sys');
    expect(g.headers['content-disposition']).toBe('attachment');
    expect(g.headers['content-type']).toBe('text/x');
    expect(g.headers.etag).toBe(`"${md5('body')}"`);
    expect(g.headers['x-timestamp']).toBe(tPost);
    expect(g.headers['x-backend-data-timestamp']).toBe(tPut);
    const hash = hashPath(conf.hash, 'a', 'c', 'post');
    expect(readdirSync(join(devs.dir, 'sda', 'objects', '9', hash.slice(-3), hash)).sort()).toEqual([`${tPut}.data`, `${tPost}.meta`]);
  });

  it('an older POST loses (409); a missing object is 404', async () => {
    const tPost = next();
    const tOld = next();
    const tPut = ts(NOW - 500);
    expect((await put('/sda/9/a/c/post2', 'b', { 'X-Timestamp': tPut })).status).toBe(201);
    expect((await req(srv.url, 'POST', '/sda/9/a/c/post2', { 'X-Timestamp': tOld, 'X-Object-Meta-New': 'newer' })).status).toBe(202);
    const lose = await req(srv.url, 'POST', '/sda/9/a/c/post2', { 'X-Timestamp': ts(NOW - 100), 'X-Object-Meta-Old': 'x' });
    expect(lose.status).toBe(409);
    expect(lose.headers['x-backend-timestamp']).toBe(tOld);
    const g = await req(srv.url, 'HEAD', '/sda/9/a/c/post2');
    expect(g.headers['x-object-meta-new']).toBe('newer');
    expect(g.headers['x-object-meta-old']).toBeUndefined();
    void tPost;
    expect((await req(srv.url, 'POST', '/sda/9/a/c/missing', { 'X-Timestamp': next() })).status).toBe(404);
    expect((await req(srv.url, 'POST', '/sda/9/a/c/missing')).status).toBe(400);
  });

  it('changes Content-Type with a content-type timestamp in the .meta name', async () => {
    const tPut = next();
    expect((await put('/sda/9/a/c/ctype', 'b', { 'X-Timestamp': tPut, 'Content-Type': 'text/old' })).status).toBe(201);
    const tPost = next();
    const p = await req(srv.url, 'POST', '/sda/9/a/c/ctype', { 'X-Timestamp': tPost, 'Content-Type': 'text/new' });
    expect(p.status).toBe(202);
    expect(p.headers['x-backend-content-type']).toBe('text/new');
    const g = await req(srv.url, 'HEAD', '/sda/9/a/c/ctype');
    expect(g.headers['content-type']).toBe('text/new');
    const hash = hashPath(conf.hash, 'a', 'c', 'ctype');
    expect(readdirSync(join(devs.dir, 'sda', 'objects', '9', hash.slice(-3), hash)).sort()).toEqual([`${tPut}.data`, `${tPost}+0.meta`]);
    // A later POST without Content-Type keeps the POSTed type.
    expect((await req(srv.url, 'POST', '/sda/9/a/c/ctype', { 'X-Timestamp': next(), 'X-Object-Meta-X': 'y' })).status).toBe(202);
    const g2 = await req(srv.url, 'HEAD', '/sda/9/a/c/ctype');
    expect(g2.headers['content-type']).toBe('text/new');
    expect(g2.headers['x-object-meta-x']).toBe('y');
  });
});

describe('ranges', () => {
  const body = Buffer.from('0123456789abcdefghij');
  beforeAll(async () => {
    expect((await put('/sda/10/a/c/r', body, { 'Content-Type': 'text/plain' })).status).toBe(201);
  });

  it('serves a single range with 206 and Content-Range', async () => {
    const g = await req(srv.url, 'GET', '/sda/10/a/c/r', { Range: 'bytes=2-5' });
    expect(g.status).toBe(206);
    expect(g.body.toString()).toBe('2345');
    expect(g.headers['content-range']).toBe('bytes 2-5/20');
    expect(g.headers['content-length']).toBe('4');
    const open = await req(srv.url, 'GET', '/sda/10/a/c/r', { Range: 'bytes=15-' });
    expect([open.status, open.body.toString(), open.headers['content-range']]).toEqual([206, 'fghij', 'bytes 15-19/20']);
    const beyond = await req(srv.url, 'GET', '/sda/10/a/c/r', { Range: 'bytes=18-100' });
    expect([beyond.status, beyond.body.toString()]).toEqual([206, 'ij']);
  });

  it('serves a suffix range', async () => {
    const g = await req(srv.url, 'GET', '/sda/10/a/c/r', { Range: 'bytes=-3' });
    expect([g.status, g.body.toString(), g.headers['content-range']]).toEqual([206, 'hij', 'bytes 17-19/20']);
    const all = await req(srv.url, 'GET', '/sda/10/a/c/r', { Range: 'bytes=-50' });
    expect([all.status, all.body.toString()]).toEqual([206, body.toString()]);
  });

  it('serves multiple ranges as multipart/byteranges', async () => {
    const g = await req(srv.url, 'GET', '/sda/10/a/c/r', { Range: 'bytes=0-1,5-7,-2' });
    expect(g.status).toBe(206);
    const m = /^multipart\/byteranges;boundary=([0-9a-f]{32})$/.exec(g.headers['content-type'] as string);
    expect(m).not.toBeNull();
    const b = m![1];
    expect(g.headers['content-length']).toBe(String(g.body.length));
    expect(g.body.toString()).toBe(
      `--${b}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/20\r\n\r\n01\r\n` +
        `--${b}\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-7/20\r\n\r\n567\r\n` +
        `--${b}\r\nContent-Type: text/plain\r\nContent-Range: bytes 18-19/20\r\n\r\nij\r\n` +
        `--${b}--`,
    );
  });

  it('416 with Content-Range bytes */len when unsatisfiable; ignores invalid headers', async () => {
    const g = await req(srv.url, 'GET', '/sda/10/a/c/r', { Range: 'bytes=50-60' });
    expect(g.status).toBe(416);
    expect(g.headers['content-range']).toBe('bytes */20');
    expect(g.body.toString()).toBe('<html><h1>Requested Range Not Satisfiable</h1><p>The Range requested is not available.</p></html>');
    const invalid = await req(srv.url, 'GET', '/sda/10/a/c/r', { Range: 'bytes=5-2' });
    expect([invalid.status, invalid.body.length]).toEqual([200, 20]);
    const head = await req(srv.url, 'HEAD', '/sda/10/a/c/r', { Range: 'bytes=0-1' });
    expect([head.status, head.headers['content-length']]).toEqual([200, '20']);
  });
});

describe('conditional GET/HEAD', () => {
  let lastModified: string;
  const etag = md5('cond');
  beforeAll(async () => {
    expect((await put('/sda/11/a/c/cond', 'cond', { 'X-Timestamp': ts(NOW - 3600) })).status).toBe(201);
    lastModified = (await req(srv.url, 'HEAD', '/sda/11/a/c/cond')).headers['last-modified'] as string;
  });

  it('If-Match', async () => {
    expect((await req(srv.url, 'GET', '/sda/11/a/c/cond', { 'If-Match': `"${etag}"` })).status).toBe(200);
    expect((await req(srv.url, 'GET', '/sda/11/a/c/cond', { 'If-Match': '*' })).status).toBe(200);
    const miss = await req(srv.url, 'GET', '/sda/11/a/c/cond', { 'If-Match': '"nope"' });
    expect([miss.status, miss.body.length, miss.headers.etag]).toEqual([412, 0, `"${etag}"`]);
    expect((await req(srv.url, 'GET', '/sda/11/a/c/nothing', { 'If-Match': '*' })).status).toBe(412);
  });

  it('If-None-Match gives 304 for GET and HEAD', async () => {
    const g = await req(srv.url, 'GET', '/sda/11/a/c/cond', { 'If-None-Match': `"${etag}"` });
    expect([g.status, g.body.length, g.headers.etag]).toEqual([304, 0, `"${etag}"`]);
    expect((await req(srv.url, 'HEAD', '/sda/11/a/c/cond', { 'If-None-Match': '*' })).status).toBe(304);
    expect((await req(srv.url, 'GET', '/sda/11/a/c/cond', { 'If-None-Match': '"other"' })).status).toBe(200);
  });

  it('If-Modified-Since and If-Unmodified-Since', async () => {
    expect((await req(srv.url, 'GET', '/sda/11/a/c/cond', { 'If-Modified-Since': lastModified })).status).toBe(304);
    const earlier = new Date(Date.parse(lastModified) - 10_000).toUTCString();
    expect((await req(srv.url, 'GET', '/sda/11/a/c/cond', { 'If-Modified-Since': earlier })).status).toBe(200);
    expect((await req(srv.url, 'GET', '/sda/11/a/c/cond', { 'If-Unmodified-Since': earlier })).status).toBe(412);
    expect((await req(srv.url, 'GET', '/sda/11/a/c/cond', { 'If-Unmodified-Since': lastModified })).status).toBe(200);
    expect((await req(srv.url, 'GET', '/sda/11/a/c/cond', { 'If-Modified-Since': 'garbage' })).status).toBe(200);
  });
});

describe('corruption', () => {
  it('quarantines a .data whose metadata trailer is damaged and answers 404', async () => {
    const { writeFileSync } = await import('node:fs');
    const t = next();
    expect((await put('/sda/12/a/c/bad', 'payload', { 'X-Timestamp': t })).status).toBe(201);
    const hash = hashPath(conf.hash, 'a', 'c', 'bad');
    const dir = join(devs.dir, 'sda', 'objects', '12', hash.slice(-3), hash);
    writeFileSync(join(dir, `${t}.data`), 'truncated');
    expect((await req(srv.url, 'GET', '/sda/12/a/c/bad')).status).toBe(404);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(join(devs.dir, 'sda', 'quarantined', 'objects', hash))).toBe(true);
    mkdirSync(dir, { recursive: true });
  });
});
