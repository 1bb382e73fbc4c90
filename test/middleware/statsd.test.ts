/**
 * StatsD: the lines a sluice proxy sends, caught on a UDP socket, against the lines Swift's own
 * proxy_logging and proxy application (python3-swift 2.30, through statsd_oracle.py) send for
 * the same requests and the same configuration: names, types, counter values, sample-rate
 * suffixes and prefixes. Timing values differ between the two and are not compared.
 *
 * One cluster: [DEFAULT] sets log_statsd_host/port and log_statsd_metric_prefix (the proxy
 * application's lines), and [filter:proxy-logging] overrides the prefix and the sample rates
 * with access_log_statsd_* (the per-request lines), as Swift reads them.
 */
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { proxyConf } from '../helpers/proxy-conf';
import { call, type Resp } from '../proxy/helpers';
import { PythonOracle } from '../helpers/python-oracle';
import { statsdPrefix } from '../../src/common/statsd';
import { requestMetricsOptions, statType } from '../../src/proxy/request-metrics';
import { ProxyMetrics } from '../../src/proxy/metrics';
import { ConfigError, trackReads } from '../../src/proxy/config';

const PY = '/usr/bin/python3';
const probe = existsSync(PY) ? spawnSync(PY, ['-c', 'import swift.common.middleware.proxy_logging'], { encoding: 'utf8' }) : undefined;
const haveSwift = probe?.status === 0;
if (!haveSwift && process.env.CI) throw new Error(`the StatsD oracle is required in CI: ${probe?.stderr?.trim() || `${PY} missing`}`);
const skipReason = haveSwift ? '' : `(skipped: ${PY} cannot import swift's proxy_logging: ${probe?.stderr?.trim() || 'python3 missing'})`;

/** What [filter:proxy-logging] gives Swift's proxy_logging (host and port are the oracle's). */
const ACCESS_CONF = {
  log_statsd_metric_prefix: 'cluster-a',
  access_log_statsd_metric_prefix: 'access',
  access_log_statsd_default_sample_rate: '0.5',
  access_log_statsd_sample_rate_factor: '0.5',
};
const APP_CONF = { log_statsd_metric_prefix: 'cluster-a' };

/** A line without its timing value: `name|ms|@rate`; counters keep their value. */
function shape(line: string): string {
  const m = /^([^:]+):([^|]+)\|(ms|c)(\|@[\d.]+)?$/.exec(line);
  if (!m) return `unparsable: ${line}`;
  const [, name, value, type, rate = ''] = m;
  expect(Number.isFinite(Number(value)), line).toBe(true);
  return type === 'ms' ? `${name}|ms${rate}` : `${name}:${value}|c${rate}`;
}

class Catcher {
  readonly lines: string[] = [];
  private constructor(private readonly socket: Socket) {
    socket.on('message', (m) => this.lines.push(...m.toString('utf8').split('\n').filter(Boolean)));
  }

