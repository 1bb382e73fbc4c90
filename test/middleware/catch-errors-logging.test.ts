/**
 * catch_errors (transaction ids, 500s), healthcheck (incl. disable_path) and proxy-logging
 * (one JSON line per request, secrets redacted).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defineFilter, registerFilter } from '../../src/proxy/filter';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { call, uniq } from '../proxy/helpers';

registerFilter(
  defineFilter({
    name: 'test_throw',
    options: () => ({}),
    create: () => async (c, next) => {
      if (c.get('headers').get('x-test-throw') === 'yes') throw new Error('boom: internal detail');
      await next();
    },
  }),
);
// A response of unknown length, streamed in three chunks (as listings and bulk results are).
registerFilter(
  defineFilter({
    name: 'test_stream',
    options: () => ({}),
    create: () => async (c, next) => {
      if (c.get('headers').get('x-test-stream') !== 'yes') return next();
      const chunks = ['abc', 'defgh', 'ij'];
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(ctl) {
            const next = chunks.shift();
            if (next === undefined) return ctl.close();
            await new Promise((r) => setTimeout(r, 50));
            ctl.enqueue(new TextEncoder().encode(next));
          },
        }),
        { status: 200, headers: { 'content-type': 'text/plain' } },
      );
    },
  }),
);

const tmp = mkdtempSync(join(tmpdir(), 'sluice-hc-'));
const disableFile = join(tmp, 'disabled');
const lines: Record<string, unknown>[] = [];
const errors: string[] = [];
let cl: TestCluster;
let url: string;

const CONF = `
[DEFAULT]
bind_ip = 127.0.0.1

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats test_throw test_stream proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:catch_errors]
use = egg:swift#catch_errors
trans_id_suffix = -sfx

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck
disable_path = ${disableFile}

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:test_throw]
use = egg:sluice#test_throw

[filter:test_stream]
use = egg:sluice#test_stream
`;

beforeAll(async () => {
  const accessLogger = pino(
    new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    }),
  );
  const logger = pino(
    { level: 'error' },
    new Writable({
      write(chunk, _enc, cb) {
        errors.push(String(chunk));
        cb();
      },
    }),
  );
  cl = await startCluster({ replicas: 1, partPower: 4, proxyConfig: CONF, accessLogger, logger });
  url = cl.url;
});
afterAll(async () => {
  await cl?.stop();
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  lines.length = 0;
});

const TX = /^tx[0-9a-f]{21}-[0-9a-f]{10}-sfx$/;

describe('catch_errors', () => {
  it('puts X-Trans-Id and X-Openstack-Request-Id on every response', async () => {
    const a = uniq('AUTH_t');
    const cases: [string, string, Record<string, string>, number][] = [
      ['PUT', `/v1/${a}/c`, {}, 201],
      ['GET', `/v1/${a}/c`, {}, 204],
      ['GET', `/v1/${a}/nope`, {}, 404],
      ['GET', `/v1/${a}/c/nope`, {}, 404],
      ['GET', '/v2/x', {}, 400],
      ['GET', '/v1', {}, 412],
      ['GET', '/v1/a/%ff', {}, 412],
      ['PATCH', `/v1/${a}`, {}, 405],
      ['GET', `/v1/${a}`, { accept: 'image/png' }, 406],
      ['GET', '/healthcheck', {}, 200],
      ['GET', `/v1/${a}`, { 'x-test-throw': 'yes' }, 500],
    ];
    const seen = new Set<string>();
    for (const [method, path, headers, status] of cases) {
      const r = await call(url, method, path, headers);
      expect(r.status, `${method} ${path}`).toBe(status);
      expect(r.headers['x-trans-id'], `${method} ${path}`).toMatch(TX);
      expect(r.headers['x-openstack-request-id']).toBe(r.headers['x-trans-id']);
      seen.add(r.headers['x-trans-id'] as string);
    }
    expect(seen.size).toBe(cases.length);
  });

  it('turns an uncaught error into a bare 500 and logs it', async () => {
    const r = await call(url, 'GET', '/v1/AUTH_x', { 'x-test-throw': 'yes' });
    expect(r.status).toBe(500);
    expect(r.text).toBe('An error occurred');
    expect(r.text).not.toContain('boom');
    expect(errors.join('')).toContain('boom: internal detail');
    expect(errors.join('')).toContain(r.headers['x-trans-id'] as string);
    const h = await call(url, 'HEAD', '/v1/AUTH_x', { 'x-test-throw': 'yes' });
    expect(h.status).toBe(500);
    expect(h.raw.length).toBe(0);
  });

  it('appends X-Trans-Id-Extra (quoted, at most 32 characters)', async () => {
    const r = await call(url, 'GET', '/healthcheck', { 'x-trans-id-extra': 'my extra/' + 'x'.repeat(40) });
    expect(r.headers['x-trans-id']).toMatch(new RegExp(`^tx[0-9a-f]{21}-[0-9a-f]{10}-sfx-my%20extra/${'x'.repeat(23)}$`));
  });
});

describe('healthcheck', () => {
  it('answers OK, or 503 DISABLED BY FILE while disable_path exists', async () => {
    const ok = await call(url, 'GET', '/healthcheck');
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('OK');
    writeFileSync(disableFile, '');
    try {
      const off = await call(url, 'GET', '/healthcheck');
      expect(off.status).toBe(503);
      expect(off.text).toBe('DISABLED BY FILE');
      // Only the health check is affected.
      expect((await call(url, 'HEAD', `/v1/${uniq('AUTH_h')}`)).status).toBe(200);
    } finally {
      rmSync(disableFile);
    }
    expect(existsSync(disableFile)).toBe(false);
    expect((await call(url, 'GET', '/healthcheck')).text).toBe('OK');
    expect((await call(url, 'GET', '/healthcheck?x=1')).text).toBe('OK');
  });
});

describe('proxy-logging', () => {
  async function waitForLines(n: number): Promise<void> {
    for (let i = 0; i < 200 && lines.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  }

  it('writes exactly one JSON line per request, even when listed twice', async () => {
    const a = uniq('AUTH_l');
    const r = await call(url, 'PUT', `/v1/${a}/c`, { 'user-agent': 'test-agent', referer: 'http://ref' });
    await waitForLines(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      method: 'PUT',
      path: `/v1/${a}/c`,
      status: 201,
      user_agent: 'test-agent',
      referer: 'http://ref',
      transaction_id: r.headers['x-trans-id'],
      protocol: 'HTTP/1.1',
    });
    expect(typeof lines[0]!.request_time).toBe('number');
  });

  it('logs errors too, with their status', async () => {
    await call(url, 'GET', '/v1/AUTH_x', { 'x-test-throw': 'yes' });
    await call(url, 'GET', '/v1/a/%ff');
    await waitForLines(2);
    expect(lines.map((l) => l.status)).toEqual([500, 412]);
  });

  it('never logs tokens or signatures', async () => {
    const token = 'AUTH_tk0123456789abcdef0123456789abcdef';
    const sig = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
    await call(url, 'GET', `/v1/AUTH_x/c/o?temp_url_sig=${sig}&temp_url_expires=1`, { 'x-auth-token': token });
    await call(url, 'GET', '/v1/AUTH_x', { 'x-storage-token': token });
    await waitForLines(2);
    expect(lines).toHaveLength(2);
    const text = JSON.stringify(lines);
    expect(text).not.toContain(token);
    expect(text).not.toContain(sig);
    expect(lines[0]!.auth_token).toBe('***');
    expect(lines[0]!.path).toBe('/v1/AUTH_x/c/o?temp_url_sig=***&temp_url_expires=1');
    expect(lines[1]!.auth_token).toBe('***');
  });

  it('logs a client that hangs up mid-upload as 499, promptly, without waiting on the backends', { timeout: 20_000 }, async () => {
    const a = uniq('AUTH_l');
    expect((await call(url, 'PUT', `/v1/${a}/c`)).status).toBe(201);
    lines.length = 0;
    const u = new URL(url);
    await new Promise<void>((resolve) => {
      const r = request({ host: u.hostname, port: u.port, path: `/v1/${a}/c/o`, method: 'PUT', agent: false, headers: { 'content-length': String(64 << 20) } });
      r.on('error', () => resolve());
      r.write(Buffer.alloc(4 << 20, 1), () =>
        setTimeout(() => {
          r.destroy();
          resolve();
        }, 20),
      );
    });
    // Without aborting the backend uploads this line would only come after the object server gave up.
    for (let i = 0; i < 1000 && !lines.some((l) => l.path === `/v1/${a}/c/o`); i++) await new Promise((r) => setTimeout(r, 10));
    const line = lines.find((l) => l.path === `/v1/${a}/c/o`);
    expect(line?.status).toBe(499);
    expect((await call(url, 'HEAD', `/v1/${a}/c/o`)).status).toBe(404);
  });

  it('counts the bytes of a streamed body of unknown length, and times the whole transfer', async () => {
    const r = await call(url, 'GET', '/v1/AUTH_x/c/o', { 'x-test-stream': 'yes' });
    expect(r.text).toBe('abcdefghij');
    expect(r.headers['content-length']).toBeUndefined();
    await waitForLines(1);
    expect(lines[0]).toMatchObject({ method: 'GET', status: 200, bytes_sent: 10 });
    // Logged after the last chunk (three 50 ms pauses), not when the headers went out.
    expect(lines[0]!.request_time as number).toBeGreaterThanOrEqual(0.14);
  });

  it('logs a client that hangs up mid-download as 499', { timeout: 20_000 }, async () => {
    const a = uniq('AUTH_l');
    expect((await call(url, 'PUT', `/v1/${a}/c`)).status).toBe(201);
    expect((await call(url, 'PUT', `/v1/${a}/c/big`, {}, { body: Buffer.alloc(32 << 20, 7) })).status).toBe(201);
    lines.length = 0;
    const u = new URL(url);
    await new Promise<void>((resolve) => {
      const r = request({ host: u.hostname, port: u.port, path: `/v1/${a}/c/big`, method: 'GET', agent: false }, (res) => {
        res.once('data', () => {
          res.destroy();
          resolve();
        });
      });
      r.on('error', () => resolve());
      r.end();
    });
    for (let i = 0; i < 1000 && !lines.some((l) => l.path === `/v1/${a}/c/big`); i++) await new Promise((r) => setTimeout(r, 10));
    expect(lines.find((l) => l.path === `/v1/${a}/c/big`)?.status).toBe(499);
  });
});
