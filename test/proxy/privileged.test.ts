/**
 * Privileged ("swift owner") headers, the account ACL view, and delayed denial.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../../src/testing/index';
import { call, cluster, direct, directTs, leakedHeaders, OWNER, uniq } from './helpers';

let cl: TestCluster;
let url: string;

beforeAll(async () => {
  cl = await cluster();
  url = cl.url;
});
afterAll(async () => {
  await cl?.stop();
});

const CONTAINER_PRIV = {
  'X-Container-Read': 'alice',
  'X-Container-Write': 'bob',
  'X-Container-Sync-Key': 'sync-secret',
  'X-Container-Sync-To': 'http://127.0.0.1/v1/AUTH_x/c',
  'X-Container-Meta-Temp-URL-Key': 'tk1',
  'X-Container-Meta-Temp-URL-Key-2': 'tk2',
};
const PRIV_NAMES = Object.keys(CONTAINER_PRIV).map((k) => k.toLowerCase());

async function storedContainer(a: string, c: string): Promise<Record<string, string | string[] | undefined>> {
  const all = await direct(cl.proxy.state.rings.container, 'HEAD', [a, c]);
  for (const r of all) expect(r.status).toBe(204);
  // Every replica agrees.
  for (const r of all.slice(1)) for (const h of PRIV_NAMES) expect(r.headers[h]).toBe(all[0]!.headers[h]);
  return all[0]!.headers;
}

describe('container privileged headers', () => {
  it('an owner sets and sees them', async () => {
    const a = uniq('AUTH_p');
    expect((await call(url, 'PUT', `/v1/${a}/c`, { ...OWNER, ...CONTAINER_PRIV })).status).toBe(201);
    const stored = await storedContainer(a, 'c');
    for (const [k, v] of Object.entries(CONTAINER_PRIV)) expect(stored[k.toLowerCase()], k).toBe(v);
    for (const method of ['HEAD', 'GET']) {
      const r = await call(url, method, `/v1/${a}/c`, OWNER);
      for (const [k, v] of Object.entries(CONTAINER_PRIV)) expect(r.headers[k.toLowerCase()], `${method} ${k}`).toBe(v);
      expect(leakedHeaders(r)).toEqual([]);
    }
  });

  it('a non-owner never sees them', async () => {
    const a = uniq('AUTH_p');
    expect((await call(url, 'PUT', `/v1/${a}/c`, { ...OWNER, ...CONTAINER_PRIV, 'X-Container-Meta-Plain': 'yes' })).status).toBe(201);
    for (const method of ['HEAD', 'GET']) {
      const r = await call(url, method, `/v1/${a}/c`);
      expect(r.status).toBeLessThan(300);
      expect(r.headers['x-container-meta-plain']).toBe('yes');
      for (const h of PRIV_NAMES) expect(r.headers[h], `${method} ${h}`).toBeUndefined();
    }
  });

  it("drops a non-owner's privileged headers on PUT and POST, silently", async () => {
    const a = uniq('AUTH_p');
    const put = await call(url, 'PUT', `/v1/${a}/c`, { ...CONTAINER_PRIV, 'X-Container-Meta-Plain': 'yes' });
    expect(put.status).toBe(201);
    let stored = await storedContainer(a, 'c');
    for (const h of PRIV_NAMES) expect(stored[h], h).toBeUndefined();
    expect(stored['x-container-meta-plain']).toBe('yes');
    const post = await call(url, 'POST', `/v1/${a}/c`, { ...CONTAINER_PRIV, 'X-Container-Meta-Plain': 'no' });
    expect(post.status).toBe(204);
    stored = await storedContainer(a, 'c');
    for (const h of PRIV_NAMES) expect(stored[h], h).toBeUndefined();
    expect(stored['x-container-meta-plain']).toBe('no');
  });

  it("drops a non-owner's X-Remove-* forms too (sluice differs from Swift here)", async () => {
    const a = uniq('AUTH_p');
    expect((await call(url, 'PUT', `/v1/${a}/c`, { ...OWNER, ...CONTAINER_PRIV })).status).toBe(201);
    const removes = {
      'X-Remove-Container-Read': 'x',
      'X-Remove-Container-Write': 'x',
      'X-Remove-Container-Sync-Key': 'x',
      'X-Remove-Container-Sync-To': 'x',
      'X-Remove-Container-Meta-Temp-URL-Key': 'x',
      'X-Remove-Container-Meta-Temp-URL-Key-2': 'x',
    };
    expect((await call(url, 'POST', `/v1/${a}/c`, removes)).status).toBe(204);
    expect((await call(url, 'PUT', `/v1/${a}/c`, removes)).status).toBe(202);
    let stored = await storedContainer(a, 'c');
    for (const [k, v] of Object.entries(CONTAINER_PRIV)) expect(stored[k.toLowerCase()], k).toBe(v);
    // An owner may remove them.
    expect((await call(url, 'POST', `/v1/${a}/c`, { ...OWNER, ...removes })).status).toBe(204);
    stored = await storedContainer(a, 'c');
    for (const h of PRIV_NAMES) expect(stored[h], h).toBeUndefined();
  });
});

describe('account privileged headers', () => {
  it('hides temp-url keys from non-owners', async () => {
    const a = uniq('AUTH_p');
    const keys = { 'X-Account-Meta-Temp-URL-Key': 'k1', 'X-Account-Meta-Temp-URL-Key-2': 'k2', 'X-Account-Meta-Plain': 'p' };
    expect((await call(url, 'POST', `/v1/${a}`, { ...OWNER, ...keys })).status).toBe(204);
    for (const method of ['HEAD', 'GET']) {
      const owner = await call(url, method, `/v1/${a}`, OWNER);
      expect(owner.headers['x-account-meta-temp-url-key']).toBe('k1');
      expect(owner.headers['x-account-meta-temp-url-key-2']).toBe('k2');
      const other = await call(url, method, `/v1/${a}`);
      expect(other.headers['x-account-meta-temp-url-key']).toBeUndefined();
      expect(other.headers['x-account-meta-temp-url-key-2']).toBeUndefined();
      expect(other.headers['x-account-meta-plain']).toBe('p');
    }
  });

  async function setAclSysmeta(a: string, value: string): Promise<void> {
    for (const r of await direct(cl.proxy.state.rings.account, 'POST', [a], { 'x-timestamp': directTs(), 'x-account-sysmeta-core-access-control': value })) {
      expect(r.status).toBe(204);
    }
  }

  it('shows the ACL to owners only, in canonical form', async () => {
    const a = uniq('AUTH_p');
    expect((await call(url, 'PUT', `/v1/${a}`)).status).toBe(201);
    await setAclSysmeta(a, '{ "read-only" : ["bob"], "admin": ["carol", "dave"] }');
    for (const method of ['HEAD', 'GET']) {
      const owner = await call(url, method, `/v1/${a}`, OWNER);
      expect(owner.headers['x-account-access-control']).toBe('{"admin":["carol","dave"],"read-only":["bob"]}');
      expect(leakedHeaders(owner)).toEqual([]);
      const other = await call(url, method, `/v1/${a}`);
      expect(other.headers['x-account-access-control']).toBeUndefined();
      expect(leakedHeaders(other)).toEqual([]);
    }
  });

  it('omits the ACL header for {} and for invalid data', async () => {
    for (const value of ['{}', 'not json', '[1,2]']) {
      const a = uniq('AUTH_p');
      expect((await call(url, 'PUT', `/v1/${a}`)).status).toBe(201);
      await setAclSysmeta(a, value);
      const owner = await call(url, 'HEAD', `/v1/${a}`, OWNER);
      expect(owner.status).toBe(204);
      expect(owner.headers['x-account-access-control'], value).toBeUndefined();
      expect(leakedHeaders(owner)).toEqual([]);
    }
  });

  it('without an ACL-aware auth layer, a client X-Account-Access-Control is not stored', async () => {
    const a = uniq('AUTH_p');
    expect((await call(url, 'POST', `/v1/${a}`, { ...OWNER, 'X-Account-Access-Control': '{"admin":["eve"]}' })).status).toBe(204);
    for (const r of await direct(cl.proxy.state.rings.account, 'HEAD', [a])) {
      expect(r.headers['x-account-sysmeta-core-access-control']).toBeUndefined();
      expect(r.headers['x-account-access-control']).toBeUndefined();
    }
  });
});

describe('delayed denial', () => {
  const DENY = { 'X-Test-Deny': 'yes' };

  it('lets a container read ACL grant container and object reads, never writes', async () => {
    const a = uniq('AUTH_d');
    expect((await call(url, 'PUT', `/v1/${a}/open`, { ...OWNER, 'X-Container-Read': 'letmein', 'X-Container-Write': 'letmein' })).status).toBe(201);
    expect((await call(url, 'PUT', `/v1/${a}/closed`)).status).toBe(201);
    expect((await call(url, 'PUT', `/v1/${a}/open/o`, { 'content-length': '2' }, { body: 'hi' })).status).toBe(201);
    expect((await call(url, 'PUT', `/v1/${a}/closed/o`, { 'content-length': '2' }, { body: 'hi' })).status).toBe(201);

    expect((await call(url, 'GET', `/v1/${a}/open`, DENY)).status).toBe(200);
    expect((await call(url, 'HEAD', `/v1/${a}/open`, DENY)).status).toBe(204);
    expect((await call(url, 'GET', `/v1/${a}/open/o`, DENY)).text).toBe('hi');
    expect((await call(url, 'PUT', `/v1/${a}/open/o2`, { ...DENY, 'content-length': '1' }, { body: 'x' })).status).toBe(201);
    expect((await call(url, 'DELETE', `/v1/${a}/open/o2`, DENY)).status).toBe(204);
    // Container writes and account requests are never delayed.
    expect((await call(url, 'POST', `/v1/${a}/open`, DENY)).status).toBe(403);
    expect((await call(url, 'PUT', `/v1/${a}/open`, DENY)).status).toBe(403);
    expect((await call(url, 'DELETE', `/v1/${a}/open`, DENY)).status).toBe(403);
    expect((await call(url, 'GET', `/v1/${a}`, DENY)).status).toBe(403);
    // OPTIONS is not delayed either (the base handler has no delay_denial).
    expect((await call(url, 'OPTIONS', `/v1/${a}/open/o`, DENY)).status).toBe(403);
    expect((await call(url, 'OPTIONS', `/v1/${a}/open`, DENY)).status).toBe(403);

    for (const [method, path] of [
      ['GET', `/v1/${a}/closed`],
      ['HEAD', `/v1/${a}/closed`],
      ['GET', `/v1/${a}/closed/o`],
      ['HEAD', `/v1/${a}/closed/o`],
      ['POST', `/v1/${a}/closed/o`],
      ['DELETE', `/v1/${a}/closed/o`],
      ['GET', `/v1/${a}/missing`],
      ['GET', `/v1/${a}/missing/o`],
      ['GET', `/v1/${uniq('AUTH_none')}/c`],
    ]) {
      expect((await call(url, method!, path!, DENY)).status, `${method} ${path}`).toBe(403);
    }
    expect((await call(url, 'PUT', `/v1/${a}/closed/o`, { ...DENY, 'content-length': '1' }, { body: 'x' })).status).toBe(403);
    expect((await call(url, 'GET', `/v1/${a}/closed/o`)).text).toBe('hi');
  });
});

describe('CORS preflight', () => {
  it('answers OPTIONS by the container allowed origins', async () => {
    const a = uniq('AUTH_cors');
    expect((await call(url, 'PUT', `/v1/${a}/c`, { 'X-Container-Meta-Access-Control-Allow-Origin': 'http://good.example', 'X-Container-Meta-Access-Control-Max-Age': '60' })).status).toBe(201);
    const ok = await call(url, 'OPTIONS', `/v1/${a}/c/o`, { origin: 'http://good.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-foo' });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('http://good.example');
    expect(ok.headers['access-control-max-age']).toBe('60');
    expect(ok.headers['access-control-allow-headers']).toBe('x-foo');
    expect(ok.headers.vary).toBe('Origin, Access-Control-Request-Headers');
    const bad = await call(url, 'OPTIONS', `/v1/${a}/c/o`, { origin: 'http://evil.example', 'access-control-request-method': 'PUT' });
    expect(bad.status).toBe(401);
    const badMethod = await call(url, 'OPTIONS', `/v1/${a}/c`, { origin: 'http://good.example', 'access-control-request-method': 'PATCH' });
    expect(badMethod.status).toBe(401);
  });
});
