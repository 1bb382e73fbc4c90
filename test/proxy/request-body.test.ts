// Small client bodies read whole before a PUT fans out (src/proxy/request-body.ts), against a
// real node:http server so the IncomingMessage behaves as the proxy's does.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientDisconnectedError, readSmallBody } from '../../src/proxy/request-body';
import { RequestHeaders } from '../../src/proxy/request-headers';

let server: Server;
let port: number;
let onRequest: (req: IncomingMessage) => Promise<unknown>;
let results: Promise<unknown>[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const result = onRequest(req);
    results.push(result);
    void result.then(
      () => res.end('done'),
      () => res.end('failed'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function send(headers: Record<string, string>, body: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, method: 'PUT', path: '/v1/a/c/o', headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(text));
    });
    r.on('error', reject);
    r.end(body);
  });
}

const headersOf = (req: IncomingMessage) => RequestHeaders.fromRaw(req.rawHeaders);

describe('readSmallBody', () => {
  it('reads a small body of declared length whole', async () => {
    results = [];
    onRequest = (req) => readSmallBody(req, headersOf(req));
    const body = Buffer.alloc(4096, 0x61);
    expect(await send({ 'content-length': String(body.length) }, body)).toBe('done');
    expect(((await results[0]) as Buffer).equals(body)).toBe(true);
    // An empty body is a (zero-length) body too.
    expect(await send({ 'content-length': '0' }, '')).toBe('done');
    expect(((await results[1]) as Buffer).length).toBe(0);
  });

  it('leaves chunked, large and already-read bodies to stream', async () => {
    results = [];
    onRequest = async (req) => {
      const got = await readSmallBody(req, headersOf(req), 1024);
      req.resume();
      return got;
    };
    await send({ 'transfer-encoding': 'chunked' }, 'abc');
    await send({ 'content-length': '2048' }, Buffer.alloc(2048));
    expect(await results[0]).toBeUndefined();
    expect(await results[1]).toBeUndefined();
    onRequest = async (req) => {
      req.resume(); // someone else reads it
      return readSmallBody(req, headersOf(req));
    };
    await send({ 'content-length': '3' }, 'abc');
    expect(await results[2]).toBeUndefined();
  });

  it('rejects with ClientDisconnectedError when the client hangs up before the end', async () => {
    results = [];
    const seen = new Promise<unknown>((resolve) => {
      onRequest = (req) => {
        const p = readSmallBody(req, headersOf(req));
        p.then(resolve, resolve);
        return p;
      };
    });
    const sock = connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write('PUT /v1/a/c/o HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part');
    setTimeout(() => sock.destroy(), 50);
    const err = await seen;
    expect(err).toBeInstanceOf(ClientDisconnectedError);
  });
});
