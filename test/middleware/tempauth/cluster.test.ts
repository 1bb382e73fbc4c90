/**
 * TempAuth in a whole in-process cluster: the /auth endpoint, token handling and robustness.
 * The recorded Swift scenarios run in test/conformance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startCluster, type TestCluster } from '../../../src/testing/index';
import { send, Session } from '../../conformance/replayer';

let cluster: TestCluster;
let session: Session;

beforeAll(async () => {
  cluster = await startCluster();
  session = new Session(cluster.url);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('/auth endpoint', () => {
  it('issues and reuses tokens with the storage URL of the Host', async () => {
    const a = await send(cluster.url, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' });
    expect(a.status).toBe(200);
    expect(a.headers['x-auth-token']).toMatch(/^AUTH_tk[0-9a-f]{32}$/);
    expect(a.headers['x-storage-token']).toBe(a.headers['x-auth-token']);
    expect(a.headers['x-storage-url']).toBe(`${cluster.url}/v1/AUTH_test`);
    expect(Number(a.headers['x-auth-token-expires'])).toBeGreaterThan(86000);
    const b = await send(cluster.url, 'GET', '/auth/v1/test/auth', { 'X-Storage-User': 'tester', 'X-Storage-Pass': 'testing' });
    expect(b.headers['x-auth-token']).toBe(a.headers['x-auth-token']);
  });

  it('failures', async () => {
    const cases: [string, string, Record<string, string>, number, string | undefined][] = [
      ['GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'wrong' }, 401, 'Swift realm="unknown"'],
      ['GET', '/auth/v1.0', { 'X-Auth-User': 'test:nobody', 'X-Auth-Key': 'x' }, 401, 'Swift realm="test"'],
      ['GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester' }, 401, 'Swift realm="test"'],
      ['GET', '/auth/v1.0', {}, 401, 'Swift realm="unknown"'],
      ['GET', '/auth/v1/test2/auth', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' }, 401, 'Swift realm="test2"'],
      ['GET', '/auth/v1/test/token', {}, 400, undefined],
      ['GET', '/auth/v2.0', {}, 400, undefined],
      ['POST', '/auth/v1.0', {}, 405, undefined],
      ['GET', '/auth/', {}, 404, undefined],
    ];
    for (const [m, p, h, status, realm] of cases) {
      const r = await send(cluster.url, m, p, h);
      expect(r.status, `${m} ${p}`).toBe(status);
      expect(r.headers['www-authenticate'], `${m} ${p}`).toBe(realm);
    }
  });

  it('an invalid token with our prefix is 401 before anything else; a foreign one is anonymous', async () => {
    const bad = await send(cluster.url, 'GET', '/v1/AUTH_test/c/o', { 'X-Auth-Token': 'AUTH_tk00000000000000000000000000000000' });
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toBe('Swift realm="AUTH_test"');
    const info = await send(cluster.url, 'GET', '/info', { 'X-Auth-Token': 'AUTH_tkbad' });
    expect(info.status).toBe(401);
    expect(info.headers['www-authenticate']).toBe('Swift realm="unknown"');
    const foreign = await send(cluster.url, 'HEAD', '/v1/AUTH_test', { 'X-Auth-Token': 'OTHER_tk1' });
    expect(foreign.status).toBe(401);
  });
});

describe('robustness', () => {
  it('never answers 5xx for any header value, path or token', async () => {
    const { token } = await session.login('test:tester');
    const byte = fc.integer({ min: 0x20, max: 0xff }).filter((b) => b !== 0x7f).map((b) => String.fromCharCode(b));
    const headerValue = fc.oneof(fc.array(byte, { maxLength: 40 }).map((a) => a.join('')), fc.constantFrom('[', '{"admin":[1]}', '['.repeat(3000), '{"read-only":["é"]}', ''));
    const pathSeg = fc.oneof(fc.constantFrom('AUTH_test', 'SERVICE_test', 'AUTH_', 'auth', 'v1.0', '%FF', '%C3%A9', '.x', 'c', ''), fc.stringMatching(/^[A-Za-z0-9_.%-]{0,8}$/));
    const path = fc.tuple(fc.constantFrom('/v1/', '/auth/', '/auth/v1/', '/v1.0/', '/'), fc.array(pathSeg, { maxLength: 3 })).map(([p, s]) => p + s.join('/'));
    const tokenValue = fc.oneof(fc.constant(token), fc.constant('AUTH_tk00'), fc.constant(''), fc.stringMatching(/^[A-Za-z0-9_]{0,20}$/));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'), path, tokenValue, headerValue, headerValue, async (method, p, tok, acl, other) => {
        const headers: Record<string, string> = { 'X-Account-Access-Control': acl, 'X-Service-Token': tok, 'X-Auth-User': other, 'X-Auth-Key': other, Referer: other };
        if (tok) headers['X-Auth-Token'] = tok;
        // Values are latin-1 characters standing for bytes; send them as such.
        const res = await send(cluster.url, method, p, Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v, 'latin1').toString('utf8')])));
        expect(res.status, `${method} ${p}`).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});

describe('no well-known credentials unless asked for', () => {
  it('a [filter:tempauth] without users or dev_users has no users: admin:admin and test:tester get 401', async () => {
    const { proxyConf } = await import('../../helpers/proxy-conf');
    const bare = await startCluster({ proxyConfig: proxyConf({ pipeline: ['catch_errors', 'gatekeeper', 'cache', 'tempauth'], sections: { tempauth: 'reseller_prefix = AUTH' } }) });
    try {
      for (const [user, key] of [['admin:admin', 'admin'], ['test:tester', 'testing']]) {
        const r = await send(bare.url, 'GET', '/auth/v1.0', { 'X-Auth-User': user!, 'X-Auth-Key': key! });
        expect(r.status, user).toBe(401);
        expect(r.headers['x-auth-token'], user).toBeUndefined();
      }
    } finally {
      await bare.stop();
    }
    // The development configuration asks for them.
    const dev = await send(cluster.url, 'GET', '/auth/v1.0', { 'X-Auth-User': 'admin:admin', 'X-Auth-Key': 'admin' });
    expect(dev.status).toBe(200);
  });
});
