/**
 * authtoken's parts on their own: options, the identity client's service token (renewed two
 * minutes before expiry, one authentication in flight), the cached path (a cache get and header
 * setting, nothing else), expiry re-checked on cached tokens, headers, access rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { errorOf } from '../../helpers/config-error';
import { parseAuthTokenConfig, identityV3UrlOf, type AuthTokenConfig } from '../../../src/middleware/authtoken/config';
import { IdentityClient } from '../../../src/middleware/authtoken/identity-client';
import { AuthToken } from '../../../src/middleware/authtoken/auth-token';
import { AUTH_HEADERS, catalogHeader, removeAuthHeaders } from '../../../src/middleware/authtoken/headers';
import { tokenCacheKey, tokenHash } from '../../../src/middleware/authtoken/token-cache';
import { parseIsoTime } from '../../../src/middleware/authtoken/token-info';
import { checkAccessRules, pathMatches, requestPathOf } from '../../../src/middleware/authtoken/access-rules';
import { parseTokenInfo } from '../../../src/middleware/authtoken/token-info';
import { LruInfoCache, type SharedCache } from '../../../src/proxy/info-cache';
import { RequestHeaders } from '../../../src/proxy/request-headers';
import type { ProxyContext } from '../../../src/proxy/context';
import { asByteString } from '../../../src/compat/bytes';
import { parseProxyConfig } from '../../../src/proxy/config';
import { buildProxyApp } from '../../../src/proxy/pipeline';
import '../../../src/middleware/index';
import type { ProxyState } from '../../../src/proxy/state';
import { STUB_SERVICE, StubKeystone, tokenBody } from './stub-keystone';
import { authtokenProxyConf, capturingLogger } from './helpers';

const BASE = {
  auth_url: 'http://127.0.0.1:5000',
  auth_type: 'password',
  username: 'sluice',
  password: 'pw',
  user_domain_id: 'default',
  project_name: 'service',
  project_domain_id: 'default',
};

describe('options', () => {
  it('reads keystonemiddleware names with its defaults', () => {
    const c = parseAuthTokenConfig({ ...BASE });
    expect(c).toMatchObject({
      identityV3Url: 'http://127.0.0.1:5000/v3',
      wwwAuthenticateUri: 'http://127.0.0.1:5000',
      delayAuthDecision: false,
      tokenCacheTime: 300,
      includeServiceCatalog: true,
      serviceTokenRoles: ['service'],
      serviceTokenRolesRequired: false,
      httpRequestMaxRetries: 3,
      enforceTokenBind: 'permissive',
      interface: 'internal',
    });
    expect(c.credentials.body).toEqual({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'sluice', domain: { id: 'default' }, password: 'pw' } } },
        scope: { project: { name: 'service', domain: { id: 'default' } } },
      },
    });
    expect(c.warnings.some((w) => w.includes('www_authenticate_uri is not set'))).toBe(true);
    expect(parseAuthTokenConfig({ ...BASE, auth_uri: 'http://pub:5000' }).wwwAuthenticateUri).toBe('http://pub:5000');
    expect(parseAuthTokenConfig({ ...BASE, auth_uri: 'http://a', www_authenticate_uri: 'http://b' }).wwwAuthenticateUri).toBe('http://b');
  });

  it('accepts auth_url with or without /v3', () => {
    expect(identityV3UrlOf('http://h:5000')).toBe('http://h:5000/v3');
    expect(identityV3UrlOf('http://h:5000/')).toBe('http://h:5000/v3');
    expect(identityV3UrlOf('http://h:5000/v3')).toBe('http://h:5000/v3');
    expect(identityV3UrlOf('https://h/identity/v3/')).toBe('https://h/identity/v3');
    expect(errorOf(() => identityV3UrlOf('http://h:5000/v2.0')).message).toContain('v3 only');
    expect(errorOf(() => identityV3UrlOf('h:5000')).message).toContain('auth_url');
  });

  it('v3password, user_id, project_id, auth_plugin and application credentials', () => {
    expect(parseAuthTokenConfig({ auth_url: 'http://h', auth_plugin: 'v3password', user_id: 'u', password: 'p', project_id: 'pid' }).credentials.body).toEqual({
      auth: { identity: { methods: ['password'], password: { user: { id: 'u', password: 'p' } } }, scope: { project: { id: 'pid' } } },
    });
    const app = parseAuthTokenConfig({ auth_url: 'http://h', auth_type: 'v3applicationcredential', application_credential_id: 'ac', application_credential_secret: 's' });
    expect(app.credentials.body).toEqual({ auth: { identity: { methods: ['application_credential'], application_credential: { id: 'ac', secret: 's' } } } });
    expect(app.credentials.principal).not.toContain('s"');
  });

  it('refuses what it cannot honour with one line naming it', () => {
    const cases: [Record<string, string>, string][] = [
      [{}, 'no service credentials'],
      [{ auth_url: 'http://h' }, 'no service credentials'],
      [{ ...BASE, password: '' }, 'no service credentials'],
      [{ ...BASE, auth_type: 'v3token' }, 'auth_type "v3token" is not supported'],
      [{ ...BASE, auth_type: 'v3applicationcredential' }, 'application_credential_secret'],
      [{ ...BASE, user_domain_id: '' }, 'user_domain_id or user_domain_name'],
      [{ ...BASE, project_domain_id: '' }, 'project_domain_id or project_domain_name'],
      [{ ...BASE, enforce_token_bind: 'strict' }, 'enforce_token_bind = strict is not supported'],
      [{ ...BASE, enforce_token_bind: 'kerberos' }, 'enforce_token_bind = kerberos is not supported'],
      [{ ...BASE, memcache_security_strategy: 'ENCRYPT' }, 'memcache_security_strategy = ENCRYPT cannot be honoured'],
      [{ ...BASE, delay_auth_decision: 'maybe' }, 'delay_auth_decision must be true or false'],
      [{ ...BASE, token_cache_time: 'soon' }, 'token_cache_time must be an integer'],
      [{ ...BASE, interface: 'private' }, 'interface must be public, internal or admin'],
      [{ ...BASE, auth_version: 'v2.0' }, 'auth_version'],
      [{ ...BASE, cafile: '/nonexistent/ca.pem' }, 'cafile /nonexistent/ca.pem cannot be read'],
      [{ ...BASE, oslo_config_project: 'swift' }, 'oslo_config_project is not supported'],
      [{ ...BASE, www_authenticate_uri: 'http://k\u00e9ystone' }, 'www_authenticate_uri must be a URL of printable ASCII'],
    ];
    for (const [conf, message] of cases) {
      const err = errorOf(() => parseAuthTokenConfig(conf));
      expect(err.message, JSON.stringify(conf)).toContain(message);
      expect(err.message).not.toContain('\n');
      expect(err.message).not.toMatch(/\bpw\b/);
    }
    expect(parseAuthTokenConfig({ ...BASE, memcache_security_strategy: 'none', enforce_token_bind: 'disabled' }).enforceTokenBind).toBe('disabled');
  });

  it('memcached options are a start-up warning', () => {
    const c = parseAuthTokenConfig({ ...BASE, memcached_servers: '127.0.0.1:11211', memcache_pool_maxsize: '5', cache: 'swift.cache' });
    expect(c.warnings.filter((w) => w.includes('memcached_servers, memcache_pool_maxsize ignored'))).toHaveLength(1);
  });

  it('paste: egg:keystonemiddleware#auth_token and the filter_factory both name authtoken; other keystonemiddleware eggs do not exist', () => {
    expect(parseProxyConfig(authtokenProxyConf(BASE)).uses.authtoken).toBe('authtoken');
    expect(parseProxyConfig(authtokenProxyConf(BASE, { use: 'use = egg:keystonemiddleware#auth_token' })).uses.authtoken).toBe('authtoken');
    expect(errorOf(() => parseProxyConfig(authtokenProxyConf(BASE, { use: 'use = egg:keystonemiddleware#audit' }))).message).toContain('egg:keystonemiddleware#audit');
  });

  it('in a pipeline: needs the cache filter before it, reports unknown options, sets keystoneAuthtoken', () => {
    const state = () => ({ cache: undefined, cacheBackend: new LruInfoCache(), keystoneAuthtoken: false, info: {}, options: {} }) as unknown as ProxyState;
    const noCache = parseProxyConfig(authtokenProxyConf(BASE, { withCache: false }));
    expect(errorOf(() => buildProxyApp(noCache, state(), { logger: pino({ level: 'silent' }) })).message).toContain('authtoken needs the cache filter');
    const log = capturingLogger();
    const s = state();
    const built = buildProxyApp(parseProxyConfig(authtokenProxyConf({ ...BASE, www_authenticate_uri: 'http://x', service_token_roles_required: 'true', no_such_option: '1' })), s, { logger: log.logger });
    expect(s.keystoneAuthtoken).toBe(true);
    expect(s.info).not.toHaveProperty('authtoken');
    const warnings = log.lines.filter((l) => l.level === 40).map((l) => l.msg);
    expect(warnings).toEqual([expect.stringMatching(/\[filter:authtoken\] ignores unknown option no_such_option$/)]);
    void built.close();
  });
});

describe('headers', () => {
  it('removes every identity header keystonemiddleware lists (and OpenStack-System-Scope, and _ spellings)', () => {
    expect(AUTH_HEADERS).toHaveLength(4 + 5 + 20 + 2 + 1);
    const h = new RequestHeaders([...AUTH_HEADERS.map((n): [string, string] => [n.toUpperCase(), 'x']), ['X_ROLES', 'x'], ['x_service_user_id', 'x'], ['X-Auth-Token', 't'], ['X_Custom', 'kept']]);
    removeAuthHeaders(h);
    expect(h.entries()).toEqual([
      ['x-auth-token', 't'],
      ['x_custom', 'kept'],
    ]);
  });

  it('X-Service-Catalog is the v3 catalog normalised as _request.py does, as json.dumps writes it', () => {
    const catalog = [
      {
        type: 'identity',
        name: 'keystone',
        endpoints: [
          { interface: 'public', region: 'R1', url: 'http://p' },
          { interface: 'Admin', region: 'R1', url: 'http://a' },
          { interface: 'public', region: 'R2', url: 'http://p2' },
          { interface: 'internal', region: null, url: 'http://i' },
        ],
      },
      { type: 'object-store', endpoints: [] },
    ];
    expect(catalogHeader(catalog)).toBe(
      '[{"type": "identity", "name": "keystone", "endpoints": [{"region": "R1", "publicURL": "http://p", "adminURL": "http://a"}, {"region": "R2", "publicURL": "http://p2"}, {"internalURL": "http://i"}]}, {"type": "object-store", "endpoints": []}]',
    );
    expect(catalogHeader([{ type: 'x', name: 'caf\u00e9', endpoints: [] }])).toBe('[{"type": "x", "name": "caf\\u00e9", "endpoints": []}]');
  });

  it('reads Keystone times', () => {
    expect(parseIsoTime('2026-12-03T12:16:49.000000Z')).toBe(Date.UTC(2026, 11, 3, 12, 16, 49));
    expect(parseIsoTime('2026-12-03T12:16:49.5Z')).toBe(Date.UTC(2026, 11, 3, 12, 16, 49, 500));
    expect(parseIsoTime('2026-12-03T12:16:49')).toBe(Date.UTC(2026, 11, 3, 12, 16, 49));
    expect(parseIsoTime('2026-12-03T14:16:49+02:00')).toBe(Date.UTC(2026, 11, 3, 12, 16, 49));
    expect(parseIsoTime('tomorrow')).toBeUndefined();
  });
});

describe('access rules (validate_allowed_request)', () => {
  it('matches paths as keystonemiddleware does', () => {
    expect(pathMatches('/v1/AUTH_p/c/o', '/v1/*/c/*')).toBe(true);
    expect(pathMatches('/v1/AUTH_p/c/o/deeper', '/v1/*/c/*')).toBe(false);
    expect(pathMatches('/v1/AUTH_p/c/o/deeper', '/v1/{account}/c/**')).toBe(true);
    expect(pathMatches('/v1/AUTH_pXc', '/v1/AUTH_p.c')).toBe(false);
    expect(requestPathOf(asByteString('/v1/AUTH_p/%41%20b'))).toBe('/v1/AUTH_p/A%20b');
  });

  it('a token with access rules is good only for the requests they name', () => {
    const token = tokenBody({});
    token.application_credential = { id: 'ac', access_rules: [{ method: 'GET', path: '/v1/*/pub/**', service: 'object-store' }] };
    const info = parseTokenInfo(token)!;
    const req = (method: string, path: string, hasServiceToken = false) => ({ method, rawPath: asByteString(path), hasServiceToken });
    expect(checkAccessRules(info, req('GET', '/v1/AUTH_p1/pub/a/b'), 'object-store').allowed).toBe(true);
    expect(checkAccessRules(info, req('PUT', '/v1/AUTH_p1/pub/a'), 'object-store').allowed).toBe(false);
    expect(checkAccessRules(info, req('GET', '/v1/AUTH_p1/private/a'), 'object-store').allowed).toBe(false);
    expect(checkAccessRules(info, req('GET', '/v1/AUTH_p1/pub/a'), undefined).allowed).toBe(false);
    expect(checkAccessRules(info, req('GET', '/v1/AUTH_p1/pub/a'), 'volume').allowed).toBe(false);
    expect(checkAccessRules(info, req('PUT', '/v1/AUTH_p1/x', true), 'object-store').allowed).toBe(true);
    const plain = parseTokenInfo(tokenBody({}))!;
    expect(checkAccessRules(plain, req('DELETE', '/v1/AUTH_p1/x'), undefined).allowed).toBe(true);
  });
});

/** Just what AuthToken touches of a Hono context. */
function fakeCtx(headers: Record<string, string>, path = '/v1/AUTH_p1'): ProxyContext & { vars: Map<string, unknown> } {
  const vars = new Map<string, unknown>([['headers', new RequestHeaders(Object.entries(headers))]]);
  return {
    vars,
    get: (k: string) => vars.get(k),
    set: (k: string, v: unknown) => vars.set(k, v),
    req: { method: 'GET', url: `http://127.0.0.1${path}` },
    env: { incoming: { url: path } },
    res: new Response(null, { status: 200 }),
  } as unknown as ProxyContext & { vars: Map<string, unknown> };
}