  static async open(): Promise<Catcher> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new Catcher(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Waits for at least `n` lines, then a little longer for any extra, and takes them all. */
  async take(n: number): Promise<string[]> {
    const until = Date.now() + 5_000;
    while (this.lines.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    return this.lines.splice(0);
  }

  close(): void {
    this.socket.close();
  }
}

describe('statsd prefixes and metric types', () => {
  it('joins only the parts that are set, each followed by a dot (StatsdClient._set_prefix)', () => {
    expect(statsdPrefix('', 'proxy-server')).toBe('proxy-server.');
    expect(statsdPrefix('site1', 'proxy-server')).toBe('site1.proxy-server.');
    expect(statsdPrefix('site1', '')).toBe('site1.');
    expect(statsdPrefix('', '')).toBe('');
  });

  it('reads the StatsD options (so none is reported unknown) and only those', async () => {
    const app = trackReads({ log_statsd_host: 'localhost', log_statsd_port: '8125', log_statsd_metric_prefix: 'p', no_such_option: '1' });
    const metrics = new ProxyMetrics(app.section);
    expect(metrics.statsd?.prefix).toBe('p.proxy-server.');
    expect(app.unread()).toEqual(['no_such_option']);
    await metrics.close();
    const filter = trackReads({ access_log_statsd_host: 'localhost', log_statsd_valid_http_methods: 'GET', access_log_statsd_default_sample_rate: '0.5', typo: 'x' });
    expect(requestMetricsOptions(filter.section)).toEqual({
      statsd: { host: 'localhost', port: 8125, basePrefix: '', defaultSampleRate: 0.5, sampleRateFactor: 1 },
      validMethods: ['GET'],
    });
    expect(filter.unread()).toEqual(['typo']);
    // An empty access_ value hides the plain one, as Swift's `if value:` does.
    expect(requestMetricsOptions({ log_statsd_host: 'h', access_log_statsd_host: '' }).statsd).toBeUndefined();
    expect(() => requestMetricsOptions({ log_statsd_host: 'h', log_statsd_port: 'eighty' })).toThrow(ConfigError);
  });

  it('types requests by the path under /v1/ only, %2F counting as a slash', () => {
    expect(statType('/v1/AUTH_a')).toBe('account');
    expect(statType('/v1/AUTH_a/')).toBe('account');
    expect(statType('/v1/AUTH_a/c')).toBe('container');
    expect(statType('/v1/AUTH_a/c/o')).toBe('object');
    expect(statType('/v1/AUTH_a/c/o/deeper/still')).toBe('object');
    expect(statType('/v1/AUTH_a/c%2Fo')).toBe('object');
    expect(statType('/v1/')).toBeUndefined();
    expect(statType('/v1.0/AUTH_a')).toBeUndefined();
    expect(statType('/auth/v1.0')).toBeUndefined();
    expect(statType('/info')).toBeUndefined();
  });
});

describe.skipIf(!haveSwift)('StatsD lines against Swift\'s proxy_logging and proxy application', () => {
  let catcher: Catcher;
  let cluster: TestCluster;
  let oracle: PythonOracle;
  let token: string;

  beforeAll(async () => {
    catcher = await Catcher.open();
    oracle = new PythonOracle(PY, join(import.meta.dirname, 'statsd_oracle.py'));
    const statsd = `log_statsd_host = 127.0.0.1\nlog_statsd_port = ${catcher.port}\nlog_statsd_metric_prefix = ${APP_CONF.log_statsd_metric_prefix}`;
    const access = Object.entries(ACCESS_CONF)
      .filter(([k]) => k.startsWith('access_'))
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n');
    cluster = await startCluster({
      proxyConfig: proxyConf({
        defaults: `bind_ip = 127.0.0.1\n${statsd}`,
        pipeline: ['catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', 'cache', 'listing_formats', 'tempauth', 'proxy-logging'],
        sections: { 'proxy-logging': access, tempauth: 'user_test_tester = testing .admin' },
        app: 'client_timeout = 0.5',
      }),
    });
    const auth = await call(cluster.url, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' });
    expect(auth.status).toBe(200);
    token = String(auth.headers['x-auth-token']);
    // The auth request is not under /v1/: no line.
    expect(await catcher.take(0)).toEqual([]);
  }, 60_000);

  afterAll(async () => {
    oracle?.close();
    catcher?.close();
    await cluster?.stop();
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** What Swift's proxy_logging sends for a request answered as sluice answered it. */
  async function swiftLines(method: string, path: string, res: Resp, requestBody: number, policyIndex: string | null): Promise<string[]> {
    const sent = method === 'HEAD' ? 0 : res.raw.length;
    const q = { conf: ACCESS_CONF, method, path, status: res.status, request_body: requestBody, response_body: sent, policy_index: policyIndex, random: 0 };
    return (await oracle.ask<{ lines: string[] }>(q)).lines;
  }

  const cases: { method: string; path: string; body?: string; status: number; policy: string | null }[] = [
    { method: 'PUT', path: '/v1/AUTH_test/stats', status: 201, policy: null },
    { method: 'PUT', path: '/v1/AUTH_test/stats/obj', body: 'hello', status: 201, policy: '0' },
    { method: 'GET', path: '/v1/AUTH_test/stats/obj', status: 200, policy: '0' },
    { method: 'HEAD', path: '/v1/AUTH_test/stats/obj', status: 200, policy: '0' },
    { method: 'GET', path: '/v1/AUTH_test/stats/missing', status: 404, policy: '0' },
    { method: 'POST', path: '/v1/AUTH_test/stats', status: 204, policy: null },
    { method: 'GET', path: '/v1/AUTH_test/stats?format=json', status: 200, policy: null },
    { method: 'GET', path: '/v1/AUTH_test', status: 200, policy: null },
    // Not in log_statsd_valid_http_methods: BAD_METHOD.
    { method: 'PATCH', path: '/v1/AUTH_test/stats/obj', status: 405, policy: null },
    { method: 'DELETE', path: '/v1/AUTH_test/stats/obj', status: 204, policy: '0' },
    { method: 'COPY', path: '/v1/AUTH_test/stats/missing', status: 404, policy: '0' },
  ];

  for (const tc of cases) {
    it(`${tc.method} ${tc.path} → ${tc.status}: the same lines as Swift`, async () => {
      vi.spyOn(Math, 'random').mockReturnValue(0);
      const headers: Record<string, string> = { 'X-Auth-Token': token };
      if (tc.method === 'COPY') headers.Destination = 'stats/copy';
      const res = await call(cluster.url, tc.method, tc.path, headers, { body: tc.body });
      expect(res.status).toBe(tc.status);
      const expected = await swiftLines(tc.method, tc.path, res, tc.body?.length ?? 0, tc.policy);
      expect(expected.length).toBeGreaterThan(0);
      for (const line of expected) expect(line).toMatch(/^access\.proxy-server\./);
      const got = await catcher.take(expected.length);
      expect(got.map(shape).sort()).toEqual(expected.map(shape).sort());
    });
  }

  it('sends nothing from proxy-logging when the draw is at or above the rate (0.5 * 0.5)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.25);
    const res = await call(cluster.url, 'GET', '/v1/AUTH_test/stats?format=json', { 'X-Auth-Token': token });
    expect(res.status).toBe(200);
    const q = { conf: ACCESS_CONF, method: 'GET', path: '/v1/AUTH_test/stats', status: 200, request_body: 0, response_body: res.raw.length, policy_index: null, random: 0.25 };
    expect((await oracle.ask<{ lines: string[] }>(q)).lines).toEqual([]);
    expect(await catcher.take(0)).toEqual([]);
  });

  it('counts a bad API version in the proxy application\'s errors, with [DEFAULT]\'s prefix', async () => {
    const res = await call(cluster.url, 'GET', '/v2/AUTH_test', { 'X-Auth-Token': token });
    expect(res.status).toBe(400);
    const expected = (await oracle.ask<{ lines: string[] }>({ app_conf: APP_CONF, metric: 'errors', controller: null })).lines;
    expect(expected).toEqual(['cluster-a.proxy-server.errors:1|c']);
    // Not under /v1/: proxy-logging sends nothing for it.
    expect(await catcher.take(1)).toEqual(expected);
  });

  it('counts an upload whose client stops sending in object.client_timeouts (and its 408 per request)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { status, sent } = await new Promise<{ status: number; sent: number }>((resolve, reject) => {
      const u = new URL(cluster.url);
      const r = request({ host: u.hostname, port: u.port, method: 'PUT', path: '/v1/AUTH_test/stats/slow', headers: { 'X-Auth-Token': token, 'Content-Length': '10' }, agent: false }, (res) => {
        let sent = 0;
        res.on('data', (chunk: Buffer) => (sent += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode!, sent }));
      });
      r.on('error', reject);
      // Two of the ten bytes, then nothing: client_timeout (0.5 s) ends it.
      r.write('ab');
    });
    expect(status).toBe(408);
    const app = (await oracle.ask<{ lines: string[] }>({ app_conf: APP_CONF, metric: 'client_timeouts', controller: 'object' })).lines;
    expect(app).toEqual(['cluster-a.proxy-server.object.client_timeouts:1|c']);
    const perRequest = (await oracle.ask<{ lines: string[] }>({ conf: ACCESS_CONF, method: 'PUT', path: '/v1/AUTH_test/stats/slow', status: 408, request_body: 0, response_body: sent, policy_index: '0', random: 0 })).lines;
    const got = await catcher.take(app.length + perRequest.length);
    expect(got.filter((l) => l.startsWith('cluster-a.'))).toEqual(app);
    // Swift's InputProxy counted the bytes the controller read before it gave up: the 2 sent.
    const expected = perRequest.map(shape).map((l) => l.replace(/\.xfer:(\d+)\|/, (_, n: string) => `.xfer:${Number(n) + 2}|`));
    expect(got.filter((l) => l.startsWith('access.')).map(shape).sort()).toEqual(expected.sort());
  });
});

describe.skipIf(haveSwift)('StatsD against Swift', () => {
  it.skip(`needs python3-swift ${skipReason}`, () => undefined);
});
