/**
 * gatekeeper: forged internal headers from clients never reach a storage server, and
 * sysmeta / x-backend-* never reach a client.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../../src/testing/index';
import { call, cluster, direct, directTs, leakedHeaders, OWNER, uniq } from '../proxy/helpers';
import { isBlockedHeader } from '../../src/middleware/gatekeeper';

let cl: TestCluster;
let url: string;
let trap: Server;
let trapHost: string;
const trapped: string[] = [];

beforeAll(async () => {
  cl = await cluster();
  url = cl.url;
  trap = createServer((req, res) => {
    trapped.push(`${req.method} ${req.url}`);
    res.writeHead(201).end();
  });
  await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
  trapHost = `127.0.0.1:${(trap.address() as { port: number }).port}`;
});
afterAll(async () => {
  await cl?.stop();
  await new Promise<void>((r) => trap.close(() => r()));
});

const forged = (kind: string) => ({
  [`X-${kind}-Sysmeta-Forged`]: 'evil',
  'X-Object-Sysmeta-Forged': 'evil',
  'X-Object-Transient-Sysmeta-Forged': 'evil',
  'X-Backend-Storage-Policy-Index': '7',
  'X-Backend-Forged': 'evil',
});

function noForgedHeaders(h: Record<string, string | string[] | undefined>): void {
  for (const k of Object.keys(h)) {
    expect(k).not.toMatch(/forged/);
    expect(h[k]).not.toBe('evil');
  }
}

describe('requests', () => {
  it('strips forged sysmeta and x-backend headers on account writes', async () => {
    const a = uniq('AUTH_g');
    expect((await call(url, 'PUT', `/v1/${a}`, { ...OWNER, ...forged('Account') })).status).toBe(201);
    expect((await call(url, 'POST', `/v1/${a}`, { ...OWNER, ...forged('Account'), 'X-Account-Sysmeta-Core-Access-Control': '{"admin":["eve"]}' })).status).toBe(204);
    for (const r of await direct(cl.proxy.state.rings.account, 'HEAD', [a])) {
      expect(r.status).toBe(204);
      noForgedHeaders(r.headers);
      expect(r.headers['x-account-sysmeta-core-access-control']).toBeUndefined();
    }
  });

  it('strips forged sysmeta, x-backend and update-routing headers on container writes', async () => {
    const a = uniq('AUTH_g');
    const routing = { 'X-Account-Host': trapHost, 'X-Account-Device': 'evil', 'X-Account-Partition': '0' };
    const put = await call(url, 'PUT', `/v1/${a}/c`, { ...forged('Container'), ...routing, 'X-Container-Sysmeta-Versions-Location': 'x' });
    expect(put.status).toBe(201);
    expect((await call(url, 'POST', `/v1/${a}/c`, { ...forged('Container'), ...routing })).status).toBe(204);
    for (const r of await direct(cl.proxy.state.rings.container, 'HEAD', [a, 'c'])) {
      expect(r.status).toBe(204);
      noForgedHeaders(r.headers);
      // The forged policy index was not honoured.
      expect(r.headers['x-backend-storage-policy-index']).toBe('0');
      expect(r.headers['x-container-sysmeta-versions-location']).toBeUndefined();
    }
    // The real account servers got the container update.
    for (const r of await direct(cl.proxy.state.rings.account, 'HEAD', [a])) expect(r.headers['x-account-container-count']).toBe('1');
    expect(trapped).toEqual([]);
  });

  it('strips forged headers, update-routing headers and X-Timestamp on object writes', async () => {
    const a = uniq('AUTH_g');
    expect((await call(url, 'PUT', `/v1/${a}/c`)).status).toBe(201);
    const routing = {
      'X-Container-Host': trapHost,
      'X-Container-Device': 'evil',
      'X-Container-Partition': '0',
      'X-Delete-At-Host': trapHost,
      'X-Delete-At-Device': 'evil',
      'X-Delete-At-Partition': '0',
      'X-Delete-At-Container': 'evil',
    };
    const at = String(Math.floor(Date.now() / 1000) + 3600);
    const put = await call(url, 'PUT', `/v1/${a}/c/o`, { ...forged('Object'), ...routing, 'X-Timestamp': '1000000000.00000', 'X-Delete-At': at, 'content-length': '1' }, { body: 'x' });
    expect(put.status).toBe(201);
    expect((await call(url, 'POST', `/v1/${a}/c/o`, { ...forged('Object'), ...routing, 'X-Timestamp': '1000000001.00000', 'X-Delete-At': at })).status).toBe(202);
    const objRing = cl.proxy.state.rings.object.get(0)!;
    for (const r of await direct(objRing, 'HEAD', [a, 'c', 'o'], { 'x-backend-storage-policy-index': '0' })) {
      expect(r.status).toBe(200);
      noForgedHeaders(r.headers);
      expect(Number(r.headers['x-timestamp'])).toBeGreaterThan(1_600_000_000);
      expect(r.headers['x-delete-at']).toBe(at);
    }
    // The real container servers list the object; the trap got nothing.
    const list = await call(url, 'GET', `/v1/${a}/c`);
    expect(list.text).toBe('o\n');
    for (const r of await direct(cl.proxy.state.rings.container, 'GET', [a, 'c'], {})) expect(r.text).toContain('o');
    expect(trapped).toEqual([]);
    // A DELETE with a forged old X-Timestamp still deletes.
    expect((await call(url, 'DELETE', `/v1/${a}/c/o`, { 'X-Timestamp': '1000000002.00000', ...routing })).status).toBe(204);
    expect((await call(url, 'HEAD', `/v1/${a}/c/o`)).status).toBe(404);
    expect(trapped).toEqual([]);
  });
});

describe('responses', () => {
  it('never carry sysmeta or x-backend headers', async () => {
    const a = uniq('AUTH_g');
    expect((await call(url, 'PUT', `/v1/${a}/c`)).status).toBe(201);
    expect((await call(url, 'PUT', `/v1/${a}/c/o`, { 'content-length': '1' }, { body: 'x' })).status).toBe(201);
    // Real sysmeta, written behind the proxy's back.
    const ts = directTs();
    for (const r of await direct(cl.proxy.state.rings.account, 'POST', [a], { 'x-timestamp': ts, 'x-account-sysmeta-secret': 's' })) expect(r.status).toBe(204);
    for (const r of await direct(cl.proxy.state.rings.container, 'POST', [a, 'c'], { 'x-timestamp': ts, 'x-container-sysmeta-secret': 's' })) expect(r.status).toBe(204);
    const objRing = cl.proxy.state.rings.object.get(0)!;
    // Object sysmeta is set by PUT only (an object POST keeps it).
    const putHeaders = { 'x-timestamp': directTs(), 'content-length': '0', 'content-type': 'text/plain', 'x-object-sysmeta-secret': 's', 'x-object-transient-sysmeta-secret': 't', 'x-backend-storage-policy-index': '0' };
    for (const r of await direct(objRing, 'PUT', [a, 'c', 'o'], putHeaders)) expect(r.status).toBe(201);
    for (const r of await direct(objRing, 'HEAD', [a, 'c', 'o'], { 'x-backend-storage-policy-index': '0' })) expect(r.headers['x-object-sysmeta-secret']).toBe('s');
    for (const [method, path, headers] of [
      ['HEAD', `/v1/${a}`, OWNER],
      ['GET', `/v1/${a}`, OWNER],
      ['GET', `/v1/${a}?format=json`, {}],
      ['HEAD', `/v1/${a}/c`, OWNER],
      ['GET', `/v1/${a}/c`, {}],
      ['HEAD', `/v1/${a}/c/o`, {}],
      ['GET', `/v1/${a}/c/o`, {}],
      ['GET', `/v1/${a}/c/o`, { range: 'bytes=0-0' }],
      ['GET', `/v1/${a}/c/missing`, {}],
      ['POST', `/v1/${a}/c/o`, {}],
      ['PUT', `/v1/${a}/c/o2`, { 'content-length': '0' }],
      ['DELETE', `/v1/${a}/c/o2`, {}],
      ['POST', `/v1/${a}/c`, {}],
      ['POST', `/v1/${a}`, {}],
    ] as [string, string, Record<string, string>][]) {
      const r = await call(url, method, path, headers);
      expect(r.status, `${method} ${path}`).toBeLessThan(500);
      expect(leakedHeaders(r), `${method} ${path}`).toEqual([]);
      for (const h of ['x-account-host', 'x-container-host', 'x-container-device']) expect(r.headers[h]).toBeUndefined();
    }
  });
});

describe('isBlockedHeader', () => {
  it('blocks sysmeta, transient sysmeta, x-backend-* and the update-routing headers, in any case', () => {
    const blocked = [
      'x-account-sysmeta-core-access-control',
      'X-Container-Sysmeta-Foo',
      'x-object-sysmeta-slo-etag',
      'X-OBJECT-TRANSIENT-SYSMETA-crypto-meta',
      'x-backend-storage-policy-index',
      'x-backend',
      'X-Account-Host',
      'x-account-device',
      'x-account-partition',
      'x-container-host',
      'x-container-device',
      'x-container-partition',
      'x-container-root-db-state',
      'x-delete-at-host',
      'x-delete-at-device',
      'x-delete-at-partition',
      'x-delete-at-container',
    ];
    for (const name of blocked) expect(isBlockedHeader(name), name).toBe(true);
  });

  it('lets metadata, ACLs and look-alike names through', () => {
    const allowed = [
      'x-account-meta-temp-url-key',
      'x-container-read',
      'x-object-meta-sysmeta-x',
      'x-account-host-extra',
      'x-container-partitions',
      'x-delete-at',
      'x-delete-after',
      'content-type',
      'x-sysmeta-foo',
      'xx-backend-foo',
    ];
    for (const name of allowed) expect(isBlockedHeader(name), name).toBe(false);
  });
});
