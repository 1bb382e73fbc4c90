/**
 * ratelimit: Swift's algorithm compared with Swift's own _get_sleep_time (Debian's
 * python3-swift, with a fake memcache and clock) on random request sequences, then through a
 * whole cluster with an injected clock, counting requests allowed, delayed (and by how much)
 * and refused: account, container and listing limits, the global write limit, white- and
 * blacklists (options and sysmeta), concurrency, /info, and no cache filter.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { defineFilter, registerFilter } from '../../src/proxy/filter';
import { LruInfoCache } from '../../src/proxy/info-cache';
import { getMaxRate, interpretConfLimits, MaxSleepTimeHitError, pyRound, RateLimiter, ratelimit, ratelimitFilter, type RatelimitClock, type RatelimitOptions } from '../../src/middleware/ratelimit';
import { proxyConf } from '../helpers/proxy-conf';
import { call, direct, directTs, uniq } from '../proxy/helpers';

/** A clock the test moves; sleeps are recorded, and take no time unless `advanceOnSleep`. */
class FakeClock implements RatelimitClock {
  t = 1_700_000_000;
  sleeps: number[] = [];
  now(): number {
    return this.t;
  }
  async sleep(seconds: number): Promise<void> {
    this.sleeps.push(seconds);
  }
}

const clock = new FakeClock();
registerFilter(defineFilter({ name: 'ratelimit_fake_clock', options: ratelimitFilter.options, info: ratelimitFilter.info, create: (o, ctx) => ratelimit(o, ctx, clock) }));

// ------------------------------------------------------------------ the algorithm against Swift's

const PY = '/usr/bin/python3';
const probe = existsSync(PY) ? spawnSync(PY, ['-c', 'import swift.common.middleware.ratelimit'], { encoding: 'utf8' }) : undefined;
const haveSwift = probe?.status === 0;
if (!haveSwift && process.env.CI) throw new Error(`Swift's ratelimit is required in CI: ${probe?.stderr?.trim() || `${PY} missing`}`);
const skipReason = haveSwift ? '' : `(skipped: ${PY} cannot import swift.common.middleware.ratelimit)`;

/** Runs Swift's _get_sleep_time over each case's [seconds to advance, key, rate] steps; 'max' for a refusal. */
const ORACLE = `
import json, sys
from unittest import mock
from swift.common.middleware import ratelimit

class FakeMemcache(object):
    def __init__(self):
        self.store = {}
    def incr(self, key, delta=1, time=0):
        self.store[key] = max(int(self.store.get(key, 0)) + delta, 0)
        return self.store[key]
    def decr(self, key, delta=1, time=0):
        return self.incr(key, -delta, time)
    def set(self, key, value, serialize=True, time=0):
        self.store[key] = value

def run(case):
    mw = ratelimit.RateLimitMiddleware(None, case['conf'], logger=mock.MagicMock())
    mw.memcache_client = FakeMemcache()
    now = [case['start']]
    out = []
    with mock.patch('swift.common.middleware.ratelimit.time.time', lambda: now[0]):
        for advance, key, rate in case['steps']:
            now[0] += advance
            try:
                out.append(mw._get_sleep_time(key, rate))
            except ratelimit.MaxSleepTimeHitError:
                out.append('max')
    return out

print(json.dumps([run(case) for case in json.load(sys.stdin)]))
`;

