/**
 * The shared cache on a real memcached: what it stores (Swift's hashed keys, JSON with flag 2,
 * Swift's dict shapes, TTLs), what it reads of what Swift's own code stores (python3-swift,
 * through swift_memcache_oracle.py), guarded fills across two caches, and memcached down or
 * frozen: misses and dropped writes, requests still served, one log line per interval.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memcacheKey } from '../../src/common/memcache-ring';
import { parseProxyConfig } from '../../src/proxy/config';
import { headersToAccountInfo, headersToContainerInfo, type AccountInfo, type ContainerInfo } from '../../src/proxy/info-cache';
import { MemcacheCache, parseServer, type MemcacheOptions } from '../../src/proxy/memcache-cache';
import type { RunningProxy } from '../../src/proxy/server';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { cacheOptionsFrom } from '../../src/middleware/cache';
import { TokenStore } from '../../src/middleware/tempauth/tokens';
import { haveMemcached, memcachedSkipReason, startMemcached, type Memcached } from '../helpers/memcached';
import { call } from './helpers';
import { proxyConf } from '../helpers/proxy-conf';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const PY = '/usr/bin/python3';
const ORACLE = join(import.meta.dirname, 'swift_memcache_oracle.py');
const probe = existsSync(PY) ? spawnSync(PY, ['-c', 'import swift.common.memcached'], { encoding: 'utf8' }) : undefined;
const haveSwift = probe?.status === 0;
if (!haveSwift && process.env.CI) throw new Error(`python3-swift is required in CI: ${probe?.stderr?.trim() || `${PY} missing`}`);

/** Swift's side, one python run for a list of operations. */
function swift(ops: unknown[]): unknown[] {
  const r = spawnSync(PY, [ORACLE, JSON.stringify(ops)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`swift oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown[];
}

/** memcached's meta get: the stored bytes, flags and remaining TTL of a (hashed) key. */
function rawGet(port: number, hashed: string): Promise<{ value: string; flags: number; ttl: number } | undefined> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      buf += d;
      if (buf.startsWith('EN\r\n')) {
        sock.destroy();
        return resolve(undefined);
      }
      const m = /^VA (\d+) f(\d+) t(-?\d+)\r\n/.exec(buf);
      if (m && buf.length >= m[0].length + Number(m[1]) + 2) {
        sock.destroy();
        resolve({ value: buf.slice(m[0].length, m[0].length + Number(m[1])), flags: Number(m[2]), ttl: Number(m[3]) });
      }
    });
    sock.on('error', reject);
    sock.write(`mg ${hashed} v f t\r\n`);
  });
}

/** memcached's text `set`, as another client (Swift's, or a broken one) would store a value. */
function rawSet(port: number, hashed: string, flags: number, value: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      sock.destroy();
      if (d.startsWith('STORED')) resolve();
      else reject(new Error(d));
    });
    sock.on('error', reject);
    sock.write(`set ${hashed} ${flags} 60 ${Buffer.byteLength(value, 'latin1')}\r\n${value}\r\n`, 'latin1');
  });
}

/** An HTTP header value as WSGI (and sluice's RequestHeaders) carry it: UTF-8 bytes as latin-1. */
const wsgi = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

function options(mc: Memcached, extra: Partial<MemcacheOptions> = {}): MemcacheOptions {
  return { servers: [mc.server], maxConnections: 2, connectTimeout: 0.5, ioTimeout: 0.5, tries: 3, errorLimitCount: 10, errorLimitTime: 60, ...extra };
}

function captureLog() {
  const lines: string[] = [];
  return { lines, logger: { error: (m: string) => void lines.push(m), warn: (m: string) => void lines.push(m) } as unknown as MemcacheOptions['logger'] };
}

const ACL = '{"read-only":["test:tester3"]}';
const ACCOUNT_HEADERS = {
  'x-account-container-count': '3',
  'x-account-object-count': '7',
  'x-account-bytes-used': '1024',
  'x-account-sysmeta-core-access-control': ACL,
  'x-account-meta-colour': wsgi('bleu clair é'),
};
const CONTAINER_HEADERS = {
  'x-container-read': '.r:*,.rlistings',
  'x-container-write': 'test:tester3',
  'x-container-object-count': '5',
  'x-container-bytes-used': '99',
  'x-backend-storage-policy-index': '0',
  'x-container-meta-access-control-allow-origin': 'http://a.example',
  'x-container-sysmeta-versions-location': 'v',
};

describe.skipIf(!haveMemcached)('memcache cache on a real memcached', () => {
  let mc: Memcached;
  let cache: MemcacheCache;
  beforeAll(async () => {
    mc = await startMemcached();
    cache = new MemcacheCache(options(mc));
  });
  afterAll(async () => {
    cache?.close();
    await mc?.stop();
  });

  it("stores tempauth tokens as Swift's tempauth does: hashed key, JSON with flag 2, the TTL given", async () => {
    const expires = 1_900_000_000.25;
    await cache.set('AUTH_/token/AUTH_tkabc', [expires, 'test,test:tester,AUTH_test'], 86_400);
    await cache.set('AUTH_/user/test:tester', 'AUTH_tkabc', 86_400);
    const token = await rawGet(mc.port, memcacheKey('AUTH_/token/AUTH_tkabc'));
    expect(token).toMatchObject({ value: '[1900000000.25, "test,test:tester,AUTH_test"]', flags: 2 });
    expect(token!.ttl).toBeGreaterThan(86_300);
    expect(token!.ttl).toBeLessThanOrEqual(86_400);
    expect(await rawGet(mc.port, memcacheKey('AUTH_/user/test:tester'))).toMatchObject({ value: '"AUTH_tkabc"', flags: 2 });
    expect(await cache.get('AUTH_/token/AUTH_tkabc')).toEqual([expires, 'test,test:tester,AUTH_test']);
    expect(await cache.get('AUTH_/user/test:tester')).toBe('AUTH_tkabc');
  });

  it("stores account and container info as Swift's dicts, with Swift's TTLs (a tenth for 404)", async () => {
    const acct = headersToAccountInfo(ACCOUNT_HEADERS, 204);
    await cache.set('account/AUTH_test', acct, 60);
    const raw = await rawGet(mc.port, memcacheKey('account/AUTH_test'));
    expect(raw?.flags).toBe(2);
    expect(raw!.ttl).toBeGreaterThan(55);
    expect(JSON.parse(raw!.value)).toEqual({
      status: 204,
      container_count: '3',
      total_object_count: '7',
      bytes: '1024',
      storage_policies: {},
      meta: { colour: 'bleu clair é' },
      sysmeta: { 'core-access-control': ACL },
      account_really_exists: true,
    });
    // ensure_ascii, as Python's json.dumps writes it.
    expect(raw!.value).toContain('"bleu clair \\u00e9"');
    expect(await cache.get('account/AUTH_test')).toEqual(acct);

    const cont = headersToContainerInfo(CONTAINER_HEADERS, 204);
    await cache.set('container/AUTH_test/c', cont, 6);
    const craw = await rawGet(mc.port, memcacheKey('container/AUTH_test/c'));
    expect(craw!.ttl).toBeLessThanOrEqual(6);
    expect(JSON.parse(craw!.value)).toMatchObject({ read_acl: '.r:*,.rlistings', write_acl: 'test:tester3', object_count: '5', storage_policy: '0', cors: { allow_origin: 'http://a.example', expose_headers: null, max_age: null }, sharding_state: 'unsharded' });
    expect(await cache.get('container/AUTH_test/c')).toEqual(cont);
  });

  it('keeps Keystone tokens out of keystonemiddleware\'s own key (whose value it would misread)', async () => {
    await cache.set('tokens/abc', { token: { expires_at: 'x' } }, 30);
    expect(await rawGet(mc.port, memcacheKey('tokens/abc'))).toBeUndefined();
    expect(await rawGet(mc.port, memcacheKey('sluice/tokens/abc'))).toMatchObject({ flags: 2 });
    expect(await cache.get('tokens/abc')).toEqual({ token: { expires_at: 'x' } });
  });

  it('deletes, and a zero or negative TTL stores nothing', async () => {
    await cache.set('account/AUTH_gone', headersToAccountInfo({}, 204), 60);
    expect(await cache.get('account/AUTH_gone')).toBeDefined();
    await cache.delete('account/AUTH_gone');
    expect(await cache.get('account/AUTH_gone')).toBeUndefined();
    await cache.set('AUTH_/user/x', 'tok', 0);
    expect(await rawGet(mc.port, memcacheKey('AUTH_/user/x'))).toBeUndefined();
  });

  it('a fill marked before another cache cleared the key is refused, or undone', async () => {
    const other = new MemcacheCache(options(mc));
    try {
      const old = headersToAccountInfo(ACCOUNT_HEADERS, 204);
      const mark = cache.mark();
      await other.delete('account/AUTH_race');
      await cache.set('account/AUTH_race', old, 60, mark);
      expect(await rawGet(mc.port, memcacheKey('account/AUTH_race'))).toBeUndefined();
      // The same fill, marked after the clear (past the skew margin), is stored.
      await new Promise((r) => setTimeout(r, 1_100));
      await cache.set('account/AUTH_race', old, 60, cache.mark());
      expect(await other.get('account/AUTH_race')).toEqual(old);
      // Its own clear, too: a fill marked before it is refused without asking memcached.
      const mark2 = other.mark();
      await other.delete('account/AUTH_race');
      await other.set('account/AUTH_race', old, 60, mark2);
      expect(await cache.get('account/AUTH_race')).toBeUndefined();
    } finally {
      other.close();
    }
  });

  it('reads an entry it cannot use as a miss: bad JSON, another shape, a pickle', async () => {
    await rawSet(mc.port, memcacheKey('account/AUTH_bad1'), 2, '{"status": 200, "meta": ');
    await rawSet(mc.port, memcacheKey('account/AUTH_bad2'), 2, '["not", "a", "dict"]');
    await rawSet(mc.port, memcacheKey('container/AUTH_bad3/c'), 2, '{"status": "200", "meta": {}, "sysmeta": {}}');
    await rawSet(mc.port, memcacheKey('account/AUTH_bad4'), 1, '(dp0\n.');
    for (const key of ['account/AUTH_bad1', 'account/AUTH_bad2', 'container/AUTH_bad3/c', 'account/AUTH_bad4']) expect(await cache.get(key)).toBeUndefined();
    // Swift's own older spelling (container_size) and absent counts (None) are read as Swift reads them.
    await rawSet(mc.port, memcacheKey('container/AUTH_old/c'), 2, '{"status": 204, "container_size": "4", "bytes": null, "meta": {}, "sysmeta": {}}');
    expect(await cache.get<ContainerInfo>('container/AUTH_old/c')).toMatchObject({ status: 204, objectCount: 4, bytes: 0, storagePolicy: 0, readAcl: undefined });
  });

  it("counts as Swift's incr does: missing keys start at delta, decrements stop at 0", async () => {
    expect(await cache.incr('ratelimit/x', 3, 60)).toBe(3);
    expect(await cache.incr('ratelimit/x', 2, 60)).toBe(5);
    expect(await cache.incr('ratelimit/x', -9, 60)).toBe(0);
    expect(await cache.incr('ratelimit/y', -1, 60)).toBe(0);
    // Stored as memcached's counters are, flag 0, read back as text (as Swift's get returns bytes).
    expect(await cache.get('ratelimit/x')).toBe('0');
  });

  it('keeps counters past 2^32 whole (ratelimit counts milliseconds since 1970, as Swift)', async () => {
    const now = 1_796_336_334_582;
    await cache.set('ratelimit/ms', now, 60);
    expect(await cache.incr('ratelimit/ms', 20_000, 60)).toBe(now + 20_000);
    expect(await cache.incr('ratelimit/ms', -5_000, 60)).toBe(now + 15_000);
    expect(await cache.incr('ratelimit/big', 2 ** 40, 60)).toBe(2 ** 40);
  });

  describe.skipIf(!haveSwift)("Swift's own code on the same memcached", () => {
    it("reads sluice's entries, and sluice reads Swift's", async () => {
      const servers = [mc.server];
      await cache.set('account/AUTH_fromsluice', headersToAccountInfo(ACCOUNT_HEADERS, 204), 60);
      await cache.set('container/AUTH_fromsluice/c', headersToContainerInfo(CONTAINER_HEADERS, 204), 60);
      await cache.set('AUTH_/token/AUTH_tkfromsluice', [1_900_000_000.5, 'test,test:tester'], 60);
      const swiftHeaders = Object.fromEntries(Object.entries(ACCOUNT_HEADERS).map(([k, v]) => [k, v]));
      const [fromSluiceAcct, fromSluiceCont, fromSluiceToken, swiftAcct, swiftCont, , , ,] = swift([
        { op: 'get', servers, key: 'account/AUTH_fromsluice' },
        { op: 'get', servers, key: 'container/AUTH_fromsluice/c' },
        { op: 'get', servers, key: 'AUTH_/token/AUTH_tkfromsluice' },
        { op: 'info', account: 'AUTH_x', headers: swiftHeaders, status: 204 },
        { op: 'info', account: 'AUTH_x', container: 'c', headers: CONTAINER_HEADERS, status: 204 },
        { op: 'set_info', servers, account: 'AUTH_fromswift', headers: swiftHeaders, status: 204, ttl: 60 },
        { op: 'set_info', servers, account: 'AUTH_fromswift', container: 'c', headers: CONTAINER_HEADERS, status: 204, ttl: 60 },
        { op: 'set', servers, key: 'AUTH_/token/AUTH_tkfromswift', value: [1_900_000_000.5, 'test,test:tester'], ttl: 60 },
      ]) as Record<string, unknown>[];
      // Swift reads what sluice wrote as the dicts it builds itself (sluice keeps no per-policy counts).
      expect({ ...fromSluiceAcct, storage_policies: undefined }).toEqual({ ...swiftAcct, storage_policies: undefined });
      expect(fromSluiceCont).toEqual(swiftCont);
      expect(fromSluiceToken).toEqual([1_900_000_000.5, 'test,test:tester']);
      // And sluice reads what Swift wrote as the info it builds from the same headers.
      expect(await cache.get<AccountInfo>('account/AUTH_fromswift')).toEqual(headersToAccountInfo(ACCOUNT_HEADERS, 204));
      expect(await cache.get<ContainerInfo>('container/AUTH_fromswift/c')).toEqual(headersToContainerInfo(CONTAINER_HEADERS, 204));
      expect(await cache.get('AUTH_/token/AUTH_tkfromswift')).toEqual([1_900_000_000.5, 'test,test:tester']);
    }, 60_000);
  });
  describe.skipIf(haveSwift)("Swift's own code on the same memcached", () => {
    it.skip(`needs Debian's python3-swift (${probe?.stderr?.trim() || 'python3 missing'})`, () => {});
  });

  it('memcached frozen: gets miss and writes are dropped within the I/O timeout, then it is used again', async () => {
    const log = captureLog();
    const c = new MemcacheCache(options(mc, { ioTimeout: 0.2, logger: log.logger }));
    try {
      await c.set('AUTH_/user/frozen', 'before', 60);
      mc.pause();
      try {
        expect(await c.get('AUTH_/user/frozen')).toBeUndefined();
        // (A write already sent is applied when memcached thaws: that one is not asserted on.)
        await c.set('AUTH_/user/frozen-during', 'during', 60);
        await c.delete('AUTH_/user/other');
      } finally {
        mc.resume();
      }
      expect(log.lines).toHaveLength(1);
      expect(log.lines[0]).toMatch(/^Error talking to memcached: 127\.0\.0\.1:\d+: .*requests go to the backends/);
      expect(await c.get('AUTH_/user/frozen')).toBe('before');
    } finally {
      c.close();
    }
  });

  it('memcached down: misses, one log line per interval, error limiting after too many errors', async () => {
    const log = captureLog();
    const down = new MemcacheCache({ ...options(mc), servers: ['127.0.0.1:1'], errorLimitCount: 5, logger: log.logger });
    try {
      expect(await down.get('AUTH_/user/first')).toBeUndefined();
      expect(down.errorLimited()).toEqual([]);
      for (let i = 0; i < 20; i++) {
        expect(await down.get(`AUTH_/user/u${i}`)).toBeUndefined();
        await down.set(`AUTH_/user/u${i}`, 'x', 60);
      }
      // The first error only: nothing per request, nor when error limiting starts in the same interval.
      expect(log.lines).toHaveLength(1);
      expect(log.lines[0]).toMatch(/^Error talking to memcached: 127\.0\.0\.1:1: .*ECONNREFUSED/);
      expect(down.errorLimited()).toEqual(['127.0.0.1:1']);
      // A TempAuth login cannot hand out a token memcached did not keep: tempauth answers 503, as Swift's.
      await expect(new TokenStore(down, 'AUTH_', 3600).issue('test:tester', 'test,test:tester')).rejects.toThrow(/No memcached connections succeeded/);
      await expect(down.incr('ratelimit/z', 1, 60)).rejects.toThrow(/No memcached connections succeeded/);
    } finally {
      down.close();
    }
  });
});

