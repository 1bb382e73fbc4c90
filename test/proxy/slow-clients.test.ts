/**
 * Slow and hostile clients against an in-process cluster with small timeouts (issue 14): a
 * slowloris client and a connection that never sends a byte are cut at header_timeout while a
 * normal client keeps its latency; a PUT whose body stalls is 408 at client_timeout with the
 * connection closed and nothing stored; a slow but steady upload is never cut; an object server
 * stopped mid-PUT is 503 for the client still sending, never 499.
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { watchBodyStall } from '../../src/proxy/request-body';
import { call, OWNER, proxyConf, uniq } from './helpers';

const CLIENT_TIMEOUT = 1;
const HEADER_TIMEOUT = 1.5;

function accessLog(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

/** A raw connection: what the server sent, and when (ms after connecting) it closed. */
interface Raw {
  sock: Socket;
  received(): string;
  closed: Promise<number>;
  /** Resolves with the status line's code once a whole header block has arrived. */
  head: Promise<{ status: number; head: string; at: number }>;
}

function raw(base: string): Promise<Raw> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const sock = connect({ host: u.hostname, port: Number(u.port) });
    let got = '';
    let onHead: (h: { status: number; head: string; at: number }) => void;
    const head = new Promise<{ status: number; head: string; at: number }>((r) => (onHead = r));
    const closed = new Promise<number>((r) => sock.once('close', () => r(performance.now() - t0)));
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0) onHead({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0), head: got.slice(0, end), at: performance.now() - t0 });
    });
    sock.on('error', () => undefined);
    sock.once('connect', () => resolve({ sock, received: () => got, closed, head }));
    sock.once('error', reject);
  });
}

