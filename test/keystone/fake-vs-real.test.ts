// Differential test: sluice/testing's fake Keystone against the real Keystone 22 that
// scripts/keystone/keystone.sh runs. A fake mirrors the real fixtures (same names, passwords and
// roles; its own ids), then every flow runs against both and the answers must agree: status,
// the headers that matter, and the bodies with ids, timestamps, audit ids and base URLs
// replaced by placeholders (so key sets, value types, role names, catalog entries, scopes and
// error messages are compared). Keystone adds jsonschema's "Failed validating..." dump after a
// blank line to schema errors; only the first line is compared.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKeystone, type FakeKeystone } from '../../src/testing/index';
import { ksCall, ksPostToken, ksToken, passwordById, passwordByName, type KsAnswer, type KsCallOptions } from '../testing/keystone-http';
import { findKeystone, type KeystoneFixtures } from './fixtures';

const ks = await findKeystone();

/** One Keystone as the flows see it: where it is and the ids of the fixtures in it. */
interface Side {
  name: 'real' | 'fake';
  base: string;
  /** The fixtures' region: endpoints of other regions are not compared. */
  region: string;
  users: Record<string, { id: string; password: string }>;
  projects: Record<string, string>;
  domains: Record<string, string>;
  appCred: { id: string; name: string; secret: string; userId: string };
  /** id → placeholder, for canonical answers. */
  placeholders: Array<[string, string]>;
}

/** A user that exists only while this suite runs: domain-2, member on that domain, no default project. */
const temp = { name: `fvr-${randomBytes(4).toString('hex')}`, password: randomBytes(12).toString('base64url') };

function fakeOptionsFrom(f: KeystoneFixtures) {
  const extraRoles = Object.keys(f.roles).filter((r) => !['admin', 'member', 'reader'].includes(r));
  return {
    domains: Object.values(f.domains)
      .filter((d) => d.name !== 'Default')
      .map((d) => ({ name: d.name })),
    projects: Object.values(f.projects).map((p) => ({ name: p.name, domain: p.domain_name })),
    roles: extraRoles.map((name) => ({ name })),
    users: [
      ...Object.values(f.users).map((u) => ({
        name: u.name,
        password: u.password,
        domain: u.domain_name,
        defaultProject: u.project,
        roles: { [u.project]: u.roles },
        // keystone-manage bootstrap gives its admin the admin role on the system too
        ...(u.name === 'admin' ? { systemRoles: ['admin'] } : {}),
      })),
      { name: temp.name, password: temp.password, domain: 'domain-2', domainRoles: { 'domain-2': ['member'] } },
    ],
    applicationCredentials: Object.values(f.application_credentials).map((a) => ({
      name: a.name,
      secret: a.secret,
      user: a.user,
      project: Object.values(f.projects).find((p) => p.id === a.project_id)!.name,
      roles: a.roles,
    })),
    objectStoreUrl: f.object_store.url_template,
    region: f.keystone.region,
    tokenTtlSeconds: f.keystone.token_expiration,
    // keystone.sh sets [resource] admin_project_name = admin, admin_project_domain_name = Default
    adminProject: { name: 'admin', domain: 'Default' },
  };
}

function placeholdersOf(users: Side['users'], projects: Side['projects'], domains: Side['domains'], appCredId: string): Array<[string, string]> {
  return [
    ...Object.entries(users).map(([n, u]): [string, string] => [u.id, `<user:${n}>`]),
    ...Object.entries(projects).map(([n, id]): [string, string] => [id, `<project:${n}>`]),
    ...Object.entries(domains).map(([n, id]): [string, string] => [id, `<domain:${n}>`]),
    [appCredId, '<app-cred>'],
  ];
}

function realSide(f: KeystoneFixtures, extraUsers: Side['users'] = {}): Side {
  const ac = Object.values(f.application_credentials)[0]!;
  const users = { ...Object.fromEntries(Object.values(f.users).map((u) => [u.name, { id: u.id, password: u.password }])), ...extraUsers };
  const projects = Object.fromEntries(Object.values(f.projects).map((p) => [p.name, p.id]));
  const domains = Object.fromEntries(Object.values(f.domains).map((d) => [d.name, d.id]));
  return {
    name: 'real',
    base: f.keystone.url,
    region: f.keystone.region,
    users,
    projects,
    domains,
    appCred: { id: ac.id, name: ac.name, secret: ac.secret, userId: ac.user_id },
    placeholders: placeholdersOf(users, projects, domains, ac.id),
  };
}

