// startFakeKeystone (sluice/testing): every route and error it answers, with Keystone 22's
// statuses, headers and bodies; expiry, revocation, implied roles, name and domain resolution,
// application credentials, the catalog, issue(), the request counters and option checks.
// test/keystone/fake-vs-real.test.ts compares the same answers with the real Keystone.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKeystone, type FakeKeystone, type FakeKeystoneOptions } from '../../src/testing/index';
import { ksCall, ksPostToken, passwordById, passwordByName, type KsAnswer } from './keystone-http';

const GENERIC_401 = '{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}\n';
const BAD_REQUEST_TAIL = ' The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.';
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$/;
const HEX32 = /^[0-9a-f]{32}$/;
const REQ_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for the start of a second: Keystone's expiry has whole seconds, so a 1 s token issued late in a second lives less than that. */
async function startOfSecond(): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + 20);
}

function badRequest(message: string): string {
  return `{"error":{"code":400,"message":${JSON.stringify(message)},"title":"Bad Request"}}\n`;
}

function roleNames(a: KsAnswer): string[] {
  return (a.json.token.roles as Array<{ name: string }>).map((r) => r.name).sort();
}

const SOON = Date.now() + 30 * 60_000;

const OPTIONS: FakeKeystoneOptions = {
  domains: [{ name: 'domain-2' }, { name: 'off', enabled: false }],
  projects: [
    { name: 'proj-a' },
    { name: 'proj-b' },
    { name: 'shared' },
    { name: 'shared', domain: 'domain-2' },
    { name: 'proj-d2', domain: 'domain-2', id: 'fixed-project-id' },
    { name: 'closed', enabled: false },
    { name: 'in-off', domain: 'off' },
    { name: 'admin' },
    { name: 'service' },
  ],
  roles: [{ name: 'swiftoperator' }, { name: 'service' }, { name: 'superop', implies: ['swiftoperator', 'member'] }, { name: 'member', id: 'fixed-member-role' }],
  users: [
    { name: 'member-a', password: 'pw-member-a', defaultProject: 'proj-a', roles: { 'proj-a': ['member'] } },
    { name: 'reader-a', password: 'pw-reader-a', defaultProject: 'proj-a', roles: { 'proj-a': ['reader'] } },
    { name: 'op', password: 'pw-op', defaultProject: 'proj-b', roles: { 'proj-b': ['superop'], 'Default/shared': ['member'] } },
    { name: 'alice', password: 'pw-alice-1', roles: { 'proj-a': ['member'] } },
    { name: 'alice', password: 'pw-alice-2', domain: 'domain-2', id: 'alice2', roles: { 'fixed-project-id': ['swiftoperator'] } },
    { name: 'd2admin', password: 'pw-d2admin', domain: 'domain-2', domainRoles: { 'domain-2': ['admin'] } },
    { name: 'sysreader', password: 'pw-sys', systemRoles: ['reader'] },
    { name: 'svc', password: 'pw-svc', defaultProject: 'service', roles: { service: ['service'] } },
    { name: 'admin', password: 'pw-admin', defaultProject: 'admin', roles: { admin: ['admin'] }, systemRoles: ['admin'] },
    { name: 'disabled', password: 'pw-disabled', enabled: false, roles: { 'proj-a': ['member'] } },
    { name: 'closer', password: 'pw-closer', roles: { closed: ['member'], 'proj-a': ['member'] } },
    { name: 'offuser', password: 'pw-off', domain: 'off', roles: { 'proj-a': ['member'] } },
    { name: 'nodefault', password: 'pw-nodefault', roles: { 'proj-a': ['member'] }, passwordExpiresAt: '2030-01-01T00:00:00.000000' },
  ],
  applicationCredentials: [
    { name: 'ci', secret: 'ci-secret', user: 'member-a' },
    { name: 'narrow', secret: 'narrow-secret', user: 'op', project: 'proj-b', roles: ['swiftoperator', 'reader', 'admin'], unrestricted: true },
    { name: 'old', secret: 'old-secret', user: 'member-a', project: 'proj-a', expiresAt: new Date(Date.now() - 1000) },
    { name: 'soon', secret: 'soon-secret', user: 'member-a', project: 'proj-a', expiresAt: new Date(SOON).toISOString() },
  ],
  objectStoreUrl: 'http://127.0.0.1:9/v1/AUTH_%(project_id)s',
  adminProject: { name: 'admin', domain: 'Default' },
};

let ks: FakeKeystone;
const uid = (name: string) => ks.ids.users[name]!;
const pid = (name: string) => ks.ids.projects[name]!;
const pw = (user: string, scope?: unknown) => passwordById(uid(user), OPTIONS.users.find((u) => u.name === user && !u.domain)!.password, scope);
const post = (body: unknown, query = '') => ksPostToken(ks.url, body, query);
const tokenFor = async (user: string, scope?: unknown) => {
  const a = await post(pw(user, scope), '?nocatalog');
  expect(a.status, a.text).toBe(201);
  return a.token;
};
const check = (method: string, auth?: string, subject?: string, query = '') =>
  ksCall(ks.url, method, `/v3/auth/tokens${query}`, {
    headers: { ...(auth !== undefined ? { 'x-auth-token': auth } : {}), ...(subject !== undefined ? { 'x-subject-token': subject } : {}) },
  });

beforeAll(async () => {
  ks = await startFakeKeystone(OPTIONS);
});
afterAll(async () => {
  await ks.stop();
});

describe('discovery', () => {
  it('GET / answers 300 with the v3 version document and Location; GET /v3 (and /v3/) the document', async () => {
    const doc = `{"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z", "links": [{"rel": "self", "href": "${ks.url}/v3/"}], "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}`;
    const root = await ksCall(ks.url, 'GET', '/');
    expect(root.status).toBe(300);
    expect(root.text).toBe(`{"versions": {"values": [${doc}]}}`);
    expect(root.headers).toMatchObject({ 'content-type': 'application/json', location: `${ks.url}/v3/`, vary: 'X-Auth-Token', 'content-length': String(root.text.length) });
    expect(root.headers['x-openstack-request-id']).toMatch(REQ_ID);
    for (const path of ['/v3', '/v3/']) {
      const v3 = await ksCall(ks.url, 'GET', path);
      expect([v3.status, v3.text]).toEqual([200, `{"version": ${doc}}`]);
    }
    const head = await ksCall(ks.url, 'HEAD', '/v3');
    expect([head.status, head.text, head.headers['content-length']]).toEqual([200, '', String(`{"version": ${doc}}`.length)]);
  });

  it('links name the host the client used, without a default port', async () => {
    const viaName = await ksCall(ks.url, 'GET', '/v3', { headers: { host: 'keystone.example:5000' } });
    expect(viaName.json.version.links[0].href).toBe('http://keystone.example:5000/v3/');
    const port80 = await ksCall(ks.url, 'GET', '/', { headers: { host: 'keystone.example:80' } });
    expect(port80.headers.location).toBe('http://keystone.example/v3/');
    const denied = await post(passwordById(uid('member-a'), 'wrong'), '');
    expect(denied.headers['www-authenticate']).toBe(`Keystone uri="${ks.url}/v3"`);
  });
});

