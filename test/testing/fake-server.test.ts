/**
 * startFakeServer (sluice/testing): every behaviour does what it says, as a client sees it:
 * the status, the bytes delivered, and (with generous bounds) the timing.
 */
import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeServer, type FakeServer } from '../../src/testing/index';

interface Outcome {
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The error that ended the exchange, if any (a code such as ECONNRESET, or a message). */
  error?: string;
  ms: number;
}

/** One request on a fresh connection; never rejects, so a cut exchange can be inspected. */
function exchange(base: string, method: string, path: string, opts: { body?: Buffer; chunks?: Buffer[]; giveUpMs?: number; headers?: Record<string, string> } = {}): Promise<Outcome> {
  const u = new URL(base);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const out: Outcome = { body: Buffer.alloc(0), ms: 0 };
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      out.body = Buffer.concat(chunks);
      out.ms = performance.now() - t0;
      if (error) out.error = error;
      clearTimeout(timer);
      req.destroy();
      resolve(out);
    };
    const length = opts.body?.length ?? opts.chunks?.reduce((n, c) => n + c.length, 0);
    const headers = { ...opts.headers, ...(length !== undefined ? { 'content-length': String(length) } : {}) };
    const req = request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      out.status = res.statusCode;
      out.headers = res.headers;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(res.complete ? undefined : 'incomplete'));
      res.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
      res.on('aborted', () => done('aborted'));
    });
    req.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    const timer = setTimeout(() => done('gave up'), opts.giveUpMs ?? 5000);
    if (opts.chunks) {
      // One chunk every 20 ms, so the server sees the body arrive in pieces.
      const rest = [...opts.chunks];
      const next = () => {
        const c = rest.shift();
        if (!c) return void req.end();
        if (req.destroyed) return;
        req.write(c, () => setTimeout(next, 20));
      };
      next();
    } else req.end(opts.body);
  });
}

const PATH = '/d1/3/AUTH_a/c/o';
const PAYLOAD = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 251));