class CountingCache implements SharedCache {
  readonly inner = new LruInfoCache();
  gets = 0;
  sets = 0;
  get<T>(key: string): T | undefined {
    this.gets++;
    return this.inner.get<T>(key);
  }
  set(key: string, value: unknown, ttl: number): void {
    this.sets++;
    this.inner.set(key, value, ttl);
  }
  delete(key: string): void {
    this.inner.delete(key);
  }
}

describe('with a stub Keystone, no pipeline', () => {
  const stub = new StubKeystone();
  const clients: IdentityClient[] = [];
  beforeAll(async () => {
    await stub.start();
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await stub.stop();
  });

  function config(extra: Record<string, string> = {}): AuthTokenConfig {
    return parseAuthTokenConfig({ ...BASE, auth_url: stub.url, username: STUB_SERVICE.username, password: STUB_SERVICE.password, www_authenticate_uri: 'http://pub', ...extra });
  }
  function client(c: AuthTokenConfig, now?: () => number): IdentityClient {
    const made = new IdentityClient({ v3Url: c.identityV3Url, credentials: c.credentials, timeout: 2, maxRetries: 0, tls: c.tls, now });
    clients.push(made);
    return made;
  }

  it("renews the service's token once it has less than two minutes left, and not before", async () => {
    let now = Date.now();
    const c = client(config(), () => now);
    stub.serviceTokenLife = 600;
    stub.tokens.set('gAAAAArenew', {});
    try {
      stub.reset();
      expect((await c.validate('gAAAAArenew', { allowExpired: false, includeCatalog: false })).kind).toBe('valid');
      expect(stub.count('POST')).toBe(1);
      now += (600 - 125) * 1000;
      expect((await c.validate('gAAAAArenew', { allowExpired: false, includeCatalog: false })).kind).toBe('valid');
      expect(stub.count('POST')).toBe(1);
      now += 10_000; // 115 s left: keystoneauth would re-authenticate
      expect((await c.validate('gAAAAArenew', { allowExpired: false, includeCatalog: false })).kind).toBe('valid');
      expect(stub.count('POST')).toBe(2);
      const gets = stub.requests.filter((q) => q.method === 'GET').map((q) => q.headers['x-auth-token']);
      expect(gets[0]).toBe(gets[1]);
      expect(gets[2]).not.toBe(gets[1]);
      expect(stub.requests.filter((q) => q.method === 'GET').every((q) => q.url === '/v3/auth/tokens?nocatalog')).toBe(true);
    } finally {
      stub.serviceTokenLife = 3600;
    }
  });

  it('20 concurrent validations share one service authentication', async () => {
    const c = client(config());
    for (let i = 0; i < 20; i++) stub.tokens.set(`gAAAAAconc${i}`, {});
    stub.reset();
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => c.validate(`gAAAAAconc${i}`, { allowExpired: false, includeCatalog: true })));
    expect(all.every((v) => v.kind === 'valid')).toBe(true);
    expect(stub.count('POST')).toBe(1);
    expect(stub.count('GET')).toBe(20);
    expect(c.stats).toEqual({ authentications: 1, validations: 20 });
  });

  it('the cached path: one cache get and header setting per request, no Keystone call, one parse', async () => {
    const cfg = config();
    const cache = new CountingCache();
    const c = client(cfg);
    const auth = new AuthToken({ config: cfg, cache, client: c, logger: pino({ level: 'silent' }) });
    stub.tokens.set('gAAAAAhot', { userId: 'hot', roles: ['member', 'reader'] });
    const next = async () => undefined;
    const first = fakeCtx({ 'X-Auth-Token': 'gAAAAAhot' });
    await auth.handle(first, next);
    expect(first.vars.get('keystone')).toMatchObject({ userStatus: 'Confirmed', user: { userId: 'hot' } });
    expect(cache.gets).toBe(2); // the token, then the negative entry
    expect(cache.sets).toBe(1);
    stub.reset();
    cache.gets = 0;
    const n = 2000;
    for (let i = 0; i < n; i++) {
      const ctx = fakeCtx({ 'X-Auth-Token': 'gAAAAAhot', 'X-Roles': 'spoofed' });
      const res = await auth.handle(ctx, next);
      if (res !== undefined || (ctx.get('headers') as RequestHeaders).get('x-roles') !== 'member,reader') throw new Error(`request ${i} was not confirmed`);
    }
    expect(stub.requests).toHaveLength(0);
    expect(cache.gets).toBe(n);
    expect(cache.sets).toBe(1);
    expect(auth.tokens.stats.parses).toBe(1);
    expect(c.stats.validations).toBe(1);
  });

  it('a cached token past its expires_at is invalid, without asking Keystone', async () => {
    let now = Date.now();
    const cfg = config();
    const cache = new LruInfoCache();
    const c = client(cfg);
    const auth = new AuthToken({ config: cfg, cache, client: c, logger: pino({ level: 'silent' }), now: () => now });
    stub.tokens.set('gAAAAAexp', { userId: 'exp', expiresIn: 60 });
    await auth.handle(fakeCtx({ 'X-Auth-Token': 'gAAAAAexp' }), async () => undefined);
    expect(cache.get(tokenCacheKey(tokenHash('gAAAAAexp')))).toBeDefined();
    stub.reset();
    now += 61_000; // the entry is still in the cache (its TTL runs on the real clock), the token has expired
    const ctx = fakeCtx({ 'X-Auth-Token': 'gAAAAAexp' });
    const res = await auth.handle(ctx, async () => undefined);
    expect(res?.status).toBe(401);
    expect(ctx.vars.get('keystone')).toMatchObject({ userStatus: 'Invalid', user: undefined });
    expect(stub.requests).toHaveLength(0);
  });

  it('a cached entry written elsewhere is used as it is, and its expiry is checked', async () => {
    const cfg = config({ delay_auth_decision: 'true' });
    const cache = new LruInfoCache();
    const auth = new AuthToken({ config: cfg, cache, client: client(cfg), logger: pino({ level: 'silent' }) });
    cache.set(tokenCacheKey(tokenHash('gAAAAAother')), tokenBody({ userId: 'from-cache', expiresIn: -5 }), 300);
    cache.set(tokenCacheKey(tokenHash('gAAAAAother2')), tokenBody({ userId: 'from-cache2' }), 300);
    stub.reset();
    const expired = fakeCtx({ 'X-Auth-Token': 'gAAAAAother' });
    await auth.handle(expired, async () => undefined);
    expect(expired.vars.get('keystone')).toMatchObject({ userStatus: 'Invalid' });
    const fresh = fakeCtx({ 'X-Auth-Token': 'gAAAAAother2' });
    await auth.handle(fresh, async () => undefined);
    expect(fresh.vars.get('keystone')).toMatchObject({ userStatus: 'Confirmed', user: { userId: 'from-cache2' } });
    expect(stub.requests).toHaveLength(0);
  });

  it('token TTL in the cache is min(token_cache_time, time left); invalid tokens at most 10 s', async () => {
    const cfg = config({ token_cache_time: '300' });
    const ttls = new Map<string, number>();
    const cache: SharedCache = { get: () => undefined, set: (k, _v, ttl) => void ttls.set(k, ttl), delete: () => undefined };
    const auth = new AuthToken({ config: cfg, cache, client: client(cfg), logger: pino({ level: 'silent' }) });
    stub.tokens.set('gAAAAAshort', { expiresIn: 30 });
    stub.tokens.set('gAAAAAlong', { expiresIn: 3600 });
    for (const t of ['gAAAAAshort', 'gAAAAAlong', 'gAAAAAunknown']) await auth.handle(fakeCtx({ 'X-Auth-Token': t }), async () => undefined);
    expect(ttls.get(tokenCacheKey(tokenHash('gAAAAAshort')))).toBeGreaterThan(28);
    expect(ttls.get(tokenCacheKey(tokenHash('gAAAAAshort')))).toBeLessThanOrEqual(30);
    expect(ttls.get(tokenCacheKey(tokenHash('gAAAAAlong')))).toBe(300);
    expect(ttls.get(`sluice/tokens-invalid/${tokenHash('gAAAAAunknown')}`)).toBe(10);
    expect(ttls.size).toBe(3);
  });

  it('a token bound to kerberos is invalid in permissive mode, accepted with enforce_token_bind = disabled', async () => {
    stub.tokens.set('gAAAAAbound', { userId: 'bound', extra: { bind: { kerberos: 'alice@REALM' } } });
    stub.tokens.set('gAAAAAbound-x509', { userId: 'bound-x509', extra: { bind: { x509: 'cn=alice' } } });
    for (const [mode, token, status] of [
      ['permissive', 'gAAAAAbound', 'Invalid'],
      ['permissive', 'gAAAAAbound-x509', 'Confirmed'],
      ['disabled', 'gAAAAAbound', 'Confirmed'],
    ] as const) {
      const cfg = config({ enforce_token_bind: mode, delay_auth_decision: 'true' });
      const auth = new AuthToken({ config: cfg, cache: new LruInfoCache(), client: client(cfg), logger: pino({ level: 'silent' }) });
      const ctx = fakeCtx({ 'X-Auth-Token': token });
      await auth.handle(ctx, async () => undefined);
      expect(ctx.vars.get('keystone'), `${mode} ${token}`).toMatchObject({ userStatus: status });
    }
  });

  it('access rules are enforced on cached tokens too', async () => {
    const cfg = config({ service_type: 'object-store', delay_auth_decision: 'true' });
    const auth = new AuthToken({ config: cfg, cache: new LruInfoCache(), client: client(cfg), logger: pino({ level: 'silent' }) });
    stub.tokens.set('gAAAAArules', { userId: 'ac-user', extra: { application_credential: { id: 'ac', access_rules: [{ method: 'GET', path: '/v1/*/pub/*', service: 'object-store' }] } } });
    const run = async (path: string) => {
      const ctx = fakeCtx({ 'X-Auth-Token': 'gAAAAArules' }, path);
      await auth.handle(ctx, async () => undefined);
      return (ctx.vars.get('keystone') as { userStatus: string }).userStatus;
    };
    expect(await run('/v1/AUTH_p1/pub/o')).toBe('Confirmed');
    stub.reset();
    expect(await run('/v1/AUTH_p1/secret/o')).toBe('Invalid');
    expect(await run('/v1/AUTH_p1/pub/o')).toBe('Confirmed');
    expect(stub.requests).toHaveLength(0);
  });
});