describe('POST /v3/auth/tokens', () => {
  it('password by id, project by id: 201, X-Subject-Token and the token in Keystone key order', async () => {
    const a = await post(pw('member-a', { project: { id: pid('proj-a') } }));
    expect(a.status).toBe(201);
    expect(a.headers).toMatchObject({ 'content-type': 'application/json', vary: 'X-Auth-Token', 'content-length': String(Buffer.byteLength(a.text)) });
    expect(a.token).toMatch(/^gAAAAAB[A-Za-z0-9_-]{176}$/);
    // Python's json.dumps separators and order
    expect(a.text.startsWith(`{"token": {"methods": ["password"], "user": {"domain": {"id": "default", "name": "Default"}, "id": "${uid('member-a')}", "name": "member-a", "password_expires_at": null}, "audit_ids": ["`)).toBe(true);
    const t = a.json.token;
    expect(Object.keys(t)).toEqual(['methods', 'user', 'audit_ids', 'expires_at', 'issued_at', 'project', 'is_domain', 'roles', 'is_admin_project', 'catalog']);
    expect(t.audit_ids).toHaveLength(1);
    expect(t.audit_ids[0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(t.expires_at).toMatch(TIME);
    expect(t.issued_at).toMatch(TIME);
    expect(Date.parse(t.expires_at) - Date.parse(t.issued_at)).toBe(3600_000);
    expect(Math.abs(Date.parse(t.issued_at) - Date.now())).toBeLessThan(5000);
    expect(t.project).toEqual({ domain: { id: 'default', name: 'Default' }, id: pid('proj-a'), name: 'proj-a' });
    expect([t.is_domain, t.is_admin_project]).toEqual([false, false]);
    expect(t.roles).toEqual([
      { id: 'fixed-member-role', name: 'member' },
      { id: ks.ids.roles.reader, name: 'reader' },
    ]);
    expect(t.catalog).toEqual([
      {
        endpoints: ['public', 'internal', 'admin'].map((i) => ({ id: expect.stringMatching(HEX32), interface: i, region_id: 'RegionOne', url: ks.v3Url, region: 'RegionOne' })),
        id: ks.ids.services.identity,
        type: 'identity',
        name: 'keystone',
      },
      {
        endpoints: ['public', 'internal', 'admin'].map((i) => ({ id: expect.stringMatching(HEX32), interface: i, region_id: 'RegionOne', url: `http://127.0.0.1:9/v1/AUTH_${pid('proj-a')}`, region: 'RegionOne' })),
        id: ks.ids.services['object-store'],
        type: 'object-store',
        name: 'swift',
      },
    ]);
    expect(Object.keys(t.catalog[0].endpoints[0])).toEqual(['id', 'interface', 'region_id', 'url', 'region']);
    const again = await post(pw('member-a', { project: { id: pid('proj-a') } }));
    expect(again.token).not.toBe(a.token);
    expect(again.json.token.catalog).toEqual(t.catalog); // endpoint ids are stable
    expect(again.json.token.audit_ids[0]).not.toBe(t.audit_ids[0]);
  });

  it('?nocatalog leaves the catalog out', async () => {
    const a = await post(pw('member-a', { project: { id: pid('proj-a') } }), '?nocatalog');
    expect(a.json.token.catalog).toBeUndefined();
  });

  it('users and projects by name, in a domain by name or id', async () => {
    const a = await post(passwordByName('alice', { name: 'domain-2' }, 'pw-alice-2', { project: { name: 'proj-d2', domain: { name: 'domain-2' } } }), '?nocatalog');
    expect(a.status).toBe(201);
    expect(a.json.token.user).toEqual({ domain: { id: ks.ids.domains['domain-2'], name: 'domain-2' }, id: 'alice2', name: 'alice', password_expires_at: null });
    expect(a.json.token.project).toEqual({ domain: { id: ks.ids.domains['domain-2'], name: 'domain-2' }, id: 'fixed-project-id', name: 'proj-d2' });
    const b = await post(passwordByName('alice', { id: 'default' }, 'pw-alice-1', { project: { name: 'proj-a', domain: { id: 'default' } } }), '?nocatalog');
    expect([b.status, b.json.token.user.id]).toEqual([201, ks.ids.users['Default/alice']]);
    // the same password is not the other alice's; the same project name resolves per domain
    expect((await post(passwordByName('alice', { name: 'domain-2' }, 'pw-alice-1'))).status).toBe(401);
    const shared = await post(pw('op', { project: { name: 'shared', domain: { name: 'Default' } } }), '?nocatalog');
    expect([shared.status, shared.json.token.project.id]).toEqual([201, ks.ids.projects['Default/shared']]);
    expect((await post(pw('op', { project: { name: 'shared', domain: { name: 'domain-2' } } }))).status).toBe(401);
  });

  it('tokens list implied roles: admin ⇒ member ⇒ reader, and custom implications', async () => {
    expect(roleNames(await post(pw('member-a', { project: { id: pid('proj-a') } })))).toEqual(['member', 'reader']);
    expect(roleNames(await post(pw('reader-a', { project: { id: pid('proj-a') } })))).toEqual(['reader']);
    expect(roleNames(await post(pw('op', { project: { id: pid('proj-b') } })))).toEqual(['member', 'reader', 'superop', 'swiftoperator']);
    const admin = await post(pw('admin', { project: { name: 'admin', domain: { id: 'default' } } }), '?nocatalog');
    expect(roleNames(admin)).toEqual(['admin', 'member', 'reader']);
    expect(admin.json.token.is_admin_project).toBe(true);
  });

  it('without a scope: the default project when the user has a role there, else unscoped; "unscoped" asks for none', async () => {
    const d = await post(pw('member-a'));
    expect(d.json.token.project.id).toBe(pid('proj-a'));
    for (const body of [pw('nodefault'), pw('member-a', 'unscoped'), pw('member-a', { unscoped: {} })]) {
      const a = await post(body);
      expect(a.status).toBe(201);
      // no scope: no roles, no catalog even when not asked to leave it out
      expect(Object.keys(a.json.token)).toEqual(['methods', 'user', 'audit_ids', 'expires_at', 'issued_at']);
    }
    expect((await post(pw('nodefault'))).json.token.user.password_expires_at).toBe('2030-01-01T00:00:00.000000');
  });

  it('domain scope: domain roles; endpoints that need a project are left out of the catalog', async () => {
    const a = await post(passwordByName('d2admin', { name: 'domain-2' }, 'pw-d2admin', { domain: { name: 'domain-2' } }));
    expect(a.status).toBe(201);
    const t = a.json.token;
    expect(Object.keys(t)).toEqual(['methods', 'user', 'audit_ids', 'expires_at', 'issued_at', 'domain', 'roles', 'catalog']);
    expect(t.domain).toEqual({ id: ks.ids.domains['domain-2'], name: 'domain-2' });
    expect(roleNames(a)).toEqual(['admin', 'member', 'reader']);
    expect(t.catalog.map((s: any) => [s.type, s.endpoints.length])).toEqual([
      ['identity', 3],
      ['object-store', 0],
    ]);
    const byId = await post(passwordByName('d2admin', { name: 'domain-2' }, 'pw-d2admin', { domain: { id: ks.ids.domains['domain-2'] } }), '?nocatalog');
    expect(byId.status).toBe(201);
    // no role on the domain
    expect((await post(pw('member-a', { domain: { id: 'default' } }))).text).toBe(GENERIC_401);
  });

  it('system scope: system roles', async () => {
    const a = await post(pw('sysreader', { system: { all: true } }));
    expect(a.status).toBe(201);
    expect(Object.keys(a.json.token)).toEqual(['methods', 'user', 'audit_ids', 'expires_at', 'issued_at', 'roles', 'system', 'catalog']);
    expect([a.json.token.system, roleNames(a)]).toEqual([{ all: true }, ['reader']]);
    expect((await post(pw('member-a', { system: { all: true } }))).status).toBe(401);
  });

  it('token method: a new scope for an existing token, keeping its expiry and audit chain', async () => {
    const parent = await post(pw('member-a', 'unscoped'), '?nocatalog');
    await sleep(1100);
    const child = await post({ auth: { identity: { methods: ['token'], token: { id: parent.token } }, scope: { project: { id: pid('proj-a') } } } }, '?nocatalog');
    expect(child.status).toBe(201);
    const c = child.json.token;
    expect(c.methods).toEqual(['token', 'password']);
    expect(c.expires_at).toBe(parent.json.token.expires_at);
    expect(c.issued_at).not.toBe(parent.json.token.issued_at);
    expect(c.audit_ids).toEqual([expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), parent.json.token.audit_ids[0]]);
    // from the child: the chain still names the first token
    const grandchild = await post({ auth: { identity: { methods: ['token'], token: { id: child.token } } } }, '?nocatalog');
    expect(grandchild.json.token.audit_ids[1]).toBe(parent.json.token.audit_ids[0]);
    expect(grandchild.json.token.project.id).toBe(pid('proj-a')); // the default project
    // password and token together: one user, one token
    const both = await post({ auth: { identity: { methods: ['password', 'token'], token: { id: parent.token }, password: { user: { id: uid('member-a'), password: 'pw-member-a' } } } } }, '?nocatalog');
    expect([both.status, both.json.token.methods]).toEqual([201, ['token', 'password']]);
    const mixed = await post({ auth: { identity: { methods: ['password', 'token'], token: { id: parent.token }, password: { user: { id: uid('op'), password: 'pw-op' } } } } });
    expect([mixed.status, mixed.text]).toEqual([401, GENERIC_401]);
  });

  it('token method errors: unknown (404), from an application credential or system token (403)', async () => {
    const unknown = await post({ auth: { identity: { methods: ['token'], token: { id: 'garbage' } } } });
    expect([unknown.status, unknown.text]).toEqual([404, '{"error":{"code":404,"message":"Could not recognize Fernet token","title":"Not Found"}}\n']);
    const empty = await post({ auth: { identity: { methods: ['token'], token: { id: '' } } } });
    expect(empty.json.error.message).toBe('No token in the request');
    const acToken = (await post({ auth: { identity: { methods: ['application_credential'], application_credential: { id: ks.ids.applicationCredentials.ci, secret: 'ci-secret' } } } })).token;
    const delegated = await post({ auth: { identity: { methods: ['token'], token: { id: acToken } } } });
    expect([delegated.status, delegated.json.error.message]).toEqual([
      403,
      'You are not authorized to perform the requested action: Using a delegated token to create another token is not allowed..',
    ]);
    const system = await tokenFor('admin', { system: { all: true } });
    const toProject = await post({ auth: { identity: { methods: ['token'], token: { id: system } }, scope: { project: { id: pid('admin') } } } });
    expect([toProject.status, toProject.json.error.message]).toEqual([
      403,
      'You are not authorized to perform the requested action: Using a system-scoped token to create a project-scoped or domain-scoped token is not allowed..',
    ]);
    expect((await post({ auth: { identity: { methods: ['token'], token: { id: system } } } })).status).toBe(201);
  });

  it('application credentials: by id, by name and user; scoped to their project with the roles they carry', async () => {
    const byId = await post({ auth: { identity: { methods: ['application_credential'], application_credential: { id: ks.ids.applicationCredentials.ci, secret: 'ci-secret' } } } });
    expect(byId.status).toBe(201);
    const t = byId.json.token;
    expect(t.methods).toEqual(['application_credential']);
    expect(t.project.id).toBe(pid('proj-a'));
    expect(roleNames(byId)).toEqual(['member', 'reader']);
    expect(Object.keys(t).slice(-2)).toEqual(['catalog', 'application_credential']);
    expect(t.application_credential).toEqual({ id: ks.ids.applicationCredentials.ci, name: 'ci', restricted: true });
    const byUserId = await post({ auth: { identity: { methods: ['application_credential'], application_credential: { name: 'ci', user: { id: uid('member-a') }, secret: 'ci-secret' } } } });
    const byUserName = await post({ auth: { identity: { methods: ['application_credential'], application_credential: { name: 'ci', user: { name: 'member-a', domain: { name: 'Default' } }, secret: 'ci-secret' } } } });
    expect([byUserId.status, byUserName.status]).toEqual([201, 201]);
    // the credential's roles that its user still has (op has no admin on proj-b)
    const narrow = await post({ auth: { identity: { methods: ['application_credential'], application_credential: { id: ks.ids.applicationCredentials.narrow, secret: 'narrow-secret' } } } }, '?nocatalog');
    expect(roleNames(narrow)).toEqual(['reader', 'swiftoperator']);
    expect(narrow.json.token.application_credential.restricted).toBe(false);
    // a token never outlives its credential
    const soon = await post({ auth: { identity: { methods: ['application_credential'], application_credential: { id: ks.ids.applicationCredentials.soon, secret: 'soon-secret' } } } }, '?nocatalog');
    expect(Date.parse(soon.json.token.expires_at)).toBe(Math.floor(SOON / 1000) * 1000);
  });

  it('application credential errors', async () => {
    const ac = (x: unknown, extra: Record<string, unknown> = {}) => post({ auth: { identity: { methods: ['application_credential'], application_credential: x }, ...extra } });
    const id = ks.ids.applicationCredentials.ci;
    expect((await ac({ id, secret: 'wrong' })).text).toBe(GENERIC_401);
    expect((await ac({ id })).text).toBe(GENERIC_401);
    expect((await ac({ id: ks.ids.applicationCredentials.old, secret: 'old-secret' })).text).toBe(GENERIC_401);
    expect((await ac({ name: 'nope', user: { id: uid('member-a') }, secret: 'x' })).text).toBe(GENERIC_401);
    const unknown = await ac({ id: 'nope', secret: 'x' });
    expect([unknown.status, unknown.json.error.message]).toEqual([404, 'Could not find Application Credential: nope.']);
    const noUser = await ac({ name: 'ci', user: { name: 'nobody', domain: { id: 'default' } }, secret: 'x' });
    expect([noUser.status, noUser.json.error.message]).toEqual([404, 'Could not find user: nobody.']);
    const scoped = await ac({ id, secret: 'ci-secret' }, { scope: { project: { id: pid('proj-a') } } });
    expect([scoped.status, scoped.text]).toEqual([
      401,
      '{"error":{"code":401,"identity":{},"message":"Error authenticating with application credential: Application credentials cannot request a scope.","title":"Unauthorized"}}\n',
    ]);
    expect(scoped.headers['www-authenticate']).toBe(`Keystone uri="${ks.url}/v3"`);
    expect((await ac({ secret: 'x' })).text).toBe(badRequest('Expecting to find name or ID in application credential.' + BAD_REQUEST_TAIL));
    expect((await ac('just a string')).text).toBe(badRequest('Expecting to find name or ID in application credential.' + BAD_REQUEST_TAIL));
    expect((await ac({ name: 'ci', secret: 'x' })).text).toBe(badRequest('Expecting to find user in application credential.' + BAD_REQUEST_TAIL));
    expect((await ac({ name: 'ci', user: { name: 'member-a' }, secret: 'x' })).text).toBe(badRequest('Expecting to find domain in user.' + BAD_REQUEST_TAIL));
  });

  it('answers 401, with WWW-Authenticate and no detail, for every credential or scope it refuses', async () => {
    const refused = [
      passwordById(uid('member-a'), 'wrong'),
      passwordById('0123456789abcdef0123456789abcdef', 'x'),
      passwordByName('nobody', { id: 'default' }, 'x'),
      passwordByName('member-a', { name: 'domain-2' }, 'pw-member-a'),
      passwordByName('member-a', { name: 'no-such-domain' }, 'pw-member-a'),
      { auth: { identity: { methods: ['password'], password: { user: { id: uid('member-a') } } } } },
      passwordById(uid('disabled'), 'pw-disabled'),
      passwordByName('offuser', { name: 'off' }, 'pw-off'),
      passwordById(uid('offuser'), 'pw-off'),
      pw('member-a', { project: { id: pid('proj-b') } }),
      pw('member-a', { project: { id: 'no-such-project' } }),
      pw('member-a', { project: { name: 'no-such-project', domain: { id: 'default' } } }),
      pw('closer', { project: { id: pid('closed') } }),
      pw('member-a', { project: { id: pid('in-off') } }),
      pw('member-a', { domain: { name: 'off' } }),
      pw('member-a', { domain: { name: 'no-such-domain' } }),
      pw('member-a', { 'OS-TRUST:trust': { id: 'no-such-trust' } }),
      { auth: { identity: { methods: [] } } },
      { auth: { identity: { methods: ['external'], external: {} } } },
    ];
    for (const body of refused) {
      const a = await post(body);
      expect([a.status, a.text], JSON.stringify(body)).toEqual([401, GENERIC_401]);
      expect(a.headers).toMatchObject({ 'www-authenticate': `Keystone uri="${ks.url}/v3"`, 'content-type': 'application/json', vary: 'X-Auth-Token' });
      expect(a.headers['x-subject-token']).toBeUndefined();
    }
    const unsupported = await post({ auth: { identity: { methods: ['foo'], foo: {} } } });
    expect(unsupported.text).toBe(
      '{"error":{"code":401,"identity":{"methods":["external","password","token","oauth1","mapped","application_credential"]},"message":"Attempted to authenticate with an unsupported method.","title":"Unauthorized"}}\n',
    );
  });

  it('answers 400 with Keystone messages for malformed bodies', async () => {
    const raw = (text: string, contentType?: string | null) => ksCall(ks.url, 'POST', '/v3/auth/tokens', { raw: text, contentType: contentType ?? 'application/json' });
    const validJson = badRequest('Expecting to find valid JSON in request body.' + BAD_REQUEST_TAIL);
    expect((await raw('{nope')).text).toBe(validJson);
    expect((await raw('[1]')).text).toBe(validJson);
    expect((await raw('"x"', null)).text).toBe(validJson);
    expect((await raw('{"auth": {}}', 'text/plain')).text).toBe(badRequest('Expecting to find application/json in Content-Type header.' + BAD_REQUEST_TAIL));
    expect((await raw('')).text).toBe(badRequest('Expecting to find auth in request body.' + BAD_REQUEST_TAIL));
    const cases: Array<[unknown, string]> = [
      [{ x: 1 }, 'Expecting to find auth in request body.' + BAD_REQUEST_TAIL],
      [{ auth: null }, 'Expecting to find auth in request body.' + BAD_REQUEST_TAIL],
      [{ auth: {} }, "'identity' is a required property"],
      [{ auth: [1, 'a', true, null, 1.5] }, "[1, 'a', True, None, 1.5] is not of type 'object'"],
      [{ auth: { identity: 'x' } }, "Invalid input for field 'identity': 'x' is not of type 'object'"],
      [{ auth: { identity: {} } }, "Invalid input for field 'identity': 'methods' is a required property"],
      [{ auth: { identity: { methods: 'password' } } }, "Invalid input for field 'identity/methods': 'password' is not of type 'array'"],
      [{ auth: { identity: { methods: ['password', 5] } } }, "Invalid input for field 'identity/methods/1': 5 is not of type 'string'"],
      [{ auth: { identity: { methods: ['password'], password: { user: { id: 5 } } } } }, "Invalid input for field 'identity/password/user/id': 5 is not of type 'string'"],
      [{ auth: { identity: { methods: ['token'], token: {} } } }, "Invalid input for field 'identity/token': 'id' is a required property"],
      [{ auth: { identity: { methods: ['password'] }, scope: 5 } }, "Invalid input for field 'scope': 5 is not of type 'object', 'string'"],
      [{ auth: { identity: { methods: ['password'] }, scope: { system: { all: 'yes' } } } }, "Invalid input for field 'scope/system/all': 'yes' is not of type 'boolean'"],
      [{ auth: { identity: { methods: ['password'], password: { user: { password: 'x' } } } } }, 'Invalid input for field identity/password/user: id or name must be present.'],
      [{ auth: { identity: { methods: ['password'], password: { user: { name: 'a', domain: {} } } } } }, 'Invalid input for field identity/password/user/domain: id or name must be present.'],
      [{ auth: { identity: { methods: ['password'] }, scope: { project: {} } } }, 'Invalid input for field scope/project: id or name must be present.'],
      [{ auth: { identity: { methods: ['password'] }, scope: { project: { name: 'p', domain: {} } } } }, 'Invalid input for field scope/project/domain: id or name must be present.'],
      [{ auth: { identity: { methods: ['password'] }, scope: { domain: {} } } }, 'Invalid input for field scope/domain: id or name must be present.'],
      [{ auth: { identity: { methods: ['password'] } } }, 'Expecting to find password in identity.' + BAD_REQUEST_TAIL],
      [{ auth: { identity: { methods: ['token'] } } }, 'Expecting to find token in identity.' + BAD_REQUEST_TAIL],
      [{ auth: { identity: { methods: ['password'], password: {} } } }, 'Expecting to find user in None.' + BAD_REQUEST_TAIL],
      [{ auth: { identity: { methods: ['password'], password: { user: { id: '' } } } } }, 'Expecting to find id or name in user.' + BAD_REQUEST_TAIL],
      [{ auth: { identity: { methods: ['password'], password: { user: { name: 'member-a', password: 'x' } } } } }, 'Expecting to find domain in user.' + BAD_REQUEST_TAIL],
      [{ auth: { identity: { methods: ['password'], password: { user: { name: 'member-a', domain: { id: '' } } } } } }, 'Expecting to find id or name in domain.' + BAD_REQUEST_TAIL],
      [pw('member-a', { project: { name: 'proj-a' } }), 'Expecting to find domain in project.' + BAD_REQUEST_TAIL],
      [pw('member-a', {}), 'Expecting to find system, project, domain, OS-TRUST:trust or unscoped in scope.' + BAD_REQUEST_TAIL],
      [pw('member-a', { project: { id: 'x' }, domain: { id: 'default' } }), 'Expecting to find system, project, domain, OS-TRUST:trust or unscoped in scope.' + BAD_REQUEST_TAIL],
      [pw('member-a', 'foo'), 'Expecting to find system, project, domain, OS-TRUST:trust or unscoped in scope.' + BAD_REQUEST_TAIL],
      [pw('member-a', 'project'), 'Expecting to find system, project, domain, OS-TRUST:trust or unscoped in scope.' + BAD_REQUEST_TAIL],
      [pw('member-a', { 'OS-TRUST:trust': {} }), 'Expecting to find trust_id in trust.' + BAD_REQUEST_TAIL],
    ];
    for (const [body, message] of cases) {
      const a = await post(body);
      expect([a.status, a.text], JSON.stringify(body)).toEqual([400, badRequest(message)]);
      expect(a.headers['www-authenticate']).toBeUndefined();
    }
    // a +json media type and parameters are JSON too
    expect((await raw(JSON.stringify(pw('member-a')), 'application/vnd.example+json; charset=utf-8')).status).toBe(201);
  });

  it('never answers 500, whatever the body', async () => {
    const value = fc.jsonValue({ maxDepth: 3 });
    const bodies = fc.oneof(
      value,
      fc.record({ auth: value }),
      fc.record({ auth: fc.record({ identity: value, scope: value }, { requiredKeys: [] }) }),
      fc.record({
        auth: fc.record(
          {
            identity: fc.record({ methods: fc.array(fc.constantFrom('password', 'token', 'application_credential', 'x')), password: value, token: value, application_credential: value }, { requiredKeys: ['methods'] }),
            scope: fc.oneof(value, fc.record({ project: value, domain: value, system: value, unscoped: value }, { requiredKeys: [] })),
          },
          { requiredKeys: ['identity'] },
        ),
      }),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const a = await post(body);
        expect([201, 400, 401, 403, 404]).toContain(a.status);
        expect(a.json === undefined ? a.text : 'json').toBe('json');
      }),
      { numRuns: 300 },
    );
  });
});

