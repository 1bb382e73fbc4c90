/**
 * Hop-by-hop headers of a backend answer never reach the client, whichever controller relays it:
 * a fake storage server answers every request with all of them, and account, container and
 * object GET and HEAD show the client the same connection headers (the proxy's own).
 */
import pino from 'pino';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSwiftConf } from '../../src/common/swift-conf';
import { buildRing, Ring } from '../../src/common/ring';
import { HOP_BY_HOP_HEADERS } from '../../src/compat/hop-by-hop';
import { parseProxyConfig } from '../../src/proxy/config';
import { startProxyServer, type RunningProxy } from '../../src/proxy/server';
import { call, proxyConf, type Resp } from './helpers';

const swiftConf = parseSwiftConf('[swift-hash]\nswift_hash_path_suffix = hop-test\n\n[storage-policy:0]\nname = gold\ndefault = yes\n');

/** Every hop-by-hop header, with values no proxy would make up itself. */
const BACKEND_HOP_HEADERS = [
  'Connection: close, X-Hop',
  'Keep-Alive: timeout=99, max=7',
  'Proxy-Authenticate: Basic realm="hop"',
  'Proxy-Authorization: Basic aG9w',
  'Proxy-Connection: keep-alive',
  'TE: trailers',
  'Trailer: X-Trailing',
  'Transfer-Encoding: chunked',
  'Upgrade: sluice-test/1',
];

/** One chunked answer per connection: HEADs get stats, listings `[]`, objects `abc`. */
function answer(socket: Socket, requestHead: string): void {
  const [method = 'GET', target = '/'] = requestHead.split(' ');
  const segments = target.split('?')[0]!.split('/').length - 1;
  const entity = segments >= 5 ? 'object' : segments === 4 ? 'container' : 'account';
  const headers = [
    'X-Backend-Storage-Policy-Index: 0',
    'X-Timestamp: 1700000000.00000',
    'X-Put-Timestamp: 1700000000.00000',
    'X-Account-Container-Count: 0',
    'X-Container-Object-Count: 0',
    'X-Container-Bytes-Used: 0',
    ...BACKEND_HOP_HEADERS,
  ];
  let status = '204 No Content';
  let body = '';
  if (method === 'GET') {
    status = '200 OK';
    if (entity === 'object') {
      headers.push('Content-Type: application/octet-stream', 'ETag: "900150983cd24fb0d6963f7d28e17f72"', 'Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT');
      body = 'abc';
    } else {
      headers.push('Content-Type: application/json; charset=utf-8');
      body = '[]';
    }
  }
  const chunked = method === 'HEAD' ? '' : `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  socket.end(`HTTP/1.1 ${status}\r\n${headers.join('\r\n')}\r\n\r\n${chunked}`);
}

let backend: NetServer;
let proxy: RunningProxy;

beforeAll(async () => {
  backend = createNetServer((socket) => {
    let head = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) answer(socket, head);
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const port = (backend.address() as { port: number }).port;
  const ring = () => new Ring(null, buildRing({ partPower: 2, replicas: 1, devices: [{ ip: '127.0.0.1', port, device: 'd1' }] }), swiftConf.hash);
  const config = parseProxyConfig(proxyConf({ recheck_account_existence: '0', recheck_container_existence: '0' }));
  proxy = await startProxyServer({ config, rings: { account: ring(), container: ring(), object: new Map([[0, ring()]]) }, swiftConf, port: 0, logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await proxy?.close();
  await new Promise<void>((r) => backend.close(() => r()));
});

const PATHS = ['/v1/AUTH_hop', '/v1/AUTH_hop/c', '/v1/AUTH_hop/c/o'];

/** The connection-level headers a response shows, with their values. */
function hopHeadersOf(res: Resp): Record<string, unknown> {
  return Object.fromEntries(Object.entries(res.headers).filter(([k]) => HOP_BY_HOP_HEADERS.has(k)));
}

describe('hop-by-hop headers of a backend answer', () => {
  it('never reach the client, on account, container and object GET and HEAD alike', async () => {
    const seen = new Map<string, Record<string, unknown>>();
    for (const path of PATHS) {
      for (const method of ['GET', 'HEAD']) {
        const res = await call(proxy.url, method, path);
        expect(res.status, `${method} ${path}`).toBeLessThan(300);
        const hop = hopHeadersOf(res);
        for (const line of BACKEND_HOP_HEADERS) {
          const [name, value] = line.split(': ') as [string, string];
          // Framing is the proxy's own: Node sends a streamed body of unknown length chunked.
          if (name === 'Transfer-Encoding') continue;
          expect(hop[name.toLowerCase()], `${method} ${path}: ${name}`).not.toBe(value);
        }
        for (const name of ['proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'upgrade']) {
          expect(hop, `${method} ${path}`).not.toHaveProperty(name);
        }
        seen.set(`${method} ${path}`, method === 'GET' ? { ...hop, 'transfer-encoding': undefined, 'content-length': undefined } : hop);
      }
    }
    // The proxy's own Connection (and nothing else of the kind) on every path.
    const [first, ...rest] = [...seen.values()];
    for (const other of rest) expect(other).toEqual(first);
    expect(first).toEqual({ connection: 'close', 'transfer-encoding': undefined, 'content-length': undefined });
  });
});