/** The fake's side of the same names (a fake made by fakeOptionsFrom of the real side's fixtures). */
function fakeSideOf(fake: FakeKeystone, real: Side): Side {
  const users = Object.fromEntries(Object.entries(real.users).map(([n, u]) => [n, { id: fake.ids.users[n]!, password: u.password }]));
  const projects = Object.fromEntries(Object.keys(real.projects).map((n) => [n, fake.ids.projects[n]!]));
  const domains = Object.fromEntries(Object.keys(real.domains).map((n) => [n, fake.ids.domains[n]!]));
  const appCred = fake.ids.applicationCredentials[real.appCred.name]!;
  const owner = Object.entries(real.users).find(([, u]) => u.id === real.appCred.userId)![0];
  return {
    name: 'fake',
    base: fake.url,
    region: real.region,
    users,
    projects,
    domains,
    appCred: { id: appCred, name: real.appCred.name, secret: real.appCred.secret, userId: fake.ids.users[owner]! },
    placeholders: placeholdersOf(users, projects, domains, appCred),
  };
}

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const HEX32 = /^[0-9a-f]{32}$/;

function canonString(side: Side, s: string): string {
  let out = s.split(side.base).join('<base>');
  for (const [id, ph] of side.placeholders) out = out.split(id).join(ph);
  if (HEX32.test(out)) return '<hex32>';
  if (TIME.test(out)) return '<time>';
  return out;
}

/** The body with everything that legitimately differs between the two servers replaced. */
function canon(side: Side, v: unknown, key?: string): unknown {
  if (typeof v === 'string') return canonString(side, v);
  if (Array.isArray(v)) {
    if (key === 'audit_ids') return v.map((a) => (typeof a === 'string' && /^[A-Za-z0-9_-]{22}$/.test(a) ? '<audit-id>' : a));
    const items = v.map((x) => canon(side, x));
    // orders that carry no meaning (Keystone's come from sets and database rows)
    if (key === 'methods') return [...items].sort();
    if (key === 'roles') return [...items].sort((a: any, b: any) => String(a.name).localeCompare(String(b.name)));
    if (key === 'catalog') return [...items].sort((a: any, b: any) => String(a.type).localeCompare(String(b.type)));
    if (key === 'endpoints') {
      // only the fixtures' region: a concurrent swiftclient smoke adds a region of its own to the
      // shared Keystone while it runs (scripts/lib/keystone-smoke-region.py)
      return items.filter((e: any) => e.region_id === side.region).sort((a: any, b: any) => String(a.interface).localeCompare(String(b.interface)));
    }
    return items;
  }
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      // schema errors: Keystone appends jsonschema's dump after a blank line
      out[k] = k === 'message' && typeof x === 'string' ? canonString(side, x.split('\n\n')[0]!) : canon(side, x, k);
    }
    return out;
  }
  return v;
}

const COMPARED_HEADERS = ['content-type', 'vary', 'www-authenticate', 'location', 'allow'];

function canonAnswer(side: Side, a: KsAnswer) {
  const headers: Record<string, string> = {};
  for (const h of COMPARED_HEADERS) if (a.headers[h] !== undefined) headers[h] = canonString(side, a.headers[h]!);
  // Keystone's Allow comes from a Python set: its order changes with each process's hash seed.
  if (headers.allow !== undefined) headers.allow = headers.allow.split(/,\s*/).sort().join(', ');
  if (a.headers['content-length'] !== undefined) headers['content-length'] = '<present>';
  const subject = a.headers['x-subject-token'];
  if (subject !== undefined) headers['x-subject-token'] = /^[A-Za-z0-9_-]{150,260}$/.test(subject) ? '<token>' : subject;
  const reqId = a.headers['x-openstack-request-id'];
  if (reqId !== undefined) headers['x-openstack-request-id'] = /^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(reqId) ? '<req-id>' : reqId;
  return { status: a.status, headers, body: a.json !== undefined ? canon(side, a.json) : a.text };
}

function isAnswer(x: unknown): x is KsAnswer {
  return !!x && typeof x === 'object' && 'status' in x && 'headers' in x && 'text' in x;
}