describe('GET, HEAD and DELETE /v3/auth/tokens', () => {
  it('a token validates itself and the same user\'s others; the service and admin roles validate any', async () => {
    const own = await tokenFor('member-a');
    const own2 = await tokenFor('member-a');
    const other = await tokenFor('reader-a');
    const svc = await tokenFor('svc');
    const admin = await tokenFor('admin');
    const sys = await tokenFor('sysreader', { system: { all: true } });

    const self = await check('GET', own, own);
    expect(self.status).toBe(200);
    expect(self.headers).toMatchObject({ 'x-subject-token': own, 'content-type': 'application/json', vary: 'X-Auth-Token' });
    expect(self.json.token.catalog).toHaveLength(2);
    expect((await check('GET', own, own2, '?nocatalog')).json.token.catalog).toBeUndefined();
    for (const caller of [svc, admin, sys]) {
      const v = await check('GET', caller, other);
      expect([v.status, v.json.token.user.name]).toEqual([200, 'reader-a']);
    }
    // HEAD (identity:check_token): admin, system reader or the same user; the service role is not enough
    for (const [caller, status] of [[own, 200], [admin, 200], [sys, 200], [svc, 403]] as const) {
      const h = await check('HEAD', caller, caller === own ? own2 : other);
      expect([h.status, h.text]).toEqual([status, '']);
    }
    const get = await check('GET', admin, other);
    const head = await check('HEAD', admin, other);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.headers['x-subject-token']).toBe(other);
  });

  it('403 for another user\'s token without admin or service; 401 for a bad or missing X-Auth-Token', async () => {
    const member = await tokenFor('member-a');
    const reader = await tokenFor('reader-a');
    const unscoped = await tokenFor('nodefault');
    for (const caller of [member, unscoped]) {
      const a = await check('GET', caller, reader);
      expect([a.status, a.text]).toEqual([403, '{"error":{"code":403,"message":"You are not authorized to perform the requested action: identity:validate_token.","title":"Forbidden"}}\n']);
      expect(a.headers['www-authenticate']).toBeUndefined();
    }
    const head = await check('HEAD', member, reader);
    expect([head.status, head.headers['content-length']]).toEqual([403, String('{"error":{"code":403,"message":"You are not authorized to perform the requested action: identity:check_token.","title":"Forbidden"}}\n'.length)]);
    for (const caller of ['garbage', undefined, '']) {
      const a = await check('GET', caller, reader);
      expect([a.status, a.text]).toEqual([401, GENERIC_401]);
      expect(a.headers['www-authenticate']).toBe(`Keystone uri="${ks.url}/v3"`);
    }
  });

  it('404 for a subject token it cannot use, before the policy; a missing one after it', async () => {
    const member = await tokenFor('member-a');
    const svc = await tokenFor('svc');
    for (const caller of [member, svc]) {
      const a = await check('GET', caller, 'garbage');
      expect([a.status, a.text]).toEqual([404, '{"error":{"code":404,"message":"Could not recognize Fernet token","title":"Not Found"}}\n']);
    }
    expect((await check('GET', svc)).text).toBe('{"error":{"code":404,"message":"No token in the request","title":"Not Found"}}\n');
    expect((await check('GET', svc, '')).json.error.message).toBe('No token in the request');
    expect((await check('GET', member)).status).toBe(403);
  });

  it('DELETE revokes: 204, then 404 to validation and 401 as X-Auth-Token; only the user or an admin may', async () => {
    const member = await tokenFor('member-a');
    const member2 = await tokenFor('member-a');
    const reader = await tokenFor('reader-a');
    const svc = await tokenFor('svc');
    const admin = await tokenFor('admin');
    expect((await check('DELETE', member, reader)).json.error.message).toBe('You are not authorized to perform the requested action: identity:revoke_token.');
    expect((await check('DELETE', svc, reader)).status).toBe(403);
    const gone = await check('DELETE', member, member2);
    expect([gone.status, gone.text, gone.headers['content-type'], gone.headers['content-length']]).toEqual([204, '', undefined, undefined]);
    expect(gone.headers).toMatchObject({ vary: 'X-Auth-Token' });
    expect(gone.headers['x-openstack-request-id']).toMatch(REQ_ID);
    for (const q of ['', '?allow_expired=1']) {
      const v = await check('GET', svc, member2, q);
      expect([v.status, v.text]).toEqual([404, '{"error":{"code":404,"message":"Failed to validate token","title":"Not Found"}}\n']);
    }
    expect((await check('DELETE', svc, member2)).status).toBe(404);
    expect((await check('GET', member2, member)).status).toBe(401);
    expect((await check('DELETE', admin, reader)).status).toBe(204);
    expect((await check('GET', admin, reader)).status).toBe(404);
    expect((await check('DELETE', admin)).json.error.message).toBe('No token in the request');
    // revoking one token leaves the tokens made from it alone, as Keystone's audit-id events do
    const parent = await tokenFor('member-a', 'unscoped');
    const child = (await post({ auth: { identity: { methods: ['token'], token: { id: parent } } } })).token;
    expect(ks.revoke(parent)).toBe(true);
    expect((await check('GET', svc, child)).status).toBe(200);
    expect(ks.revoke('never-issued')).toBe(false);
  });
});

