/**
 * Streamed object bodies piped from the backend stream to the client response (direct-body.ts):
 * taken only while the response still carries the registered, unread web stream; a backend that
 * fails mid-body cuts the client's connection; a client that leaves releases the backend stream.
 * And through a whole cluster, a large GET answers exactly what the web-stream path answered.
 */
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { registerDirectBody, sendDirectBody } from '../../src/proxy/direct-body';
import { webStreamFrom } from '../../src/proxy/response';
import type { TestCluster } from '../../src/testing/index';
import { call, cluster, uniq } from './helpers';

let server: Server | undefined;

/** A server whose one handler gets each request's response object. */
async function serve(handler: (res: ServerResponse, req: IncomingMessage) => void): Promise<string> {
  server = createServer((req, res) => handler(res, req));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/** GET `url`: status, headers, the bytes received, and whether the body ended or was cut. */
function fetchRaw(url: string): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const done = (complete: boolean) => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), complete });
      res.on('end', () => done(true));
      res.on('error', () => done(false));
      res.on('aborted', () => done(false));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('sendDirectBody', () => {
  it('pipes the registered stream when the response still carries its web stream', async () => {
    let sent: boolean | undefined;
    const url = await serve((res) => {
      const node = new PassThrough();
      const web = webStreamFrom(node);
      registerDirectBody(res, web, node);
      const response = new Response(web, { status: 200, headers: { 'content-length': '6', 'x-object-meta-color': 'red', 'content-type': 'text/plain' } });
      sent = sendDirectBody(response, res);
      node.write('abc');
      setTimeout(() => node.end('def'), 20);
    });
    const r = await fetchRaw(url);
    expect(sent).toBe(true);
    expect([r.status, r.body.toString(), r.complete]).toEqual([200, 'abcdef', true]);
    expect(r.headers['x-object-meta-color']).toBe('red');
    expect(r.headers['content-length']).toBe('6');
  });

  it('keeps the same web stream through a middleware that rebuilds the response around it', async () => {
    let sent: boolean | undefined;
    const url = await serve((res) => {
      const node = new PassThrough();
      const web = webStreamFrom(node);
      registerDirectBody(res, web, node);
      const first = new Response(web, { status: 200, headers: { 'content-length': '2' } });
      const rebuilt = new Response(first.body, { status: 206, headers: { 'content-length': '2', 'x-extra': 'yes' } });
      sent = sendDirectBody(rebuilt, res);
      node.end('ok');
    });
    const r = await fetchRaw(url);
    expect(sent).toBe(true);
    expect([r.status, r.body.toString(), r.headers['x-extra'], r.headers['content-type']]).toEqual([206, 'ok', 'yes', 'text/plain; charset=UTF-8']);
  });

  it('declines a response whose body is another one, or whose stream a middleware has read', async () => {
    const verdicts: boolean[] = [];
    const url = await serve((res) => {
      const node = new PassThrough();
      const web = webStreamFrom(node);
      registerDirectBody(res, web, node);
      verdicts.push(sendDirectBody(new Response('replaced'), res));
      // The registration is used up by the first answer on this response.
      verdicts.push(sendDirectBody(new Response(web), res));
      const other = new PassThrough();
      const otherWeb = webStreamFrom(other);
      registerDirectBody(res, otherWeb, other);
      const read = new Response(otherWeb);
      void read.body!.getReader().read();
      verdicts.push(sendDirectBody(read, res));
      // Without a registration at all.
      verdicts.push(sendDirectBody(new Response('x'), res));
      res.end('usual path');
    });
    const r = await fetchRaw(url);
    expect(verdicts).toEqual([false, false, false, false]);
    expect(r.body.toString()).toBe('usual path');
  });

  it('cuts the client connection when the backend stream fails mid-body', async () => {
    const url = await serve((res) => {
      const node = new PassThrough();
      const web = webStreamFrom(node);
      registerDirectBody(res, web, node);
      sendDirectBody(new Response(web, { headers: { 'content-length': '10' } }), res);
      node.write('12345');
      setTimeout(() => node.destroy(new Error('replica reset')), 20);
    });
    const r = await fetchRaw(url);
    expect([r.status, r.body.toString(), r.complete]).toEqual([200, '12345', false]);
  });

  it('sends the chunks that arrive in one turn of the event loop in one write', async () => {
    const writes: number[] = [];
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const url = await serve((res) => {
      const socket = res.socket as unknown as { _writev: (chunks: unknown[], cb: unknown) => void; _write: (...a: unknown[]) => void };
      const writev = socket._writev.bind(socket);
      const write = socket._write.bind(socket);
      socket._writev = (chunks, cb) => {
        writes.push(chunks.length);
        writev(chunks, cb);
      };
      socket._write = (...a) => {
        writes.push(1);
        write(...a);
      };
      const node = new PassThrough({ highWaterMark: 1024 * 1024 });
      const web = webStreamFrom(node);
      registerDirectBody(res, web, node);
      sendDirectBody(new Response(web, { headers: { 'content-length': String(6 * chunk.length) } }), res);
      // Six chunks in one turn, as libuv hands over a socket's data several reads at a time.
      for (let i = 0; i < 6; i++) node.write(chunk);
      node.end();
    });
    const r = await fetchRaw(url);
    expect([r.status, r.body.length, r.complete]).toEqual([200, 6 * chunk.length, true]);
    // The head, then the six chunks together (the head may join them).
    expect(writes.length).toBeLessThanOrEqual(2);
    expect(writes.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(6);
  });

  it('stops reading the backend while a client does not read, holding about a turn of data', async () => {
    let node: PassThrough | undefined;
    let res: ServerResponse | undefined;
    const url = await serve((r) => {
      res = r;
      node = new PassThrough();
      const web = webStreamFrom(node);
      registerDirectBody(r, web, node);
      sendDirectBody(new Response(web, { headers: { 'content-length': String(64 * 1024 * 1024) } }), r);
      // A backend with 64 MiB to send, 64 KiB at a time, as fast as the relay takes it.
      const chunk = Buffer.alloc(64 * 1024, 0x62);
      const pump = () => {
        while (node!.write(chunk)) {
          if (node!.destroyed) return;
        }
        node!.once('drain', pump);
      };
      pump();
    });
    const u = new URL(url);
    const client = await new Promise<Socket>((resolve) => {
      const s = connect(Number(u.port), u.hostname, () => resolve(s));
    });
    // Ask, then read nothing.
    client.pause();
    client.write(`GET / HTTP/1.1\r\nHost: x\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 500));
    const held = res!.writableLength + node!.readableLength + node!.writableLength;
    client.destroy();
    // The kernel's socket buffers take some; what the relay holds stays near one turn's worth.
    expect(held).toBeLessThan(2 * 1024 * 1024);
  });

  it('destroys the backend stream when the client goes away', async () => {
    let node: PassThrough | undefined;
    const url = await serve((res) => {
      node = new PassThrough();
      const web = webStreamFrom(node);
      registerDirectBody(res, web, node);
      sendDirectBody(new Response(web, { headers: { 'content-length': '100' } }), res);
      node.write('partial');
    });
    await new Promise<void>((resolve, reject) => {
      const req = request(url, { agent: false }, (res) => res.once('data', () => { req.destroy(); resolve(); }));
      req.on('error', () => undefined);
      req.end();
      setTimeout(() => reject(new Error('no first bytes')), 2000);
    });
    for (let i = 0; i < 50 && !node!.destroyed; i++) await new Promise((r) => setTimeout(r, 20));
    expect(node!.destroyed).toBe(true);
  });
});

describe('through a cluster', () => {
  let cl: TestCluster;
  let a: string;
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 11)) & 0xff;

  beforeAll(async () => {
    cl = await cluster();
    a = uniq('AUTH_direct');
    expect((await call(cl.url, 'PUT', `/v1/${a}/c`)).status).toBe(201);
    expect((await call(cl.url, 'PUT', `/v1/${a}/c/big`, { 'X-Object-Meta-Color': 'blue', 'Content-Type': 'application/x-thing' }, { body: big })).status).toBe(201);
  });
  afterAll(async () => {
    await cl?.stop();
  });

  it('answers a large GET with every byte and the headers as Swift writes them', async () => {
    const r = await call(cl.url, 'GET', `/v1/${a}/c/big`);
    expect(r.status).toBe(200);
    expect(r.raw.length).toBe(big.length);
    expect(createHash('md5').update(r.raw).digest('hex')).toBe(createHash('md5').update(big).digest('hex'));
    expect(r.headers['content-length']).toBe(String(big.length));
    expect(r.headers.etag).toBe(createHash('md5').update(big).digest('hex'));
    expect(r.headers['x-object-meta-color']).toBe('blue');
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers['x-trans-id']).toMatch(/^tx/);
  });

  it('writes header names in swob case, as the web-stream path does', async () => {
    const head = await rawHead(cl.url, `/v1/${a}/c/big`);
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    for (const name of ['Content-Length', 'Content-Type', 'Etag', 'X-Object-Meta-Color', 'Accept-Ranges', 'Last-Modified', 'X-Timestamp', 'X-Trans-Id']) {
      expect(head).toContain(`\r\n${name}: `);
    }
    // Node's client sent `Connection: close`, so eventlet's answer says it too.
    expect(head).toMatch(/\r\nConnection: close\r\n$/);
  });

  it('keeps the object server connection alive from one large GET to the next', async () => {
    // The relay ends as the last byte arrives; the replica's body must be left to end, not
    // aborted, or every GET would open a new backend connection.
    await call(cl.url, 'GET', `/v1/${a}/c/big`);
    let opened = 0;
    const count = () => void opened++;
    cl.object.server.on('connection', count);
    try {
      for (let i = 0; i < 6; i++) {
        const r = await call(cl.url, 'GET', `/v1/${a}/c/big`);
        expect(r.raw.length).toBe(big.length);
      }
    } finally {
      cl.object.server.off('connection', count);
    }
    expect(opened).toBe(0);
  });

  it('serves a range across 1 MiB boundaries, request after request', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await call(cl.url, 'GET', `/v1/${a}/c/big`, { Range: 'bytes=1048570-2097160' });
      expect(r.status).toBe(206);
      expect(r.raw.equals(big.subarray(1048570, 2097161))).toBe(true);
    }
  });
});

/** The status line and headers of a GET, as sent; the body is read and dropped. */
function rawHead(base: string, path: string): Promise<string> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, agent: false }, (res) => {
      const lines = [`HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}`];
      for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
      res.resume();
      res.on('end', () => resolve(lines.join('\r\n') + '\r\n'));
    });
    req.on('error', reject);
    req.end();
  });
}