describe.skipIf(!haveMemcached)('a proxy whose memcached is gone', () => {
  let mc: Memcached;
  let cluster: TestCluster;
  let proxy: RunningProxy;
  const lines: string[] = [];
  beforeAll(async () => {
    mc = await startMemcached();
    const conf = parseProxyConfig(
      proxyConf({
        pipeline: ['catch_errors', 'cache'],
        // Not error-limited during the test: it is used again as soon as it is back.
        sections: { cache: `memcache_servers = ${mc.server}\nio_timeout = 0.3\nconnect_timeout = 0.3\nerror_suppression_limit = 1000` },
      }),
    );
    const pino = (await import('pino')).default;
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    cluster = await startCluster({ proxyConfig: conf, logger });
    proxy = cluster.proxy;
  });
  afterAll(async () => {
    await cluster?.stop();
    await mc?.stop();
  });

  it('serves every request from the backends, logging the outage once', async () => {
    expect((await call(proxy.url, 'PUT', '/v1/AUTH_down/c')).status).toBe(201);
    await mc.stop();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push((await call(proxy.url, 'PUT', `/v1/AUTH_down/c/o${i}`, {}, { body: 'x' })).status);
      statuses.push((await call(proxy.url, 'GET', `/v1/AUTH_down/c/o${i}`)).status);
      statuses.push((await call(proxy.url, 'HEAD', '/v1/AUTH_down/c')).status);
    }
    expect(statuses).toEqual(Array.from({ length: 8 }, () => [201, 200, 204]).flat());
    const outage = lines.filter((l) => l.includes('Error talking to memcached'));
    expect(outage).toHaveLength(1);
    await mc.restart();
    await call(proxy.url, 'HEAD', '/v1/AUTH_down/c');
    await new Promise((r) => setTimeout(r, 200));
    expect(await proxy.state.cache!.get('container/AUTH_down/c')).toMatchObject({ status: 204, objectCount: 8 });
  }, 30_000);
});