/** A flow: requests against one side; returns answers (compared canonically) and plain facts. */
type Flow = (side: Side) => Promise<unknown[]>;

/** Runs a flow on both sides at once and compares what they answered. */
async function compare(real: Side, fake: Side, flow: Flow): Promise<unknown[]> {
  const [r, k] = await Promise.all([flow(real), flow(fake)]);
  const view = (side: Side, items: unknown[]) => items.map((x) => (isAnswer(x) ? canonAnswer(side, x) : x));
  const fakeView = view(fake, k);
  expect(fakeView).toEqual(view(real, r));
  return fakeView;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the fake Keystone answers like Keystone 22', () => {
  if (!ks.ok) {
    it.skip(`skipped: no real Keystone (${ks.reason})`, () => {});
    return;
  }
  const f = ks.fixtures;
  let fake: FakeKeystone;
  let real: Side;
  let fakeSide: Side;
  let adminToken = '';
  let tempId = '';

  beforeAll(async () => {
    const realBase = f.keystone.url;
    // the temporary user, through the bootstrap admin (removed again in afterAll)
    adminToken = await ksToken(realBase, passwordById(f.users.admin!.id, f.users.admin!.password, { project: { id: f.projects.admin!.id } }));
    const created = await ksCall(realBase, 'POST', '/v3/users', {
      body: { user: { name: temp.name, domain_id: f.domains['domain-2']!.id, password: temp.password, enabled: true, description: 'sluice fake-vs-real test (temporary)' } },
      headers: { 'x-auth-token': adminToken },
    });
    expect(created.status).toBe(201);
    tempId = created.json.user.id;
    const granted = await ksCall(realBase, 'PUT', `/v3/domains/${f.domains['domain-2']!.id}/users/${tempId}/roles/${f.roles.member!.id}`, {
      headers: { 'x-auth-token': adminToken },
    });
    expect(granted.status).toBe(204);

    real = realSide(f, { [temp.name]: { id: tempId, password: temp.password } });
    fake = await startFakeKeystone(fakeOptionsFrom(f));
    fakeSide = fakeSideOf(fake, real);
  });

  afterAll(async () => {
    if (tempId) {
      const gone = await ksCall(f.keystone.url, 'DELETE', `/v3/users/${tempId}`, { headers: { 'x-auth-token': adminToken } });
      expect(gone.status).toBe(204);
    }
    await fake?.stop();
  });

  const same = (flow: Flow) => compare(real, fakeSide, flow);

  const call = (s: Side, method: string, path: string, o?: KsCallOptions) => ksCall(s.base, method, path, o);
  const pw = (s: Side, user: string, scope?: unknown) => passwordById(s.users[user]!.id, s.users[user]!.password, scope);
  const projectScope = (s: Side, project: string) => ({ project: { id: s.projects[project]! } });
  const tokenOf = async (s: Side, user: string, scope?: unknown) => ksToken(s.base, pw(s, user, scope ?? projectScope(s, userProject(user))));
  const userProject = (user: string) => f.users[user]!.project;
  const validate = (s: Side, method: string, auth: string | undefined, subject: string | undefined, query = '') =>
    call(s, method, `/v3/auth/tokens${query}`, {
      headers: { ...(auth !== undefined ? { 'x-auth-token': auth } : {}), ...(subject !== undefined ? { 'x-subject-token': subject } : {}) },
    });
  const post = (s: Side, body: unknown, query = '', options: { timeoutMs?: number } = {}) => ksPostToken(s.base, body, query, options);
  const appCred = (s: Side, extra: Record<string, unknown> = {}) => ({
    auth: { identity: { methods: ['application_credential'], application_credential: { id: s.appCred.id, secret: s.appCred.secret, ...extra } } },
  });

  it('version discovery: GET and HEAD of / (300, Location) and /v3', async () => {
    const out = await same(async (s) => [
      await call(s, 'GET', '/'),
      await call(s, 'HEAD', '/'),
      await call(s, 'GET', '/v3'),
      await call(s, 'HEAD', '/v3'),
      await call(s, 'GET', '/v3/'),
      // links and Location follow the Host the client used, without a default port
      await call(s, 'GET', '/', { headers: { host: 'keystone.example:5000' } }),
      await call(s, 'GET', '/v3', { headers: { host: 'keystone.example:80' } }),
    ]);
    expect((out[0] as any).status).toBe(300);
    expect((out[0] as any).headers.location).toBe('<base>/v3/');
  });

  it('password by id with project scope by id, with and without the catalog', async () => {
    const out = await same(async (s) => [await post(s, pw(s, 'member-a', projectScope(s, 'proj-a'))), await post(s, pw(s, 'operator-b', projectScope(s, 'proj-b')), '?nocatalog')]);
    const body = (out[0] as any).body.token;
    expect(body.roles.map((r: any) => r.name)).toEqual(['member', 'reader']);
    expect(body.catalog.map((c: any) => c.type)).toEqual(['identity', 'object-store']);
    expect((out[1] as any).body.token.catalog).toBeUndefined();
  });

  it('password by name and domain name / domain id, project by name and domain name / id', async () => {
    await same(async (s) => [
      await post(s, passwordByName('operator-a', { name: 'Default' }, s.users['operator-a']!.password, { project: { name: 'proj-a', domain: { name: 'Default' } } })),
      await post(s, passwordByName('user-d2', { id: s.domains['domain-2']! }, s.users['user-d2']!.password, { project: { name: 'proj-d2', domain: { id: s.domains['domain-2']! } } }), '?nocatalog'),
    ]);
  });

  it('tokens carry implied roles; the admin project is the only is_admin_project; system scope', async () => {
    const out = await same(async (s) => [
      await post(s, pw(s, 'admin', projectScope(s, 'admin')), '?nocatalog'),
      await post(s, pw(s, 'sluice', projectScope(s, 'service')), '?nocatalog'),
      await post(s, pw(s, 'reseller', projectScope(s, 'service')), '?nocatalog'),
      await post(s, pw(s, 'admin', { system: { all: true } })),
    ]);
    expect((out[0] as any).body.token.roles.map((r: any) => r.name)).toEqual(['admin', 'member', 'reader']);
    expect((out[0] as any).body.token.is_admin_project).toBe(true);
    expect((out[1] as any).body.token.roles.map((r: any) => r.name)).toEqual(['admin', 'member', 'reader', 'service']);
    expect((out[1] as any).body.token.is_admin_project).toBe(false);
    expect((out[3] as any).body.token.system).toEqual({ all: true });
  });

  it('no scope: the default project; "unscoped": none; a user without a default project: none', async () => {
    const out = await same(async (s) => [
      await post(s, pw(s, 'reader-a')),
      await post(s, pw(s, 'member-b', 'unscoped')),
      await post(s, pw(s, 'member-b', { unscoped: {} }), '?nocatalog'),
      await post(s, pw(s, temp.name)),
    ]);
    expect((out[0] as any).body.token.project.name).toBe('proj-a');
    expect((out[1] as any).body.token.project).toBeUndefined();
    expect((out[3] as any).body.token.catalog).toBeUndefined();
  });

  it('domain scope by name and by id (object-store endpoints need a project: none listed)', async () => {
    const out = await same(async (s) => [
      await post(s, pw(s, temp.name, { domain: { name: 'domain-2' } })),
      await post(s, passwordByName(temp.name, { name: 'domain-2' }, temp.password, { domain: { id: s.domains['domain-2']! } }), '?nocatalog'),
    ]);
    const store = (out[0] as any).body.token.catalog.find((c: any) => c.type === 'object-store');
    expect(store.endpoints).toEqual([]);
  });

  it('token method: rescoping an unscoped token, a scoped one without scope, with password too', async () => {
    await same(async (s) => {
      const unscoped = await post(s, pw(s, 'member-a', 'unscoped'), '?nocatalog');
      const scoped = await tokenOf(s, 'member-a');
      const rescoped = await post(s, { auth: { identity: { methods: ['token'], token: { id: unscoped.token } }, scope: projectScope(s, 'proj-a') } }, '?nocatalog');
      const again = await post(s, { auth: { identity: { methods: ['token'], token: { id: scoped } } } });
      const both = await post(s, { auth: { identity: { methods: ['password', 'token'], token: { id: scoped }, password: { user: { id: s.users['member-a']!.id, password: s.users['member-a']!.password } } } } }, '?nocatalog');
      return [
        rescoped,
        again,
        both,
        // the new token keeps the old one's expiry and names its audit id second
        { inheritsExpiry: rescoped.json.token.expires_at === unscoped.json.token.expires_at, parentAudit: rescoped.json.token.audit_ids[1] === unscoped.json.token.audit_ids[0] },
      ];
    });
  });

  it('token method errors: an unknown token (404), an empty one (404)', async () => {
    await same(async (s) => [
      await post(s, { auth: { identity: { methods: ['token'], token: { id: 'garbage' } } } }),
      await post(s, { auth: { identity: { methods: ['token'], token: { id: '' } } } }),
    ]);
  });

  /**
   * Keystone 22 refused a new token made from an application credential's token with 403
   * ("Using a delegated token ..."), and the fake still does. Debian's security update
   * 2:22.0.2-0+deb12u3 (CVE-2026-42998 and others) broke that path: authenticate_for_token
   * reads the application credential's id from the request's `token` method data, fails with
   * KeyError, and uWSGI leaves the request unanswered (500 in its log, no bytes sent). The fake
   * keeps the refusal; the real one must refuse too, or fail as that version does.
   */
  it('token method errors: an application credential token is refused (403), never rescoped', async () => {
    const rescope = async (s: Side) => post(s, { auth: { identity: { methods: ['token'], token: { id: (await post(s, appCred(s), '?nocatalog')).token } } } }, '', { timeoutMs: 5000 });
    const fakeAnswer = await rescope(fakeSide);
    expect(fakeAnswer.status).toBe(403);
    expect(fakeAnswer.json.error.message).toMatch(/^You are not authorized to perform the requested action/);
    const realAnswer = await rescope(real).catch((err: Error) => err);
    if (realAnswer instanceof Error) {
      // deb12u3: no answer within the timeout
      expect(realAnswer.name).toMatch(/Timeout|Socket|Closed/i);
    } else if (realAnswer.status === 500) {
      expect(realAnswer.token).toBe('');
    } else {
      expect(canonAnswer(fakeSide, fakeAnswer)).toEqual(canonAnswer(real, realAnswer));
    }
  }, 30_000);

  it('application credentials: by id, by name with user id, by name with user name and domain', async () => {
    const out = await same(async (s) => [
      await post(s, appCred(s)),
      await post(s, { auth: { identity: { methods: ['application_credential'], application_credential: { name: s.appCred.name, user: { id: s.appCred.userId }, secret: s.appCred.secret } } } }, '?nocatalog'),
      await post(s, { auth: { identity: { methods: ['application_credential'], application_credential: { name: s.appCred.name, user: { name: 'operator-a', domain: { name: 'Default' } }, secret: s.appCred.secret } } } }, '?nocatalog'),
    ]);
    expect((out[0] as any).body.token.application_credential).toEqual({ id: '<app-cred>', name: 'sluice-test', restricted: true });
  });

  it('application credential errors', async () => {
    await same(async (s) => {
      const ac = (x: Record<string, unknown>, more: Record<string, unknown> = {}) => ({ auth: { identity: { methods: ['application_credential'], application_credential: x }, ...more } });
      return [
        await post(s, ac({ id: s.appCred.id, secret: 'wrong' })),
        await post(s, ac({ id: s.appCred.id })),
        await post(s, ac({ id: 'nope', secret: 'x' })),
        await post(s, ac({ name: 'nope', user: { id: s.appCred.userId }, secret: 'x' })),
        await post(s, ac({ name: s.appCred.name, user: { name: 'nobody', domain: { id: 'default' } }, secret: 'x' })),
        await post(s, ac({ id: s.appCred.id, secret: s.appCred.secret }, { scope: projectScope(s, 'proj-a') })),
        await post(s, ac({ secret: 'x' })),
        await post(s, ac({ name: 'x', secret: 'x' })),
        await post(s, ac({ name: 'x', user: { name: 'operator-a' }, secret: 'x' })),
      ];
    });
  });

  it('bad credentials and scopes: 401 with WWW-Authenticate', async () => {
    await same(async (s) => [
      await post(s, passwordById(s.users['member-a']!.id, 'wrong')),
      await post(s, passwordById('0123456789abcdef0123456789abcdef', 'wrong')),
      await post(s, passwordByName('nobody', { id: 'default' }, 'x')),
      await post(s, passwordByName('member-a', { id: s.domains['domain-2']! }, s.users['member-a']!.password)),
      await post(s, passwordByName('member-a', { name: 'no-such-domain' }, 'x')),
      await post(s, { auth: { identity: { methods: ['password'], password: { user: { id: s.users['member-a']!.id } } } } }),
      await post(s, pw(s, 'member-a', projectScope(s, 'proj-b'))),
      await post(s, pw(s, 'member-a', { project: { id: 'no-such-project' } })),
      await post(s, pw(s, 'member-a', { project: { name: 'no-such-project', domain: { id: 'default' } } })),
      await post(s, pw(s, 'member-a', { domain: { id: 'default' } })),
      await post(s, pw(s, 'member-a', { domain: { name: 'no-such-domain' } })),
      await post(s, pw(s, 'member-a', { system: { all: true } })),
      await post(s, pw(s, 'member-a', { 'OS-TRUST:trust': { id: 'no-such-trust' } })),
      await post(s, { auth: { identity: { methods: [] } } }),
      await post(s, { auth: { identity: { methods: ['foo'], foo: {} } } }),
      await post(s, { auth: { identity: { methods: ['external'], external: {} } } }),
      await post(s, { auth: { identity: { methods: ['password', 'token'], token: { id: 'x' }, password: { user: { id: s.users['member-a']!.id, password: 'wrong' } } } } }),
    ]);
  });

  it('malformed bodies: 400 with Keystone messages', async () => {
    await same(async (s) => {
      const id = s.users['member-a']!.id;
      return [
        await call(s, 'POST', '/v3/auth/tokens', { raw: '{nope' }),
        await call(s, 'POST', '/v3/auth/tokens', { raw: '[1]' }),
        await call(s, 'POST', '/v3/auth/tokens', { raw: '' }),
        await call(s, 'POST', '/v3/auth/tokens', { raw: '{"auth": {}}', contentType: 'text/plain' }),
        await call(s, 'POST', '/v3/auth/tokens', { raw: JSON.stringify(pw(s, 'member-a', 'unscoped')), contentType: 'application/json; charset=utf-8' }),
        await post(s, { x: 1 }),
        await post(s, { auth: {} }),
        await post(s, { auth: [1] }),
        await post(s, { auth: { identity: 'x' } }),
        await post(s, { auth: { identity: {} } }),
        await post(s, { auth: { identity: { methods: 'password' } } }),
        await post(s, { auth: { identity: { methods: [5] } } }),
        await post(s, { auth: { identity: { methods: ['password', 5] } } }),
        await post(s, { auth: [1, 'a', true, null, 1.5, { k: 'v' }] }),
        await post(s, { auth: { identity: { methods: ['password'], password: { user: { id: '' } } } } }),
        await post(s, { auth: { identity: { methods: ['password'], password: { user: { name: 'member-a', domain: { id: '' } } } } } }),
        await call(s, 'POST', '/v3/auth/tokens', { raw: JSON.stringify(pw(s, 'member-a', 'unscoped')), contentType: 'application/vnd.example+json' }),
        await post(s, { auth: { identity: { methods: ['password'] } } }),
        await post(s, { auth: { identity: { methods: ['password'], password: {} } } }),
        await post(s, { auth: { identity: { methods: ['password'], password: { user: { password: 'x' } } } } }),
        await post(s, { auth: { identity: { methods: ['password'], password: { user: { id: 5, password: 'x' } } } } }),
        await post(s, { auth: { identity: { methods: ['password'], password: { user: { name: 'member-a', password: 'x' } } } } }),
        await post(s, { auth: { identity: { methods: ['password'], password: { user: { name: 'member-a', domain: {}, password: 'x' } } } } }),
        await post(s, { auth: { identity: { methods: ['token'], token: {} } } }),
        await post(s, { auth: { identity: { methods: ['token'] } } }),
        await post(s, pw(s, 'member-a', { project: { name: 'proj-a' } })),
        await post(s, pw(s, 'member-a', { project: { id: id }, domain: { id: 'default' } })),
        await post(s, pw(s, 'member-a', {})),
        await post(s, pw(s, 'member-a', { project: {} })),
        await post(s, pw(s, 'member-a', { domain: {} })),
        await post(s, pw(s, 'member-a', 5)),
        await post(s, pw(s, 'member-a', 'foo')),
        await post(s, pw(s, 'member-a', { system: { all: 'yes' } })),
        await post(s, pw(s, 'member-a', { 'OS-TRUST:trust': {} })),
      ];
    });
  });

  it('validation: own tokens, the service user, other users, HEAD, garbage, missing tokens', async () => {
    const out = await same(async (s) => {
      const ma = await tokenOf(s, 'member-a');
      const ma2 = await tokenOf(s, 'member-a');
      const mb = await tokenOf(s, 'member-b');
      const svc = await tokenOf(s, 'sluice');
      const other = await tokenOf(s, 'other-service');
      const admin = await tokenOf(s, 'admin');
      const reader = await tokenOf(s, 'reader-a');
      const unscoped = await ksToken(s.base, pw(s, temp.name));
      const ac = (await post(s, appCred(s), '?nocatalog')).token;
      const get = await validate(s, 'GET', svc, mb);
      const head = await validate(s, 'HEAD', admin, mb);
      return [
        await validate(s, 'GET', ma, ma, '?nocatalog'),
        await validate(s, 'GET', ma, ma2, '?nocatalog'),
        await validate(s, 'GET', ma, mb),
        get,
        await validate(s, 'GET', other, mb, '?nocatalog'),
        await validate(s, 'HEAD', other, mb),
        head,
        await validate(s, 'HEAD', ma, ma2),
        await validate(s, 'HEAD', ma, mb),
        await validate(s, 'GET', reader, mb),
        await validate(s, 'GET', unscoped, mb),
        await validate(s, 'GET', unscoped, unscoped),
        await validate(s, 'GET', ac, ac),
        await validate(s, 'GET', svc, 'garbage'),
        await validate(s, 'GET', ma, 'garbage'),
        await validate(s, 'HEAD', svc, 'garbage'),
        await validate(s, 'GET', 'garbage', mb),
        await validate(s, 'HEAD', 'garbage', mb),
        await validate(s, 'GET', undefined, mb),
        await validate(s, 'GET', svc, undefined),
        await validate(s, 'GET', ma, undefined),
        await validate(s, 'GET', svc, mb, '?allow_expired=1&nocatalog'),
        // HEAD answers GET's headers (Content-Length included) without the body
        { headLength: head.headers['content-length'] === get.headers['content-length'], headBody: head.text },
      ];
    });
    expect((out[3] as any).status).toBe(200);
    expect((out[5] as any).status).toBe(403);
  });

  it('revocation: who may revoke, then the token is gone for validation and as X-Auth-Token', async () => {
    await same(async (s) => {
      const ma = await tokenOf(s, 'member-a');
      const ma2 = await tokenOf(s, 'member-a');
      const mb = await tokenOf(s, 'member-b');
      const svc = await tokenOf(s, 'sluice');
      const other = await tokenOf(s, 'other-service');
      const admin = await tokenOf(s, 'admin');
      return [
        await validate(s, 'DELETE', ma, mb),
        await validate(s, 'DELETE', other, mb),
        await validate(s, 'DELETE', ma, ma2),
        await validate(s, 'GET', svc, ma2),
        await validate(s, 'GET', svc, ma2, '?allow_expired=1'),
        await validate(s, 'HEAD', svc, ma2),
        await validate(s, 'DELETE', svc, ma2),
        await validate(s, 'DELETE', svc, 'garbage'),
        await validate(s, 'GET', ma2, ma),
        await validate(s, 'DELETE', admin, mb),
        await validate(s, 'GET', admin, mb),
        await validate(s, 'DELETE', ma, ma),
        await validate(s, 'GET', ma, ma),
        await validate(s, 'DELETE', admin, undefined),
        await validate(s, 'DELETE', other, undefined),
      ];
    });
  });

  it('other methods and paths', async () => {
    await same(async (s) => [
      await call(s, 'PUT', '/v3/auth/tokens'),
      await call(s, 'OPTIONS', '/v3/auth/tokens'),
      await call(s, 'POST', '/v3'),
      await call(s, 'DELETE', '/'),
      await call(s, 'GET', '/v3/no-such-thing'),
      await call(s, 'GET', '/v3/auth/tokens/'),
    ]);
  });

  it('tokens last token_expiration seconds on both', async () => {
    const facts = await same(async (s) => {
      const t = (await post(s, pw(s, 'member-a'), '?nocatalog')).json.token;
      const ttl = (Date.parse(t.expires_at) - Date.parse(t.issued_at)) / 1000;
      // whole seconds on both sides: a second boundary between the two clock reads costs one
      return [{ ttlOk: ttl === f.keystone.token_expiration || ttl === f.keystone.token_expiration - 1 }];
    });
    expect(facts).toEqual([{ ttlOk: true }]);
  });
});

