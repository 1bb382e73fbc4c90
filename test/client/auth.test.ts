/**
 * The pieces of the Session that need no server: keystoneauth's stale window (with a faked
 * clock), version parsing and matching (discover.py), catalog selection (service_catalog.py),
 * the redaction rules, auth-request bodies and option validation.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BaseAuthPlugin, MIN_TOKEN_LIFE_SECONDS, type AccessInfo } from '../../src/client/auth/base';
import { scopeBody, userRef } from '../../src/client/auth/keystone-v3';
import { selectEndpoint, type CatalogService } from '../../src/client/catalog';
import { hashed, redactHeader, redactJson, redactUrl } from '../../src/client/redact';
import { parseVersion, versionBetween, versionFromUrl, versionRange } from '../../src/client/version';
import { ClientConfigError, Session, StaticToken, TempAuth, V3Password } from '../../src/client/index';
import type { AuthTransport } from '../../src/client/types';

/** A plugin whose tokens live `lifetime` seconds; counts its authentications. */
class CountingPlugin extends BaseAuthPlugin {
  count = 0;
  release: (() => void) | undefined;
  constructor(
    private readonly lifetime: number,
    private readonly gate = false,
  ) {
    super();
  }
  protected async authenticate(): Promise<AccessInfo> {
    this.count++;
    if (this.gate) await new Promise<void>((r) => (this.release = r));
    return { token: `t${this.count}`, expiresAt: new Date(Date.now() + this.lifetime * 1000) };
  }
}
const transport = {} as AuthTransport;

afterEach(() => {
  vi.useRealTimers();
});

describe('the stale window', () => {
  it('reuses a token until 120 s before it expires (keystoneauth MIN_TOKEN_LIFE_SECONDS)', async () => {
    expect(MIN_TOKEN_LIFE_SECONDS).toBe(120);
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-01-01T00:00:00Z') });
    const p = new CountingPlugin(3600);
    expect((await p.getAccess(transport)).token).toBe('t1');
    vi.setSystemTime(new Date('2026-01-01T00:57:59Z')); // 121 s left
    expect((await p.getAccess(transport)).token).toBe('t1');
    vi.setSystemTime(new Date('2026-01-01T00:58:01Z')); // 119 s left
    expect((await p.getAccess(transport)).token).toBe('t2');
    expect(p.count).toBe(2);
  });

  it('shares one authentication among concurrent callers, and invalidate(token) ignores a stale token', async () => {
    const p = new CountingPlugin(3600, true);
    const waiting = [p.getHeaders(transport), p.getHeaders(transport), p.getAccess(transport)];
    await vi.waitFor(() => expect(p.release).toBeDefined());
    p.release!();
    const [a, b, c] = await Promise.all(waiting);
    expect([a, b, (c as AccessInfo).token]).toEqual([{ 'X-Auth-Token': 't1' }, { 'X-Auth-Token': 't1' }, 't1']);
    expect(p.count).toBe(1);
    expect(p.invalidate('some-older-token')).toBe(true);
    const again = p.getAccess(transport);
    expect(p.count).toBe(1);
    await again;
    expect(p.invalidate('t1')).toBe(true);
    const next = p.getAccess(transport);
    await vi.waitFor(() => expect(p.count).toBe(2));
    p.release!();
    expect((await next).token).toBe('t2');
  });

  it('a failed authentication is not cached', async () => {
    let fail = true;
    class Flaky extends BaseAuthPlugin {
      protected async authenticate(): Promise<AccessInfo> {
        if (fail) throw new Error('down');
        return { token: 'ok' };
      }
    }
    const p = new Flaky();
    await expect(p.getAccess(transport)).rejects.toThrow('down');
    fail = false;
    expect((await p.getAccess(transport)).token).toBe('ok');
  });
});

describe('versions (keystoneauth1.discover)', () => {
  it('parses and reads endpoint URLs', () => {
    expect(parseVersion('v1')).toEqual([1, 0]);
    expect(parseVersion('2.1')).toEqual([2, 1]);
    expect(parseVersion('latest')).toEqual([Infinity, Infinity]);
    expect(() => parseVersion('one')).toThrow(ClientConfigError);
    expect(versionFromUrl('http://h:8080/v1/AUTH_abc')).toEqual([1, 0]);
    expect(versionFromUrl('http://h/v2.1/os')).toEqual([2, 1]);
    expect(versionFromUrl('http://h/swift/AUTH_v')).toBeUndefined();
    expect(versionFromUrl('http://v1.example/AUTH_x')).toBeUndefined();
  });

  it('matches ranges: version X is X up to the latest minor of its major', () => {
    const v1 = versionRange({ version: '1' })!;
    expect(versionBetween(v1, [1, 0])).toBe(true);
    expect(versionBetween(v1, [1, 7])).toBe(true);
    expect(versionBetween(v1, [2, 0])).toBe(false);
    const r = versionRange({ minVersion: '1.2', maxVersion: '2.0' })!;
    expect([[1, 1], [1, 2], [2, 0], [2, 1]].map((v) => versionBetween(r, v))).toEqual([false, true, true, false]);
    expect(versionBetween(versionRange({ minVersion: '2' })!, [9, 9])).toBe(true);
    expect(versionRange({})).toBeUndefined();
    expect(() => versionRange({ minVersion: '3', maxVersion: '2' })).toThrow(ClientConfigError);
  });
});