describe('the sleep arithmetic, against Swift 2.30', () => {
  it.skipIf(!haveSwift)(`gives Swift's sleeps and refusals ${skipReason}`, async () => {
    const step = fc.tuple(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 8, noNaN: true })), fc.constantFrom('k1', 'k2'), fc.oneof(fc.constantFrom(1, 2.5, 400, 3), fc.double({ min: 0.05, max: 500, noNaN: true })));
    const kase = fc.record({
      maxSleep: fc.constantFrom(1, 2, 60, 0.5),
      buffer: fc.constantFrom(0, 1, 5),
      accuracy: fc.constantFrom(1000, 100, 7),
      steps: fc.array(step, { minLength: 1, maxLength: 30 }),
    });
    const start = 1_700_000_000.123;
    const cases = fc.sample(kase, { numRuns: 120, seed: 20261203 }).map((k) => ({
      conf: { max_sleep_time_seconds: String(k.maxSleep), rate_buffer_seconds: String(k.buffer), clock_accuracy: String(k.accuracy) },
      start,
      steps: k.steps,
    }));
    // One Python run for every case (importing Swift takes seconds).
    const py = spawnSync(PY, ['-c', ORACLE], { input: JSON.stringify(cases), encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const answers = JSON.parse(py.stdout) as (number | 'max')[][];
    for (const [i, { conf, steps }] of cases.entries()) {
      const swift = answers[i]!;
      const options = ratelimitFilter.options(conf);
      const fake = new FakeClock();
      fake.t = start;
      const limiter = new RateLimiter(options, fake);
      const cache = new LruInfoCache(16, 16);
      const ours: (number | 'max')[] = [];
      for (const [advance, key, rate] of steps) {
        fake.t += advance;
        try {
          ours.push(await limiter.sleepTime(cache, key, rate));
        } catch (err) {
          if (!(err instanceof MaxSleepTimeHitError)) throw err;
          ours.push('max');
        }
      }
      expect(ours, JSON.stringify({ conf, steps })).toEqual(swift);
    }
  }, 60_000);

  it('rounds halves to even, as Python', () => {
    expect([0.5, 1.5, 2.5, -2.5, 2.4, 2.6].map(pyRound)).toEqual([0, 2, 2, -2, 2, 3]);
  });

  it('interpolates container rates between the sizes configured', () => {
    const limits = interpretConfLimits({ container_ratelimit_50: '1', container_ratelimit_10: '5', other: 'x' }, 'container_ratelimit_');
    expect(limits).toEqual([
      [10, 5],
      [50, 1],
    ]);
    expect([0, 9, 10, 30, 50, 1000].map((n) => getMaxRate(limits, n))).toEqual([undefined, undefined, 5, 3, 1, 1]);
    expect(() => interpretConfLimits({ container_ratelimit_x: '1' }, 'container_ratelimit_')).toThrow(/integer/);
    expect(() => interpretConfLimits({ container_ratelimit_5: '1', container_ratelimit_05: '2' }, 'container_ratelimit_')).toThrow(/more than one/);
  });
});

// ------------------------------------------------------------------ through a cluster

const PIPELINE = ['catch_errors', 'gatekeeper', 'proxy-logging', 'cache', 'ratelimit_fake_clock', 'proxy-logging'];
const SECTION = [
  'use = egg:sluice#ratelimit_fake_clock',
  'account_ratelimit = 2',
  'max_sleep_time_seconds = 2',
  'container_ratelimit_10 = 5',
  'container_ratelimit_50 = 1',
  'container_listing_ratelimit_1 = 1',
  'account_whitelist = AUTH_white',
  'account_blacklist = AUTH_black, AUTH_black2',
].join('\n');

interface Counted {
  statuses: number[];
  sleeps: number[];
}

