/**
 * Object bodies stream through the proxy: large uploads with Content-Length and chunked,
 * downloads, and clients that go away mid-upload.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import type { TestCluster } from '../../src/testing/index';
import { call, cluster, direct, uniq } from './helpers';

const MiB = 1024 * 1024;
const SIZE = 32 * MiB;

let cl: TestCluster;
let url: string;
let a: string;

beforeAll(async () => {
  cl = await cluster();
  url = cl.url;
  a = uniq('AUTH_s');
  expect((await call(url, 'PUT', `/v1/${a}/c`)).status).toBe(201);
});
afterAll(async () => {
  await cl?.stop();
});

/** A deterministic body of `size` bytes produced in 64 KiB chunks, and its MD5. */
function body(size: number, seed: number): { stream: () => Readable; md5: string } {
  const chunk = (i: number) => {
    const b = Buffer.alloc(Math.min(64 * 1024, size - i * 64 * 1024));
    for (let j = 0; j < b.length; j += 4096) b.writeUInt32BE((seed * 7919 + i * 31 + j) >>> 0, Math.min(j, b.length - 4));
    return b;
  };
  const count = Math.ceil(size / (64 * 1024));
  const h = createHash('md5');
  for (let i = 0; i < count; i++) h.update(chunk(i));
  return {
    md5: h.digest('hex'),
    stream: () =>
      Readable.from(
        (function* () {
          for (let i = 0; i < count; i++) yield chunk(i);
        })(),
      ),
  };
}