describe('expiry', () => {
  let short: FakeKeystone;
  beforeAll(async () => {
    short = await startFakeKeystone({
      projects: [{ name: 'p' }, { name: 's' }],
      roles: [{ name: 'service' }],
      users: [
        { name: 'u', password: 'pw-u', defaultProject: 'p', roles: { p: ['member'] } },
        { name: 'svc', password: 'pw-svc', defaultProject: 's', roles: { s: ['service'] } },
      ],
      tokenTtlSeconds: 1,
      allowExpiredWindowSeconds: 3,
    });
  });
  afterAll(async () => {
    await short.stop();
  });

  it('a token past expires_at is invalid, except within allow_expired\'s window; never as X-Auth-Token', async () => {
    const svc = short.issue({ user: 'svc', ttlSeconds: 60 }).token;
    await startOfSecond();
    const issued = await ksPostToken(short.url, passwordByName('u', { id: 'default' }, 'pw-u'), '?nocatalog');
    const token = issued.token;
    const expiresAt = Date.parse(issued.json.token.expires_at);
    expect(expiresAt - Date.parse(issued.json.token.issued_at)).toBe(1000);
    const ask = (q = '', auth = svc) => ksCall(short.url, 'GET', `/v3/auth/tokens${q}`, { headers: { 'x-auth-token': auth, 'x-subject-token': token } });
    expect((await ask()).status).toBe(200);
    await sleep(Math.max(0, expiresAt - Date.now()) + 50);
    const expired = await ask();
    expect([expired.status, expired.json.error.message]).toEqual([404, 'Failed to validate token']);
    for (const q of ['?allow_expired=1', '?allow_expired=true', '?allow_expired=YES']) {
      const allowed = await ask(q);
      expect([allowed.status, allowed.json.token.expires_at]).toEqual([200, issued.json.token.expires_at]);
    }
    expect((await ask('?allow_expired=0')).status).toBe(404);
    // an expired token cannot authenticate a request, nor make a new token
    expect((await ask('?allow_expired=1', token)).status).toBe(401);
    const rescope = await ksPostToken(short.url, { auth: { identity: { methods: ['token'], token: { id: token } } } });
    expect([rescope.status, rescope.json.error.message]).toEqual([404, 'Failed to validate token']);
    // revoking goes by the token alone, without the window
    const sameUser = short.issue({ user: 'u', ttlSeconds: 60 }).token;
    const revoke = await ksCall(short.url, 'DELETE', '/v3/auth/tokens?allow_expired=1', { headers: { 'x-auth-token': sameUser, 'x-subject-token': token } });
    expect([revoke.status, revoke.json.error.message]).toEqual([404, 'Failed to validate token']);
    await sleep(Math.max(0, expiresAt + 3000 - Date.now()) + 50);
    expect((await ask('?allow_expired=1')).status).toBe(404);
  });
});

