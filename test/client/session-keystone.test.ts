/**
 * The Keystone v3 plugins through the Session: against the fake Keystone of sluice/testing (whose
 * catalogs, domain roles and token lifetimes a test can shape) and against the real Keystone
 * (findKeystone(); skipped with the reason outside CI). Every plugin, every scope, catalog
 * selection, one authentication for concurrent callers, expiry, and the redaction of the auth
 * request's secrets in the logger's lines.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKeystone, type FakeKeystone } from '../../src/testing/index';
import { findKeystone, issueToken, passwordAuth } from '../keystone/fixtures';
import {
  AuthenticationError,
  EndpointNotFoundError,
  Session,
  V3ApplicationCredential,
  V3Password,
  V3Token,
  ClientConfigError,
  type AuthPlugin,
} from '../../src/client/index';

const sha = (v: string) => `{SHA256}${createHash('sha256').update(v).digest('hex')}`;
const sessions: Session[] = [];

function session(auth: AuthPlugin, extra: Omit<ConstructorParameters<typeof Session>[0] & object, 'auth'> = {}): Session {
  const s = new Session({ auth, ...extra });
  sessions.push(s);
  return s;
}

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close()));
});

describe('the fake Keystone', () => {
  let ks: FakeKeystone;
  const SECRETS = { alice: 'alice-password-1', bob: 'bob-password-2', app: 'app-secret-3' };

  beforeAll(async () => {
    ks = await startFakeKeystone({
      domains: [{ name: 'dom2' }],
      projects: [{ name: 'p1' }, { name: 'p2', domain: 'dom2' }],
      users: [
        { name: 'alice', password: SECRETS.alice, roles: { p1: ['member'] }, domainRoles: { Default: ['admin'] }, defaultProject: 'p1' },
        { name: 'bob', domain: 'dom2', password: SECRETS.bob, roles: { 'dom2/p2': ['member'] } },
      ],
      applicationCredentials: [{ name: 'app', secret: SECRETS.app, user: 'alice', project: 'p1' }],
      catalog: [
        {
          type: 'object-store',
          name: 'swift',
          endpoints: [
            { interface: 'public', url: 'http://pub-one.example/v1/AUTH_%(project_id)s', region: 'RegionOne' },
            { interface: 'internal', url: 'http://int-one.example/v1/AUTH_%(project_id)s', region: 'RegionOne' },
            { interface: 'public', url: 'http://pub-two.example/v1/AUTH_%(project_id)s', region: 'RegionTwo' },
            { interface: 'admin', url: 'http://adm-two.example/v2/AUTH_%(project_id)s', region: 'RegionTwo' },
          ],
        },
        { type: 'compute', name: 'nova', endpoints: [{ interface: 'public', url: 'http://nova.example/v2.1' }] },
      ],
    });
  });

  afterAll(async () => {
    await ks?.stop();
  });

  const alice = (extra: Partial<ConstructorParameters<typeof V3Password>[0]> = {}) =>
    new V3Password({ authUrl: ks.url, username: 'alice', userDomainName: 'Default', password: SECRETS.alice, projectName: 'p1', projectDomainName: 'Default', ...extra });

  it('authenticates once for concurrent first requests of several Sessions sharing the plugin', async () => {
    ks.resetRequests();
    const auth = alice();
    const [a, b] = [session(auth), session(auth)];
    const results = await Promise.all([a.getEndpoint(), b.getEndpoint(), a.getToken(), b.getToken(), a.getEndpoint({ interface: 'internal' })]);
    const p1 = ks.ids.projects['p1']!;
    expect(results[0]).toBe(`http://pub-one.example/v1/AUTH_${p1}`);
    expect(results[1]).toBe(results[0]);
    expect(results[2]).toBe(results[3]);
    expect(results[4]).toBe(`http://int-one.example/v1/AUTH_${p1}`);
    expect(ks.requests['POST /v3/auth/tokens']).toBe(1);
  });

  it('selects endpoints by interface preference, region and version', async () => {
    const s = session(alice());
    const p1 = ks.ids.projects['p1']!;
    expect(await s.getEndpoint({ interface: ['internal', 'public'] })).toBe(`http://int-one.example/v1/AUTH_${p1}`);
    expect(await s.getEndpoint({ interface: ['admin', 'internal', 'public'] })).toBe(`http://adm-two.example/v2/AUTH_${p1}`);
    expect(await s.getEndpoint({ interface: ['admin', 'internal'], regionName: 'RegionOne' })).toBe(`http://int-one.example/v1/AUTH_${p1}`);
    expect(await s.getEndpoint({ interface: 'publicURL', regionName: 'RegionTwo' })).toBe(`http://pub-two.example/v1/AUTH_${p1}`);
    expect(await s.getEndpoint({ interface: ['public', 'admin'], version: '2' })).toBe(`http://adm-two.example/v2/AUTH_${p1}`);
    expect(await s.getEndpoint({ interface: ['admin', 'public'], maxVersion: '1.9' })).toBe(`http://pub-one.example/v1/AUTH_${p1}`);
    expect(await s.getEndpoint({ serviceType: 'compute', version: '2' })).toBe('http://nova.example/v2.1');
    await expect(s.getEndpoint({ version: '3' })).rejects.toBeInstanceOf(EndpointNotFoundError);
    await expect(s.getEndpoint({ interface: 'admin', regionName: 'RegionOne' })).rejects.toThrow(/no endpoint in the catalog for service type object-store, interface admin, region RegionOne/);
    await expect(s.getEndpoint({ version: '1', minVersion: '1' })).rejects.toBeInstanceOf(ClientConfigError);
  });

  it('scopes by project id, by project name in another domain, to a domain, and unscoped', async () => {
    const byId = await session(new V3Password({ authUrl: ks.v3Url, userId: ks.ids.users['alice']!, password: SECRETS.alice, projectId: ks.ids.projects['p1']! })).getAccess();
    expect((byId!.body!.project as { name: string }).name).toBe('p1');
    const bob = await session(new V3Password({ authUrl: ks.url, username: 'bob', userDomainId: ks.ids.domains['dom2']!, password: SECRETS.bob, projectName: 'p2', projectDomainName: 'dom2' })).getAccess();
    expect(bob!.body!.project).toMatchObject({ name: 'p2', domain: { name: 'dom2' } });
    const dom = session(alice({ projectName: undefined, projectDomainName: undefined, domainName: 'Default' }));
    expect((await dom.getAccess())!.body!.domain).toMatchObject({ id: 'default', name: 'Default' });
    const unscoped = session(alice({ projectName: undefined, projectDomainName: undefined, unscoped: true }));
    const u = await unscoped.getAccess();
    expect(u!.body!.project).toBeUndefined();
    expect(u!.catalog).toEqual([]);
    await expect(unscoped.getEndpoint()).rejects.toBeInstanceOf(EndpointNotFoundError);
    expect(() => alice({ domainName: 'Default' })).toThrow(ClientConfigError);
    expect(() => alice({ projectDomainName: undefined })).toThrow(/projectName needs projectDomainId or projectDomainName/);
  });

  it('V3Token rescopes an existing token; application credentials by id and by name', async () => {
    const unscoped = ks.issue({ user: 'alice', unscoped: true });
    const viaToken = await session(new V3Token({ authUrl: ks.url, token: unscoped.token, projectName: 'p1', projectDomainId: 'default' })).getAccess();
    expect((viaToken!.body!.project as { id: string }).id).toBe(ks.ids.projects['p1']);
    expect(viaToken!.body!.methods).toContain('token');
    const byId = session(new V3ApplicationCredential({ authUrl: ks.url, applicationCredentialId: ks.ids.applicationCredentials['app']!, applicationCredentialSecret: SECRETS.app }));
    expect(await byId.getEndpoint()).toBe(`http://pub-one.example/v1/AUTH_${ks.ids.projects['p1']}`);
    const byName = session(new V3ApplicationCredential({ authUrl: ks.url, applicationCredentialName: 'app', username: 'alice', userDomainName: 'Default', applicationCredentialSecret: SECRETS.app }));
    expect((await byName.getAccess())!.body!.application_credential).toMatchObject({ name: 'app' });
    expect(() => new V3ApplicationCredential({ authUrl: ks.url, applicationCredentialName: 'app', applicationCredentialSecret: 'x' })).toThrow(ClientConfigError);
  });

  it('refuses a wrong password, and an expired token, with an AuthenticationError', async () => {
    const err = (await session(alice({ password: 'wrong-password' })).getToken().catch((e: unknown) => e)) as AuthenticationError;
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.status).toBe(401);
    expect(err.message).not.toContain('wrong-password');
    const short = ks.issue({ user: 'alice', project: 'p1', ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    const expired = (await session(new V3Token({ authUrl: ks.url, token: short.token })).getToken().catch((e: unknown) => e)) as AuthenticationError;
    expect(expired).toBeInstanceOf(AuthenticationError);
    expect([401, 404]).toContain(expired.status);
  });

  it('logs the auth request with the password, the secret and the token redacted, and X-Subject-Token hashed', async () => {
    const lines: string[] = [];
    const logger = { debug: (l: string) => lines.push(l) };
    const token = await session(alice(), { logger }).getToken();
    await session(new V3ApplicationCredential({ authUrl: ks.url, applicationCredentialId: ks.ids.applicationCredentials['app']!, applicationCredentialSecret: SECRETS.app }), { logger }).getToken();
    const given = ks.issue({ user: 'alice', unscoped: true }).token;
    await session(new V3Token({ authUrl: ks.url, token: given, projectId: ks.ids.projects['p1']! }), { logger }).getToken();
    const all = lines.join('\n');
    for (const secret of [SECRETS.alice, SECRETS.app, given, token!]) expect(all).not.toContain(secret);
    const requests = lines.filter((l) => l.startsWith('REQ:'));
    expect(requests).toHaveLength(3);
    expect(requests[0]).toContain(`"password":{"user":{"name":"alice","domain":{"name":"Default"},"password":"***"}}`);
    expect(requests[1]).toContain(`"application_credential":{"id":"${ks.ids.applicationCredentials['app']}","secret":"***"}`);
    expect(requests[2]).toContain(`"token":{"id":"${sha(given)}"}`);
    expect(lines.find((l) => l.startsWith('RESP: [201]'))).toContain(`x-subject-token: ${sha(token!)}`);
  });
});

describe('a fake Keystone with short-lived tokens', () => {
  let ks: FakeKeystone;

  beforeAll(async () => {
    ks = await startFakeKeystone({ projects: [{ name: 'p' }], users: [{ name: 'u', password: 'pw', roles: { p: ['member'] } }], tokenTtlSeconds: 2 });
  });

  afterAll(async () => {
    await ks?.stop();
  });

  it('reuses the token for half its life, then fetches another before it expires', async () => {
    ks.resetRequests();
    const s = session(new V3Password({ authUrl: ks.url, username: 'u', userDomainId: 'default', password: 'pw', projectName: 'p', projectDomainId: 'default' }));
    const first = await s.getToken();
    expect(await s.getToken()).toBe(first);
    expect(ks.requests['POST /v3/auth/tokens']).toBe(1);
    await new Promise((r) => setTimeout(r, 1200));
    const second = await s.getToken();
    expect(second).not.toBe(first);
    expect(ks.requests['POST /v3/auth/tokens']).toBe(2);
    expect(s.invalidate()).toBe(true);
    expect(await s.getToken()).not.toBe(second);
    expect(ks.requests['POST /v3/auth/tokens']).toBe(3);
  });
});

const real = await findKeystone();

describe.skipIf(!real.ok)('the real Keystone', () => {
  const { fixtures: f, url } = real.ok ? real : ({} as never);
  const endpointOf = (projectId: string) => f.object_store.url_template.replace('%(project_id)s', projectId);

  it('password by name and domain name, scoped to a project by name', async () => {
    const op = f.users['operator-a']!;
    const s = session(new V3Password({ authUrl: url, username: op.name, userDomainName: op.domain_name, password: op.password, projectName: op.project, projectDomainName: op.project_domain_name }));
    expect(await s.getEndpoint()).toBe(endpointOf(op.project_id));
    expect(await s.getEndpoint({ interface: 'internal', regionName: f.keystone.region, version: '1' })).toBe(endpointOf(op.project_id));
    await expect(s.getEndpoint({ regionName: 'NoSuchRegion' })).rejects.toBeInstanceOf(EndpointNotFoundError);
    const access = await s.getAccess();
    expect((access!.body!.roles as { name: string }[]).map((r) => r.name)).toContain('swiftoperator');
    expect(access!.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 600_000);
  });

  it('password by ids, project by id; system scope; a domain scope without a role is refused (401, not 400)', async () => {
    const op = f.users['operator-b']!;
    const s = session(new V3Password({ authUrl: f.keystone.v3_url, userId: op.id, password: op.password, projectId: op.project_id }));
    expect(await s.getEndpoint()).toBe(endpointOf(op.project_id));
    const admin = f.users['admin']!;
    const sys = await session(new V3Password({ authUrl: url, userId: admin.id, password: admin.password, systemScope: 'all' })).getAccess();
    expect(sys!.body!.system).toEqual({ all: true });
    const dom = session(new V3Password({ authUrl: url, userId: op.id, password: op.password, domainId: op.domain_id }));
    await expect(dom.getToken()).rejects.toMatchObject({ name: 'AuthenticationError', status: 401 });
  });

  it('the token plugin rescopes an unscoped token', async () => {
    const op = f.users['operator-a']!;
    const { token } = await issueToken(f.keystone.v3_url, passwordAuth(op, 'unscoped'));
    const s = session(new V3Token({ authUrl: url, token, projectId: op.project_id }));
    expect(await s.getEndpoint()).toBe(endpointOf(op.project_id));
    expect((await s.getToken())!).not.toBe(token);
  });

  it('the sluice-test application credential, by id and by name', async () => {
    const ac = f.application_credentials['operator-a']!;
    const owner = f.users[ac.user]!;
    const byId = session(new V3ApplicationCredential({ authUrl: url, applicationCredentialId: ac.id, applicationCredentialSecret: ac.secret }));
    expect(await byId.getEndpoint()).toBe(endpointOf(ac.project_id));
    const byName = session(
      new V3ApplicationCredential({ authUrl: url, applicationCredentialName: ac.name, userId: owner.id, applicationCredentialSecret: ac.secret }),
    );
    expect((await byName.getAccess())!.body!.application_credential).toMatchObject({ id: ac.id, name: 'sluice-test' });
    await expect(session(new V3ApplicationCredential({ authUrl: url, applicationCredentialId: ac.id, applicationCredentialSecret: 'wrong' })).getToken()).rejects.toMatchObject({ status: 401 });
  });
});

describe.skipIf(real.ok)('the real Keystone (not running)', () => {
  it.skip(`skipped: ${real.ok ? 'it runs' : real.reason}`, () => undefined);
});