function putHead(path: string, length: number | 'chunked'): string {
  const framing = length === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`;
  return `PUT ${path} HTTP/1.1\r\nHost: proxy\r\nX-Test-Owner: yes\r\nContent-Type: application/octet-stream\r\n${framing}\r\n\r\n`;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** GETs `path` on one keep-alive connection every `everyMs` until stopped; latencies in ms. */
function normalClient(base: string, path: string, everyMs: number): { stop(): Promise<{ latencies: number[]; statuses: number[] }> } {
  const client = new Client(base, { keepAliveTimeout: 10_000 });
  const latencies: number[] = [];
  const statuses: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      const res = await client.request({ method: 'GET', path, headers: OWNER });
      await res.body.arrayBuffer();
      latencies.push(performance.now() - t);
      statuses.push(res.statusCode);
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.close();
      return { latencies, statuses };
    },
  };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

describe('slow and hostile clients', () => {
  let cluster: TestCluster;
  const access = accessLog();
  const errors = accessLog();
  const container = `/v1/AUTH_test/${uniq('slow')}`;
  const small = Buffer.from('a small object the normal client reads\n');

  beforeAll(async () => {
    cluster = await startCluster({
      replicas: 3,
      partPower: 4,
      // An option nothing reads, so the warning these are checked against is there to see.
      proxyConfig: proxyConf({ client_timeout: String(CLIENT_TIMEOUT), header_timeout: String(HEADER_TIMEOUT), no_such_timeout: '5' }),
      accessLogger: access.logger,
      logger: errors.logger,
    });
    expect((await call(cluster.url, 'PUT', container, OWNER)).status).toBe(201);
    expect((await call(cluster.url, 'PUT', `${container}/small`, { ...OWNER, 'Content-Type': 'text/plain' }, { body: small })).status).toBe(201);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('reads client_timeout and header_timeout as options of the proxy app (no unknown-option warning)', () => {
    const warnings = errors.lines.map((l) => String(l.msg)).filter((m) => m.includes('ignores unknown option'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ignores unknown option no_such_timeout$/);
  });

  it('refuses a header_timeout that is not a non-negative number', async () => {
    await expect(startCluster({ proxyConfig: proxyConf({ header_timeout: 'soon' }) })).rejects.toThrow(/header_timeout must be a non-negative number/);
  });

  it('cuts slowloris and silent connections at header_timeout while a normal client is answered promptly', async () => {
    const normal = normalClient(cluster.url, `${container}/small`, 20);
    await sleep(200); // warm: the normal client's first requests fill the info cache
    const loris = await Promise.all(Array.from({ length: 20 }, () => raw(cluster.url)));
    const silent = await Promise.all(Array.from({ length: 20 }, () => raw(cluster.url)));
    const header = `GET ${container}/small HTTP/1.1\r\nHost: proxy\r\nX-Padding: ${'p'.repeat(200)}\r\n\r\n`;
    // One header byte every 200 ms: each read arrives well inside client_timeout.
    const dripping = loris.map((c) => {
      let i = 0;
      const t = setInterval(() => {
        if (c.sock.destroyed || i >= header.length) return clearInterval(t);
        c.sock.write(header[i++]!);
      }, 200);
      return t;
    });
    const lorisLived = await Promise.all(loris.map((c) => c.closed));
    const silentLived = await Promise.all(silent.map((c) => c.closed));
    dripping.forEach(clearInterval);
    const { latencies, statuses } = await normal.stop();

    for (const lived of [...lorisLived, ...silentLived]) {
      expect(lived).toBeGreaterThanOrEqual(HEADER_TIMEOUT * 1000 - 50);
      expect(lived).toBeLessThan(HEADER_TIMEOUT * 1000 + 1000);
    }
    // Cut before their headers were complete: Node's 408, never an answer to the request.
    for (const c of [...loris, ...silent]) expect(c.received()).toMatch(/^(HTTP\/1\.1 408 Request Timeout\r\n[^]*)?$/);
    for (const c of loris) expect(c.received()).not.toContain('200 OK');
    expect(statuses.length).toBeGreaterThan(20);
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(pct(latencies, 99)).toBeLessThan(500);
    console.info(
      `slowloris x20 lived ${Math.min(...lorisLived).toFixed(0)}-${Math.max(...lorisLived).toFixed(0)} ms; silent x20 lived ${Math.min(...silentLived).toFixed(0)}-${Math.max(...silentLived).toFixed(0)} ms; ` +
        `normal client ${latencies.length} GETs p50 ${pct(latencies, 50).toFixed(1)} ms p99 ${pct(latencies, 99).toFixed(1)} ms max ${Math.max(...latencies).toFixed(1)} ms`,
    );
  });

  it('closes a kept-alive connection left idle for client_timeout', async () => {
    const c = await raw(cluster.url);
    c.sock.write(`GET ${container}/small HTTP/1.1\r\nHost: proxy\r\nX-Test-Owner: yes\r\n\r\n`);
    const head = await c.head;
    expect(head.status).toBe(200);
    // eventlet never advertises a Keep-Alive timeout; sluice does not either (Swift's header set).
    expect(head.head).not.toMatch(/\r\nKeep-Alive:/i);
    const lived = await c.closed;
    // Node adds a second of grace past its keep-alive timeout.
    expect(lived - head.at).toBeGreaterThanOrEqual(CLIENT_TIMEOUT * 1000 - 50);
    expect(lived - head.at).toBeLessThan(CLIENT_TIMEOUT * 1000 + 1500);
    console.info(`idle keep-alive closed ${(lived - head.at).toFixed(0)} ms after its answer`);
  });

  for (const [label, length, sent] of [
    ['a streamed body', 256 * 1024, 40 * 1024],
    ['a small body read whole', 1000, 100],
  ] as const) {
    it(`answers 408 with the connection closed when ${label} stalls, and stores nothing`, async () => {
      const path = `${container}/${uniq('stall')}`;
      const c = await raw(cluster.url);
      const t0 = performance.now();
      c.sock.write(putHead(path, length));
      c.sock.write(Buffer.alloc(sent, 'x'));
      const head = await c.head;
      const answeredAfter = performance.now() - t0;
      const lived = await c.closed;
      expect(head.status).toBe(408);
      expect(head.head).toMatch(/\r\nConnection: close\r\n/i);
      expect(c.received()).toContain('<h1>Request Timeout</h1>');
      expect(answeredAfter).toBeGreaterThanOrEqual(CLIENT_TIMEOUT * 1000 - 50);
      expect(answeredAfter).toBeLessThan(CLIENT_TIMEOUT * 1000 + 1000);
      expect(lived - head.at).toBeLessThan(500);
      expect((await call(cluster.url, 'HEAD', path, OWNER)).status).toBe(404);
      const lines = access.lines.filter((l) => l.method === 'PUT' && l.path === path);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.map((l) => l.status)).toEqual(lines.map(() => 408));
      console.info(`${label} stalled after ${sent} of ${length} bytes: 408 after ${answeredAfter.toFixed(0)} ms, closed ${(lived - head.at).toFixed(0)} ms later`);
    });
  }

  for (const [method, path] of [
    ['POST', '/v1/AUTH_test'],
    ['POST', container],
    ['PUT', container],
  ] as const) {
    it(`answers a ${method} of ${path === container ? 'a container' : 'an account'} whose declared body never comes, then closes the connection`, async () => {
      const c = await raw(cluster.url);
      c.sock.write(`${method} ${path} HTTP/1.1\r\nHost: proxy\r\nX-Test-Owner: yes\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(100)}`);
      const head = await c.head;
      // Swift's account and container controllers read no body: the answer does not wait for it.
      expect(head.status).toBe(method === 'PUT' ? 202 : 204);
      expect(head.at).toBeLessThan(CLIENT_TIMEOUT * 1000);
      // The rest of the body would be the next request's bytes: the connection cannot be reused.
      const lived = await c.closed;
      expect(lived - head.at).toBeLessThan(CLIENT_TIMEOUT * 1000 + 1500);
    });
  }

  for (const [label, chunk] of [
    ['a streamed body', 16 * 1024],
    ['a small body read whole', 100],
  ] as const) {
    it(`never cuts ${label} sent slowly but steadily (a chunk every 200 ms for 3 s)`, async () => {
      const path = `${container}/${uniq('steady')}`;
      const chunks = Array.from({ length: 15 }, (_, i) => Buffer.alloc(chunk, String.fromCharCode(97 + i)));
      const body = Buffer.concat(chunks);
      const c = await raw(cluster.url);
      const t0 = performance.now();
      c.sock.write(putHead(path, body.length));
      for (const part of chunks) {
        c.sock.write(part);
        await sleep(200);
      }
      const head = await c.head;
      expect(head.status).toBe(201);
      expect(head.head).toMatch(new RegExp(`\\r\\nEtag: ${md5(body)}\\r\\n`, 'i'));
      expect(performance.now() - t0).toBeGreaterThan(2800);
      c.sock.destroy();
      const got = await call(cluster.url, 'GET', path, OWNER);
      expect(got.status).toBe(200);
      expect(md5(got.raw)).toBe(md5(body));
    });
  }
});

describe('an object server stopped mid-PUT', () => {
  for (const framing of [1024 * 1024, 'chunked'] as const) {
    it(`answers 503 to the client still sending (${framing === 'chunked' ? 'chunked' : 'Content-Length'}), never 499`, async () => {
      // A cluster of its own: the object server stopped here does not come back.
      const access = accessLog();
      const cluster = await startCluster({ replicas: 3, partPower: 4, proxyConfig: proxyConf({ client_timeout: String(CLIENT_TIMEOUT) }), accessLogger: access.logger });
      try {
        const container = `/v1/AUTH_test/${uniq('dying')}`;
        expect((await call(cluster.url, 'PUT', container, OWNER)).status).toBe(201);
        const path = `${container}/o`;
        const c = await raw(cluster.url);
        c.sock.write(putHead(path, framing));
        const part = Buffer.alloc(128 * 1024, 'y');
        c.sock.write(framing === 'chunked' ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]) : part);
        await sleep(200);
        const t0 = performance.now();
        // Every replica lives on this one object server: stopping it fails all three mid-body.
        await cluster.object.close();
        const head = await c.head;
        const answeredAfter = performance.now() - t0;
        expect(head.status).toBe(503);
        expect(head.head).toMatch(/\r\nConnection: close\r\n/i);
        await c.closed;
        const lines = access.lines.filter((l) => l.method === 'PUT' && l.path === path);
        expect(lines.length).toBeGreaterThan(0);
        expect(lines.map((l) => l.status)).toEqual(lines.map(() => 503));
        console.info(`object server stopped mid-PUT (${framing}): 503 ${answeredAfter.toFixed(0)} ms after the stop`);
      } finally {
        await cluster.stop();
      }
    });
  }
});

describe('watchBodyStall', () => {
  it('counts only time the proxy waits on the client, not a pause for backpressure', async () => {
    const source = new PassThrough({ highWaterMark: 16 });
    let release: (() => void) | undefined;
    // A replica that takes 1.5 s over its first write: the body is paused meanwhile.
    const slowReplica = new Writable({
      highWaterMark: 16,
      write(_chunk, _enc, cb) {
        if (release === undefined) release = () => cb();
        else cb();
      },
    });
    source.pipe(slowReplica);
    let stalledAt: number | undefined;
    const t0 = performance.now();
    const stop = watchBodyStall(source, 0.3, () => (stalledAt = performance.now() - t0));
    source.write(Buffer.alloc(64));
    source.write(Buffer.alloc(64));
    await sleep(100);
    expect(source.isPaused()).toBe(true);
    await sleep(1400);
    expect(stalledAt).toBeUndefined();
    release!();
    // Flowing again, and the client sends nothing more: a stall 0.3 s after the resume.
    await sleep(700);
    expect(stalledAt).toBeGreaterThan(1500 + 250);
    expect(stalledAt).toBeLessThan(1500 + 600);
    stop();
  });

  it('does nothing with a timeout of 0, and nothing once the body has ended', async () => {
    let fired = 0;
    const a = new PassThrough();
    a.resume();
    watchBodyStall(a, 0, () => fired++);
    const b = new PassThrough();
    b.resume();
    watchBodyStall(b, 0.1, () => fired++);
    b.end(Buffer.from('all of it'));
    await sleep(300);
    expect(fired).toBe(0);
  });
});