// A stand-in upstream: serves PAYLOAD to GETs and answers a PUT with the MD5 of what it read.
let upstream: Server;
let upstreamUrl: string;
let upstreamPuts = 0;
beforeAll(async () => {
  upstream = createServer((req, res) => {
    if (req.method === 'PUT') {
      const md5 = createHash('md5');
      req.on('data', (c: Buffer) => md5.update(c));
      req.on('end', () => {
        upstreamPuts += 1;
        res.writeHead(201, { etag: md5.digest('hex'), 'content-length': '0' });
        res.end();
      });
      return;
    }
    res.writeHead(200, { 'content-length': String(PAYLOAD.length), etag: 'payload-etag', 'x-object-meta-kind': 'payload' });
    res.end(req.method === 'HEAD' ? undefined : PAYLOAD);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => upstream.close(() => r()));
});

const open: FakeServer[] = [];
async function fake(...args: Parameters<typeof startFakeServer>): Promise<FakeServer> {
  const f = await startFakeServer(...args);
  open.push(f);
  return f;
}
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

describe('without upstream: an empty storage server', () => {
  it('acknowledges writes, has nothing to read, and records every request', async () => {
    const f = await fake({ behaviour: { kind: 'pass' } });
    const body = Buffer.from('hello');
    const put = await exchange(f.url, 'PUT', PATH, { body });
    expect(put.status).toBe(201);
    expect(put.headers!.etag).toBe(createHash('md5').update(body).digest('hex'));
    expect((await exchange(f.url, 'PUT', '/d1/3/AUTH_a/c')).status).toBe(201);
    expect((await exchange(f.url, 'POST', PATH)).status).toBe(202);
    expect((await exchange(f.url, 'POST', '/d1/3/AUTH_a')).status).toBe(204);
    expect((await exchange(f.url, 'GET', PATH)).status).toBe(404);
    expect((await exchange(f.url, 'HEAD', PATH)).status).toBe(404);
    expect((await exchange(f.url, 'DELETE', PATH)).status).toBe(404);
    expect((await exchange(f.url, 'GET', '/not-a-backend-path')).status).toBe(400);
    expect(f.requests.map((r) => `${r.method} ${r.path} ${r.bytesReceived} ${r.behaviour}`)).toEqual([
      `PUT ${PATH} 5 pass`,
      'PUT /d1/3/AUTH_a/c 0 pass',
      `POST ${PATH} 0 pass`,
      'POST /d1/3/AUTH_a 0 pass',
      `GET ${PATH} 0 pass`,
      `HEAD ${PATH} 0 pass`,
      `DELETE ${PATH} 0 pass`,
      'GET /not-a-backend-path 0 pass',
    ]);
    expect(f.requests[0]!.headers['content-length']).toBe('5');
  });
});

describe('behaviours', () => {
  it('pass forwards to the upstream, both bodies intact', async () => {
    const f = await fake({ behaviour: { kind: 'pass' }, upstream: upstreamUrl });
    const get = await exchange(f.url, 'GET', PATH);
    expect(get.status).toBe(200);
    expect(get.headers!['x-object-meta-kind']).toBe('payload');
    expect(get.body.equals(PAYLOAD)).toBe(true);
    const before = upstreamPuts;
    const put = await exchange(f.url, 'PUT', PATH, { body: PAYLOAD });
    expect(put.status).toBe(201);
    expect(put.headers!.etag).toBe(createHash('md5').update(PAYLOAD).digest('hex'));
    expect(upstreamPuts).toBe(before + 1);
    expect(f.requests[1]!.bytesReceived).toBe(PAYLOAD.length);
  });

  it('status answers that status and body without asking the upstream', async () => {
    const f = await fake({ behaviour: { kind: 'status', status: 507, body: 'full', headers: { 'x-why': 'disk' } }, upstream: upstreamUrl });
    const before = upstreamPuts;
    const put = await exchange(f.url, 'PUT', PATH, { body: PAYLOAD });
    expect(put.status).toBe(507);
    expect(put.body.toString()).toBe('full');
    expect(put.headers!['x-why']).toBe('disk');
    expect(upstreamPuts).toBe(before);
    expect(f.requests[0]!.bytesReceived).toBe(PAYLOAD.length);
  });

  it('hang accepts and never answers', async () => {
    const f = await fake({ behaviour: { kind: 'hang' }, upstream: upstreamUrl });
    const get = await exchange(f.url, 'GET', PATH, { giveUpMs: 400 });
    expect(get.error).toBe('gave up');
    expect(get.status).toBeUndefined();
    expect(f.requests).toHaveLength(1);
  });

  it('hang-after-headers sends the headers (and afterBytes of the body), then nothing', async () => {
    const f = await fake({ behaviour: { kind: 'hang-after-headers' }, upstream: upstreamUrl });
    const get = await exchange(f.url, 'GET', PATH, { giveUpMs: 400 });
    expect(get.status).toBe(200);
    expect(get.headers!['content-length']).toBe(String(PAYLOAD.length));
    expect(get.error).toBe('gave up');
    expect(get.body.length).toBe(0);
    await f.setBehaviour({ kind: 'hang-after-headers', afterBytes: 1000 });
    const some = await exchange(f.url, 'GET', PATH, { giveUpMs: 400 });
    expect(some.error).toBe('gave up');
    expect(some.body.equals(PAYLOAD.subarray(0, 1000))).toBe(true);
  });

  it('reset on the response cuts the connection after N body bytes', async () => {
    const f = await fake({ behaviour: { kind: 'reset', after: 50_000, on: 'response' }, upstream: upstreamUrl });
    const get = await exchange(f.url, 'GET', PATH);
    expect(get.status).toBe(200);
    expect(get.error).toBeDefined();
    expect(get.error).not.toBe('gave up');
    expect(get.body.length).toBeLessThanOrEqual(50_000);
    expect(get.body.equals(PAYLOAD.subarray(0, get.body.length))).toBe(true);
  });

  it('reset on the request cuts the connection after N body bytes received', async () => {
    const f = await fake({ behaviour: { kind: 'reset', after: 3000, on: 'request' }, upstream: upstreamUrl });
    const before = upstreamPuts;
    const put = await exchange(f.url, 'PUT', PATH, { chunks: Array.from({ length: 10 }, () => Buffer.alloc(1000, 1)) });
    expect(put.status).toBeUndefined();
    expect(put.error).toMatch(/ECONNRESET|EPIPE|socket hang up/);
    expect(f.requests[0]!.bytesReceived).toBeGreaterThanOrEqual(3000);
    expect(f.requests[0]!.bytesReceived).toBeLessThan(10_000);
    expect(upstreamPuts).toBe(before);
  });

  it('short-body sends N bytes of the body under the full Content-Length, then closes', async () => {
    const f = await fake({ behaviour: { kind: 'short-body', bytes: 12_345 }, upstream: upstreamUrl });
    const get = await exchange(f.url, 'GET', PATH);
    expect(get.status).toBe(200);
    expect(get.headers!['content-length']).toBe(String(PAYLOAD.length));
    expect(get.error).toMatch(/aborted|incomplete|ECONNRESET/);
    expect(get.body.equals(PAYLOAD.subarray(0, 12_345))).toBe(true);
  });

  it('slow delivers the whole body at about the given rate', async () => {
    const f = await fake({ behaviour: { kind: 'slow', bytesPerSecond: 100_000 }, upstream: upstreamUrl });
    const get = await exchange(f.url, 'GET', PATH, { giveUpMs: 20_000 });
    expect(get.status).toBe(200);
    expect(get.error).toBeUndefined();
    expect(get.body.equals(PAYLOAD)).toBe(true);
    // 200,000 bytes at 100,000 B/s: about 2 s; only the lower bound is certain on a busy machine.
    expect(get.ms).toBeGreaterThan(1700);
    // The request body is read at the same rate: 30,000 bytes take about 1.5 s.
    await f.setBehaviour({ kind: 'slow', bytesPerSecond: 20_000 });
    const put = await exchange(f.url, 'PUT', PATH, { body: PAYLOAD.subarray(0, 30_000), giveUpMs: 20_000 });
    expect(put.status).toBe(201);
    expect(put.headers!.etag).toBe(createHash('md5').update(PAYLOAD.subarray(0, 30_000)).digest('hex'));
    expect(put.ms).toBeGreaterThan(1200);
  }, 30_000);

  it('refuse closes the port; another behaviour opens it again on the same port', async () => {
    const f = await fake({ behaviour: { kind: 'refuse' } });
    expect((await exchange(f.url, 'GET', PATH)).error).toBe('ECONNREFUSED');
    await f.setBehaviour({ kind: 'pass' });
    expect((await exchange(f.url, 'GET', PATH)).status).toBe(404);
    await f.setBehaviour({ kind: 'refuse' });
    expect((await exchange(f.url, 'GET', PATH)).error).toBe('ECONNREFUSED');
    expect(f.requests).toHaveLength(1);
  });

  it('a function chooses per request: only PUTs fail', async () => {
    const f = await fake({ behaviour: (req) => (req.method === 'PUT' ? { kind: 'status', status: 503 } : { kind: 'pass' }), upstream: upstreamUrl });
    expect((await exchange(f.url, 'PUT', PATH, { body: Buffer.from('x') })).status).toBe(503);
    expect((await exchange(f.url, 'GET', PATH)).status).toBe(200);
    // refuse chosen per request: the connection is dropped before any answer.
    await f.setBehaviour(() => ({ kind: 'refuse' }));
    const cut = await exchange(f.url, 'GET', PATH);
    expect(cut.status).toBeUndefined();
    expect(cut.error).toMatch(/ECONNRESET|socket hang up/);
    expect(f.requests.map((r) => r.behaviour)).toEqual(['status', 'pass', 'refuse']);
  });

  it('answers 503 when the upstream cannot be reached', async () => {
    const gone = await fake({ behaviour: { kind: 'refuse' } });
    const f = await fake({ behaviour: { kind: 'pass' }, upstream: gone.url });
    expect((await exchange(f.url, 'GET', PATH)).status).toBe(503);
  });
});

it("the README's startFakeServer example runs as written there", async () => {
  const fake = await startFakeServer({
    behaviour: (req) => (req.method === 'PUT' ? { kind: 'status', status: 507 } : { kind: 'pass' }),
  });
  try {
    const put = await fetch(`${fake.url}/sda1/0/AUTH_test/photos/cat.jpg`, { method: 'PUT', body: 'meow' });
    expect(put.status).toBe(507);
    await fake.setBehaviour({ kind: 'hang' });
    expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.bytesReceived}`)).toEqual(['PUT /sda1/0/AUTH_test/photos/cat.jpg 4']);
    const hung = await exchange(fake.url, 'GET', '/sda1/0/AUTH_test/photos/cat.jpg', { giveUpMs: 300 });
    expect(hung.error).toBe('gave up');
  } finally {
    await fake.close();
  }
});