// Expiry needs tokens that expire during a test: a second Keystone (its own data dir and port,
// short tokens) beside the shared one, as scripts/keystone/README.md describes, stopped after.
// Not shorter than 10 s: keystone.sh's fixture step works with one admin token for seconds.
const SHORT_TTL = 10;
const REPO = resolve(__dirname, '../..');
const run = promisify(execFile);

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe(`expiry answers like Keystone 22 with ${SHORT_TTL}-second tokens`, () => {
  if (!ks.ok) {
    it.skip(`skipped: no real Keystone (${ks.reason})`, () => {});
    return;
  }
  let env: NodeJS.ProcessEnv | undefined;
  let data = '';
  let f2: KeystoneFixtures;
  let real: Side;
  let fake: FakeKeystone | undefined;
  let fakeSide: Side;

  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), 'sluice-keystone-'));
    env = { ...process.env, KEYSTONE_DATA: data, KEYSTONE_PORT: String(await freePort()), KEYSTONE_TOKEN_EXPIRATION: String(SHORT_TTL) };
    await run('bash', [join(REPO, 'scripts/keystone/keystone.sh'), 'start'], { env, cwd: REPO, timeout: 170_000 });
    f2 = JSON.parse(readFileSync(join(data, 'fixtures.json'), 'utf8')) as KeystoneFixtures;
    real = realSide(f2);
    fake = await startFakeKeystone(fakeOptionsFrom(f2));
    fakeSide = fakeSideOf(fake, real);
  }, 180_000);

  afterAll(async () => {
    await fake?.stop();
    if (env) await run('bash', [join(REPO, 'scripts/keystone/keystone.sh'), 'stop'], { env, cwd: REPO, timeout: 60_000 });
    if (data) rmSync(data, { recursive: true, force: true });
  }, 70_000);

  it('an expired token: 404 to validation and rescoping, 200 with allow_expired, 401 as X-Auth-Token, 404 to revocation', { timeout: 60_000 }, async () => {
    // tokens expire on whole seconds: start each lifetime at the start of a second
    const startOfSecond = () => sleep(1000 - (Date.now() % 1000) + 30);
    const out = await compare(real, fakeSide, async (s) => {
      const pw = (user: string) => passwordById(s.users[user]!.id, s.users[user]!.password, { project: { id: s.projects[f2.users[user]!.project]! } });
      await startOfSecond();
      const issued = await ksPostToken(s.base, pw('member-a'), '?nocatalog');
      const t = issued.json.token;
      await sleep(Date.parse(t.expires_at) - Date.now() + 200);
      await startOfSecond();
      const [svc, same] = await Promise.all([ksToken(s.base, pw('sluice')), ksToken(s.base, pw('member-a'))]);
      const ask = (method: string, query: string, auth: string, subject: string) =>
        ksCall(s.base, method, `/v3/auth/tokens${query}`, { headers: { 'x-auth-token': auth, 'x-subject-token': subject } });
      return [
        { lifetime: (Date.parse(t.expires_at) - Date.parse(t.issued_at)) / 1000 },
        issued,
        await ask('GET', '?nocatalog', svc, issued.token),
        await ask('GET', '?nocatalog&allow_expired=1', svc, issued.token),
        await ask('HEAD', '?allow_expired=true', same, issued.token),
        await ask('GET', '?allow_expired=1', issued.token, svc),
        await ksPostToken(s.base, { auth: { identity: { methods: ['token'], token: { id: issued.token } } } }),
        await ask('DELETE', '?allow_expired=1', same, issued.token),
      ];
    });
    expect(out[0]).toEqual({ lifetime: SHORT_TTL });
    expect((out[2] as { status: number }).status).toBe(404);
    expect((out[3] as { status: number }).status).toBe(200);
  });
});
