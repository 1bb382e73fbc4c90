/**
 * bulk with a client that stops sending its body (issue 14): the read fails after client_timeout
 * (Swift: eventlet's socket timeout on wsgi.input), the streamed answer says 408, and the
 * connection closes after it. Nothing of the unfinished archive is stored; a client that hangs
 * up instead changes nothing either.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { DEV_PROXY_CONF } from '../../src/cluster/dev-cluster';
import { tarArchive } from '../../scripts/lib/tar-writer';
import { send, Session } from '../conformance/replayer';

const CONF = DEV_PROXY_CONF.replace('[app:proxy-server]\n', '[app:proxy-server]\nclient_timeout = 1\n');
let cluster: TestCluster;
let tok: string;

beforeAll(async () => {
  expect(CONF).toContain('client_timeout = 1');
  cluster = await startCluster({ proxyConfig: CONF });
  tok = (await new Session(cluster.url).login('test:tester')).token;
}, 60_000);
afterAll(() => cluster?.stop());

interface Stalled {
  /** Everything the proxy sent before closing the connection. */
  text: string;
  /** Milliseconds from the last byte sent to the connection's close. */
  closedAfterMs: number;
}

/** Sends `head` and `partial`, then nothing more, and waits (at most 8 s) for the proxy to close. */
function stall(head: string, partial: Buffer): Promise<Stalled> {
  const u = new URL(cluster.url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let sentAt = 0;
    const s: Socket = connect(Number(u.port), u.hostname, () => {
      s.write(head);
      s.write(partial, () => (sentAt = Date.now()));
    });
    const guard = setTimeout(() => {
      s.destroy();
      reject(new Error(`the proxy kept the connection open; it sent: ${Buffer.concat(chunks).toString('latin1').slice(0, 400)}`));
    }, 8000);
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(guard);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedAfterMs: Date.now() - sentAt });
    });
  });
}

/** The bulk result after the keep-alive bytes, from a chunked HTTP/1.1 answer. */
function bulkResult(text: string): Record<string, unknown> {
  const [head, chunked] = [text.slice(0, text.indexOf('\r\n\r\n')), text.slice(text.indexOf('\r\n\r\n') + 4)];
  expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  let body = '';
  for (let rest = chunked; ; ) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!size) break;
    body += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 4 + size);
  }
  return JSON.parse(body.trim()) as Record<string, unknown>;
}

describe('bulk and a client that stalls mid-body (client_timeout = 1)', () => {
  it('extract-archive: 408 in the result, the connection closed, no object from the archive', async () => {
    const c = `stall${Date.now()}`;
    const archive = tarArchive([
      { name: `${c}/whole`, data: Buffer.alloc(700, 1) },
      { name: `${c}/cut`, data: Buffer.alloc(5000, 2) },
    ]);
    // The first file whole, the second one's header and 1,000 of its 5,000 bytes.
    const partial = archive.subarray(0, 512 + 1024 + 512 + 1000);
    const head = `PUT /v1/AUTH_test?extract-archive=tar HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${tok}\r\nAccept: application/json\r\nContent-Length: ${archive.length}\r\n\r\n`;
    const r = await stall(head, partial);
    const result = bulkResult(r.text);
    expect(result['Response Status']).toBe('408 Request Timeout');
    expect(result['Number Files Created']).toBe(1);
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(900);
    expect(r.closedAfterMs).toBeLessThan(5000);
    expect((await send(cluster.url, 'GET', `/v1/AUTH_test/${c}/whole`, { 'X-Auth-Token': tok })).status).toBe(200);
    expect((await send(cluster.url, 'GET', `/v1/AUTH_test/${c}/cut`, { 'X-Auth-Token': tok })).status).toBe(404);
  });

  it('extract-archive: a stall between two files is a 408 too', async () => {
    const c = `stall${Date.now()}b`;
    const archive = tarArchive([{ name: `${c}/a`, data: Buffer.alloc(512, 1) }, { name: `${c}/b`, data: Buffer.alloc(10, 2) }]);
    const head = `PUT /v1/AUTH_test?extract-archive=tar HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${tok}\r\nAccept: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const first = archive.subarray(0, 1024);
    const r = await stall(head, Buffer.concat([Buffer.from(`${first.length.toString(16)}\r\n`), first, Buffer.from('\r\n')]));
    expect(bulkResult(r.text)['Response Status']).toBe('408 Request Timeout');
    expect(r.closedAfterMs).toBeLessThan(5000);
    expect((await send(cluster.url, 'GET', `/v1/AUTH_test/${c}/a`, { 'X-Auth-Token': tok })).status).toBe(200);
  });

  it('bulk-delete: 408 in the result, the connection closed, nothing deleted', async () => {
    const c = `stall${Date.now()}d`;
    expect((await send(cluster.url, 'PUT', `/v1/AUTH_test/${c}`, { 'X-Auth-Token': tok })).status).toBe(201);
    expect((await send(cluster.url, 'PUT', `/v1/AUTH_test/${c}/o`, { 'X-Auth-Token': tok }, 'x')).status).toBe(201);
    const list = Buffer.from(`/${c}/o\n/${c}\n`);
    const head = `POST /v1/AUTH_test?bulk-delete HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${tok}\r\nAccept: application/json\r\nContent-Type: text/plain\r\nContent-Length: ${list.length + 100}\r\n\r\n`;
    const r = await stall(head, list);
    expect(bulkResult(r.text)['Response Status']).toBe('408 Request Timeout');
    expect(r.closedAfterMs).toBeLessThan(5000);
    expect((await send(cluster.url, 'GET', `/v1/AUTH_test/${c}/o`, { 'X-Auth-Token': tok })).status).toBe(200);
  });

  it('a client that hangs up mid-archive leaves no partial object and no error in the result', async () => {
    const c = `stall${Date.now()}h`;
    const archive = tarArchive([{ name: `${c}/cut`, data: Buffer.alloc(5000, 3) }]);
    const u = new URL(cluster.url);
    await new Promise<void>((resolve) => {
      const s = connect(Number(u.port), u.hostname, () => {
        s.write(`PUT /v1/AUTH_test?extract-archive=tar HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${tok}\r\nContent-Length: ${archive.length}\r\n\r\n`);
        s.write(archive.subarray(0, 2000), () => setTimeout(() => s.destroy(), 200));
      });
      s.on('error', () => undefined);
      s.on('close', () => resolve());
    });
    // The proxy settles the subrequest once the body failed.
    await new Promise((r) => setTimeout(r, 300));
    expect((await send(cluster.url, 'GET', `/v1/AUTH_test/${c}/cut`, { 'X-Auth-Token': tok })).status).toBe(404);
    expect((await send(cluster.url, 'HEAD', '/v1/AUTH_test', { 'X-Auth-Token': tok })).status).toBe(204);
  });
});
