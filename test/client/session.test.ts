/**
 * The Session against a whole cluster with TempAuth: on-demand authentication, token reuse
 * (counted in the proxy's access log), re-authentication after a server-side 401, the stale
 * window, endpoints, bodies streamed both ways and the User-Agent.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { proxyConf } from '../helpers/proxy-conf';
import { capturedLog } from '../middleware/authz/policy-helpers';
import { AuthenticationError, ClientHttpError, EndpointNotFoundError, Session, StaticToken, TempAuth } from '../../src/client/index';

let cluster: TestCluster;
let access: ReturnType<typeof capturedLog>;
const sessions: Session[] = [];

function tempAuth(c: TestCluster, opts: { key?: string; minTokenLife?: number } = {}): TempAuth {
  return new TempAuth({ authUrl: `${c.url}/auth/v1.0`, user: 'test:tester', key: opts.key ?? 'testing', minTokenLife: opts.minTokenLife });
}

function session(opts: ConstructorParameters<typeof Session>[0]): Session {
  const s = new Session(opts);
  sessions.push(s);
  return s;
}

const authCount = (log: ReturnType<typeof capturedLog>) => log.lines.filter((l) => l.path === '/auth/v1.0').length;

beforeAll(async () => {
  access = capturedLog();
  cluster = await startCluster({ accessLogger: access.logger });
}, 60_000);

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await cluster?.stop();
});

describe('TempAuth on demand', () => {
  it('authenticates once for every request and every Session sharing the plugin, concurrent first requests included', async () => {
    const before = authCount(access);
    const auth = tempAuth(cluster);
    const a = session({ auth });
    const b = session({ auth });
    const answers = await Promise.all([a.request('/reuse-1', { method: 'PUT' }), b.request('/reuse-2', { method: 'PUT' }), a.request('/reuse-3', { method: 'PUT' })]);
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201]);
    for (let i = 0; i < 3; i++) expect((await b.request('/reuse-1', { method: 'HEAD' })).status).toBe(204);
    expect(authCount(access) - before).toBe(1);
    expect(await a.getEndpoint()).toBe(`${cluster.url}/v1/AUTH_test`);
    expect(await a.getToken()).toMatch(/^AUTH_tk[0-9a-f]{32}$/);
  });

  it('does not authenticate for authenticated: false, and an unauthenticated request is refused', async () => {
    const before = authCount(access);
    const s = session({ auth: tempAuth(cluster), endpointOverride: `${cluster.url}/v1/AUTH_test` });
    const res = await s.request('', { authenticated: false, raiseExc: false });
    expect(res.status).toBe(401);
    await res.text();
    expect(authCount(access) - before).toBe(0);
    await expect(s.request('', { authenticated: false })).rejects.toMatchObject({ name: 'ClientHttpError', status: 401, method: 'GET' });
  });

  it('re-authenticates once after the server forgot the token, and retries', async () => {
    const s = session({ auth: tempAuth(cluster) });
    expect((await s.request('/reauth', { method: 'PUT' })).status).toBe(201);
    const old = (await s.getToken())!;
    const before = authCount(access);
    // What a memcached restart does: the token is unknown to the proxy from now on.
    await cluster.proxy.state.cacheBackend.delete(`AUTH_/token/${old}`);
    const res = await s.request('/reauth/o', { method: 'PUT', body: 'replayable' });
    expect(res.status).toBe(201);
    expect(authCount(access) - before).toBe(1);
    expect(await s.getToken()).not.toBe(old);
    expect(await (await s.request('/reauth/o')).text()).toBe('replayable');
  });

  it('cannot replay a stream body: its 401 is thrown and no re-authentication happens', async () => {
    const s = session({ auth: tempAuth(cluster) });
    await s.request('/stream-401', { method: 'PUT' });
    await cluster.proxy.state.cacheBackend.delete(`AUTH_/token/${(await s.getToken())!}`);
    const before = authCount(access);
    const err = await s.request('/stream-401/o', { method: 'PUT', body: Readable.from([Buffer.from('abc')]) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientHttpError);
    expect((err as ClientHttpError).status).toBe(401);
    expect(authCount(access) - before).toBe(0);
    // The next replayable request recovers.
    expect((await s.request('/stream-401/o', { method: 'PUT', body: 'abc' })).status).toBe(201);
    expect(authCount(access) - before).toBe(1);
  });

  it('refuses a wrong key with an AuthenticationError that does not carry the key', async () => {
    const s = session({ auth: tempAuth(cluster, { key: 'not-the-key' }) });
    const err = await s.request('').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).status).toBe(401);
    expect(String((err as Error).message)).not.toContain('not-the-key');
  });

  it('a StaticToken cannot re-authenticate: its 401 stands', async () => {
    const s = session({ auth: new StaticToken({ token: 'AUTH_tkbogus', endpoint: `${cluster.url}/v1/AUTH_test` }) });
    await expect(s.request('')).rejects.toMatchObject({ status: 401 });
    const good = session({ auth: new StaticToken({ token: (await session({ auth: tempAuth(cluster) }).getToken())!, endpoint: `${cluster.url}/v1/AUTH_test` }) });
    expect((await good.request('', { method: 'HEAD' })).status).toBe(204);
  });
});

describe('per-request auth', () => {
  it('authenticates and finds the endpoint with the plugin given for one request', async () => {
    const s = session({ auth: tempAuth(cluster) });
    const other = new TempAuth({ authUrl: `${cluster.url}/auth/v1.0`, user: 'test2:tester2', key: 'testing2' });
    expect((await s.request('/per-request', { method: 'PUT', auth: other })).status).toBe(201);
    expect(access.last('PUT', '/v1/AUTH_test2/per-request')?.status).toBe(201);
    expect(await s.getEndpoint()).toBe(`${cluster.url}/v1/AUTH_test`);
    expect(await s.getEndpoint({}, other)).toBe(`${cluster.url}/v1/AUTH_test2`);
    expect(await s.getToken(other)).not.toBe(await s.getToken());
  });
});

describe('endpoints', () => {
  it('uses the storage URL, matched against version filters; endpointOverride per Session and per request', async () => {
    const s = session({ auth: tempAuth(cluster) });
    expect(await s.getEndpoint({ version: '1' })).toBe(`${cluster.url}/v1/AUTH_test`);
    expect(await s.getEndpoint({ minVersion: '1.0', maxVersion: '1.5' })).toBe(`${cluster.url}/v1/AUTH_test`);
    await expect(s.getEndpoint({ version: '2' })).rejects.toBeInstanceOf(EndpointNotFoundError);
    await expect(s.getEndpoint({ serviceType: 'compute' })).rejects.toBeInstanceOf(EndpointNotFoundError);
    await s.request('/ep', { method: 'PUT' });
    await s.request('/ep/o', { method: 'PUT', body: 'x' });
    // Another account's URL, with the same token: TempAuth refuses it (403), which shows the override was used.
    const other = await s.request('/ep', { endpointOverride: `${cluster.url}/v1/AUTH_test2`, raiseExc: false });
    expect(other.status).toBe(403);
    await other.text();
    const overridden = session({ auth: tempAuth(cluster), endpointOverride: `${cluster.url}/v1/AUTH_test/ep/` });
    expect(await overridden.getEndpoint()).toBe(`${cluster.url}/v1/AUTH_test/ep`);
    expect(await (await overridden.request('o')).text()).toBe('x');
  });

  it('adds query parameters encoded, leaving out undefined ones', async () => {
    const s = session({ auth: tempAuth(cluster) });
    await s.request('/q', { method: 'PUT' });
    for (const name of ['a b', 'a+b', 'c/d']) await s.request(`/q/${encodeURIComponent(name)}`, { method: 'PUT', body: '' });
    const res = await s.request('/q', { query: { prefix: 'a', delimiter: undefined, format: 'json' } });
    expect((await res.json<{ name: string }[]>()).map((o) => o.name)).toEqual(['a b', 'a+b']);
  });
});

describe('bodies and headers', () => {
  it('streams request bodies (Readable, async iterable, bytes) and the response body', async () => {
    const s = session({ auth: tempAuth(cluster) });
    await s.request('/bodies', { method: 'PUT' });
    const chunk = Buffer.alloc(64 * 1024, 'z');
    async function* gen() {
      for (let i = 0; i < 16; i++) yield chunk;
    }
    expect((await s.request('/bodies/iter', { method: 'PUT', body: gen() })).status).toBe(201);
    expect((await s.request('/bodies/stream', { method: 'PUT', body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]) })).status).toBe(201);
    expect((await s.request('/bodies/bytes', { method: 'PUT', body: new Uint8Array([0, 255, 1]) })).status).toBe(201);
    const got = await s.request('/bodies/iter');
    expect(got.headers['content-length']).toBe(String(16 * chunk.length));
    let total = 0;
    for await (const c of got.body) total += (c as Buffer).length;
    expect(total).toBe(16 * chunk.length);
    expect(await (await s.request('/bodies/stream')).text()).toBe('abcd');
    expect([...(await (await s.request('/bodies/bytes')).bytes())]).toEqual([0, 255, 1]);
  });

  it('sends header values as the latin-1 byte strings they are, and answers them the same way', async () => {
    const s = session({ auth: tempAuth(cluster) });
    const utf8Bytes = Buffer.from('café ☕', 'utf8').toString('latin1');
    await s.request('/meta', { method: 'PUT', headers: { 'X-Container-Meta-Drink': utf8Bytes } });
    const res = await s.request('/meta', { method: 'HEAD' });
    expect(res.headers['x-container-meta-drink']).toBe(utf8Bytes);
    expect(Buffer.from(res.headers['x-container-meta-drink']!, 'latin1').toString('utf8')).toBe('café ☕');
  });

  it('returns error statuses with raiseExc: false and throws them otherwise, with the body', async () => {
    const s = session({ auth: tempAuth(cluster) });
    const res = await s.request('/no-such-container', { raiseExc: false });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('Not Found');
    const err = (await s.request('/no-such-container').catch((e: unknown) => e)) as ClientHttpError;
    expect(err).toBeInstanceOf(ClientHttpError);
    expect([err.status, err.method, err.url]).toEqual([404, 'GET', `${cluster.url}/v1/AUTH_test/no-such-container`]);
    expect(err.body).toContain('Not Found');
  });

  it('sends sluice-client/<version> after the application part of the User-Agent', async () => {
    const { version } = (await import('../../package.json')).default;
    const s = session({ auth: tempAuth(cluster), userAgent: { appName: 'myapp', appVersion: '2.1' } });
    await s.request('/ua', { method: 'PUT' });
    const line = access.last('PUT', '/v1/AUTH_test/ua');
    expect(line?.user_agent ?? line?.userAgent).toBe(`myapp/2.1 sluice-client/${version}`);
  });
});

describe('the stale window', () => {
  let short: TestCluster;
  let shortAccess: ReturnType<typeof capturedLog>;

  beforeAll(async () => {
    shortAccess = capturedLog();
    const conf = proxyConf({ pipeline: ['catch_errors', 'proxy-logging', 'cache', 'tempauth'], sections: { tempauth: 'dev_users = true\ntoken_life = 4' } });
    short = await startCluster({ proxyConfig: conf, accessLogger: shortAccess.logger });
  }, 60_000);

  afterAll(async () => {
    await short?.stop();
  });

  it('reuses a token that lives less than 120 s for half its life, then fetches a new one before it expires', async () => {
    const s = session({ auth: tempAuth(short) });
    await s.request('/stale', { method: 'PUT' });
    await s.request('/stale', { method: 'HEAD' });
    expect(authCount(shortAccess)).toBe(1);
    // Past half of token_life (2 s) but before expiry (4 s): a new token, and never a 401.
    await new Promise((r) => setTimeout(r, 2500));
    await s.request('/stale', { method: 'HEAD' });
    expect(authCount(shortAccess)).toBe(2);
    expect(shortAccess.lines.map((l) => l.status)).not.toContain(401);
    expect(shortAccess.lines.map((l) => l.status)).toContain(204);
  });
});
