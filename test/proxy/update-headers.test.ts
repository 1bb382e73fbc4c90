/**
 * Account and container HEAD/GET answers carry the backend's headers as Swift's update_headers
 * passes them: X-Put-Timestamp stays behind; the autocreated account's fake listing, which the
 * proxy makes itself, has one (Swift's get_response_headers).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../../src/testing/index';
import { call, cluster, OWNER, uniq } from './helpers';

let cl: TestCluster;
const a = uniq('AUTH_uh');
beforeAll(async () => {
  cl = await cluster();
  expect((await call(cl.url, 'PUT', `/v1/${a}/c`, OWNER)).status).toBe(201);
});
afterAll(() => cl?.stop());

it.each(['HEAD', 'GET'])('%s of an account and a container: X-Timestamp, no X-Put-Timestamp', async (method) => {
  for (const path of [`/v1/${a}`, `/v1/${a}/c`]) {
    const r = await call(cl.url, method, path, OWNER);
    expect(r.status, path).toBeLessThan(300);
    expect(r.headers['x-timestamp'], path).toMatch(/^\d{10}\.\d{5}$/);
    expect(r.headers, path).not.toHaveProperty('x-put-timestamp');
  }
});

it('the fake listing of an account that does not exist yet has both', async () => {
  const r = await call(cl.url, 'HEAD', `/v1/${uniq('AUTH_none')}`, OWNER);
  expect(r.headers['x-put-timestamp']).toBe('0000000000.00000');
  expect(r.headers['x-timestamp']).toBe('0000000000.00000');
});
