/**
 * authtoken in whole pipelines against a stub Keystone (test/middleware/authtoken/stub-keystone.ts)
 * for what a real Keystone cannot do on demand: failing, rejecting the service's token,
 * hanging, dropping connections; and with every Keystone request counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { startCluster, type TestCluster } from '../../../src/testing/index';
import { authtokenProxyConf, capturingLogger, echo, SPOOFED, spoofedSeen, type LogLine } from './helpers';
import { STUB_SERVICE, StubKeystone } from './stub-keystone';
import { UNAUTHORIZED_BODY, UNAVAILABLE_BODY } from '../../../src/middleware/authtoken/index';

const WWW = 'http://keystone.example.com:5000';

function serviceOptions(stub: StubKeystone): Record<string, string> {
  return {
    auth_url: stub.url,
    www_authenticate_uri: WWW,
    auth_type: 'password',
    username: STUB_SERVICE.username,
    password: STUB_SERVICE.password,
    user_domain_id: 'default',
    project_name: STUB_SERVICE.project,
    project_domain_id: 'default',
    service_token_roles_required: 'true',
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

let seq = 0;
/** A fresh user token the stub accepts. */
function addToken(stub: StubKeystone, t: Parameters<StubKeystone['tokens']['set']>[1] = {}): string {
  const token = `gAAAAAuser${++seq}-${Math.random().toString(36).slice(2)}`;
  stub.tokens.set(token, t);
  return token;
}

const stub = new StubKeystone();
const clusters: TestCluster[] = [];
async function cluster(options: Record<string, string | number>, logger?: import('pino').Logger): Promise<TestCluster> {
  const c = await startCluster({ proxyConfig: authtokenProxyConf(options), logger });
  clusters.push(c);
  return c;
}

beforeAll(async () => {
  await stub.start();
});

afterAll(async () => {
  for (const c of clusters) await c.stop();
  await stub.stop();
});