describe('issue(), ids, counters and the catalog', () => {
  it('issue() makes the token POST would (default scope, project, domain, system, unscoped) and refuses what Keystone refuses', async () => {
    const t = ks.issue({ user: 'member-a' });
    expect(t.token).toMatch(/^gAAAAAB[A-Za-z0-9_-]{176}$/);
    expect(t.expiresAt).toBe(t.body.token.expires_at);
    const v = await check('GET', t.token, t.token);
    expect(v.json).toEqual(t.body);
    expect((t.body.token.project as { name: string }).name).toBe('proj-a');
    expect(ks.issue({ user: uid('op'), project: 'proj-b' }).body.token.project).toMatchObject({ name: 'proj-b' });
    expect(ks.issue({ user: 'alice', userDomain: 'domain-2', project: 'fixed-project-id' }).body.token.user).toMatchObject({ id: 'alice2' });
    expect(ks.issue({ user: 'd2admin', domain: 'domain-2' }).body.token.domain).toEqual({ id: ks.ids.domains['domain-2'], name: 'domain-2' });
    expect(ks.issue({ user: 'admin', system: true }).body.token.system).toEqual({ all: true });
    expect(ks.issue({ user: 'member-a', unscoped: true }).body.token.project).toBeUndefined();
    const short = ks.issue({ user: 'member-a', ttlSeconds: 5, methods: ['application_credential'] }).body.token;
    expect(Date.parse(short.expires_at as string) - Date.parse(short.issued_at as string)).toBe(5000);
    expect(short.methods).toEqual(['application_credential']);
    expect(() => ks.issue({ user: 'nobody' })).toThrow(/no such user/);
    expect(() => ks.issue({ user: 'alice' })).toThrow(/several domains/);
    expect(() => ks.issue({ user: 'member-a', project: 'proj-b' })).toThrow(/no role/);
    expect(() => ks.issue({ user: 'member-a', project: 'proj-a', system: true })).toThrow(/more than one scope/);
    expect(() => ks.issue({ user: 'disabled' })).toThrow(/disabled/);
    expect(() => ks.issue({ user: 'closer', project: 'closed' })).toThrow(/no enabled project/);
  });

  it('ids: given ones kept, generated ones 32 hex digits, names qualified by domain where shared', () => {
    expect(ks.ids.domains).toMatchObject({ Default: 'default', 'domain-2': expect.stringMatching(HEX32) });
    expect(ks.ids.projects['proj-d2']).toBe('fixed-project-id');
    expect(ks.ids.projects['domain-2/proj-d2']).toBe('fixed-project-id');
    expect(ks.ids.projects.shared).toBeUndefined();
    expect(ks.ids.projects['Default/shared']).not.toBe(ks.ids.projects['domain-2/shared']);
    expect(ks.ids.users.alice).toBeUndefined();
    expect(ks.ids.users['domain-2/alice']).toBe('alice2');
    expect(ks.ids.users['member-a']).toMatch(/^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/); // uuid4().hex
    expect(ks.ids.roles).toMatchObject({ member: 'fixed-member-role', admin: expect.stringMatching(HEX32), superop: expect.stringMatching(HEX32) });
    expect(ks.ids.applicationCredentials.ci).toBe(ks.ids.applicationCredentials['member-a/ci']);
  });

  it('counts requests per route, whatever their outcome', async () => {
    ks.resetRequests();
    expect(Object.values(ks.requests).every((n) => n === 0)).toBe(true);
    const t = ks.issue({ user: 'member-a' }).token;
    await ksCall(ks.url, 'GET', '/');
    await ksCall(ks.url, 'HEAD', '/');
    await ksCall(ks.url, 'GET', '/v3/');
    await ksCall(ks.url, 'HEAD', '/v3');
    await post(pw('member-a'));
    await post(pw('member-a', { project: { id: pid('proj-b') } }));
    await check('GET', t, t);
    await check('GET', 'garbage', t);
    await check('HEAD', t, t);
    await check('DELETE', t, t);
    await ksCall(ks.url, 'GET', '/v3/users');
    await ksCall(ks.url, 'PUT', '/v3/auth/tokens');
    expect(ks.requests).toEqual({
      'GET /': 1,
      'HEAD /': 1,
      'GET /v3': 1,
      'HEAD /v3': 1,
      'POST /v3/auth/tokens': 2,
      'GET /v3/auth/tokens': 2,
      'HEAD /v3/auth/tokens': 1,
      'DELETE /v3/auth/tokens': 1,
      other: 2,
    });
  });

  it('setObjectStoreUrl changes the object-store URLs of later answers, not their ids', async () => {
    const other = await startFakeKeystone({ projects: [{ name: 'p' }], users: [{ name: 'u', password: 'x', defaultProject: 'p', roles: { p: ['reader'] } }] });
    try {
      const before = other.issue({ user: 'u' }).body.token.catalog as Array<{ type: string; endpoints: Array<{ id: string; url: string }> }>;
      const store = before.find((s) => s.type === 'object-store')!;
      expect(store.endpoints[0]!.url).toBe(`http://127.0.0.1:8080/v1/AUTH_${other.ids.projects.p}`); // the default template
      other.setObjectStoreUrl('http://proxy.test:1234/v1/KEY_%(project_id)s');
      const after = (other.issue({ user: 'u' }).body.token.catalog as typeof before).find((s) => s.type === 'object-store')!;
      expect(after.endpoints.map((e) => e.url)).toEqual(Array(3).fill(`http://proxy.test:1234/v1/KEY_${other.ids.projects.p}`));
      expect(after.endpoints.map((e) => e.id)).toEqual(store.endpoints.map((e) => e.id));
    } finally {
      await other.stop();
    }
  });

  it('a custom catalog: its services after identity, URL templates filled in per token, malformed endpoints left out', async () => {
    const other = await startFakeKeystone({
      region: 'Elsewhere',
      projects: [{ name: 'p' }],
      users: [{ name: 'u', password: 'x', defaultProject: 'p', roles: { p: ['member'] } }],
      catalog: [
        {
          id: 'svc-store',
          type: 'object-store',
          name: 'sluice',
          endpoints: [
            { interface: 'public', url: 'http://pub/v1/AUTH_%(tenant_id)s', id: 'ep-pub' },
            { interface: 'internal', url: 'http://int/%(user_id)s/100%%', region: 'Inside' },
            { interface: 'admin', url: 'http://adm/%(nonsense)s' },
          ],
        },
      ],
    });
    try {
      const t = other.issue({ user: 'u' }).body.token;
      const catalog = t.catalog as Array<{ id: string; type: string; name: string; endpoints: unknown[] }>;
      expect(catalog.map((s) => s.type)).toEqual(['identity', 'object-store']);
      expect(catalog[0]!.endpoints).toEqual(['public', 'internal', 'admin'].map((i) => expect.objectContaining({ interface: i, url: other.v3Url, region: 'Elsewhere' })));
      expect(catalog[1]).toEqual({
        endpoints: [
          { id: 'ep-pub', interface: 'public', region_id: 'Elsewhere', url: `http://pub/v1/AUTH_${other.ids.projects.p}`, region: 'Elsewhere' },
          { id: expect.stringMatching(HEX32), interface: 'internal', region_id: 'Inside', url: `http://int/${other.ids.users.u}/100%`, region: 'Inside' },
        ],
        id: 'svc-store',
        type: 'object-store',
        name: 'sluice',
      });
    } finally {
      await other.stop();
    }
  });

  it('without adminProject tokens carry no is_admin_project, as Keystone with its default configuration', async () => {
    const other = await startFakeKeystone({ projects: [{ name: 'admin' }], users: [{ name: 'u', password: 'x', defaultProject: 'admin', roles: { admin: ['admin'] } }] });
    try {
      expect(other.issue({ user: 'u' }).body.token).not.toHaveProperty('is_admin_project');
    } finally {
      await other.stop();
    }
  });
});

