/**
 * cors (actual responses) through a whole cluster: the dev pipeline with `cors` right in front
 * of the proxy application, as Swift's cors_validation decorates the container and object
 * handlers. Preflight OPTIONS is the controllers' and is checked here only as unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { DEV_PROXY_CONF } from '../../src/cluster/dev-cluster';
import { DEFAULT_EXPOSE_HEADERS } from '../../src/middleware/cors';
import { Session } from '../conformance/replayer';
import { call, uniq, type Resp } from '../proxy/helpers';


/** DEV_PROXY_CONF with cors directly before proxy-server and extra [app:proxy-server] options. */
function corsConf(app: Record<string, string> = {}): string {
  const lines = Object.entries(app).map(([k, v]) => `${k} = ${v}`).join('\n');
  return (
    DEV_PROXY_CONF.replace('symlink proxy-logging proxy-server', 'symlink proxy-logging cors proxy-server').replace(
      'allow_account_management = true\n',
      `allow_account_management = true\n${lines}\n`,
    ) + '\n[filter:cors]\nuse = egg:sluice#cors\n'
  );
}

const ORIGIN = 'http://app.example';

function expose(r: Resp): string[] {
  return String(r.headers['access-control-expose-headers'] ?? '').split(', ').filter(Boolean);
}

function noCors(r: Resp): void {
  expect(r.headers['access-control-allow-origin']).toBeUndefined();
  expect(r.headers['access-control-expose-headers']).toBeUndefined();
}