describe('not delayed (delay_auth_decision = false)', () => {
  let c: TestCluster;
  const log = capturingLogger();
  beforeAll(async () => {
    c = await cluster({ ...serviceOptions(stub), http_request_max_retries: 1, http_connect_timeout: 1 }, log.logger);
  }, 60_000);

  it('no token: 401 with keystonemiddleware body and challenge, no Keystone call; HEAD has no body', async () => {
    stub.reset();
    const r = await echo(c.url, 'GET', '/v1/AUTH_p1');
    expect(r.status).toBe(401);
    expect(r.text).toBe(UNAUTHORIZED_BODY);
    expect(JSON.parse(r.text)).toEqual({ error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
    expect(r.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(r.headers['www-authenticate']).toBe(`Keystone uri="${WWW}"`);
    const head = await echo(c.url, 'HEAD', '/v1/AUTH_p1');
    expect(head.status).toBe(401);
    expect(head.raw.length).toBe(0);
    expect(head.headers['www-authenticate']).toBe(`Keystone uri="${WWW}"`);
    expect(stub.requests).toHaveLength(0);
  });

  it('a valid token: Confirmed, keystonemiddleware headers and the keystone variable', async () => {
    const token = addToken(stub, { userId: 'uid-1', userName: 'alice', projectId: 'pid-1', projectName: 'proj-1', roles: ['member', 'reader'] });
    stub.reset();
    const r = await echo(c.url, 'GET', '/v1/AUTH_pid-1', { 'X-Auth-Token': token });
    expect(r.status).toBe(200);
    const h = r.echo!.headers;
    expect(h).toMatchObject({
      'x-identity-status': 'Confirmed',
      'x-user-id': 'uid-1',
      'x-user-name': 'alice',
      'x-user-domain-id': 'default',
      'x-user-domain-name': 'Default',
      'x-project-id': 'pid-1',
      'x-project-name': 'proj-1',
      'x-project-domain-id': 'default',
      'x-project-domain-name': 'Default',
      'x-roles': 'member,reader',
      'x-is-admin-project': 'True',
      'x-role': 'member,reader',
      'x-user': 'alice',
      'x-tenant-id': 'pid-1',
      'x-tenant-name': 'proj-1',
      'x-tenant': 'proj-1',
    });
    // A project token has no domain scope; no service token, no service status.
    for (const absent of ['x-domain-id', 'x-domain-name', 'x-service-identity-status', 'x-service-roles', 'openstack-system-scope']) expect(h[absent], absent).toBeUndefined();
    expect(h['x-service-catalog']).toBe(
      '[{"type": "object-store", "name": "swift", "endpoints": [{"region": "RegionOne", "publicURL": "http://127.0.0.1:8080/v1/AUTH_p1", "internalURL": "http://10.0.0.1:8080/v1/AUTH_p1"}]}]',
    );
    expect(r.echo!.keystone).toMatchObject({
      userStatus: 'Confirmed',
      user: { userId: 'uid-1', userName: 'alice', projectId: 'pid-1', roles: ['member', 'reader'], isAdminProject: true, userDomainId: 'default' },
    });
    expect(r.echo!.keystone!.service).toBeUndefined();
    // One service authentication (without catalog) and one validation (with it).
    expect(stub.count('POST')).toBeLessThanOrEqual(1);
    const validations = stub.requests.filter((q) => q.method === 'GET');
    expect(validations).toHaveLength(1);
    expect(validations[0]!.url).toBe('/v3/auth/tokens');
    expect(validations[0]!.headers['x-subject-token']).toBe(token);
    expect(String(validations[0]!.headers['x-auth-token'])).toMatch(/^svc-token-/);
    for (const post of stub.requests.filter((q) => q.method === 'POST')) expect(post.url).toBe('/v3/auth/tokens?nocatalog');
  });

  it('X-Storage-Token counts as the user token, whitespace stripped; X-Auth-Token wins', async () => {
    const token = addToken(stub, { userId: 'uid-st' });
    const r = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Storage-Token': `  ${token} ` });
    expect(r.echo?.headers['x-user-id']).toBe('uid-st');
    const both = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': 'not-a-token', 'X-Storage-Token': token });
    expect(both.status).toBe(401);
  });

  it('the cache: a second request with the same token makes no Keystone call', async () => {
    const token = addToken(stub, { userId: 'uid-cache' });
    await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': token });
    stub.reset();
    for (let i = 0; i < 5; i++) {
      const r = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': token });
      expect(r.echo?.headers['x-user-id']).toBe('uid-cache');
    }
    expect(stub.requests).toHaveLength(0);
    // Revoked in Keystone but cached: still valid until token_cache_time (keystonemiddleware's trade-off).
    stub.tokens.delete(token);
    expect((await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': token })).status).toBe(200);
  });

  it('an invalid token: 401, then remembered briefly (no second Keystone call)', async () => {
    stub.reset();
    const bad = `gAAAAAbad-${Math.random()}`;
    const r1 = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': bad });
    expect(r1.status).toBe(401);
    expect(r1.text).toBe(UNAUTHORIZED_BODY);
    expect(stub.count('GET')).toBe(1);
    const r2 = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': bad });
    expect(r2.status).toBe(401);
    expect(stub.count('GET')).toBe(1);
  });

  it('a token no Keystone could have issued is invalid without asking Keystone', async () => {
    stub.reset();
    for (const t of ['tok en', 'caf\u00e9']) {
      const r = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': Buffer.from(t, 'utf8').toString('latin1') });
      expect(r.status, t.slice(0, 10)).toBe(401);
    }
    // A token longer than any Keystone issues: the front door refuses its header line (as
    // eventlet does) before authtoken sees it.
    expect((await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': 'x'.repeat(9000) })).status).toBe(400);
    expect(stub.requests).toHaveLength(0);
  });

  it('a 401 from downstream gets the Keystone challenge appended', async () => {
    const token = addToken(stub);
    const r = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': token, 'X-Echo-Status': '401' });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe(`Keystone uri="${WWW}"`);
    const ok = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': token, 'X-Echo-Status': '403' });
    expect(ok.status).toBe(403);
    expect(ok.headers['www-authenticate']).toBeUndefined();
  });

  it('spoofed identity headers never reach downstream with a valid token', async () => {
    const token = addToken(stub, { userId: 'real-user', roles: ['member'] });
    const r = await echo(c.url, 'GET', '/v1/AUTH_p1', { ...SPOOFED, 'X-Auth-Token': token });
    expect(r.status).toBe(200);
    expect(spoofedSeen(r.echo!)).toEqual([]);
    expect(r.echo!.headers['x-roles']).toBe('member');
    expect(r.echo!.headers['x-user-id']).toBe('real-user');
    expect(r.echo!.headers['x-service-identity-status']).toBeUndefined();
    expect(r.echo!.headers['x-service-roles']).toBeUndefined();
    expect(r.echo!.headers['openstack-system-scope']).toBeUndefined();
    expect(r.echo!.headers['x-service-catalog']).not.toContain('spoofed');
  });

  it('Keystone answering 500 or 403 to a validation: 503, plain text, never cached', async () => {
    for (const status of [500, 403, 400]) {
      const token = addToken(stub);
      stub.reset();
      stub.validateOverride = () => status;
      const r = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': token });
      expect(r.status, String(status)).toBe(503);
      expect(r.text).toBe(UNAVAILABLE_BODY);
      expect(r.headers['content-type']).toBe('text/plain; charset=UTF-8');
      expect(r.headers['www-authenticate']).toBeUndefined();
      expect(stub.count('GET')).toBe(1);
      stub.validateOverride = () => undefined;
      expect((await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': token })).status).toBe(200);
    }
  });

  it('Keystone forgetting the service token (401): one re-authentication, then the retry succeeds', async () => {
    const token = addToken(stub, { userId: 'after-reauth' });
    await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': addToken(stub) }); // a service token is in use
    stub.revokeServiceTokens();
    stub.reset();
    const r = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': token });
    expect(r.status).toBe(200);
    expect(r.echo!.headers['x-user-id']).toBe('after-reauth');
    expect(stub.requests.map((q) => q.method)).toEqual(['GET', 'POST', 'GET']);
    expect(stub.requests[0]!.headers['x-auth-token']).not.toBe(stub.requests[2]!.headers['x-auth-token']);
  });

  it('401 on every validation: one re-authentication and one retry, then 503', async () => {
    const token = addToken(stub);
    stub.reset();
    stub.validateOverride = () => 401;
    try {
      const r = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': token });
      expect(r.status).toBe(503);
      expect(stub.requests.map((q) => q.method)).toEqual(['GET', 'POST', 'GET']);
    } finally {
      stub.validateOverride = () => undefined;
    }
  });

  it('dropped connections are retried http_request_max_retries times, then 503', async () => {
    const token = addToken(stub);
    await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': addToken(stub) }); // service token in hand
    stub.reset();
    stub.validateOverride = () => 'drop';
    try {
      const r = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': token });
      expect(r.status).toBe(503);
      expect(stub.count('GET')).toBe(2);
    } finally {
      stub.validateOverride = () => undefined;
    }
    // One drop, then an answer: the retry gets it.
    stub.reset();
    let first = -1;
    stub.validateOverride = (i) => {
      if (first < 0) first = i;
      return i === first ? 'drop' : undefined;
    };
    try {
      expect((await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': token })).status).toBe(200);
      expect(stub.count('GET')).toBe(2);
    } finally {
      stub.validateOverride = () => undefined;
    }
  });

  it('a Keystone that never answers: 503 after http_connect_timeout (with the retry)', async () => {
    const token = addToken(stub);
    stub.validateOverride = () => 'hang';
    const t0 = Date.now();
    try {
      const r = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': token });
      expect(r.status).toBe(503);
    } finally {
      stub.validateOverride = () => undefined;
    }
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(2000); // 1 s, 0.5 s pause, 1 s
    expect(took).toBeLessThan(10_000);
  });

  it('service tokens: role check with service_token_roles_required = true, allow_expired for the user token', async () => {
    const svc = addToken(stub, { userId: 'svc-user', userName: 'nova', projectId: 'svc-proj', roles: ['service'] });
    const notSvc = addToken(stub, { userId: 'plain-user', roles: ['member'] });
    const user = addToken(stub, { userId: 'end-user', roles: ['member'] });
    const expiredUser = addToken(stub, { userId: 'expired-user', roles: ['member'], expiresIn: -60 });

    const ok = await echo(c.url, 'GET', '/v1/AUTH_p1', { ...SPOOFED, 'X-Auth-Token': user, 'X-Service-Token': svc });
    expect(ok.status).toBe(200);
    expect(spoofedSeen(ok.echo!)).toEqual([]);
    expect(ok.echo!.headers).toMatchObject({
      'x-identity-status': 'Confirmed',
      'x-service-identity-status': 'Confirmed',
      'x-user-id': 'end-user',
      'x-service-user-id': 'svc-user',
      'x-service-user-name': 'nova',
      'x-service-project-id': 'svc-proj',
      'x-service-roles': 'service',
    });
    expect(ok.echo!.keystone).toMatchObject({ userStatus: 'Confirmed', serviceStatus: 'Confirmed', service: { userId: 'svc-user' }, user: { userId: 'end-user' } });

    // Without the role the service token is Invalid: 401.
    const noRole = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': user, 'X-Service-Token': notSvc });
    expect(noRole.status).toBe(401);
    const garbage = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': user, 'X-Service-Token': 'gAAAAAnot-a-service-token' });
    expect(garbage.status).toBe(401);

    // An expired user token: only with a service token that passed the role check (allow_expired).
    expect((await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': expiredUser })).status).toBe(401);
    stub.reset();
    const withSvc = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': expiredUser, 'X-Service-Token': svc });
    expect(withSvc.status).toBe(200);
    expect(withSvc.echo!.headers['x-user-id']).toBe('expired-user');
    expect(stub.requests.filter((q) => q.method === 'GET').map((q) => q.url)).toEqual(['/v3/auth/tokens?allow_expired=1']);
    expect((await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': expiredUser, 'X-Service-Token': notSvc })).status).toBe(401);
  });

  it('Keystone unavailable for the service token: 503', async () => {
    const svc = addToken(stub, { roles: ['service'] });
    stub.validateOverride = () => 500;
    try {
      expect((await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': addToken(stub), 'X-Service-Token': svc })).status).toBe(503);
    } finally {
      stub.validateOverride = () => undefined;
    }
  });

  it('logs Keystone being unavailable at most once a minute, at error level, never a token', () => {
    const errors = log.lines.filter((l: LogLine) => l.level >= 50);
    expect(errors.length).toBe(1);
    expect(errors[0]!.msg).toMatch(/^authtoken: Keystone is unavailable: /);
    expect(log.raw()).not.toContain('gAAAAA');
    expect(log.raw()).not.toContain('svc-token-');
    expect(log.raw()).not.toContain(STUB_SERVICE.password);
  });
});

describe('delayed (delay_auth_decision = true)', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await cluster({ ...serviceOptions(stub), delay_auth_decision: 'true', service_token_roles_required: 'false', include_service_catalog: 'false' });
  }, 60_000);

  it('spoofed headers without a token, with an invalid one and with a valid one never reach downstream', async () => {
    const none = await echo(c.url, 'GET', '/v1/AUTH_p1', SPOOFED);
    expect(none.status).toBe(200);
    expect(spoofedSeen(none.echo!)).toEqual([]);
    expect(none.echo!.headers['x-identity-status']).toBe('Invalid');
    expect(none.echo!.headers['x-roles']).toBeUndefined();
    expect(none.echo!.headers['x-user-id']).toBeUndefined();
    expect(none.echo!.headers['x-service-identity-status']).toBeUndefined();
    expect(none.echo!.keystone).toEqual({ userStatus: 'Invalid' });

    const invalid = await echo(c.url, 'GET', '/v1/AUTH_p1', { ...SPOOFED, 'X-Auth-Token': 'gAAAAAinvalid', 'X-Service-Token': 'gAAAAAinvalid-svc' });
    expect(invalid.status).toBe(200);
    expect(spoofedSeen(invalid.echo!)).toEqual([]);
    expect(invalid.echo!.headers['x-identity-status']).toBe('Invalid');
    expect(invalid.echo!.headers['x-service-identity-status']).toBe('Invalid');
    expect(invalid.echo!.headers['x-roles']).toBeUndefined();
    expect(invalid.echo!.headers['x-service-roles']).toBeUndefined();
    expect(invalid.echo!.keystone).toEqual({ userStatus: 'Invalid', serviceStatus: 'Invalid' });

    const token = addToken(stub, { userId: 'delayed-user', roles: ['reader'] });
    const valid = await echo(c.url, 'GET', '/v1/AUTH_p1', { ...SPOOFED, 'X-Auth-Token': token });
    expect(spoofedSeen(valid.echo!)).toEqual([]);
    expect(valid.echo!.headers['x-identity-status']).toBe('Confirmed');
    expect(valid.echo!.headers['x-roles']).toBe('reader');
    // include_service_catalog = false: validated without a catalog, and no header.
    expect(valid.echo!.headers['x-service-catalog']).toBeUndefined();
  });

  it('a service token without the role is Confirmed when service_token_roles_required = false, but gives no allow_expired', async () => {
    const notSvc = addToken(stub, { userId: 'plain', roles: ['member'] });
    const user = addToken(stub, { userId: 'u-ok' });
    const r = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': user, 'X-Service-Token': notSvc });
    expect(r.echo!.headers['x-service-identity-status']).toBe('Confirmed');
    expect(r.echo!.headers['x-service-user-id']).toBe('plain');
    const expired = addToken(stub, { userId: 'u-exp', expiresIn: -10 });
    stub.reset();
    const e = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': expired, 'X-Service-Token': notSvc });
    expect(e.echo!.headers['x-identity-status']).toBe('Invalid');
    expect(stub.requests.every((q) => !q.url.includes('allow_expired'))).toBe(true);
  });

  it('Keystone unavailable with a token presented: 503 in delayed mode too (sluice deviates to the safe side)', async () => {
    stub.validateOverride = () => 503;
    try {
      const r = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': addToken(stub) });
      expect(r.status).toBe(503);
      expect(r.text).toBe(UNAVAILABLE_BODY);
      // Without a token Keystone is not needed: the request goes on, Invalid.
      expect((await echo(c.url, 'GET', '/v1/AUTH_p1')).status).toBe(200);
    } finally {
      stub.validateOverride = () => undefined;
    }
  });
});

describe('Keystone down, token_cache_time = -1, single flight, wrong service password', () => {
  it('Keystone refusing connections: 503 in both modes, with one error line', async () => {
    const port = await closedPort();
    for (const delay of ['false', 'true']) {
      const log = capturingLogger();
      const c = await cluster({ ...serviceOptions(stub), auth_url: `http://127.0.0.1:${port}`, delay_auth_decision: delay, http_request_max_retries: 0 }, log.logger);
      for (let i = 0; i < 3; i++) {
        const r = await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': 'gAAAAAsome-token' });
        expect(r.status, `delay_auth_decision = ${delay}`).toBe(503);
        expect(r.text).toBe(UNAVAILABLE_BODY);
      }
      const errors = log.lines.filter((l) => l.level >= 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.msg).toContain('ECONNREFUSED');
      expect(log.raw()).not.toContain('gAAAAAsome-token');
    }
  }, 60_000);

  it('a wrong service password: 503 with one log line naming the service user, never the password', async () => {
    const log = capturingLogger();
    const c = await cluster({ ...serviceOptions(stub), password: 'wrong-password-x' }, log.logger);
    stub.reset();
    for (let i = 0; i < 3; i++) expect((await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': addToken(stub) })).status).toBe(503);
    expect(stub.count('POST')).toBe(3);
    expect(stub.count('GET')).toBe(0);
    const errors = log.lines.filter((l) => l.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toContain('Keystone answered 401 to the service');
    expect(errors[0]!.msg).toContain('svc');
    expect(log.raw()).not.toContain('wrong-password-x');
  }, 60_000);

  it('token_cache_time = -1 caches nothing, valid or invalid; 20 concurrent requests share one service authentication', async () => {
    const c = await cluster({ ...serviceOptions(stub), token_cache_time: -1 });
    const tokens = Array.from({ length: 20 }, (_, i) => addToken(stub, { userId: `conc-${i}` }));
    stub.reset();
    const results = await Promise.all(tokens.map((t) => echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': t })));
    expect(results.map((r) => r.echo?.headers['x-user-id'])).toEqual(tokens.map((_, i) => `conc-${i}`));
    expect(stub.count('POST')).toBe(1);
    expect(stub.count('GET')).toBe(20);

    stub.reset();
    await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': tokens[0]! });
    await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': tokens[0]! });
    await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': 'gAAAAAbad' });
    await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': 'gAAAAAbad' });
    expect(stub.count('GET')).toBe(4);
  }, 60_000);

  it('concurrent requests with one new token share one validation', async () => {
    const c = await cluster(serviceOptions(stub));
    await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': addToken(stub) });
    const token = addToken(stub, { userId: 'shared' });
    stub.reset();
    const results = await Promise.all(Array.from({ length: 20 }, () => echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': token })));
    expect(results.every((r) => r.echo?.headers['x-user-id'] === 'shared')).toBe(true);
    expect(stub.count('GET')).toBe(1);
  }, 60_000);

  it('egg:keystonemiddleware#auth_token names the same filter', async () => {
    const c = await startCluster({ proxyConfig: authtokenProxyConf(serviceOptions(stub), { use: 'use = egg:keystonemiddleware#auth_token' }) });
    clusters.push(c);
    expect((await echo(c.url, 'GET', '/v1/AUTH_p1')).status).toBe(401);
    expect((await echo(c.url, 'GET', '/v1/AUTH_p1', { 'X-Auth-Token': addToken(stub) })).status).toBe(200);
  }, 60_000);
});

describe('the access log says why authtoken refused a request (never with the token)', () => {
  it('no token, an unknown token', async () => {
    const access = capturingLogger();
    const c = await startCluster({ proxyConfig: authtokenProxyConf(serviceOptions(stub)), accessLogger: access.logger });
    clusters.push(c);
    expect((await echo(c.url, 'GET', '/v1/AUTH_p1/none')).status).toBe(401);
    const bogus = 'gAAAAAnot-a-token-at-all';
    expect((await echo(c.url, 'GET', '/v1/AUTH_p1/bogus', { 'X-Auth-Token': bogus })).status).toBe(401);
    const authz = (path: string) => access.lines.find((l) => l.path === path)?.authz;
    expect(authz('/v1/AUTH_p1/none')).toBe('deny authtoken: no X-Auth-Token');
    expect(authz('/v1/AUTH_p1/bogus')).toBe('deny authtoken: the X-Auth-Token is not valid (unknown, expired or revoked)');
    expect(access.raw()).not.toContain(bogus);
  }, 60_000);
});
