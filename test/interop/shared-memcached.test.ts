/**
 * Proxies sharing one memcached and one storage cluster (issue 15): two sluice proxies, then a
 * sluice proxy and Debian's Swift proxy (swift-proxy-server, run on the sluice cluster's
 * swift.conf and rings by swift_proxy_in_dir.py). A TempAuth token issued by one is honoured by
 * the other, and an account ACL changed through one takes effect on the other at the next
 * request: the change clears `account/<a>` in memcached, where the other proxy looks first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProxyConfig } from '../../src/proxy/config';
import { startProxyServer, type RunningProxy } from '../../src/proxy/server';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { freePort, haveMemcached, memcachedSkipReason, startMemcached, type Memcached } from '../helpers/memcached';
import { call } from '../proxy/helpers';
import { proxyConf } from '../helpers/proxy-conf';

const PY = '/usr/bin/python3';
const SWIFT_PROXY = '/usr/bin/swift-proxy-server';
const haveSwiftProxy = existsSync(PY) && existsSync(SWIFT_PROXY);
if (!haveSwiftProxy && process.env.CI) throw new Error(`${SWIFT_PROXY} is required in CI (apt-get install swift-proxy)`);

const PIPELINE = ['catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', 'cache', 'listing_formats', 'tempauth', 'proxy-logging'];

/** The same pipeline, memcached and users for the sluice proxies and Swift's. */
const conf = (memcache: string, defaults?: string) =>
  proxyConf({
    pipeline: PIPELINE,
    defaults,
    sections: { cache: `memcache_servers = ${memcache}`, tempauth: 'user_test_tester = testing .admin\nuser_test_tester3 = testing3' },
  });

const swiftDefaults = (port: number, swiftDir: string) =>
  `bind_ip = 127.0.0.1\nbind_port = ${port}\nworkers = 0\nuser = ${userInfo().username}\nswift_dir = ${swiftDir}\nlog_name = swift-proxy`;

interface Proxy {
  name: string;
  url: string;
}

async function login(p: Proxy, user: string, key: string): Promise<string> {
  const r = await call(p.url, 'GET', '/auth/v1.0', { 'x-auth-user': user, 'x-auth-key': key });
  expect(r.status, `${p.name} login ${user}: ${r.text}`).toBe(200);
  return r.headers['x-auth-token'] as string;
}

/** tester3 (no rights of its own on AUTH_test) lists the account. */
const listAsGrantee = (p: Proxy, token: string) => call(p.url, 'GET', '/v1/AUTH_test', { 'x-auth-token': token }).then((r) => r.status);

const setAcl = async (p: Proxy, adminToken: string, acl: string) => {
  const r = await call(p.url, 'POST', '/v1/AUTH_test', { 'x-auth-token': adminToken, 'x-account-access-control': acl });
  expect(r.status, `${p.name} ACL POST: ${r.text}`).toBe(204);
};

/** Tokens and ACL changes cross from `a` to `b` and back. */
function crossProxyChecks(pair: () => [Proxy, Proxy]) {
  it('a token issued by either proxy is honoured by the other', async () => {
    const [a, b] = pair();
    const fromA = await login(a, 'test:tester', 'testing');
    // A container, so the account exists and its listing (what the grantee reads below) is not empty.
    expect([201, 202]).toContain((await call(a.url, 'PUT', '/v1/AUTH_test/shared', { 'x-auth-token': fromA })).status);
    const fromB = await login(b, 'test:tester', 'testing');
    // The second login reuses the first's token, found in memcached (Swift's tempauth does so).
    expect(fromB).toBe(fromA);
    const fresh = await login(a, 'test:tester3', 'testing3');
    expect((await call(b.url, 'HEAD', '/v1/AUTH_test', { 'x-auth-token': fromA })).status).toBe(204);
    expect((await call(a.url, 'HEAD', '/v1/AUTH_test', { 'x-auth-token': fromB })).status).toBe(204);
    // A token neither issued is refused by both.
    for (const p of [a, b]) expect((await call(p.url, 'HEAD', '/v1/AUTH_test', { 'x-auth-token': `${fresh}x` })).status).toBe(401);
  });

  it('an account ACL granted or revoked through one proxy takes effect on the other at the next request', async () => {
    const [a, b] = pair();
    const admin = await login(a, 'test:tester', 'testing');
    const grantee = await login(b, 'test:tester3', 'testing3');
    await setAcl(a, admin, '{}');
    expect(await listAsGrantee(b, grantee)).toBe(403);
    await setAcl(a, admin, '{"read-only":["test:tester3"]}');
    // B cached the ACL-less account info a moment ago: the grant cleared it.
    expect(await listAsGrantee(b, grantee)).toBe(200);
    expect(await listAsGrantee(b, grantee)).toBe(200);
    await setAcl(a, admin, '{}');
    expect(await listAsGrantee(b, grantee)).toBe(403);
    // And the other way round.
    await setAcl(b, admin, '{"read-only":["test:tester3"]}');
    expect(await listAsGrantee(a, grantee)).toBe(200);
    await setAcl(b, admin, '{}');
    expect(await listAsGrantee(a, grantee)).toBe(403);
  });
}

