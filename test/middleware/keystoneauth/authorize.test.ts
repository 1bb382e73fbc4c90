/**
 * keystoneauth's decisions in a whole cluster, one identity at a time (identities injected by
 * the test stand-in for authtoken): Swift's rules, then sluice's account ACLs for Keystone
 * identities.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../src/testing/index';
import { send } from '../../conformance/replayer';
import { keystoneauthConf, type TestIdentity } from './identity-filter';

const hex = (s: string) => s.padEnd(32, '0');
const PA = hex('aa');
const PB = hex('bb');
const PC = hex('cc');
const A = `AUTH_${PA}`;

const users = {
  operatorA: { userId: hex('a1'), projectId: PA, roles: ['swiftoperator', 'member', 'reader'] },
  adminA: { userId: hex('a2'), projectId: PA, roles: ['admin', 'member', 'reader'] },
  memberA: { userId: hex('a3'), projectId: PA, roles: ['member'] },
  readerA: { userId: hex('a4'), projectId: PA, roles: ['reader'] },
  memberB: { userId: hex('b1'), projectId: PB, roles: ['member', 'reader'] },
  operatorB: { userId: hex('b2'), projectId: PB, roles: ['swiftoperator'] },
  memberC: { userId: hex('c1'), projectId: PC, roles: ['member'] },
  reseller: { userId: hex('e1'), projectId: PC, roles: ['ResellerAdmin'] },
  systemReader: { userId: hex('f1'), projectId: PC, roles: ['auditor'] },
  memberBd2: { userId: hex('d1'), projectId: PB, roles: ['member'], userDomainId: 'd2' },
};
type Who = keyof typeof users;

let cluster: TestCluster;

function as(who: Who | undefined, extra: Partial<TestIdentity> = {}): Record<string, string> {
  if (!who) return {};
  return { 'X-Test-Identity': JSON.stringify({ user: users[who], ...extra }) };
}

async function req(who: Who | undefined, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  return send(cluster.url, method, path, { ...as(who), ...headers }, body);
}

beforeAll(async () => {
  cluster = await startCluster({
    proxyConfig: keystoneauthConf('reseller_prefix = AUTH, SERVICE\nSERVICE_service_roles = service\nproject_reader_roles = reader\nsystem_reader_roles = Auditor'),
  });
  expect((await req('operatorA', 'PUT', `/v1/${A}/c`)).status).toBe(201);
  expect((await req('operatorA', 'PUT', `/v1/${A}/c/o`, {}, 'data')).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe("Swift's keystoneauth rules", () => {
  it('operator roles own their project account; others of the project do not', async () => {
    for (const who of ['operatorA', 'adminA'] as const) {
      expect((await req(who, 'POST', `/v1/${A}/c`, { 'X-Container-Read': `${PB}:*` })).status).toBe(204);
      const head = await req(who, 'HEAD', `/v1/${A}/c`);
      expect(head.status).toBe(204);
      // Owners see the ACL headers.
      expect(head.headers['x-container-read']).toBe(`${PB}:*`);
    }
    expect((await req('memberA', 'GET', `/v1/${A}`)).status).toBe(403);
    expect((await req('memberA', 'PUT', `/v1/${A}/c/o2`, {}, 'x')).status).toBe(403);
    expect((await req('operatorA', 'POST', `/v1/${A}/c`, { 'X-Container-Read': '' })).status).toBe(204);
  });

  it('project_reader_roles read, never write, and get no owner headers', async () => {
    expect((await req('readerA', 'GET', `/v1/${A}/c/o`)).status).toBe(200);
    expect((await req('readerA', 'PUT', `/v1/${A}/c/o3`, {}, 'x')).status).toBe(403);
  });

  it('only a reseller admin deletes an account; it may act on any account', async () => {
    expect((await req('operatorA', 'DELETE', `/v1/${A}`)).status).toBe(403);
    const other = `AUTH_${hex('99')}`;
    expect((await req('reseller', 'PUT', `/v1/${other}/x`)).status).toBe(201);
    expect((await req('reseller', 'DELETE', `/v1/${other}/x`)).status).toBe(204);
    expect((await req('reseller', 'HEAD', `/v1/${A}/c/o`)).status).toBe(200);
  });

  it('system reader roles (compared case-insensitively) read any account', async () => {
    expect((await req('systemReader', 'GET', `/v1/${A}/c/o`)).status).toBe(200);
    expect((await req('systemReader', 'PUT', `/v1/${A}/c/o4`, {}, 'x')).status).toBe(403);
  });

  it('another project is 403 until a container ACL names it by id, by id with *, or * with the user', async () => {
    expect((await req('memberB', 'GET', `/v1/${A}/c/o`)).status).toBe(403);
    for (const acl of [`${PB}:${users.memberB.userId}`, `${PB}:*`, `*:${users.memberB.userId}`]) {
      expect((await req('operatorA', 'POST', `/v1/${A}/c`, { 'X-Container-Read': acl })).status).toBe(204);
      expect((await req('memberB', 'GET', `/v1/${A}/c/o`)).status, acl).toBe(200);
      expect((await req('memberB', 'GET', `/v1/${A}/c`)).status, acl).toBe(200);
      expect((await req('memberC', 'GET', `/v1/${A}/c/o`)).status, acl).toBe(403);
      expect((await req('memberB', 'PUT', `/v1/${A}/c/o5`, {}, 'x')).status, acl).toBe(403);
    }
    expect((await req('operatorA', 'POST', `/v1/${A}/c`, { 'X-Container-Read': '', 'X-Container-Write': `${PB}:*` })).status).toBe(204);
    expect((await req('memberB', 'PUT', `/v1/${A}/c/o5`, {}, 'x')).status).toBe(201);
    expect((await req('operatorA', 'POST', `/v1/${A}/c`, { 'X-Container-Write': '' })).status).toBe(204);
  });

  it('names match only for users and projects in the default domain', async () => {
    const byName = `${PB}-name:${users.memberB.userId}-name`;
    expect((await req('operatorA', 'POST', `/v1/${A}/c`, { 'X-Container-Read': byName })).status).toBe(204);
    expect((await req('memberB', 'GET', `/v1/${A}/c/o`)).status).toBe(200);
    // The same names for a user of another domain do not match.
    const d2 = { ...users.memberBd2, userName: `${users.memberB.userId}-name` };
    const r = await send(cluster.url, 'GET', `/v1/${A}/c/o`, { 'X-Test-Identity': JSON.stringify({ user: d2 }) });
    expect(r.status).toBe(403);
    expect((await req('operatorA', 'POST', `/v1/${A}/c`, { 'X-Container-Read': '' })).status).toBe(204);
  });

  it('a role named in a container ACL admits members of the account project only', async () => {
    expect((await req('operatorA', 'POST', `/v1/${A}/c`, { 'X-Container-Read': 'Member' })).status).toBe(204);
    expect((await req('memberA', 'GET', `/v1/${A}/c/o`)).status).toBe(200);
    expect((await req('memberB', 'GET', `/v1/${A}/c/o`)).status).toBe(403);
    expect((await req('operatorA', 'POST', `/v1/${A}/c`, { 'X-Container-Read': '' })).status).toBe(204);
  });

  it('anonymous requests: referrer ACLs for objects, .rlistings for listings, else 401 with the Swift realm', async () => {
    const anon = await req(undefined, 'GET', `/v1/${A}/c/o`);
    expect(anon.status).toBe(401);
    expect(anon.headers['www-authenticate']).toBe(`Swift realm="${A}"`);
    expect((await req('operatorA', 'POST', `/v1/${A}/c`, { 'X-Container-Read': '.r:*' })).status).toBe(204);
    expect((await req(undefined, 'GET', `/v1/${A}/c/o`)).status).toBe(200);
    expect((await req(undefined, 'GET', `/v1/${A}/c`)).status).toBe(401);
    expect((await req(undefined, 'PUT', `/v1/${A}/c/o`, {}, 'x')).status).toBe(401);
    // A member of another project is an identity: refused listings are 403.
    expect((await req('memberB', 'GET', `/v1/${A}/c`)).status).toBe(403);
    expect((await req('operatorA', 'POST', `/v1/${A}/c`, { 'X-Container-Read': '.r:*,.rlistings' })).status).toBe(204);
    expect((await req(undefined, 'GET', `/v1/${A}/c`)).status).toBe(200);
    // Not one of our prefixes: never anonymous.
    expect((await req(undefined, 'GET', `/v1/OTHER_${PA}/c/o`)).status).toBe(401);
    expect((await req('operatorA', 'POST', `/v1/${A}/c`, { 'X-Container-Read': '' })).status).toBe(204);
  });

  it('an invalid user token or service token is anonymous', async () => {
    const invalid = { 'X-Test-Identity': JSON.stringify({ user: users.operatorA, userStatus: 'Invalid' }) };
    expect((await send(cluster.url, 'GET', `/v1/${A}`, invalid)).status).toBe(401);
    const badService = { 'X-Test-Identity': JSON.stringify({ user: users.operatorA, serviceRoles: ['service'], serviceStatus: 'Invalid' }) };
    expect((await send(cluster.url, 'GET', `/v1/${A}`, badService)).status).toBe(401);
  });

  it('a prefix with service roles needs a service token carrying one', async () => {
    const S = `SERVICE_${PA}`;
    expect((await req('operatorA', 'PUT', `/v1/${S}/c`)).status).toBe(403);
    expect((await req('operatorA', 'PUT', `/v1/${S}/c`, {}, undefined)).status).toBe(403);
    const withService = (roles: string[]) => ({ 'X-Test-Identity': JSON.stringify({ user: users.operatorA, serviceRoles: roles }) });
    expect((await send(cluster.url, 'PUT', `/v1/${S}/c`, withService(['member']))).status).toBe(403);
    expect((await send(cluster.url, 'PUT', `/v1/${S}/c`, withService(['Service']))).status).toBe(201);
    // The AUTH_ prefix asks for no service role: a service token changes nothing there.
    expect((await send(cluster.url, 'HEAD', `/v1/${A}`, withService(['member']))).status).toBe(204);
  });

  it('records the project domain in account sysmeta and shows it as X-Account-Project-Domain-Id', async () => {
    const head = await req('operatorA', 'HEAD', `/v1/${A}`);
    expect(head.status).toBe(204);
    // The container PUT that created the account recorded the token's project domain.
    expect(head.headers['x-account-project-domain-id']).toBe('default');
    expect(head.headers['x-account-sysmeta-project-domain-id']).toBeUndefined();
    // An account created by the reseller for another project: domain unknown.
    const other = `AUTH_${hex('98')}`;
    expect((await req('reseller', 'PUT', `/v1/${other}`)).status).toBe(201);
    expect((await req('reseller', 'HEAD', `/v1/${other}`)).headers['x-account-project-domain-id']).toBe('_unknown');
    // A client cannot set it.
    expect((await req('operatorA', 'POST', `/v1/${A}`, { 'X-Account-Sysmeta-Project-Domain-Id': 'evil' })).status).toBe(204);
    expect((await req('operatorA', 'HEAD', `/v1/${A}`)).headers['x-account-project-domain-id']).toBe('default');
  });

  it('OPTIONS is never refused by keystoneauth', async () => {
    // Without Origin, OPTIONS answers the allowed methods (a CORS preflight is the controller's to refuse).
    const r = await req(undefined, 'OPTIONS', `/v1/${A}/c/o`);
    expect(r.status).toBe(200);
    expect(r.headers.allow).toMatch(/GET/);
  });
});

describe('account ACLs for Keystone identities (sluice)', () => {
  const setAcl = (acl: unknown) => req('operatorA', 'POST', `/v1/${A}`, { 'X-Account-Access-Control': JSON.stringify(acl) });

  it('read-only: GET and HEAD everywhere in the account, nothing else, no owner headers', async () => {
    expect((await setAcl({ 'read-only': [`${PB}:${users.memberB.userId}`] })).status).toBe(204);
    expect((await req('memberB', 'GET', `/v1/${A}`)).status).toBe(200);
    const head = await req('memberB', 'HEAD', `/v1/${A}`);
    expect(head.status).toBe(204);
    expect(head.headers['x-account-access-control']).toBeUndefined();
    expect((await req('memberB', 'GET', `/v1/${A}/c/o`)).status).toBe(200);
    expect((await req('memberB', 'PUT', `/v1/${A}/c/ro`, {}, 'x')).status).toBe(403);
    expect((await req('memberB', 'POST', `/v1/${A}`, { 'X-Account-Meta-X': 'y' })).status).toBe(403);
    // Same project, other user: nothing.
    expect((await req('operatorB', 'GET', `/v1/${A}`)).status).toBe(403);
  });

  it('read-write: writes in containers, reads of the account, no account writes', async () => {
    expect((await setAcl({ 'read-write': [`${PB}:*`] })).status).toBe(204);
    expect((await req('operatorB', 'PUT', `/v1/${A}/c/rw`, {}, 'x')).status).toBe(201);
    expect((await req('memberB', 'PUT', `/v1/${A}/c2`)).status).toBe(201);
    expect((await req('memberB', 'DELETE', `/v1/${A}/c/rw`)).status).toBe(204);
    expect((await req('memberB', 'POST', `/v1/${A}`, { 'X-Account-Meta-X': 'y' })).status).toBe(403);
    expect((await req('memberC', 'GET', `/v1/${A}`)).status).toBe(403);
  });

  it("admin: the owner's powers (sees and sets the ACL), but no account PUT or DELETE", async () => {
    expect((await setAcl({ admin: [`*:${users.memberB.userId}`] })).status).toBe(204);
    const head = await req('memberB', 'HEAD', `/v1/${A}`);
    expect(head.headers['x-account-access-control']).toBe(JSON.stringify({ admin: [`*:${users.memberB.userId}`] }));
    expect((await req('memberB', 'POST', `/v1/${A}`, { 'X-Account-Meta-Who': 'b' })).status).toBe(204);
    expect((await req('memberB', 'DELETE', `/v1/${A}`)).status).toBe(403);
    expect((await req('memberB', 'PUT', `/v1/${A}`)).status).toBe(403);
    // The admin grants and revokes like an owner.
    expect((await req('memberB', 'POST', `/v1/${A}`, { 'X-Account-Access-Control': JSON.stringify({ 'read-only': [`${PC}:*`] }) })).status).toBe(204);
    expect((await req('memberC', 'GET', `/v1/${A}`)).status).toBe(200);
    expect((await req('memberB', 'GET', `/v1/${A}`)).status).toBe(403);
  });

  it('names in grantees for a default-domain account', async () => {
    expect((await setAcl({ 'read-only': [`${PB}-name:${users.memberB.userId}-name`] })).status).toBe(204);
    expect((await req('memberB', 'GET', `/v1/${A}`)).status).toBe(200);
    const d2 = { ...users.memberBd2, userName: `${users.memberB.userId}-name` };
    expect((await send(cluster.url, 'GET', `/v1/${A}`, { 'X-Test-Identity': JSON.stringify({ user: d2 }) })).status).toBe(403);
  });

  it('revocation takes effect on the next request', async () => {
    expect((await setAcl({ 'read-only': [`${PB}:*`] })).status).toBe(204);
    expect((await req('memberB', 'GET', `/v1/${A}`)).status).toBe(200);
    expect((await setAcl({})).status).toBe(204);
    expect((await req('memberB', 'GET', `/v1/${A}`)).status).toBe(403);
  });

  it('grantees that cannot match are a 400 naming them, and nothing is stored', async () => {
    expect((await setAcl({ 'read-only': [`${PB}:*`] })).status).toBe(204);
    const bad: [unknown, RegExp][] = [
      [{ 'read-only': ['nocolon'] }, /grantee "nocolon" is not <project>:<user>/],
      [{ admin: ['*:*'] }, /"\*:\*" would grant every Keystone user/],
      [{ admin: [':user'] }, /is not <project>:<user>/],
      [{ 'read-write': 'x' }, /Value for key "read-write" must be a list/],
      [{ owner: [] }, /Key "owner" not recognized/],
    ];
    for (const [acl, message] of bad) {
      const r = await setAcl(acl);
      expect(r.status, JSON.stringify(acl)).toBe(400);
      expect(r.body.toString(), JSON.stringify(acl)).toMatch(message);
    }
    const head = await req('operatorA', 'HEAD', `/v1/${A}`);
    expect(head.headers['x-account-access-control']).toBe(JSON.stringify({ 'read-only': [`${PB}:*`] }));
    expect((await setAcl({})).status).toBe(204);
  });

  it('a non-owner cannot set an account ACL', async () => {
    const r = await req('memberB', 'POST', `/v1/${A}`, { 'X-Account-Access-Control': JSON.stringify({ admin: [`${PB}:*`] }) });
    expect(r.status).toBe(403);
    expect((await req('memberB', 'GET', `/v1/${A}`)).status).toBe(403);
  });
});

describe('names outside the default domain', () => {
  let other: TestCluster;
  afterAll(async () => {
    await other?.stop();
  });

  it('are refused at write time with allow_names_in_acls = false, and for an account of another domain', async () => {
    other = await startCluster({ proxyConfig: keystoneauthConf('allow_names_in_acls = false') });
    const set = (who: object, acl: unknown) =>
      send(other.url, 'POST', `/v1/${A}`, { 'X-Test-Identity': JSON.stringify({ user: who }), 'X-Account-Access-Control': JSON.stringify(acl) });
    const r = await set(users.operatorA, { 'read-only': ['proj-b:member-b'] });
    expect(r.status).toBe(400);
    expect(r.body.toString()).toMatch(/names cannot match here: allow_names_in_acls is false/);
    expect((await set(users.operatorA, { 'read-only': [`${PB}:*`] })).status).toBe(204);
    await other.stop();

    other = await startCluster({ proxyConfig: keystoneauthConf() });
    const d2Operator = { ...users.operatorA, projectDomainId: 'd2', userDomainId: 'd2' };
    const r2 = await set(d2Operator, { 'read-only': ['proj-b:member-b'] });
    expect(r2.status).toBe(400);
    expect(r2.body.toString()).toMatch(/the account's project is in domain "d2"/);
    expect((await set(d2Operator, { 'read-only': [`${PB}:${users.memberB.userId}`] })).status).toBe(204);
  });
});

describe('/info', () => {
  it('has a keystoneauth section saying account ACLs work', async () => {
    const r = await send(cluster.url, 'GET', '/info', {});
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString()).keystoneauth).toEqual({ account_acls: true });
  });
});

describe('start-up', () => {
  it('keystoneauth without authtoken before it is refused', async () => {
    const conf = keystoneauthConf().replace(/test_keystone_identity /, '');
    await expect(startCluster({ proxyConfig: conf })).rejects.toThrow(/keystoneauth needs the authtoken filter/);
  });
});