describe('ratelimit in a cluster', () => {
  let cl: TestCluster;
  const req = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => call(cl.url, method, path, headers, body === undefined ? {} : { body });

  /** Sends the requests one after the other, with the clock standing still. */
  async function burst(n: number, method: string, path: (i: number) => string, headers: Record<string, string> = {}): Promise<Counted> {
    clock.sleeps = [];
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await req(method, path(i), headers, method === 'PUT' ? 'x' : undefined)).status);
    return { statuses, sleeps: clock.sleeps };
  }

  /** An account whose backend was made with the given headers (sysmeta cannot come from a client). */
  async function accountWith(headers: Record<string, string>): Promise<string> {
    const a = `AUTH_${uniq('rl')}`;
    for (const r of await direct(cl.proxy.state.rings.account, 'PUT', [a], { 'x-timestamp': directTs(), ...headers })) expect(r.status).toBe(201);
    return a;
  }

  beforeAll(async () => {
    cl = await startCluster({
      proxyConfig: proxyConf({ pipeline: PIPELINE, sections: { ratelimit_fake_clock: SECTION }, app: 'recheck_container_existence = 0\n' }),
    });
  }, 60_000);
  afterAll(async () => {
    await cl?.stop();
  });
  beforeEach(() => {
    // Past rate_buffer_seconds: every key starts afresh.
    clock.t += 100;
  });

  it('registers its /info section with Swift floats', async () => {
    const info = await req('GET', '/info');
    expect(info.text).toContain(
      '"ratelimit": {"account_ratelimit": 2.0, "max_sleep_time_seconds": 2.0, "container_ratelimits": [[10, 5.0], [50, 1.0]], "container_listing_ratelimits": [[1, 1.0]]}',
    );
  });

  it('limits container PUT and DELETE per account: waits, then 498 "Slow down"', async () => {
    const a = `/v1/AUTH_${uniq('acct')}`;
    const got = await burst(6, 'PUT', (i) => `${a}/c${i}`);
    expect(got.statuses).toEqual([201, 201, 201, 201, 498, 498]);
    expect(got.sleeps).toEqual([0.5, 1, 1.5]);
    const refused = await req('DELETE', `${a}/c0`);
    expect([refused.status, refused.text, refused.headers['content-type']]).toEqual([498, 'Slow down', 'text/html; charset=UTF-8']);
    // Reads and object writes do not count against the account.
    expect((await req('GET', `${a}/c0`)).status).toBe(204);
    expect((await req('PUT', `${a}/c0/o`, {}, 'x')).status).toBe(201);
    clock.t += 10;
    expect((await burst(1, 'DELETE', () => `${a}/c5`)).statuses).toEqual([404]);
  });

  it('counts concurrent requests exactly once each', async () => {
    const a = `/v1/AUTH_${uniq('conc')}`;
    clock.sleeps = [];
    const statuses = await Promise.all(Array.from({ length: 8 }, (_, i) => req('PUT', `${a}/c${i}`).then((r) => r.status)));
    expect(statuses.filter((s) => s === 201)).toHaveLength(4);
    expect(statuses.filter((s) => s === 498)).toHaveLength(4);
    expect(clock.sleeps.sort()).toEqual([0.5, 1, 1.5]);
  });

  it('limits object writes by the container size, interpolated', async () => {
    const c = `/v1/AUTH_${uniq('size')}/c`;
    expect((await req('PUT', c)).status).toBe(201);
    // Below 10 objects no rate applies.
    const small = await burst(10, 'PUT', (i) => `${c}/o${i}`);
    expect(small.statuses).toEqual(Array(10).fill(201));
    expect(small.sleeps).toEqual([]);
    clock.t += 100;
    // 10 objects: 5/s, so 0.2 s more per request until the 2 s limit.
    const at10 = await burst(12, 'POST', () => `${c}/o0`);
    expect(at10.statuses).toEqual([...Array(10).fill(202), 498, 498]);
    expect(at10.sleeps.map((s) => Number(s.toFixed(3)))).toEqual([0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8]);
    // 30 objects: 3/s on the line from (10, 5) to (50, 1).
    for (let i = 10; i < 30; i++) {
      clock.t += 100;
      expect((await req('PUT', `${c}/o${i}`, {}, 'x')).status).toBe(201);
    }
    clock.t += 100;
    const at30 = await burst(8, 'POST', () => `${c}/o1`);
    expect(at30.statuses).toEqual([...Array(6).fill(202), 498, 498]);
    expect(at30.sleeps.map((s) => Number(s.toFixed(3)))).toEqual([0.333, 0.666, 0.999, 1.332, 1.665]);
    // Reads are never limited here.
    expect((await burst(5, 'GET', () => `${c}/o29`)).statuses).toEqual(Array(5).fill(200));
  });

  it('limits container listings (GET only) by size', async () => {
    const c = `/v1/AUTH_${uniq('list')}/c`;
    expect((await req('PUT', c)).status).toBe(201);
    expect((await burst(4, 'GET', () => c)).statuses).toEqual([204, 204, 204, 204]);
    expect((await req('PUT', `${c}/o`, {}, 'x')).status).toBe(201);
    clock.t += 100;
    const got = await burst(3, 'GET', () => c);
    expect(got.statuses).toEqual([200, 200, 498]);
    expect(got.sleeps).toEqual([1]);
    expect((await burst(3, 'HEAD', () => c)).statuses).toEqual([204, 204, 204]);
  });

  it('applies X-Account-Sysmeta-Global-Write-Ratelimit to every write of the account', async () => {
    const a = await accountWith({ 'x-account-sysmeta-global-write-ratelimit': '1' });
    const got = await burst(3, 'POST', () => `/v1/${a}`);
    expect(got.statuses).toEqual([204, 204, 498]);
    expect(got.sleeps).toEqual([1]);
    expect((await burst(3, 'GET', () => `/v1/${a}`)).statuses).toEqual([204, 204, 204]);
    // Not a number: no limit.
    const b = await accountWith({ 'x-account-sysmeta-global-write-ratelimit': 'fast' });
    expect((await burst(4, 'POST', () => `/v1/${b}`)).statuses).toEqual([204, 204, 204, 204]);
  });

  it('exempts whitelisted accounts, by option or sysmeta', async () => {
    expect((await burst(6, 'PUT', (i) => `/v1/AUTH_white/${uniq('c')}${i}`)).statuses).toEqual(Array(6).fill(201));
    const a = await accountWith({ 'x-account-sysmeta-global-write-ratelimit': 'WHITELIST' });
    const got = await burst(6, 'PUT', (i) => `/v1/${a}/c${i}`);
    expect(got.statuses).toEqual(Array(6).fill(201));
    expect(got.sleeps).toEqual([]);
  });

  it('refuses blacklisted accounts with 497 after a second, by option or sysmeta', async () => {
    const a = await accountWith({ 'x-account-sysmeta-global-write-ratelimit': 'BLACKLIST' });
    for (const path of ['/v1/AUTH_black', '/v1/AUTH_black2/c/o', `/v1/${a}/c`]) {
      clock.sleeps = [];
      const res = await req('GET', path);
      expect([res.status, res.text]).toEqual([497, 'Your account has been blacklisted']);
      expect(clock.sleeps).toEqual([1]);
    }
    const head = await req('HEAD', '/v1/AUTH_black');
    expect([head.status, head.text]).toEqual([497, '']);
  });

  it('leaves requests outside the API alone', async () => {
    expect((await burst(3, 'GET', () => '/info')).statuses).toEqual([200, 200, 200]);
    expect((await req('PUT', '/v1')).status).not.toBe(498);
  });
});