describe.skipIf(!haveMemcached)('proxies sharing memcached', () => {
  let mc: Memcached;
  let cluster: TestCluster;
  let second: RunningProxy;
  const quiet = pino({ level: 'silent' });

  beforeAll(async () => {
    mc = await startMemcached();
    cluster = await startCluster({ proxyConfig: conf(mc.server), logger: quiet, accessLogger: quiet });
    second = await startProxyServer({ config: parseProxyConfig(conf(mc.server)), swiftDir: cluster.swiftDir, host: '127.0.0.1', port: 0, logger: quiet, accessLogger: quiet });
  }, 60_000);
  afterAll(async () => {
    await second?.close();
    await cluster?.stop();
    await mc?.stop();
  });

  describe('two sluice proxies', () => {
    crossProxyChecks(() => [
      { name: 'sluice A', url: cluster.proxy.url },
      { name: 'sluice B', url: second.url },
    ]);
  });

  describe.skipIf(!haveSwiftProxy)("a sluice proxy and Swift's proxy", () => {
    let swift: ChildProcess | undefined;
    let swiftUrl = '';
    let work = '';
    let swiftLog = '';

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'sluice-swift-proxy-'));
      const port = await freePort();
      const confPath = join(work, 'proxy-server.conf');
      writeFileSync(confPath, conf(mc.server, swiftDefaults(port, cluster.swiftDir)));
      swift = spawn(PY, [join(import.meta.dirname, 'swift_proxy_in_dir.py'), cluster.swiftDir, confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
      swift.stdout!.on('data', (d: Buffer) => (swiftLog += d.toString()));
      swift.stderr!.on('data', (d: Buffer) => (swiftLog += d.toString()));
      swiftUrl = `http://127.0.0.1:${port}`;
      const until = Date.now() + 45_000;
      for (;;) {
        const up = await call(swiftUrl, 'GET', '/healthcheck').then((r) => r.status === 200, () => false);
        if (up) break;
        if (swift.exitCode !== null || Date.now() > until) throw new Error(`swift-proxy-server did not start: ${swiftLog}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }, 60_000);
    afterAll(async () => {
      if (swift && swift.exitCode === null) {
        const exited = new Promise((r) => swift!.once('exit', r));
        swift.kill('SIGTERM');
        await exited;
      }
      if (work) rmSync(work, { recursive: true, force: true });
    });

    describe('sluice first', () => {
      crossProxyChecks(() => [
        { name: 'sluice', url: cluster.proxy.url },
        { name: 'swift', url: swiftUrl },
      ]);
    });
    describe('Swift first', () => {
      crossProxyChecks(() => [
        { name: 'swift', url: swiftUrl },
        { name: 'sluice', url: cluster.proxy.url },
      ]);
    });
  });
  describe.skipIf(haveSwiftProxy)("a sluice proxy and Swift's proxy", () => {
    it.skip(`needs Debian's swift-proxy (${SWIFT_PROXY} missing)`, () => {});
  });
});

describe.skipIf(haveMemcached)('proxies sharing memcached', () => {
  it.skip(`needs memcached ${memcachedSkipReason}`, () => {});
});
