/**
 * container_quotas and account_quotas through a whole cluster with TempAuth, in Swift's pipeline
 * position (after auth and copy): quota validation and removal, Swift's 413 for uploads (and
 * copies) over a quota, the authorizer's denial before the 413, and reseller-only account quotas.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { DEV_PROXY_CONF } from '../../src/cluster/dev-cluster';
import { Session } from '../conformance/replayer';
import { call, uniq, type Resp } from '../proxy/helpers';


const PIPELINE = 'catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempauth copy container-quotas account-quotas versioned_writes symlink proxy-logging proxy-server';
// DEV_PROXY_CONF has [filter:container-quotas] and [filter:account-quotas] already (a second
// copy of a section is an error, as in Python's configparser).
const CONF = DEV_PROXY_CONF.replace(/^pipeline = .*$/m, `pipeline = ${PIPELINE}`);

const TOO_LARGE = 'Upload exceeds quota.';

let cl: TestCluster;
let tester: string;
let tester3: string;
let tester2: string;
let admin: string;

beforeAll(async () => {
  cl = await startCluster({ proxyConfig: CONF });
  const session = new Session(cl.url);
  tester = (await session.login('test:tester')).token;
  tester3 = (await session.login('test:tester3')).token;
  tester2 = (await session.login('test2:tester2')).token;
  admin = (await session.login('admin:admin')).token;
  for (const acct of ['AUTH_test', 'AUTH_test2']) expect((await call(cl.url, 'POST', `/v1/${acct}`, { 'X-Auth-Token': admin })).status).toBe(204);
}, 60_000);

afterAll(async () => {
  await cl?.stop();
});

function req(method: string, path: string, token: string | undefined, headers: Record<string, string> = {}, body?: string | Readable): Promise<Resp> {
  const h: Record<string, string> = { ...headers };
  if (token) h['X-Auth-Token'] = token;
  if ((method === 'PUT' || method === 'POST') && body === undefined && h['Content-Length'] === undefined && h['Transfer-Encoding'] === undefined) h['Content-Length'] = '0';
  return call(cl.url, method, path, h, { body });
}

async function container(headers: Record<string, string> = {}): Promise<string> {
  const c = uniq('quota');
  expect((await req('PUT', `/v1/AUTH_test/${c}`, tester, headers)).status).toBe(201);
  return c;
}

/** A HEAD of the container: the proxy caches its fresh object count and bytes (set_info_cache). */
async function refresh(c: string): Promise<Resp> {
  const r = await req('HEAD', `/v1/AUTH_test/${c}`, tester);
  expect(r.status).toBe(204);
  return r;
}

function expectTooLarge(r: Resp): void {
  expect(r.status).toBe(413);
  expect(r.text).toBe(TOO_LARGE);
  expect(r.headers['content-type']).toBe('text/html; charset=UTF-8');
}

describe('/info', () => {
  it('registers container_quotas and account_quotas as Swift does', async () => {
    const r = await call(cl.url, 'GET', '/info');
    expect(r.status).toBe(200);
    const info = JSON.parse(r.text) as Record<string, unknown>;
    expect(info.container_quotas).toEqual({});
    expect(info.account_quotas).toEqual({});
  });
});