describe('cors in strict mode (default)', () => {
  let cl: TestCluster;
  let tok: string;
  let tok2: string;
  const req = (method: string, path: string, headers: Record<string, string> = {}, body?: string, token = tok) =>
    call(cl.url, method, path, { 'X-Auth-Token': token, ...headers }, body === undefined ? {} : { body });

  /** A container allowing `allow` (space separated) and exposing X-Foo and X-Bar, with one object. */
  async function corsContainer(allow = `http://other.example ${ORIGIN}`): Promise<string> {
    const c = uniq('cors');
    const put = await req('PUT', `/v1/AUTH_test/${c}`, {
      'X-Container-Meta-Access-Control-Allow-Origin': allow,
      'X-Container-Meta-Access-Control-Expose-Headers': 'X-Foo  X-Bar',
    });
    expect(put.status).toBe(201);
    expect((await req('PUT', `/v1/AUTH_test/${c}/o`, { 'X-Object-Meta-Color': 'blue', 'Content-Type': 'text/plain' }, 'hello')).status).toBe(201);
    return c;
  }

  beforeAll(async () => {
    cl = await startCluster({ proxyConfig: corsConf() });
    const session = new Session(cl.url);
    tok = (await session.login('test:tester')).token;
    tok2 = (await session.login('test2:tester2')).token;
    expect((await call(cl.url, 'POST', '/v1/AUTH_test', { 'X-Auth-Token': tok })).status).toBe(204);
  }, 60_000);

  afterAll(async () => {
    await cl?.stop();
  });

  it('adds Allow-Origin, Vary and the exposed headers to object GET and HEAD for an allowed origin', async () => {
    const c = await corsContainer();
    for (const method of ['GET', 'HEAD']) {
      const r = await req(method, `/v1/AUTH_test/${c}/o`, { Origin: ORIGIN });
      expect(r.status).toBe(200);
      expect(r.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(r.headers.vary).toBe('Origin');
      expect(new Set(expose(r))).toEqual(new Set([...DEFAULT_EXPOSE_HEADERS, 'x-object-meta-color', 'x-foo', 'x-bar']));
      expect(r.headers['content-length']).toBe('5');
      if (method === 'GET') expect(r.text).toBe('hello');
    }
  });

  it('decorates container GET/HEAD (exposing container metadata) and object PUT, POST, DELETE and 404s', async () => {
    const c = await corsContainer();
    const head = await req('HEAD', `/v1/AUTH_test/${c}`, { Origin: ORIGIN });
    expect(head.status).toBe(204);
    expect(head.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(expose(head)).toEqual(expect.arrayContaining(['x-container-meta-access-control-allow-origin', 'x-container-meta-access-control-expose-headers', 'x-foo']));
    const list = await req('GET', `/v1/AUTH_test/${c}?format=json`, { Origin: ORIGIN });
    expect(list.status).toBe(200);
    expect(JSON.parse(list.text).map((o: { name: string }) => o.name)).toEqual(['o']);
    expect(list.headers['access-control-allow-origin']).toBe(ORIGIN);

    const put = await req('PUT', `/v1/AUTH_test/${c}/p`, { Origin: ORIGIN }, 'x');
    expect(put.status).toBe(201);
    expect(put.headers['access-control-allow-origin']).toBe(ORIGIN);
    const post = await req('POST', `/v1/AUTH_test/${c}/p`, { Origin: ORIGIN, 'X-Object-Meta-A': 'b' });
    expect(post.status).toBe(202);
    expect(post.headers['access-control-allow-origin']).toBe(ORIGIN);
    const del = await req('DELETE', `/v1/AUTH_test/${c}/p`, { Origin: ORIGIN });
    expect(del.status).toBe(204);
    expect(del.headers['access-control-allow-origin']).toBe(ORIGIN);
    const missing = await req('GET', `/v1/AUTH_test/${c}/p`, { Origin: ORIGIN });
    expect(missing.status).toBe(404);
    expect(missing.headers['access-control-allow-origin']).toBe(ORIGIN);
  });

  it('answers "*" without Vary when the container allows every origin', async () => {
    const c = await corsContainer('*');
    const r = await req('GET', `/v1/AUTH_test/${c}/o`, { Origin: 'http://anyone.example' });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers.vary).toBeUndefined();
  });

  it('adds nothing for an origin the container does not allow, without Origin, or on accounts', async () => {
    const c = await corsContainer();
    const other = await req('GET', `/v1/AUTH_test/${c}/o`, { Origin: 'http://evil.example' });
    expect(other.status).toBe(200);
    expect(other.text).toBe('hello');
    noCors(other);
    noCors(await req('GET', `/v1/AUTH_test/${c}/o`));
    const plain = uniq('plain');
    expect((await req('PUT', `/v1/AUTH_test/${plain}`)).status).toBe(201);
    noCors(await req('HEAD', `/v1/AUTH_test/${plain}`, { Origin: ORIGIN }));
    noCors(await req('GET', '/v1/AUTH_test', { Origin: ORIGIN }));
  });

  it('reads the container before the handler: a container PUT that sets the origin is not decorated yet', async () => {
    const c = uniq('fresh');
    const put = await req('PUT', `/v1/AUTH_test/${c}`, { Origin: ORIGIN, 'X-Container-Meta-Access-Control-Allow-Origin': ORIGIN });
    expect(put.status).toBe(201);
    noCors(put);
    const again = await req('POST', `/v1/AUTH_test/${c}`, { Origin: ORIGIN, 'X-Container-Meta-Foo': 'x' });
    expect(again.status).toBe(204);
    expect(again.headers['access-control-allow-origin']).toBe(ORIGIN);
  });

  it('decorates delayed denials (object, container GET) but not denials made before the handler (container PUT)', async () => {
    const c = await corsContainer();
    const obj = await req('GET', `/v1/AUTH_test/${c}/o`, { Origin: ORIGIN }, undefined, tok2);
    expect(obj.status).toBe(403);
    expect(obj.headers['access-control-allow-origin']).toBe(ORIGIN);
    const list = await req('GET', `/v1/AUTH_test/${c}`, { Origin: ORIGIN }, undefined, tok2);
    expect(list.status).toBe(403);
    expect(list.headers['access-control-allow-origin']).toBe(ORIGIN);
    const put = await req('PUT', `/v1/AUTH_test/${c}`, { Origin: ORIGIN }, undefined, tok2);
    expect(put.status).toBe(403);
    noCors(put);
    // 405 comes before any handler too.
    noCors(await req('PATCH', `/v1/AUTH_test/${c}/o`, { Origin: ORIGIN }));
  });

  it('keeps preflight OPTIONS as the controllers answer it', async () => {
    const c = await corsContainer();
    const ok = await call(cl.url, 'OPTIONS', `/v1/AUTH_test/${c}/o`, { Origin: ORIGIN, 'Access-Control-Request-Method': 'GET' });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(ok.headers['access-control-expose-headers']).toBeUndefined();
    const bad = await call(cl.url, 'OPTIONS', `/v1/AUTH_test/${c}/o`, { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' });
    expect(bad.status).toBe(401);
  });
});

describe('cors with proxy options', () => {
  let cl: TestCluster;
  let tok: string;
  const req = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    call(cl.url, method, path, { 'X-Auth-Token': tok, ...headers }, body === undefined ? {} : { body });

  beforeAll(async () => {
    cl = await startCluster({
      proxyConfig: corsConf({ cors_allow_origin: 'http://ops.example, http://ops2.example', cors_expose_headers: 'X-Ops-One, x-ops-two' }),
    });
    tok = (await new Session(cl.url).login('test:tester')).token;
    expect((await call(cl.url, 'POST', '/v1/AUTH_test', { 'X-Auth-Token': tok })).status).toBe(204);
  }, 60_000);

  afterAll(async () => {
    await cl?.stop();
  });

  it('allows cors_allow_origin on containers without CORS metadata and exposes cors_expose_headers', async () => {
    const c = uniq('ops');
    expect((await req('PUT', `/v1/AUTH_test/${c}`)).status).toBe(201);
    expect((await req('PUT', `/v1/AUTH_test/${c}/o`, {}, 'x')).status).toBe(201);
    const r = await req('GET', `/v1/AUTH_test/${c}/o`, { Origin: 'http://ops2.example' });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe('http://ops2.example');
    expect(expose(r)).toEqual(expect.arrayContaining(['X-Ops-One', 'x-ops-two', 'etag']));
    noCors(await req('GET', `/v1/AUTH_test/${c}/o`, { Origin: 'http://evil.example' }));
  });

  it('decorates every origin once strict_cors_mode is off', async () => {
    const loose = await startCluster({ proxyConfig: corsConf({ strict_cors_mode: 'false' }) });
    try {
      const t = (await new Session(loose.url).login('test:tester')).token;
      const c = uniq('loose');
      expect((await call(loose.url, 'PUT', `/v1/AUTH_test/${c}`, { 'X-Auth-Token': t })).status).toBe(201);
      const r = await call(loose.url, 'HEAD', `/v1/AUTH_test/${c}`, { 'X-Auth-Token': t, Origin: 'http://evil.example' });
      expect(r.status).toBe(204);
      expect(r.headers['access-control-allow-origin']).toBe('http://evil.example');
      // listing_formats (further out, as in Swift) appends Accept to the Vary cors set.
      expect(r.headers.vary).toBe('Origin, Accept');
    } finally {
      await loose.stop();
    }
  }, 60_000);
});
