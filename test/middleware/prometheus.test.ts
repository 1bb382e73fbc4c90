/**
 * The Prometheus endpoint (egg:sluice#prometheus): scraped before and after traffic, its
 * counters move by exactly what was sent; backend failures, handoff requests and cache lookups
 * are counted; and with `--workers 2` one scrape answers for both workers.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { BackendClient } from '../../src/common/backend-client';
import type { RingDevice } from '../../src/common/ring';
import { LruInfoCache, type SharedCache } from '../../src/proxy/info-cache';
import { ProxyMetrics } from '../../src/proxy/metrics';
import { exposition, PrometheusMetrics } from '../../src/proxy/prometheus-metrics';
import type { ProxyState } from '../../src/proxy/state';
import { prometheusOptions } from '../../src/middleware/prometheus';
import { ConfigError } from '../../src/proxy/config';
import { proxyConf } from '../helpers/proxy-conf';
import { call } from '../proxy/helpers';
import { killGroup, withLimit } from '../cli/process-group';

/** The value of the series `name` whose labels include `labels` (summed when several match), 0 when none. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

async function scrape(base: string): Promise<string> {
  const res = await call(base, 'GET', '/metrics');
  expect(res.status).toBe(200);
  expect(String(res.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text;
}

const PROM_CONF = proxyConf({
  pipeline: ['catch_errors', 'gatekeeper', 'healthcheck', 'prometheus', 'proxy-logging', 'cache', 'listing_formats', 'tempauth', 'proxy-logging'],
  sections: { prometheus: 'use = egg:sluice#prometheus', tempauth: 'user_test_tester = testing .admin' },
});

describe('prometheus filter options', () => {
  it('takes metrics_path and buckets, and refuses bad ones', () => {
    expect(prometheusOptions({})).toEqual({ metricsPath: '/metrics', buckets: undefined });
    expect(prometheusOptions({ metrics_path: '/stats', buckets: '1, 0.1,0.5' })).toEqual({ metricsPath: '/stats', buckets: [0.1, 0.5, 1] });
    expect(() => prometheusOptions({ metrics_path: 'metrics' })).toThrow(ConfigError);
    expect(() => prometheusOptions({ buckets: '0.1,fast' })).toThrow(ConfigError);
  });
});

describe('scraping a proxy in one process', () => {
  let cluster: TestCluster;
  let token: string;

  beforeAll(async () => {
    cluster = await startCluster({ replicas: 3, proxyConfig: PROM_CONF });
    const auth = await call(cluster.url, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' });
    expect(auth.status).toBe(200);
    token = String(auth.headers['x-auth-token']);
    expect((await call(cluster.url, 'PUT', '/v1/AUTH_test/prom', { 'X-Auth-Token': token })).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('moves the request, byte and timing counters by what was sent', async () => {
    const before = await scrape(cluster.url);
    const get200 = { type: 'object', method: 'GET', status: '200', policy: '0' };
    const put201 = { type: 'object', method: 'PUT', status: '201', policy: '0' };
    expect((await call(cluster.url, 'PUT', '/v1/AUTH_test/prom/o', { 'X-Auth-Token': token }, { body: 'hello world' })).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await call(cluster.url, 'GET', '/v1/AUTH_test/prom/o', { 'X-Auth-Token': token })).text).toBe('hello world');
    expect((await call(cluster.url, 'GET', '/v1/AUTH_test/prom/none', { 'X-Auth-Token': token })).status).toBe(404);
    expect((await call(cluster.url, 'GET', '/v2/AUTH_test', { 'X-Auth-Token': token })).status).toBe(400);
    const after = await scrape(cluster.url);
    const moved = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);

    expect(moved('sluice_proxy_requests_total', get200)).toBe(3);
    expect(moved('sluice_proxy_requests_total', put201)).toBe(1);
    expect(moved('sluice_proxy_requests_total', { type: 'object', method: 'GET', status: '404', policy: '0' })).toBe(1);
    // Only /v1/ requests: neither the scrape nor /v2/ is a request series.
    expect(moved('sluice_proxy_requests_total')).toBe(5);
    expect(moved('sluice_proxy_transfer_bytes_total', get200)).toBe(33);
    expect(moved('sluice_proxy_transfer_bytes_total', put201)).toBe(11);
    expect(moved('sluice_proxy_request_duration_seconds_count', get200)).toBe(3);
    expect(moved('sluice_proxy_request_duration_seconds_bucket', { ...get200, le: '+Inf' })).toBe(3);
    expect(moved('sluice_proxy_first_byte_seconds_count', get200)).toBe(3);
    expect(moved('sluice_proxy_first_byte_seconds_count', put201)).toBe(0);
    expect(moved('sluice_proxy_errors_total')).toBe(1);
    // Each GET asked one object server replica; the 404 asked all three (a 404 moves on).
    expect(moved('sluice_backend_requests_total', { type: 'object', node: 'primary' })).toBe(3 + 3 + 3);
    expect(moved('sluice_backend_requests_total', { node: 'handoff' })).toBe(0);
    expect(value(after, 'sluice_proxy_processes')).toBe(1);
  });

  it('reports the shared cache\'s lookups and the hit ratio computed from them', async () => {
    for (let i = 0; i < 4; i++) expect((await call(cluster.url, 'HEAD', '/v1/AUTH_test/prom', { 'X-Auth-Token': token })).status).toBe(204);
    const text = await scrape(cluster.url);
    const hits = value(text, 'sluice_cache_lookups_total', { result: 'hit' });
    const misses = value(text, 'sluice_cache_lookups_total', { result: 'miss' });
    // Every one of those requests found its token and the container's info in the cache.
    expect(value(text, 'sluice_cache_lookups_total', { kind: 'token', result: 'hit' })).toBeGreaterThanOrEqual(4);
    expect(value(text, 'sluice_cache_lookups_total', { kind: 'container', result: 'hit' })).toBeGreaterThanOrEqual(4);
    expect(misses).toBeGreaterThan(0);
    expect(value(text, 'sluice_cache_hit_ratio')).toBeCloseTo(hits / (hits + misses), 10);
  });

  it('shows each storage server\'s connection pool', async () => {
    const text = await scrape(cluster.url);
    const objectOrigin = cluster.object.url.replace(/\/$/, '');
    expect(value(text, 'sluice_backend_pool_connections', { origin: objectOrigin, state: 'connected' })).toBeGreaterThanOrEqual(1);
    expect(value(text, 'sluice_backend_pool_connections', { origin: objectOrigin, state: 'running' })).toBe(0);
    expect(text).toMatch(/^# TYPE sluice_backend_pool_connections gauge$/m);
  });
});

describe('backend failures, handoffs and cache errors', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('counts requests to handoff nodes and failures by kind', async () => {
    const backend = new BackendClient({ connTimeout: 0.5, nodeTimeout: 2 });
    const metrics = new ProxyMetrics({});
    backend.observe(metrics);
    const prom = new PrometheusMetrics({ backend } as unknown as ProxyState);
    metrics.observe(prom);
    const node = (p: number, extra: object = {}) => ({ id: 0, region: 1, zone: 1, ip: '127.0.0.1', port: p, device: 'sda', weight: 1, ...extra }) as unknown as RingDevice;
    const req = { method: 'HEAD', partition: 1, path: '/a/c/o', headers: {} };
    expect((await backend.send(node(port), req)).status).toBe(200);
    expect((await backend.send(node(port, { handoff_index: 0 }), { ...req, path: '/a/c' })).status).toBe(200);
    // A port nobody listens on: the server's own, once closed below, is refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(backend.send(node(deadPort), { ...req, path: '/a' })).rejects.toMatchObject({ kind: 'connect' });
    const { text } = await exposition([await prom.figures()]);
    expect(value(text, 'sluice_backend_requests_total', { type: 'object', node: 'primary' })).toBe(1);
    expect(value(text, 'sluice_backend_requests_total', { type: 'container', node: 'handoff' })).toBe(1);
    expect(value(text, 'sluice_backend_requests_total', { type: 'account', node: 'primary' })).toBe(1);
    expect(value(text, 'sluice_backend_errors_total', { type: 'account', kind: 'connect' })).toBe(1);
    expect(value(text, 'sluice_backend_errors_total')).toBe(1);
    await backend.close();
    await metrics.close();
  });

  it('counts a cache that fails as an error, keeps sync answers sync and passes other methods through', async () => {
    const metrics = new ProxyMetrics({});
    const prom = new PrometheusMetrics({ backend: new BackendClient({ connTimeout: 1, nodeTimeout: 1 }) } as unknown as ProxyState);
    metrics.observe(prom);
    const lru = metrics.countLookups(new LruInfoCache());
    lru.set('account/AUTH_x', { status: 204 }, 60);
    expect(lru.get('account/AUTH_x')).toEqual({ status: 204 });
    expect(lru.get('account/AUTH_y')).toBeUndefined();
    expect(typeof lru.mark).toBe('function');
    const failing: SharedCache = { get: () => Promise.reject(new Error('memcached down')), set: () => undefined, delete: () => undefined };
    await expect(metrics.countLookups(failing).get('AUTH_/token/AUTH_tk1')).rejects.toThrow('memcached down');
    const { text } = await exposition([await prom.figures()]);
    expect(value(text, 'sluice_cache_lookups_total', { kind: 'account', result: 'hit' })).toBe(1);
    expect(value(text, 'sluice_cache_lookups_total', { kind: 'account', result: 'miss' })).toBe(1);
    expect(value(text, 'sluice_cache_lookups_total', { kind: 'token', result: 'error' })).toBe(1);
    expect(value(text, 'sluice_cache_hit_ratio')).toBe(0.5);
    await metrics.close();
  });
});

describe('scraping proxy workers', () => {
  const ROOT = fileURLToPath(new URL('../..', import.meta.url));
  let dir: string;
  let pgid: number | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-prometheus-'));
  });

  afterAll(() => {
    killGroup(pgid);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers for every worker, whichever one the scrape reaches', async () => {
    writeFileSync(join(dir, 'proxy-server.conf'), PROM_CONF);
    const args = ['start', '--data-dir', join(dir, 'data'), '--port', '0', '--storage-ports', '0,0,0', '--expirer-interval', '0', '--workers', '2', '--config', join(dir, 'proxy-server.conf')];
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'sluice.js'), ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    pgid = child.pid;
    let out = '';
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    const url = await withLimit(
      new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /sluice is running: proxy (http:\/\/\S+) /.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`sluice exited (${code}): ${err}`)));
      }),
      'sluice start --workers 2',
      60_000,
    );
    const before = await scrape(url);
    expect(value(before, 'sluice_proxy_processes')).toBe(2);
    const auth = await call(url, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' });
    const token = String(auth.headers['x-auth-token']);
    // Each request on a connection of its own: the kernel spreads them over the workers.
    const N = 20;
    for (let i = 0; i < N; i++) expect((await call(url, 'GET', '/v1/AUTH_test', { 'X-Auth-Token': token })).status).toBe(204);
    const scrapes = await Promise.all([scrape(url), scrape(url), scrape(url)]);
    for (const after of scrapes) {
      expect(value(after, 'sluice_proxy_processes')).toBe(2);
      expect(value(after, 'sluice_proxy_requests_total', { type: 'account', method: 'GET', status: '204' }) - value(before, 'sluice_proxy_requests_total', { type: 'account', method: 'GET', status: '204' })).toBe(N);
    }
    process.kill(-pgid!, 'SIGTERM');
    await withLimit(new Promise((resolve) => child.once('exit', resolve)), 'sluice stop', 30_000);
    pgid = undefined;
  }, 120_000);
});
