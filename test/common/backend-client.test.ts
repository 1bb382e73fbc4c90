// The proxy's client for storage servers (src/proxy/backend.ts) against small node:http
// servers: header records, kept connections (HEADs included), errors and request bodies.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendClient, BackendError, backendPath, headersFromRaw } from '../../src/common/backend-client';
import { quote } from '../../src/compat/quote';
import type { RingNode } from '../../src/common/ring';

interface TestServer {
  node: RingNode;
  connections: number;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }[];
  close(): Promise<void>;
}

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const state: TestServer = { node: undefined as unknown as RingNode, connections: 0, requests: [], close: async () => undefined };
  const server: Server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      state.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.on('connection', (s: Socket) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  state.node = { id: 0, index: 0, region: 1, zone: 1, ip: '127.0.0.1', port, replication_ip: '127.0.0.1', replication_port: port, device: 'sda', weight: 1, meta: '' };
  state.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  open.push(state.close);
  return state;
}

function client(nodeTimeout = 10): BackendClient {
  const c = new BackendClient({ connTimeout: 0.5, nodeTimeout });
  open.push(() => c.close());
  return c;
}

describe('BackendClient.send', () => {
  it('reads the whole answer into one record of lower-case headers, repeats joined as WSGI does', async () => {
    const srv = await serve((_req, res) => {
      res.setHeader('X-Account-Meta-Cafe', 'cr\u00e8me'); // a latin-1 byte on the wire
      res.setHeader('X-Dup', ['one', 'two']);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    });
    const res = await client().send(srv.node, { method: 'GET', partition: 7, path: '/AUTH_test', query: 'format=json', headers: { 'x-trans-id': 'tx1' } });
    expect(res.status).toBe(200);
    expect(res.node).toBe(srv.node);
    expect(res.body.toString()).toBe('{"ok":true}');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-account-meta-cafe']).toBe('cr\u00e8me');
    expect(res.headers['x-dup']).toBe('one, two');
    expect(srv.requests[0]).toMatchObject({ method: 'GET', url: '/sda/7/AUTH_test?format=json' });
    expect(srv.requests[0]!.headers['x-trans-id']).toBe('tx1');
  });

  it('keeps one connection for many requests, HEADs included (undici would close after each HEAD)', async () => {
    const srv = await serve((req, res) => {
      res.writeHead(req.method === 'HEAD' ? 204 : 200, { 'Content-Length': req.method === 'HEAD' ? '0' : '2' });
      res.end(req.method === 'HEAD' ? undefined : 'ok');
    });
    const c = client();
    for (let i = 0; i < 20; i++) {
      const method = i % 2 ? 'HEAD' : 'GET';
      const res = await c.send(srv.node, { method, partition: 1, path: '/a', headers: {} });
      expect(res.status).toBe(method === 'HEAD' ? 204 : 200);
      const streamed = await c.stream(srv.node, { method, partition: 1, path: '/a', headers: {} });
      streamed.body.resume();
      await new Promise((r) => streamed.body.once('end', r));
    }
    expect(srv.requests).toHaveLength(40);
    // Sequential requests share a connection or two (a request may go out before the last
    // answer's connection is back in the pool); a close after each HEAD would make it 21.
    expect(srv.connections).toBeLessThanOrEqual(2);
  });

  it('sends Buffer and stream bodies', async () => {
    const srv = await serve((_req, res, body) => {
      res.writeHead(201, { Etag: `"${body.length}"`, 'Content-Length': '0' });
      res.end();
    });
    const c = client();
    const a = await c.send(srv.node, { method: 'PUT', partition: 1, path: '/a/c/o', headers: { 'content-length': '5' }, body: Buffer.from('hello') });
    expect([a.status, a.headers.etag]).toEqual([201, '"5"']);
    const pipe = new PassThrough();
    pipe.end(Buffer.alloc(70_000, 1));
    const b = await c.send(srv.node, { method: 'PUT', partition: 1, path: '/a/c/o', headers: { 'content-length': '70000' }, body: pipe });
    expect(b.headers.etag).toBe('"70000"');
    expect(srv.requests.map((r) => r.body.length)).toEqual([5, 70_000]);
  });

  it('reports a refused connection as a connect error and tears down the request body', async () => {
    const srv = await serve(() => undefined);
    const node = srv.node;
    await srv.close();
    const body = new PassThrough();
    const err = await client()
      .send(node, { method: 'PUT', partition: 1, path: '/a/c/o', headers: { 'content-length': '10' }, body })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).kind).toBe('connect');
    expect((err as BackendError).node).toBe(node);
    expect(body.destroyed).toBe(true);
  });

  it('reports a server that does not answer in time as a timeout', async () => {
    const srv = await serve(() => undefined); // never answers
    const err = await client(0.2)
      .send(srv.node, { method: 'HEAD', partition: 1, path: '/a', headers: {} })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).kind).toBe('timeout');
  });

  it('reports a connection cut mid-body as an I/O error', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('only part');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const err = await client()
      .send(srv.node, { method: 'GET', partition: 1, path: '/a', headers: {} })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).kind).toBe('io');
  });
});

describe('backend paths and headers', () => {
  it('quotes paths as urllib.parse.quote does, with or without characters to escape', () => {
    const node = { device: 'sda' };
    expect(backendPath(node, 3, '/AUTH_test/c/o-1.txt')).toBe('/sda/3/AUTH_test/c/o-1.txt');
    const odd = '/AUTH_t\u00e9st/c c/o?#%';
    expect(backendPath(node, 3, odd, 'a=1')).toBe(`/sda/3${quote(odd)}?a=1`);
    expect(backendPath({ device: 'd\u00e9v' }, 0, '/a')).toBe(`/${quote('d\u00e9v')}/0/a`);
  });

  it('builds one record from raw header bytes, keeping __proto__ a plain header', () => {
    const raw = ['Content-Type', 'text/plain', 'X-Dup', 'a', 'x-dup', 'b', '__proto__', 'x'].map((s) => Buffer.from(s, 'latin1'));
    const h = headersFromRaw(raw);
    expect(h['content-type']).toBe('text/plain');
    expect(h['x-dup']).toBe('a, b');
    expect(Object.keys(h)).toEqual(['content-type', 'x-dup', '__proto__']);
    expect(Object.getPrototypeOf(h)).toBe(Object.prototype);
  });
});