describe('ratelimit without the cache filter', () => {
  it('limits nothing and says so once', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) });
    const cl = await startCluster({ logger, proxyConfig: proxyConf({ pipeline: ['catch_errors', 'proxy-logging', 'ratelimit_fake_clock', 'proxy-logging'], sections: { ratelimit_fake_clock: SECTION } }) });
    try {
      const a = `/v1/AUTH_${uniq('nocache')}`;
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await call(cl.url, 'PUT', `${a}/c${i}`)).status);
      expect(statuses).toEqual(Array(6).fill(201));
      expect(lines.filter((l) => l.includes('Cannot ratelimit without a memcached client'))).toHaveLength(1);
    } finally {
      await cl.stop();
    }
  }, 60_000);
});

describe('ratelimit options', () => {
  it('reads Swift defaults and refuses what Swift cannot use', () => {
    const o: RatelimitOptions = ratelimitFilter.options({});
    expect(o).toMatchObject({ accountRatelimit: 0, maxSleepTimeSeconds: 60, logSleepTimeSeconds: 0, clockAccuracy: 1000, rateBufferSeconds: 5, accountWhitelist: [], accountBlacklist: [] });
    expect(() => ratelimitFilter.options({ clock_accuracy: '0' })).toThrow(/clock_accuracy/);
    expect(() => ratelimitFilter.options({ container_listing_ratelimit_big: '1' })).toThrow(/integer/);
  });
});