describe('catalog selection', () => {
  const catalog: CatalogService[] = [
    { type: 'object-store', endpoints: [{ interface: 'publicURL', region_id: 'R1', url: 'http://pub/v1/AUTH_p' }, { interface: 'internal', region: 'R2', url: 'http://int/v1/AUTH_p' }] },
    { type: 'identity', endpoints: [{ interface: 'public', url: 'http://ks/v3' }] },
  ];

  it('follows the interface preference, region and type', () => {
    expect(selectEndpoint(catalog, {})).toBe('http://pub/v1/AUTH_p');
    expect(selectEndpoint(catalog, { interface: ['internal', 'public'] })).toBe('http://int/v1/AUTH_p');
    expect(selectEndpoint(catalog, { interface: ['internal', 'public'], regionName: 'R1' })).toBe('http://pub/v1/AUTH_p');
    expect(selectEndpoint(catalog, { interface: 'admin' })).toBeUndefined();
    expect(selectEndpoint(catalog, { serviceType: 'identity', version: '3' })).toBe('http://ks/v3');
    expect(selectEndpoint(catalog, { serviceType: 'identity', version: '2' })).toBeUndefined();
  });
});

describe('redaction', () => {
  it('hashes bearer tokens, masks chosen secrets, keeps the rest', () => {
    for (const name of ['X-Auth-Token', 'x-storage-token', 'X-Service-Token', 'X-Subject-Token', 'Authorization']) expect(redactHeader(name, 'tok')).toBe(hashed('tok'));
    expect(hashed('abc')).toBe('{SHA256}ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    for (const name of ['X-Auth-Key', 'X-Storage-Pass', 'X-Account-Meta-Temp-URL-Key', 'X-Container-Meta-Temp-URL-Key-2']) expect(redactHeader(name, 'k')).toBe('***');
    expect(redactHeader('X-Object-Meta-Color', 'blue')).toBe('blue');
  });

  it('hashes temp_url_sig in URLs, however it is encoded', () => {
    expect(redactUrl('http://h/v1/a/c/o?temp_url_sig=abc&temp_url_expires=1')).toBe(`http://h/v1/a/c/o?temp_url_sig=${hashed('abc')}&temp_url_expires=1`);
    expect(redactUrl('http://h/o?x=1&temp%5Furl%5Fsig=abc#f')).toBe(`http://h/o?x=1&temp%5Furl%5Fsig=${hashed('abc')}#f`);
    expect(redactUrl('http://h/o?multipart-manifest=get')).toBe('http://h/o?multipart-manifest=get');
  });

  it('masks passwords and secrets and hashes token ids in an auth body, without changing it', () => {
    const body = { auth: { identity: { methods: ['password', 'token'], password: { user: { name: 'u', password: 'pw' } }, token: { id: 'tok' }, application_credential: { id: 'i', secret: 's' } } } };
    expect(redactJson(body)).toEqual({ auth: { identity: { methods: ['password', 'token'], password: { user: { name: 'u', password: '***' } }, token: { id: hashed('tok') }, application_credential: { id: 'i', secret: '***' } } } });
    expect(body.auth.identity.password.user.password).toBe('pw');
  });
});

describe('auth bodies and options', () => {
  it('builds scopes as keystoneauth does, refusing two at once', () => {
    expect(scopeBody({ projectId: 'p' })).toEqual({ project: { id: 'p' } });
    expect(scopeBody({ projectName: 'p', projectDomainName: 'd' })).toEqual({ project: { name: 'p', domain: { name: 'd' } } });
    expect(scopeBody({ domainId: 'd' })).toEqual({ domain: { id: 'd' } });
    expect(scopeBody({ systemScope: 'all' })).toEqual({ system: { all: true } });
    expect(scopeBody({ unscoped: true })).toBe('unscoped');
    expect(scopeBody({})).toBeUndefined();
    expect(() => scopeBody({ projectId: 'p', domainId: 'd' })).toThrow(ClientConfigError);
    expect(userRef({ username: 'u', userDomainId: 'default' }, 'x')).toEqual({ name: 'u', domain: { id: 'default' } });
    expect(() => userRef({ username: 'u' }, 'x')).toThrow(/userDomainId or userDomainName/);
  });

  it('refuses unusable options at construction', () => {
    expect(() => new TempAuth({ authUrl: 'ftp://x', user: 'a:b', key: 'k' })).toThrow(ClientConfigError);
    expect(() => new TempAuth({ authUrl: 'http://x/auth/v1.0', user: 'a:b', key: '' })).toThrow(/key is required/);
    expect(() => new StaticToken({ token: 't', endpoint: 'nowhere' })).toThrow(ClientConfigError);
    expect(() => new V3Password({ authUrl: 'http://ks', password: 'p' })).toThrow(/needs userId/);
    expect(new V3Password({ authUrl: 'http://ks:5000/', userId: 'u', password: 'p' }).tokenUrl).toBe('http://ks:5000/v3/auth/tokens');
    expect(new V3Password({ authUrl: 'http://ks:5000/v3', userId: 'u', password: 'p' }).tokenUrl).toBe('http://ks:5000/v3/auth/tokens');
    expect(() => new Session({ connectRetries: -1 })).toThrow(ClientConfigError);
    expect(() => new Session({ timeout: 0 })).toThrow(ClientConfigError);
    expect(() => new Session({ endpointOverride: 'x' })).toThrow(ClientConfigError);
  });

  it('a Session without auth refuses authenticated requests and endpoint lookups', async () => {
    const s = new Session();
    await expect(s.request('http://127.0.0.1:9/x', { authenticated: true })).rejects.toThrow(ClientConfigError);
    await expect(s.getEndpoint()).rejects.toThrow(/no endpointOverride and no auth plugin/);
    expect(s.invalidate()).toBe(false);
    await s.close();
  });
});