/** GETs an object, hashing the body as it streams. */
function getMd5(path: string): Promise<{ status: number; md5: string; length: number; etag: string | undefined }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    request({ host: u.hostname, port: u.port, path, method: 'GET', agent: false }, (res) => {
      const h = createHash('md5');
      let length = 0;
      res.on('data', (c: Buffer) => {
        h.update(c);
        length += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode!, md5: h.digest('hex'), length, etag: res.headers.etag }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

describe('large objects', () => {
  it('round-trips 32 MiB sent with Content-Length', async () => {
    const b = body(SIZE, 1);
    const put = await call(url, 'PUT', `/v1/${a}/c/big`, { 'content-length': String(SIZE) }, { body: b.stream() });
    expect(put.status).toBe(201);
    expect(put.headers.etag).toBe(b.md5);
    const got = await getMd5(`/v1/${a}/c/big`);
    expect(got).toEqual({ status: 200, md5: b.md5, length: SIZE, etag: b.md5 });
  });

  it('round-trips 32 MiB sent chunked, with a client ETag', async () => {
    const b = body(SIZE, 2);
    const put = await call(url, 'PUT', `/v1/${a}/c/chunked`, { 'transfer-encoding': 'chunked', etag: b.md5 }, { body: b.stream() });
    expect(put.status).toBe(201);
    expect(put.headers.etag).toBe(b.md5);
    const got = await getMd5(`/v1/${a}/c/chunked`);
    expect(got).toEqual({ status: 200, md5: b.md5, length: SIZE, etag: b.md5 });
    const list = JSON.parse((await call(url, 'GET', `/v1/${a}/c?format=json&prefix=chunked`)).text);
    expect(list[0]).toMatchObject({ name: 'chunked', bytes: SIZE, hash: b.md5 });
  });

  it('refuses a chunked body whose ETag does not match with 422', async () => {
    const b = body(MiB, 3);
    const put = await call(url, 'PUT', `/v1/${a}/c/badetag`, { 'transfer-encoding': 'chunked', etag: 'f'.repeat(32) }, { body: b.stream() });
    expect(put.status).toBe(422);
    expect((await call(url, 'HEAD', `/v1/${a}/c/badetag`)).status).toBe(404);
  });

  it('refuses a body shorter than its Content-Length (client hangs up) and stores nothing', async () => {
    const u = new URL(url);
    const path = `/v1/${a}/c/aborted`;
    await new Promise<void>((resolve) => {
      const r = request({ host: u.hostname, port: u.port, path, method: 'PUT', agent: false, headers: { 'content-length': String(SIZE) } });
      r.on('error', () => resolve());
      r.on('response', (res) => {
        res.resume();
        resolve();
      });
      r.write(Buffer.alloc(4 * MiB, 1), () => setTimeout(() => r.destroy(), 50));
    });
    // The proxy notices and stays healthy; the object never appears.
    expect((await call(url, 'GET', '/healthcheck')).status).toBe(200);
    const objRing = cl.proxy.state.rings.object.get(0)!;
    for (let i = 0; i < 50; i++) {
      const replies = await direct(objRing, 'HEAD', [a, 'c', 'aborted'], { 'x-backend-storage-policy-index': '0' });
      expect(replies.map((r) => r.status)).toEqual([404, 404, 404]);
      if (i === 0) break;
    }
    expect((await call(url, 'HEAD', path)).status).toBe(404);
    // A later upload to the same name works.
    expect((await call(url, 'PUT', path, { 'content-length': '2' }, { body: 'ok' })).status).toBe(201);
    expect((await call(url, 'GET', path)).text).toBe('ok');
  });

  it('refuses a small body (read whole before the replicas are asked) cut short by the client, and stores nothing', async () => {
    const u = new URL(url);
    const path = `/v1/${a}/c/small-aborted`;
    await new Promise<void>((resolve) => {
      const r = request({ host: u.hostname, port: u.port, path, method: 'PUT', agent: false, headers: { 'content-length': '4096' } });
      r.on('error', () => resolve());
      r.on('response', (res) => {
        res.resume();
        resolve();
      });
      r.write(Buffer.alloc(1000, 1), () => setTimeout(() => r.destroy(), 50));
    });
    expect((await call(url, 'GET', '/healthcheck')).status).toBe(200);
    const objRing = cl.proxy.state.rings.object.get(0)!;
    const replies = await direct(objRing, 'HEAD', [a, 'c', 'small-aborted'], { 'x-backend-storage-policy-index': '0' });
    expect(replies.map((r) => r.status)).toEqual([404, 404, 404]);
    // A small body that arrives whole reaches every replica.
    const data = Buffer.alloc(4096, 9);
    expect((await call(url, 'PUT', path, { 'content-length': '4096' }, { body: data })).status).toBe(201);
    const stored = await direct(objRing, 'GET', [a, 'c', 'small-aborted'], { 'x-backend-storage-policy-index': '0' });
    expect(stored.map((r) => r.status)).toEqual([200, 200, 200]);
    const got = await call(url, 'GET', path);
    expect(got.raw.equals(data)).toBe(true);
    expect(got.headers['content-length']).toBe('4096');
  });

  it('serves a range of a large object', async () => {
    const r = await call(url, 'GET', `/v1/${a}/c/big`, { range: `bytes=${SIZE - 10}-` });
    expect(r.status).toBe(206);
    expect(r.raw.length).toBe(10);
    expect(r.headers['content-range']).toBe(`bytes ${SIZE - 10}-${SIZE - 1}/${SIZE}`);
  });
});

describe('UTF-8 header values on streamed responses', () => {
  it('returns object metadata bytes unchanged on GET as on HEAD', async () => {
    // Header values travel as raw UTF-8 bytes (latin-1 strings in Node); a Buffer body keeps
    // Node's client from re-encoding the header block as UTF-8.
    const cafe = Buffer.from('café ☕', 'utf8').toString('latin1');
    const put = await call(url, 'PUT', `/v1/${a}/c/utf8meta`, { 'x-object-meta-drink': cafe, 'content-length': '2' }, { body: Buffer.from('hi') });
    expect(put.status).toBe(201);
    for (const method of ['HEAD', 'GET']) {
      const r = await call(url, method, `/v1/${a}/c/utf8meta`);
      expect(Buffer.from(r.headers['x-object-meta-drink'] as string, 'latin1').toString('utf8'), method).toBe('café ☕');
    }
  });
});

describe('clients that hang up mid-download', () => {
  it('do not take the proxy down, and it keeps serving', async () => {
    const port = new URL(url).port;
    for (const size of [4096, 1024 * 1024]) {
      expect((await call(url, 'PUT', `/v1/${a}/c/hangup${size}`, { 'content-length': String(size) }, { body: Buffer.alloc(size, 1) })).status).toBe(201);
      // Hang up at every point of the exchange: before the answer, between chunks, ...
      for (let round = 0; round < 5; round++) {
        await Promise.all(
          Array.from({ length: 32 }, (_, i) =>
            new Promise<void>((resolve) => {
              const req = httpRequest({ host: '127.0.0.1', port, path: `/v1/${a}/c/hangup${size}` }, (res) => {
                res.on('error', () => undefined);
                res.resume();
                res.on('close', () => resolve());
              });
              req.on('error', () => resolve());
              req.end();
              setTimeout(() => {
                req.destroy();
                resolve();
              }, i % 6);
            }),
          ),
        );
      }
      const r = await call(url, 'GET', `/v1/${a}/c/hangup${size}`);
      expect(r.status).toBe(200);
      expect(r.raw.length).toBe(size);
    }
  });
});