describe.skipIf(haveMemcached)('memcache cache on a real memcached', () => {
  it.skip(`needs memcached ${memcachedSkipReason}`, () => {});
});

describe('memcache options, as Swift reads them', () => {
  it('takes memcache_servers and options from the filter, else from <swift_dir>/memcache.conf', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-memcache-conf-'));
    try {
      expect(cacheOptionsFrom({ swift_dir: dir }).memcache).toBeUndefined();
      writeFileSync(join(dir, 'memcache.conf'), '[memcache]\nmemcache_servers = 10.0.0.1:11211, 10.0.0.2\nmemcache_max_connections = 4\nio_timeout = 1.5\ntries = 2\n');
      expect(cacheOptionsFrom({ swift_dir: dir }).memcache).toEqual({
        servers: ['10.0.0.1:11211', '10.0.0.2'],
        maxConnections: 4,
        connectTimeout: 0.3,
        ioTimeout: 1.5,
        tries: 2,
        errorLimitTime: 60,
        errorLimitCount: 10,
      });
      // The filter's own options win; a bad max_connections falls back as Swift's ValueError does.
      expect(cacheOptionsFrom({ swift_dir: dir, memcache_servers: '127.0.0.1:5', io_timeout: '0.2', memcache_max_connections: 'x' }).memcache).toMatchObject({
        servers: ['127.0.0.1:5'],
        maxConnections: 4,
        ioTimeout: 0.2,
        tries: 2,
      });
      expect(() => cacheOptionsFrom({ memcache_servers: 'a', tls_enabled: 'true' })).toThrow(/TLS is not supported/);
      expect(() => cacheOptionsFrom({ memcache_servers: 'a', tries: 'many' })).toThrow(/tries must be an integer/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses server names as parse_socket_string does', () => {
    expect(parseServer('10.0.0.1:1234')).toEqual({ host: '10.0.0.1', port: 1234 });
    expect(parseServer('cache')).toEqual({ host: 'cache', port: 11211 });
    expect(parseServer('[::1]:99')).toEqual({ host: '::1', port: 99 });
    expect(parseServer('[::1]')).toEqual({ host: '::1', port: 11211 });
    expect(parseServer('fd00::1')).toEqual({ host: 'fd00::1', port: 11211 });
  });
});