describe('container quotas: validation', () => {
  it('refuses non-integer quotas on container PUT and POST with Swift bodies', async () => {
    const c = uniq('quota');
    let r = await req('PUT', `/v1/AUTH_test/${c}`, tester, { 'X-Container-Meta-Quota-Bytes': 'abc' });
    expect(r.status).toBe(400);
    expect(r.text).toBe('Invalid bytes quota.');
    expect((await req('HEAD', `/v1/AUTH_test/${c}`, tester)).status).toBe(404);
    r = await req('PUT', `/v1/AUTH_test/${c}`, tester, { 'X-Container-Meta-Quota-Count': '1.5' });
    expect(r.status).toBe(400);
    expect(r.text).toBe('Invalid count quota.');

    const c2 = await container();
    for (const [name, value, body] of [
      ['X-Container-Meta-Quota-Bytes', '-1', 'Invalid bytes quota.'],
      ['X-Container-Meta-Quota-Bytes', '10 KB', 'Invalid bytes quota.'],
      ['X-Container-Meta-Quota-Count', '1e3', 'Invalid count quota.'],
    ] as const) {
      r = await req('POST', `/v1/AUTH_test/${c2}`, tester, { [name]: value });
      expect(r.status).toBe(400);
      expect(r.text).toBe(body);
    }
    // The bytes quota is checked first.
    r = await req('POST', `/v1/AUTH_test/${c2}`, tester, { 'X-Container-Meta-Quota-Bytes': 'x', 'X-Container-Meta-Quota-Count': 'y' });
    expect(r.text).toBe('Invalid bytes quota.');
    const h = await refresh(c2);
    expect(h.headers['x-container-meta-quota-bytes']).toBeUndefined();
    expect(h.headers['x-container-meta-quota-count']).toBeUndefined();
  });

  it('stores valid quotas and removes them with an empty value or X-Remove', async () => {
    const c = await container({ 'X-Container-Meta-Quota-Bytes': '100', 'X-Container-Meta-Quota-Count': '5' });
    let h = await refresh(c);
    expect(h.headers['x-container-meta-quota-bytes']).toBe('100');
    expect(h.headers['x-container-meta-quota-count']).toBe('5');
    expect((await req('POST', `/v1/AUTH_test/${c}`, tester, { 'X-Container-Meta-Quota-Bytes': '' })).status).toBe(204);
    expect((await req('POST', `/v1/AUTH_test/${c}`, tester, { 'X-Remove-Container-Meta-Quota-Count': 'x' })).status).toBe(204);
    h = await refresh(c);
    expect(h.headers['x-container-meta-quota-bytes']).toBeUndefined();
    expect(h.headers['x-container-meta-quota-count']).toBeUndefined();
  });

  it('does not look at quota headers on object requests', async () => {
    const c = await container();
    const r = await req('PUT', `/v1/AUTH_test/${c}/o`, tester, { 'X-Container-Meta-Quota-Bytes': 'abc' }, 'x');
    expect(r.status).toBe(201);
  });
});

