/**
 * authtoken against the real Keystone (scripts/keystone/keystone.sh) with the fixtures' service
 * credentials: what it hands downstream for real tokens (ids, names, domains, implied roles,
 * X-Is-Admin-Project, the catalog), garbage and revoked tokens, service tokens with and without
 * the service role, an application credential as the service's credentials, and a wrong service
 * password. Skipped, with the reason, when no Keystone is reachable; required under CI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import { startCluster, type TestCluster } from '../../../src/testing/index';
import { findKeystone, issueToken, passwordAuth, type KeystoneFixtures } from '../../keystone/fixtures';
import { authtokenProxyConf, capturingLogger, echo, SPOOFED, spoofedSeen } from './helpers';
import { AUTH_HEADERS, UNAUTHORIZED_BODY, UNAVAILABLE_BODY } from '../../../src/middleware/authtoken/index';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ORACLE = fileURLToPath(new URL('./auth_token_oracle.py', import.meta.url));

interface OracleCase {
  method?: string;
  headers: Record<string, string>;
}
interface OracleResult {
  status: number;
  headers: Record<string, string> | null;
  www_authenticate: string | null;
}

/** keystonemiddleware's own auth_token (Debian's, which python3-keystone brings) deciding the same cases. */
function oracle(conf: Record<string, string>, cases: OracleCase[]): OracleResult[] {
  const run = spawnSync('/usr/bin/python3', [ORACLE], { input: JSON.stringify({ conf, cases }), encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`auth_token_oracle.py failed (${run.status}): ${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout) as OracleResult[];
}

const ks = await findKeystone();

if (!ks.ok) {
  describe('authtoken with a real Keystone', () => {
    it.skip(`skipped: ${ks.reason}`, () => undefined);
  });
}

/** Keystone's default implied roles: admin ⇒ member ⇒ reader. */
const IMPLIED: Record<string, string[]> = { admin: ['member', 'reader'], member: ['reader'] };

describe.skipIf(!ks.ok)('authtoken with a real Keystone', () => {
  const f = (ks as { fixtures: KeystoneFixtures }).fixtures;
  const clusters: TestCluster[] = [];
  const tokens = new Map<string, Promise<string>>();

  function serviceOptions(extra: Record<string, string> = {}): Record<string, string> {
    return { ...f.authtoken, ...extra };
  }
  async function cluster(options: Record<string, string>, logger?: Logger): Promise<TestCluster> {
    const c = await startCluster({ proxyConfig: authtokenProxyConf(options), logger });
    clusters.push(c);
    return c;
  }
  /** A project-scoped token of a fixture user (one per user per file). */
  function token(user: string): Promise<string> {
    let t = tokens.get(user);
    if (!t) {
      t = issueToken(f.keystone.v3_url, passwordAuth(f.users[user]!)).then((r) => r.token);
      tokens.set(user, t);
    }
    return t;
  }
  function expectedRoles(user: string): string[] {
    const roles = new Set<string>();
    for (const r of f.users[user]!.roles) {
      roles.add(r);
      for (const implied of IMPLIED[r] ?? []) roles.add(implied);
    }
    return [...roles].sort();
  }

  let strict: TestCluster;
  let delayed: TestCluster;
  beforeAll(async () => {
    strict = await cluster(serviceOptions({ service_token_roles_required: 'false' }));
    delayed = await cluster(serviceOptions({ delay_auth_decision: 'true', service_token_roles_required: 'true', include_service_catalog: 'false', auth_url: f.keystone.v3_url }));
  }, 60_000);

  afterAll(async () => {
    for (const c of clusters) await c.stop();
  });

  it('fixture users: Confirmed with their ids, names, domains, roles (implied included) and X-Is-Admin-Project', async () => {
    for (const name of ['operator-a', 'member-a', 'admin', 'user-d2']) {
      const u = f.users[name]!;
      const r = await echo(strict.url, 'GET', `/v1/AUTH_${u.project_id}`, { ...SPOOFED, 'X-Auth-Token': await token(name) });
      expect(r.status, name).toBe(200);
      const h = r.echo!.headers;
      expect(spoofedSeen(r.echo!), name).toEqual([]);
      expect(h, name).toMatchObject({
        'x-identity-status': 'Confirmed',
        'x-user-id': u.id,
        'x-user-name': u.name,
        'x-user-domain-id': u.domain_id,
        'x-user-domain-name': u.domain_name,
        'x-project-id': u.project_id,
        'x-project-name': u.project,
        'x-project-domain-id': u.project_domain_id,
        'x-project-domain-name': u.project_domain_name,
        'x-tenant-id': u.project_id,
        'x-user': u.name,
        // Keystone's admin project is `admin`: only tokens scoped to it say True.
        'x-is-admin-project': name === 'admin' ? 'True' : 'False',
      });
      expect(h['x-roles']!.split(',').sort(), name).toEqual(expectedRoles(name));
      expect(h['x-role']).toBe(h['x-roles']);
      expect(h['x-domain-id']).toBeUndefined();
      const catalog = JSON.parse(h['x-service-catalog']!) as { type: string; endpoints: Record<string, string>[] }[];
      const store = catalog.find((s) => s.type === 'object-store')!;
      expect(store.endpoints[0]).toMatchObject({ region: f.keystone.region, publicURL: f.object_store.url_template.replace('%(project_id)s', u.project_id) });
      expect(r.echo!.keystone).toMatchObject({
        userStatus: 'Confirmed',
        user: { userId: u.id, userName: u.name, userDomainId: u.domain_id, projectId: u.project_id, isAdminProject: name === 'admin' },
      });
    }
  });

  it('a garbage token: 401 (not delayed) or Invalid (delayed)', async () => {
    const r = await echo(strict.url, 'GET', '/v1/AUTH_x', { 'X-Auth-Token': 'gAAAAABgarbage-garbage-garbage' });
    expect(r.status).toBe(401);
    expect(r.text).toBe(UNAUTHORIZED_BODY);
    expect(r.headers['www-authenticate']).toBe(`Keystone uri="${f.authtoken.www_authenticate_uri}"`);
    const d = await echo(delayed.url, 'GET', '/v1/AUTH_x', { ...SPOOFED, 'X-Auth-Token': 'gAAAAABgarbage-garbage-garbage' });
    expect(d.status).toBe(200);
    expect(d.echo!.headers['x-identity-status']).toBe('Invalid');
    expect(spoofedSeen(d.echo!)).toEqual([]);
    expect(d.echo!.keystone).toEqual({ userStatus: 'Invalid' });
  });

  it('a token revoked (DELETE /v3/auth/tokens) before its first use is invalid', async () => {
    const { token: t } = await issueToken(f.keystone.v3_url, passwordAuth(f.users['operator-b']!));
    const del = await fetch(`${f.keystone.v3_url}/auth/tokens`, { method: 'DELETE', headers: { 'x-auth-token': t, 'x-subject-token': t } });
    expect(del.status).toBe(204);
    expect((await echo(strict.url, 'GET', '/v1/AUTH_x', { 'X-Auth-Token': t })).status).toBe(401);
    const d = await echo(delayed.url, 'GET', '/v1/AUTH_x', { 'X-Auth-Token': t });
    expect(d.echo!.headers['x-identity-status']).toBe('Invalid');
  });

  it('service tokens: sluice (service role) and member-a (none) with service_token_roles_required true and false', async () => {
    const user = await token('operator-a');
    const svc = await token('sluice');
    const notSvc = await token('member-a');
    // required = true (delayed cluster): the role decides.
    const good = await echo(delayed.url, 'GET', '/v1/AUTH_x', { ...SPOOFED, 'X-Auth-Token': user, 'X-Service-Token': svc });
    expect(spoofedSeen(good.echo!)).toEqual([]);
    expect(good.echo!.headers).toMatchObject({
      'x-identity-status': 'Confirmed',
      'x-service-identity-status': 'Confirmed',
      'x-service-user-id': f.users.sluice!.id,
      'x-service-user-name': 'sluice',
      'x-service-project-id': f.users.sluice!.project_id,
      'x-service-project-name': 'service',
      'x-user-id': f.users['operator-a']!.id,
    });
    expect(good.echo!.headers['x-service-roles']!.split(',').sort()).toEqual(expectedRoles('sluice'));
    expect(good.echo!.keystone).toMatchObject({ serviceStatus: 'Confirmed', service: { userId: f.users.sluice!.id } });
    const bad = await echo(delayed.url, 'GET', '/v1/AUTH_x', { 'X-Auth-Token': user, 'X-Service-Token': notSvc });
    expect(bad.echo!.headers['x-service-identity-status']).toBe('Invalid');
    expect(bad.echo!.headers['x-service-user-id']).toBeUndefined();
    expect(bad.echo!.headers['x-identity-status']).toBe('Confirmed');
    expect(bad.echo!.keystone).toMatchObject({ userStatus: 'Confirmed', serviceStatus: 'Invalid' });
    expect(bad.echo!.keystone!.service).toBeUndefined();
    // required = false (not delayed): any valid token is a Confirmed service token...
    const lax = await echo(strict.url, 'GET', '/v1/AUTH_x', { 'X-Auth-Token': user, 'X-Service-Token': notSvc });
    expect(lax.status).toBe(200);
    expect(lax.echo!.headers['x-service-identity-status']).toBe('Confirmed');
    expect(lax.echo!.headers['x-service-user-id']).toBe(f.users['member-a']!.id);
    // ...and an invalid one is still a 401.
    expect((await echo(strict.url, 'GET', '/v1/AUTH_x', { 'X-Auth-Token': user, 'X-Service-Token': 'gAAAAABnot-a-token' })).status).toBe(401);
  });

  it('the service authenticating with an application credential (v3applicationcredential)', async () => {
    const ac = f.application_credentials['operator-a']!;
    const c = await cluster({
      auth_url: f.authtoken.auth_url,
      www_authenticate_uri: f.authtoken.www_authenticate_uri,
      auth_type: 'v3applicationcredential',
      application_credential_id: ac.id,
      application_credential_secret: ac.secret,
      delay_auth_decision: 'true',
    });
    // Keystone lets a token's own user validate it (identity:validate_token's token_subject)...
    const own = await echo(c.url, 'GET', '/v1/AUTH_x', { 'X-Auth-Token': await token('operator-a') });
    expect(own.echo!.headers['x-user-id']).toBe(ac.user_id);
    // ...but not another user's without the service role: 403, so Keystone is of no use, 503.
    const other = await echo(c.url, 'GET', '/v1/AUTH_x', { 'X-Auth-Token': await token('member-a') });
    expect(other.status).toBe(503);
  });

  it('decides and hands downstream exactly what keystonemiddleware does (differential, both modes)', async () => {
    const user = (name: string) => token(name);
    const cases: OracleCase[] = [
      { headers: {} },
      { headers: { ...SPOOFED } },
      { headers: { 'X-Auth-Token': 'gAAAAABgarbage' } },
      { method: 'HEAD', headers: { 'X-Auth-Token': 'gAAAAABgarbage' } },
    ];
    for (const name of ['operator-a', 'member-a', 'reader-a', 'admin', 'reseller', 'user-d2', 'sluice']) cases.push({ headers: { ...SPOOFED, 'X-Auth-Token': await user(name) } });
    cases.push({ headers: { 'X-Storage-Token': await user('operator-b') } });
    // Unscoped and system-scoped tokens: no project headers; OpenStack-System-Scope for the latter.
    const admin = f.users.admin!;
    const identityOf = (u: typeof admin) => ({ methods: ['password'], password: { user: { id: u.id, password: u.password } } });
    const unscoped = (await issueToken(f.keystone.v3_url, passwordAuth(f.users['operator-a']!, 'unscoped'))).token;
    const system = (await issueToken(f.keystone.v3_url, { auth: { identity: identityOf(admin), scope: { system: { all: true } } } })).token;
    cases.push({ headers: { ...SPOOFED, 'X-Auth-Token': unscoped } }, { headers: { 'X-Auth-Token': system } }, { headers: { 'X-Auth-Token': system, 'X-Service-Token': await user('sluice') } });
    for (const svc of ['sluice', 'other-service', 'member-a']) {
      cases.push({ headers: { ...SPOOFED, 'X-Auth-Token': await user('operator-a'), 'X-Service-Token': await user(svc) } });
      cases.push({ headers: { 'X-Auth-Token': 'gAAAAABgarbage', 'X-Service-Token': await user(svc) } });
    }
    cases.push({ headers: { 'X-Auth-Token': await user('operator-a'), 'X-Service-Token': 'gAAAAABgarbage' } });
    cases.push({ headers: { 'X-Service-Token': await user('sluice') } });
    const identity = new Set(AUTH_HEADERS);
    for (const [c, conf] of [
      [strict, serviceOptions({ service_token_roles_required: 'false' })],
      [delayed, serviceOptions({ delay_auth_decision: 'true', service_token_roles_required: 'true', include_service_catalog: 'false' })],
    ] as const) {
      const expected = oracle(conf, cases);
      for (const [i, kase] of cases.entries()) {
        const got = await echo(c.url, kase.method ?? 'GET', '/v1/AUTH_x', kase.headers);
        const want = expected[i]!;
        const label = `case ${i} (${Object.keys(kase.headers).filter((h) => !(h in SPOOFED)).join(', ') || 'no token'}), delay_auth_decision = ${conf.delay_auth_decision ?? 'false'}`;
        expect(got.status, label).toBe(want.status);
        if (want.status === 401) expect(got.headers['www-authenticate'], label).toBe(want.www_authenticate);
        if (want.headers) {
          // The one deliberate difference: keystonemiddleware leaves a client's
          // OpenStack-System-Scope in place (remove_auth_headers misses it); sluice removes it.
          if (kase.headers['OpenStack-System-Scope'] !== undefined && want.headers['openstack-system-scope'] === kase.headers['OpenStack-System-Scope']) delete want.headers['openstack-system-scope'];
          const seen = Object.fromEntries(Object.entries(got.echo!.headers).filter(([k]) => identity.has(k)));
          expect(seen, label).toEqual(want.headers);
        }
      }
    }
  }, 60_000);

  it('a wrong service password: 503 with one log line, never the password', async () => {
    const log = capturingLogger();
    const wrong = `wrong-${Math.random().toString(36).slice(2)}`;
    const c = await cluster(serviceOptions({ password: wrong }), log.logger);
    const user = await token('operator-a');
    for (let i = 0; i < 3; i++) {
      const r = await echo(c.url, 'GET', '/v1/AUTH_x', { 'X-Auth-Token': user });
      expect(r.status).toBe(503);
      expect(r.text).toBe(UNAVAILABLE_BODY);
    }
    // No token: Keystone is not needed, a plain 401.
    expect((await echo(c.url, 'GET', '/v1/AUTH_x')).status).toBe(401);
    const errors = log.lines.filter((l) => l.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toContain('Keystone answered 401 to the service');
    expect(errors[0]!.msg).toContain(f.authtoken.username);
    expect(log.raw()).not.toContain(wrong);
    expect(log.raw()).not.toContain(user);
  });
});