describe('other methods, paths and bodies', () => {
  it('405 for other methods, OPTIONS lists them, 404 for other paths, 413 past the body limit', async () => {
    const put = await ksCall(ks.url, 'PUT', '/v3/auth/tokens');
    expect([put.status, put.text, put.headers.allow]).toEqual([405, '{"message": "The method is not allowed for the requested URL."}\n', 'POST, GET, HEAD, DELETE, OPTIONS']);
    const options = await ksCall(ks.url, 'OPTIONS', '/v3/auth/tokens');
    expect([options.status, options.text, options.headers.allow]).toEqual([200, '', 'POST, GET, HEAD, DELETE, OPTIONS']);
    const postV3 = await ksCall(ks.url, 'POST', '/v3');
    expect([postV3.status, postV3.headers.allow, postV3.headers['content-type']]).toEqual([405, 'GET, HEAD, OPTIONS', 'text/html; charset=utf-8']);
    expect(postV3.text).toContain('<title>405 Method Not Allowed</title>');
    const missing = await ksCall(ks.url, 'GET', '/v3/users');
    expect([missing.status, missing.headers['content-type']]).toEqual([404, 'text/html; charset=utf-8']);
    expect(missing.text).toBe(
      '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n',
    );
    const big = await ksCall(ks.url, 'POST', '/v3/auth/tokens', { raw: JSON.stringify({ auth: 'x'.repeat(120_000) }) });
    expect(big.status).toBe(413);
    // the connection is still good afterwards
    expect((await ksCall(ks.url, 'GET', '/v3')).status).toBe(200);
  });

  it('rejects options that describe an impossible world', async () => {
    const base = { projects: [{ name: 'p' }], users: [] };
    const cases: Array<[Partial<FakeKeystoneOptions>, RegExp]> = [
      [{ projects: [{ name: 'p' }, { name: 'p' }] }, /two projects named p/],
      [{ users: [{ name: 'u', password: 'x', roles: { p: ['nope'] } }] }, /no role nope/],
      [{ users: [{ name: 'u', password: 'x', roles: { nope: ['member'] } }] }, /no project is named nope/],
      [{ users: [{ name: 'u', password: 'x', domain: 'nope' }] }, /no domain nope/],
      [{ domains: [{ name: 'd' }, { name: 'd' }] }, /two domains named d/],
      [{ domains: [{ name: 'Default', id: 'other' }] }, /id "default"/],
      [{ roles: [{ name: 'r', implies: ['nope'] }] }, /no role nope/],
      [{ users: [{ name: 'u', password: 'x' }], applicationCredentials: [{ name: 'a', secret: 's', user: 'u' }] }, /no project/],
      [{ users: [{ name: 'u', password: 'x' }], applicationCredentials: [{ name: 'a', secret: 's', user: 'u', project: 'p' }] }, /no role on the project/],
      [{ applicationCredentials: [{ name: 'a', secret: 's', user: 'nobody', project: 'p' }] }, /no user nobody/],
      [{ tokenTtlSeconds: 0 }, /tokenTtlSeconds/],
    ];
    for (const [extra, error] of cases) {
      await expect(startFakeKeystone({ ...base, ...extra } as FakeKeystoneOptions)).rejects.toThrow(error);
    }
  });

  it('stop() closes idle keep-alive connections too', async () => {
    const other = await startFakeKeystone({ projects: [], users: [] });
    expect((await ksCall(other.url, 'GET', '/v3')).status).toBe(200);
    await other.stop();
    await expect(ksCall(other.url, 'GET', '/v3')).rejects.toThrow();
  });
});