describe('container quotas: enforcement', () => {
  it('answers 413 for an object PUT over the bytes quota and stores nothing', async () => {
    const c = await container({ 'X-Container-Meta-Quota-Bytes': '10' });
    expectTooLarge(await req('PUT', `/v1/AUTH_test/${c}/big`, tester, {}, '01234567890'));
    expect((await req('HEAD', `/v1/AUTH_test/${c}/big`, tester)).status).toBe(404);
    expect((await req('PUT', `/v1/AUTH_test/${c}/fits`, tester, {}, '0123456789')).status).toBe(201);
    const h = await refresh(c);
    expect(h.headers['x-container-bytes-used']).toBe('10');
    expectTooLarge(await req('PUT', `/v1/AUTH_test/${c}/one`, tester, {}, 'x'));
    // A zero-byte object still fits; POST and DELETE are never limited.
    expect((await req('PUT', `/v1/AUTH_test/${c}/empty`, tester, {}, '')).status).toBe(201);
    expect((await req('POST', `/v1/AUTH_test/${c}/fits`, tester, { 'X-Object-Meta-A': 'b' })).status).toBe(202);
    // Raising the quota (a container POST clears the cached info) lets the upload through.
    expect((await req('POST', `/v1/AUTH_test/${c}`, tester, { 'X-Container-Meta-Quota-Bytes': '11' })).status).toBe(204);
    expect((await req('PUT', `/v1/AUTH_test/${c}/one`, tester, {}, 'x')).status).toBe(201);
    expect((await req('DELETE', `/v1/AUTH_test/${c}/one`, tester)).status).toBe(204);
  });

  it('answers 413 for an object PUT over the count quota, until the quota is removed', async () => {
    const c = await container({ 'X-Container-Meta-Quota-Count': '1' });
    expect((await req('PUT', `/v1/AUTH_test/${c}/a`, tester, {}, 'a')).status).toBe(201);
    await refresh(c);
    expectTooLarge(await req('PUT', `/v1/AUTH_test/${c}/b`, tester, {}, 'b'));
    // Overwriting counts as a new object too (Swift compares count + 1).
    expectTooLarge(await req('PUT', `/v1/AUTH_test/${c}/a`, tester, {}, 'a2'));
    expect((await req('POST', `/v1/AUTH_test/${c}`, tester, { 'X-Remove-Container-Meta-Quota-Count': 'x' })).status).toBe(204);
    expect((await req('PUT', `/v1/AUTH_test/${c}/b`, tester, {}, 'b')).status).toBe(201);
  });

  it('counts a chunked upload as 0 bytes, as Swift does, and refuses it once the container is full', async () => {
    const c = await container({ 'X-Container-Meta-Quota-Bytes': '5' });
    const chunked = () => Readable.from([Buffer.from('0123456789')]);
    expect((await req('PUT', `/v1/AUTH_test/${c}/c1`, tester, { 'Transfer-Encoding': 'chunked' }, chunked())).status).toBe(201);
    await refresh(c);
    expectTooLarge(await req('PUT', `/v1/AUTH_test/${c}/c2`, tester, { 'Transfer-Encoding': 'chunked' }, chunked()));
  });

  it('gives a caller who may not write there the authorizer denial, not the 413', async () => {
    const c = await container({ 'X-Container-Meta-Quota-Count': '0' });
    // tester3 is no admin and has no ACL: 403; anonymous: 401.
    let r = await req('PUT', `/v1/AUTH_test/${c}/o`, tester3, {}, 'x');
    expect(r.status).toBe(403);
    r = await req('PUT', `/v1/AUTH_test/${c}/o`, undefined, {}, 'x');
    expect(r.status).toBe(401);
    // With the write ACL, tester3 sees the quota.
    expect((await req('POST', `/v1/AUTH_test/${c}`, tester, { 'X-Container-Write': 'test:tester3' })).status).toBe(204);
    expectTooLarge(await req('PUT', `/v1/AUTH_test/${c}/o`, tester3, {}, 'x'));
  });

  it('passes requests for missing containers on to the proxy (404)', async () => {
    const r = await req('PUT', `/v1/AUTH_test/${uniq('nope')}/o`, tester, {}, 'x');
    expect(r.status).toBe(404);
  });

  it('refuses COPY and PUT with X-Copy-From into a full container with 413', async () => {
    const src = await container();
    expect((await req('PUT', `/v1/AUTH_test/${src}/s`, tester, {}, 'source-data')).status).toBe(201);
    const dst = await container({ 'X-Container-Meta-Quota-Bytes': '5' });
    expectTooLarge(await req('COPY', `/v1/AUTH_test/${src}/s`, tester, { Destination: `${dst}/d1` }));
    expectTooLarge(await req('PUT', `/v1/AUTH_test/${dst}/d2`, tester, { 'X-Copy-From': `${src}/s` }));
    expect((await req('HEAD', `/v1/AUTH_test/${dst}/d1`, tester)).status).toBe(404);
    expect((await req('HEAD', `/v1/AUTH_test/${dst}/d2`, tester)).status).toBe(404);
    // The copy's size is the source's: it fits once the quota allows it.
    expect((await req('POST', `/v1/AUTH_test/${dst}`, tester, { 'X-Container-Meta-Quota-Bytes': '11' })).status).toBe(204);
    const r = await req('COPY', `/v1/AUTH_test/${src}/s`, tester, { Destination: `${dst}/d1` });
    expect(r.status).toBe(201);
    expect((await req('GET', `/v1/AUTH_test/${dst}/d1`, tester)).text).toBe('source-data');
    // A copy counts as one more object for the count quota.
    const dst2 = await container({ 'X-Container-Meta-Quota-Count': '0' });
    expectTooLarge(await req('COPY', `/v1/AUTH_test/${src}/s`, tester, { Destination: `${dst2}/d` }));
  });
});

