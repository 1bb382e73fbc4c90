/**
 * X-If-Delete-At on an object DELETE reaches the object servers, as Swift's proxy passes client
 * headers on (issue 11): not a timestamp → 400 with the object server's body; not the object's
 * X-Delete-At → 412; matching → 204; no object → 404. Nothing is deleted unless it matched.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../../src/testing/index';
import { call, cluster, OWNER, uniq } from './helpers';

let cl: TestCluster;
const c = `/v1/AUTH_test/${uniq('ifdel')}`;
const at = Math.floor(Date.now() / 1000) + 3600;

beforeAll(async () => {
  cl = await cluster({ replicas: 3 });
  expect((await call(cl.url, 'PUT', c, OWNER)).status).toBe(201);
});
afterAll(() => cl?.stop());

it.each([
  ['abc', 400, 'Bad X-If-Delete-At header value'],
  ['', 400, 'Bad X-If-Delete-At header value'],
  [String(at + 1), 412, 'X-If-Delete-At and X-Delete-At do not match'],
])('X-If-Delete-At: %j on an expiring object answers %i and deletes nothing', async (value, status, body) => {
  const o = `${c}/${uniq('o')}`;
  expect((await call(cl.url, 'PUT', o, { ...OWNER, 'X-Delete-At': String(at) }, { body: 'x' })).status).toBe(201);
  const r = await call(cl.url, 'DELETE', o, { ...OWNER, 'X-If-Delete-At': value });
  expect(r.status).toBe(status);
  expect(r.text).toContain(body);
  expect((await call(cl.url, 'GET', o, OWNER)).text).toBe('x');
});

it('deletes when X-If-Delete-At matches, and answers 404 when there is no object', async () => {
  const o = `${c}/${uniq('o')}`;
  expect((await call(cl.url, 'PUT', o, { ...OWNER, 'X-Delete-At': String(at) }, { body: 'x' })).status).toBe(201);
  expect((await call(cl.url, 'DELETE', o, { ...OWNER, 'X-If-Delete-At': String(at) })).status).toBe(204);
  expect((await call(cl.url, 'GET', o, OWNER)).status).toBe(404);
  expect((await call(cl.url, 'DELETE', `${c}/never`, { ...OWNER, 'X-If-Delete-At': String(at) })).status).toBe(404);
});