describe('a shared cache that fails or answers asynchronously', () => {
  const stub = new StubKeystone();
  let client: IdentityClient;
  let cfg: AuthTokenConfig;
  beforeAll(async () => {
    await stub.start();
    cfg = parseAuthTokenConfig({ ...BASE, auth_url: stub.url, username: STUB_SERVICE.username, password: STUB_SERVICE.password, www_authenticate_uri: 'http://pub' });
    client = new IdentityClient({ v3Url: cfg.identityV3Url, credentials: cfg.credentials, timeout: 2, maxRetries: 0, tls: cfg.tls });
  });
  afterAll(async () => {
    await client.close();
    await stub.stop();
  });

  it('a cache that throws or rejects is a miss: Keystone decides, never an error', async () => {
    const broken: SharedCache = {
      get: () => {
        throw new Error('cache down');
      },
      set: () => Promise.reject(new Error('cache down')),
      delete: () => undefined,
    };
    const rejecting: SharedCache = { get: () => Promise.reject(new Error('cache down')), set: () => Promise.reject(new Error('x')), delete: () => undefined };
    stub.tokens.set('gAAAAAbroken', { userId: 'b' });
    for (const cache of [broken, rejecting]) {
      const auth = new AuthToken({ config: cfg, cache, client, logger: pino({ level: 'silent' }) });
      stub.reset();
      for (let i = 0; i < 2; i++) {
        const ctx = fakeCtx({ 'X-Auth-Token': 'gAAAAAbroken' });
        expect(await auth.handle(ctx, async () => undefined)).toBeUndefined();
        expect(ctx.vars.get('keystone')).toMatchObject({ userStatus: 'Confirmed', user: { userId: 'b' } });
      }
      expect(stub.count('GET')).toBe(2);
    }
  });

  it('an asynchronous cache (the workers\' shared one) keeps the cached path free of Keystone calls', async () => {
    const inner = new LruInfoCache();
    const cache: SharedCache = { get: async (k) => inner.get(k), set: async (k, v, t) => inner.set(k, v, t), delete: async (k) => inner.delete(k) };
    const auth = new AuthToken({ config: cfg, cache, client, logger: pino({ level: 'silent' }) });
    stub.tokens.set('gAAAAAasync', { userId: 'async' });
    await auth.handle(fakeCtx({ 'X-Auth-Token': 'gAAAAAasync' }), async () => undefined);
    await new Promise((r) => setImmediate(r));
    stub.reset();
    for (let i = 0; i < 5; i++) {
      const ctx = fakeCtx({ 'X-Auth-Token': 'gAAAAAasync' });
      await auth.handle(ctx, async () => undefined);
      expect(ctx.vars.get('keystone')).toMatchObject({ userStatus: 'Confirmed' });
    }
    expect(stub.requests).toHaveLength(0);
    expect(auth.tokens.stats.parses).toBe(1);
  });
});