/** Polls the account (each HEAD refreshes the proxy's cached info) until the updaters caught up. */
async function accountBytes(account: string, token: string, want: string): Promise<void> {
  let got: string | undefined;
  for (let i = 0; i < 200; i++) {
    const r = await req('HEAD', `/v1/${account}`, token);
    got = r.headers['x-account-bytes-used'] as string | undefined;
    if (got === want) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(got).toBe(want);
}

describe('account quotas', () => {
  it('lets only a reseller admin set or remove the quota', async () => {
    // tester is the account's admin, yet no reseller: 403 for setting, clearing or removing.
    const attempts: Record<string, string>[] = [{ 'X-Account-Meta-Quota-Bytes': '100' }, { 'X-Account-Meta-Quota-Bytes': '' }, { 'X-Remove-Account-Meta-Quota-Bytes': 'x' }, { 'X-Remove-Account-Meta-Quota-Bytes': '' }];
    for (const h of attempts) {
      const r = await req('POST', '/v1/AUTH_test', tester, h);
      expect(r.status).toBe(403);
      expect(r.text).toContain('Forbidden');
    }
    // Other account metadata is still the owner's to set.
    expect((await req('POST', '/v1/AUTH_test', tester, { 'X-Account-Meta-Other': 'v' })).status).toBe(204);
    // The header means nothing on container and object requests.
    const c = await container();
    expect((await req('POST', `/v1/AUTH_test/${c}`, tester, { 'X-Account-Meta-Quota-Bytes': '1' })).status).toBe(204);
    expect((await req('PUT', `/v1/AUTH_test/${c}/o`, tester, { 'X-Remove-Account-Meta-Quota-Bytes': 'x' }, 'o')).status).toBe(201);

    let r = await req('POST', '/v1/AUTH_test', admin, { 'X-Account-Meta-Quota-Bytes': 'abc' });
    expect(r.status).toBe(400);
    expect(r.text).toContain('Bad Request');
    expect((await req('POST', '/v1/AUTH_test', admin, { 'X-Account-Meta-Quota-Bytes': '123456' })).status).toBe(204);
    r = await req('HEAD', '/v1/AUTH_test', tester);
    expect(r.headers['x-account-meta-quota-bytes']).toBe('123456');
    // With X-Remove the middleware does not validate a value given alongside (as Swift; the
    // proxy then stores that value, which enforcement ignores as it is no integer).
    expect((await req('POST', '/v1/AUTH_test', admin, { 'X-Remove-Account-Meta-Quota-Bytes': 'x', 'X-Account-Meta-Quota-Bytes': 'abc' })).status).toBe(204);
    expect((await req('PUT', `/v1/AUTH_test/${c}/o2`, tester, {}, 'o2')).status).toBe(201);
    expect((await req('POST', '/v1/AUTH_test', admin, { 'X-Remove-Account-Meta-Quota-Bytes': 'x' })).status).toBe(204);
    r = await req('HEAD', '/v1/AUTH_test', tester);
    expect(r.headers['x-account-meta-quota-bytes']).toBeUndefined();
  });

  it('refuses uploads over the account quota with 413, after authorization', async () => {
    const acct = '/v1/AUTH_test2';
    const c = uniq('aq');
    expect((await req('PUT', `${acct}/${c}`, tester2)).status).toBe(201);
    expect((await req('POST', acct, admin, { 'X-Account-Meta-Quota-Bytes': '10' })).status).toBe(204);
    expectTooLarge(await req('PUT', `${acct}/${c}/big`, tester2, {}, '01234567890'));
    expect((await req('HEAD', `${acct}/${c}/big`, tester2)).status).toBe(404);
    expect((await req('PUT', `${acct}/${c}/six`, tester2, {}, '012345')).status).toBe(201);
    // Account bytes come from the container updaters, a little later.
    await accountBytes('AUTH_test2', tester2, '6');
    expectTooLarge(await req('PUT', `${acct}/${c}/five`, tester2, {}, '01234'));
    // Callers who may not write there get the authorizer's answer, not the quota's.
    expect((await req('PUT', `${acct}/${c}/five`, tester, {}, '01234')).status).toBe(403);
    expect((await req('PUT', `${acct}/${c}/five`, undefined, {}, '01234')).status).toBe(401);
    // What fits still goes in; POST and DELETE are never limited; a reseller is not limited.
    expect((await req('PUT', `${acct}/${c}/four`, tester2, {}, '0123')).status).toBe(201);
    expect((await req('POST', `${acct}/${c}/six`, tester2, { 'X-Object-Meta-A': 'b' })).status).toBe(202);
    expect((await req('PUT', `${acct}/${c}/reseller`, admin, {}, '0123456789ab')).status).toBe(201);
    expect((await req('DELETE', `${acct}/${c}/reseller`, tester2)).status).toBe(204);
    // A copy into the full account is refused too.
    expectTooLarge(await req('COPY', `${acct}/${c}/six`, tester2, { Destination: `${c}/copy` }));
    // Removing the quota lifts the limit (the account POST clears the cached info).
    expect((await req('POST', acct, admin, { 'X-Remove-Account-Meta-Quota-Bytes': 'x' })).status).toBe(204);
    expect((await req('PUT', `${acct}/${c}/big`, tester2, {}, '01234567890')).status).toBe(201);
  });
});
