/**
 * Swift's development (SAIO) proxy pipeline, unchanged, starts sluice's proxy: every filter in it
 * is one sluice has (issue 11), and a request goes through all of them.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { proxyConf } from '../helpers/proxy-conf';
import { call } from './helpers';

const SAIO =
  'catch_errors gatekeeper healthcheck proxy-logging cache etag-quoter listing_formats bulk tempurl ratelimit crossdomain container_sync tempauth staticweb copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging';

let cl: TestCluster;
beforeAll(async () => {
  const conf = proxyConf({
    pipeline: SAIO.split(' '),
    // Section names as SAIO's proxy-server.conf has them; eggs by Swift's names.
    sections: { 'etag-quoter': 'use = egg:swift#etag_quoter', tempauth: 'user_test_tester = testing .admin', versioned_writes: 'allow_versioned_writes = true' },
  });
  cl = await startCluster({ proxyConfig: conf });
});
afterAll(() => cl?.stop());

it('starts, and serves a login, a container, an object and /info through every filter', async () => {
  const auth = await call(cl.url, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' });
  expect(auth.status).toBe(200);
  const h = { 'X-Auth-Token': String(auth.headers['x-auth-token']) };
  expect((await call(cl.url, 'PUT', '/v1/AUTH_test/saio', h)).status).toBe(201);
  expect((await call(cl.url, 'PUT', '/v1/AUTH_test/saio/o', h, { body: 'hello' })).status).toBe(201);
  const got = await call(cl.url, 'GET', '/v1/AUTH_test/saio/o', h);
  expect([got.status, got.text]).toEqual([200, 'hello']);
  expect((await call(cl.url, 'GET', '/crossdomain.xml')).status).toBe(200);
  const info = JSON.parse((await call(cl.url, 'GET', '/info')).text) as Record<string, unknown>;
  for (const section of ['slo', 'tempurl', 'bulk_delete', 'container_sync', 'ratelimit', 'staticweb', 'symlink', 'versioned_writes', 'etag_quoter', 'tempauth']) {
    expect(info, section).toHaveProperty(section);
  }
});