/** A self-signed certificate for 127.0.0.1 (server) and one for a client, made with openssl. */
function makeCerts(dir: string): { key: Buffer; cert: Buffer; clientKey: string; clientCert: string; ca: string } | string {
  const run = (args: string[]) => spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  const server = run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=stub-keystone', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', 'key.pem', '-out', 'cert.pem']);
  if (server.error) return `openssl is not available: ${server.error.message}`;
  if (server.status !== 0) throw new Error(server.stderr);
  const client = run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=sluice-client', '-keyout', 'client-key.pem', '-out', 'client-cert.pem']);
  if (client.status !== 0) throw new Error(client.stderr);
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')), ca: join(dir, 'cert.pem'), clientKey: join(dir, 'client-key.pem'), clientCert: join(dir, 'client-cert.pem') };
}

describe('HTTPS Keystone: cafile, insecure, certfile and keyfile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authtoken-tls-'));
  const certs = makeCerts(dir);
  const stub = new StubKeystone();
  const clients: IdentityClient[] = [];
  beforeAll(async () => {
    if (typeof certs !== 'string') await stub.start({ key: certs.key, cert: certs.cert });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    if (typeof certs !== 'string') await stub.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  if (typeof certs === 'string') {
    it.skip(`skipped: ${certs}`, () => undefined);
    return;
  }

  function validate(extra: Record<string, string>) {
    const cfg = parseAuthTokenConfig({ ...BASE, auth_url: stub.url, username: STUB_SERVICE.username, password: STUB_SERVICE.password, ...extra });
    const c = new IdentityClient({ v3Url: cfg.identityV3Url, credentials: cfg.credentials, timeout: 2, maxRetries: 2, tls: cfg.tls });
    clients.push(c);
    return c.validate('gAAAAAtls', { allowExpired: false, includeCatalog: false });
  }

  it('an untrusted certificate is unavailable (and not retried); cafile or insecure make it work; certfile/keyfile are presented', async () => {
    stub.tokens.set('gAAAAAtls', { userId: 'tls-user' });
    stub.reset();
    const t0 = Date.now();
    const untrusted = await validate({});
    expect(Date.now() - t0).toBeLessThan(450); // no retry (its first pause alone is 500 ms)
    expect(untrusted.kind).toBe('unavailable');
    expect(untrusted.kind === 'unavailable' && untrusted.reason).toMatch(/SELF_SIGNED|CERT|certificate/i);
    expect(stub.requests).toHaveLength(0);
    expect((await validate({ cafile: certs.ca })).kind).toBe('valid');
    expect((await validate({ insecure: 'true' })).kind).toBe('valid');
    stub.reset();
    expect((await validate({ cafile: certs.ca, certfile: certs.clientCert, keyfile: certs.clientKey })).kind).toBe('valid');
    expect(stub.requests.map((r) => r.clientCert)).toEqual(['sluice-client', 'sluice-client']);
  });
});
