/**
 * Differential test: sluice's keystoneauth against Swift's own KeystoneAuth (Debian's
 * python3-swift 2.30 under /usr/bin/python3, driven by keystoneauth_oracle.py), on generated
 * configurations, Keystone tokens, requests, container ACLs and stored account info.
 *
 * Both sides start from the same inputs: a v3 token (Swift's side gets the X-* headers
 * keystonemiddleware's own request wrapper sets from it; sluice's side the KeystoneAuthResult
 * authtoken would set), the backend headers of the account (and container), and the request.
 * sluice's filter handler and its authorize callback run against a fake context whose
 * per-request info cache holds that info; Swift's __call__ and authorize run the same way.
 * Compared: whether authorize was installed, allow or the denial status (and the 401's
 * Www-Authenticate), swift_owner, the X-Account-Sysmeta-Project-Domain-Id left on the
 * request, and reseller_request.
 *
 * Account ACLs are sluice's own (see keystoneauth.ts), so the equality property stores none;
 * a second property stores one and checks that it only ever adds permissions. Where sluice
 * is knowingly stricter than Swift (knownDifference below), cases are checked for that only.
 *
 * A failure prints the seed, the fast-check path and the shrunk case as JSON; that JSON, one
 * line on keystoneauth_oracle.py's stdin, gives Swift's answer alone.
 */
import { spawnSync } from 'node:child_process';
import { PythonOracle } from '../../helpers/python-oracle';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keystoneauth, parseKeystoneAuthConfig, PROJECT_DOMAIN_ID_SYSMETA_HEADER } from '../../../src/middleware/keystoneauth/index';
import type { KeystoneAuthResult, KeystoneIdentity } from '../../../src/proxy/context';
import { containerCacheKey, headersToAccountInfo, headersToContainerInfo } from '../../../src/proxy/info-cache';
import type { FilterContext } from '../../../src/proxy/filter';
import type { ProxyState } from '../../../src/proxy/state';
import { fakeCtx, fakeState } from '../tempauth/helpers';

const PY = '/usr/bin/python3';
const ORACLE = join(import.meta.dirname, 'keystoneauth_oracle.py');
const probe = existsSync(PY)
  ? spawnSync(PY, ['-c', 'import swift.common.middleware.keystoneauth, keystonemiddleware.auth_token._request, keystoneauth1.access'], { encoding: 'utf8' })
  : undefined;
const haveSwift = probe?.status === 0;
// CI installs python3-swift and Keystone (which brings keystonemiddleware): there the oracle must run.
if (!haveSwift && process.env.CI) throw new Error(`the keystoneauth oracle is required in CI: ${probe?.stderr?.trim() || `${PY} missing`}`);
const skipReason = haveSwift ? '' : `(skipped: ${PY} cannot import swift's keystoneauth and keystonemiddleware: ${probe?.stderr?.trim() || 'python3 missing'})`;

// Fixed by default; KEYSTONEAUTH_DIFF_SEED / KEYSTONEAUTH_DIFF_RUNS explore further.
const SEED = Number(process.env.KEYSTONEAUTH_DIFF_SEED ?? 20240917);
const RUNS = Number(process.env.KEYSTONEAUTH_DIFF_RUNS ?? 4000);
const ACL_RUNS = Math.ceil(RUNS * 0.4);

// ---------------------------------------------------------------------------------------------
// Cases (the JSON keystoneauth_oracle.py reads)

interface TokenSpec {
  status: 'Confirmed' | 'Invalid';
  userId: string;
  userName: string;
  userDomainId: string;
  userDomainName: string;
  /** Project scope; absent for a domain-scoped token. */
  project?: { id: string; name: string; domainId: string; domainName: string };
  domain?: { id: string; name: string };
  roles: string[];
}

interface Case {
  conf: Record<string, string>;
  /** The X-Auth-Token's validation; null: no token. */
  user: TokenSpec | null;
  /** The X-Service-Token's; null: none sent. */
  service: TokenSpec | null;
  /** swift.authorize_override, as tempurl or formpost set it. */
  override: boolean;
  method: string;
  account: string;
  container: string | null;
  object: string | null;
  headers: Record<string, string>;
  /** req.acl: the container's read or write ACL; null when the controller set none. */
  acl: string | null;
  accountInfo: { status: number; domainId: string | null; reallyExists: boolean; accountAcl?: string };
  containerSyncKey: string | null;
}

interface Decision {
  installed: boolean;
  status: number | null;
  wwwAuthenticate: string | null;
  owner: boolean;
  domainHeader: string | null;
  resellerRequest: boolean;
}

// Keystone-shaped ids (uuid4 hex), so reproducers stay readable: a1… projects, c1… users.
// Names are Unicode, as in the token body and in the container info's (decoded) ACL.
const id = (s: string) => s.padEnd(32, '0');
const PROJECTS = [
  { id: id('a1'), name: 'proj1' },
  { id: id('a2'), name: 'proj2' },
  { id: id('a3'), name: 'Pröj3' },
];
const USERS = [
  { id: id('c1'), name: 'alice' },
  { id: id('c2'), name: 'bob' },
  // A user whose name is another project's name: names and ids must not be confused.
  { id: id('c3'), name: 'proj2' },
  { id: id('c4'), name: 'José' },
];
const DOMAINS: Record<string, string> = { default: 'Default', d1: 'Domain1', d2: 'Domain2' };
const ROLES = ['admin', 'Admin', 'swiftoperator', 'SwiftOperator', 'member', 'Member', 'reader', 'READER', 'service', 'Service', 'ResellerAdmin', 'reselleradmin', 'superuser', 'auditor', 'Auditor', 'creator'];
/**
 * Role names Keystone accepts (its name schema only asks for one non-space character) that
 * X-Roles cannot carry intact: keystonemiddleware joins names with ',' and Swift splits and
 * strips them again (list_from_csv).
 */
const ODD_ROLES = ['creator,SwiftOperator', ' Admin', 'reader '];
/** A token's role names: mostly the usual ones, now and then an odd one. */
const tokenRoleArb = fc.oneof({ weight: 80, arbitrary: fc.constantFrom(...ROLES) }, { weight: 1, arbitrary: fc.constantFrom(...ODD_ROLES) });
const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'COPY'];

/** `arb` in one case out of `oneIn`, else null (fc.option's freq counts the other way). */
function oneIn<T>(oneIn: number, arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
}

/** A comma-separated role option, with the stray separators config files have. */
const roleOption = fc
  .tuple(fc.array(fc.constantFrom(...ROLES), { minLength: 1, maxLength: 3 }), fc.constantFrom(', ', ',', ' , ', ',,'))
  .map(([roles, sep]) => roles.join(sep));

const confArb: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      reseller_prefix: fc.constantFrom('AUTH', 'AUTH, SERVICE', "''", "AUTH, ''", "'', SERVICE", 'AUTH_, SERVICE_', 'SERVICE,AUTH', 'NEWAUTH', ' , '),
      operator_roles: roleOption,
      AUTH_operator_roles: roleOption,
      SERVICE_operator_roles: roleOption,
      "''operator_roles": roleOption,
      service_roles: roleOption,
      AUTH_service_roles: roleOption,
      SERVICE_service_roles: roleOption,
      project_reader_roles: roleOption,
      SERVICE_project_reader_roles: roleOption,
      reseller_admin_role: fc.constantFrom('ResellerAdmin', 'superuser', 'Admin', ''),
      system_reader_roles: roleOption,
      allow_names_in_acls: fc.constantFrom('true', 'false', 'no', 'yes', 'off', '1', 'on', ''),
      default_domain_id: fc.constantFrom('default', 'd1', ''),
      allow_overrides: fc.constantFrom('false', 'true', 'no'),
      is_admin: fc.constantFrom('true', 'false'),
    },
    { requiredKeys: [] },
  )
  // Each option is set in about a third of the configurations.
  .chain((all) => fc.subarray(Object.entries(all) as [string, string][]).map((kept) => Object.fromEntries(kept)));

const domainArb = fc.constantFrom('default', 'default', 'd1', 'd2');

const tokenArb: fc.Arbitrary<TokenSpec> = fc
  .record({
    status: fc.constantFrom<'Confirmed' | 'Invalid'>('Confirmed', 'Confirmed', 'Confirmed', 'Confirmed', 'Invalid'),
    user: fc.nat({ max: USERS.length - 1 }),
    userDomainId: domainArb,
    scope: fc.option(fc.record({ project: fc.nat({ max: PROJECTS.length - 1 }), domainId: domainArb }), { freq: 6 }),
    scopeDomain: domainArb,
    roles: fc.array(tokenRoleArb, { maxLength: 4 }),
  })
  .map(({ status, user, userDomainId, scope, scopeDomain, roles }) => ({
    status,
    userId: USERS[user]!.id,
    userName: USERS[user]!.name,
    userDomainId,
    userDomainName: DOMAINS[userDomainId]!,
    ...(scope
      ? { project: { ...PROJECTS[scope.project]!, domainId: scope.domainId, domainName: DOMAINS[scope.domainId]! } }
      : { domain: { id: scopeDomain, name: DOMAINS[scopeDomain]! } }),
    roles,
  }));

const serviceArb: fc.Arbitrary<TokenSpec> = fc
  .record({
    status: fc.constantFrom<'Confirmed' | 'Invalid'>('Confirmed', 'Confirmed', 'Invalid'),
    roles: fc.array(tokenRoleArb, { maxLength: 3 }),
  })
  .map(({ status, roles }) => ({
    status,
    userId: id('5e'),
    userName: 'swift-service',
    userDomainId: 'default',
    userDomainName: 'Default',
    project: { id: id('5f'), name: 'service', domainId: 'default', domainName: 'Default' },
    roles,
  }));

/**
 * `<project>:<user>` grantees by id, name, `*`, and "None" (what Python prints for no project).
 * `{pid}` `{pname}` `{uid}` `{uname}` stand for the token's own (see ownGrantees), so that
 * grants meant for the caller are frequent.
 */
const granteeArb = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('{pid}', '{pname}') },
      { weight: 4, arbitrary: fc.constantFrom(...PROJECTS.flatMap((p) => [p.id, p.name]), '*', 'None') },
    ),
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('{uid}', '{uname}') },
      { weight: 4, arbitrary: fc.constantFrom(...USERS.flatMap((u) => [u.id, u.name]), '*') },
    ),
  )
  .map(([p, u]) => `${p}:${u}`);

/** Fills in the token's own project and user (the first ones for a domain-scoped or no token). */
function ownGrantees(text: string, user: TokenSpec | null): string {
  const own: Record<string, string> = {
    pid: user?.project?.id ?? PROJECTS[0]!.id,
    pname: user?.project?.name ?? PROJECTS[0]!.name,
    uid: user?.userId ?? USERS[0]!.id,
    uname: user?.userName ?? USERS[0]!.name,
  };
  return text.replace(/\{(pid|pname|uid|uname)\}/g, (_, k: string) => own[k]!);
}

const aclEntryArb = fc.oneof(
  { weight: 4, arbitrary: granteeArb },
  { weight: 2, arbitrary: fc.constantFrom(...ROLES) },
  { weight: 3, arbitrary: fc.constantFrom('.r:*', '.r:example.com', '.r:.example.com', '.r:-example.com', '.r:-.example.com', '.r:-www.example.com', '.rlistings') },
);
const aclArb = fc
  .tuple(fc.array(aclEntryArb, { maxLength: 4 }), fc.constantFrom(',', ', '))
  .map(([entries, sep]) => entries.join(sep));

const REFERERS = ['http://example.com/x', 'http://www.example.com/', 'https://www.example.com:8443/p', 'http://evil.com/', 'example.com', '', 'http://EXAMPLE.com/'];

const requestArb = fc.record({
  method: fc.constantFrom(...METHODS),
  accountPrefix: fc.constantFrom('AUTH_', 'AUTH_', 'SERVICE_', 'NEWAUTH_', '', 'OTHER_', 'AUTH', 'auth_'),
  /** 'self': the token's project (the first project for a domain-scoped token). */
  accountProject: fc.constantFrom<'self' | number | '' | 'None'>('self', 'self', 'self', 0, 1, 2, '', 'None'),
  container: fc.option(fc.constantFrom('c', 'photos'), { freq: 4 }),
  object: fc.option(fc.constantFrom('o', 'a/b'), { freq: 2 }),
  acl: fc.option(aclArb, { freq: 5 }),
  referer: fc.option(fc.constantFrom(...REFERERS), { freq: 3 }),
  syncKeyHeader: oneIn(5, fc.constantFrom('k1', 'k2')),
  timestamp: oneIn(2, fc.constant('1700000000.00000')),
  containerSyncKey: fc.option(fc.constant('k1'), { freq: 4 }),
  /** Already on the request (a COPY's second authorization sees the first's). */
  presetDomain: oneIn(12, fc.constantFrom('default', 'd1')),
  override: fc.constantFrom(false, false, false, false, false, false, false, true),
  accountStatus: fc.constantFrom(200, 204, 204, 204, 404, 404, 410, 503),
  accountDomain: fc.option(fc.constantFrom('default', 'd1', 'd2', '_unknown'), { freq: 4 }),
  reallyExists: fc.constantFrom(true, true, true, false),
});

const caseArb: fc.Arbitrary<Case> = fc
  .record({ conf: confArb, user: fc.option(tokenArb, { freq: 8 }), service: oneIn(3, serviceArb), req: requestArb })
  .map(({ conf, user, service, req }) => {
    const project =
      req.accountProject === 'self' ? (user?.project?.id ?? PROJECTS[0]!.id) : typeof req.accountProject === 'number' ? PROJECTS[req.accountProject]!.id : req.accountProject;
    const headers: Record<string, string> = {};
    if (req.referer !== null) headers.Referer = req.referer;
    if (req.syncKeyHeader !== null) headers['X-Container-Sync-Key'] = req.syncKeyHeader;
    if (req.timestamp !== null) headers['X-Timestamp'] = req.timestamp;
    if (req.presetDomain !== null) headers['X-Account-Sysmeta-Project-Domain-Id'] = req.presetDomain;
    return {
      conf,
      user,
      service,
      override: req.override,
      method: req.method,
      account: `${req.accountPrefix}${project}` || 'x',
      container: req.container,
      object: req.container === null ? null : req.object,
      headers,
      acl: req.acl === null ? null : ownGrantees(req.acl, user),
      accountInfo: { status: req.accountStatus, domainId: req.accountDomain, reallyExists: req.reallyExists },
      containerSyncKey: req.containerSyncKey,
    };
  });

// ---------------------------------------------------------------------------------------------
// Swift's side: one long-running oracle, one JSON line per case.

class Oracle extends PythonOracle {
  constructor() {
    super(PY, ORACLE);
  }

  decide(k: Case): Promise<Decision> {
    return this.ask<Decision>(k);
  }
}

// ---------------------------------------------------------------------------------------------
// sluice's side

const silent = pino({ level: 'silent' });

/** What authtoken puts in the `keystone` context variable for a validated v3 token. */
function identityOf(t: TokenSpec): KeystoneIdentity {
  return {
    userId: t.userId,
    userName: t.userName,
    userDomainId: t.userDomainId,
    userDomainName: t.userDomainName,
    projectId: t.project?.id,
    projectName: t.project?.name,
    projectDomainId: t.project?.domainId,
    projectDomainName: t.project?.domainName,
    domainId: t.domain?.id,
    domainName: t.domain?.name,
    systemScope: undefined,
    roles: t.roles,
    isAdminProject: false,
    expiresAt: Date.now() + 3600_000,
  };
}

function keystoneResult(k: Case): KeystoneAuthResult {
  const userOk = k.user?.status === 'Confirmed';
  const serviceOk = k.service?.status === 'Confirmed';
  return {
    userStatus: userOk ? 'Confirmed' : 'Invalid',
    user: userOk ? identityOf(k.user!) : undefined,
    serviceStatus: k.service ? k.service.status : undefined,
    service: serviceOk ? identityOf(k.service!) : undefined,
  };
}

/** The account's backend headers, as the account server would answer the HEAD. */
function accountHeaders(a: Case['accountInfo']): Record<string, string> {
  const h: Record<string, string> = {};
  if (a.domainId !== null) h['x-account-sysmeta-project-domain-id'] = a.domainId;
  if (a.accountAcl !== undefined) h['x-account-sysmeta-core-access-control'] = a.accountAcl;
  if (!a.reallyExists) h['x-backend-fake-account-listing'] = 'yes';
  return h;
}

/**
 * One proxy state for every case, without a shared cache: account and container info come
 * only from each request's info cache, so no case sees another's, and a lookup the case did
 * not provide fails loudly (there are no rings to ask).
 */
const state = { ...fakeState(), cache: undefined, keystoneAuthtoken: true } as ProxyState;
const filterCtx = { state, logger: silent, accessLogger: silent } as unknown as FilterContext;

async function sluiceDecides(k: Case): Promise<Decision> {
  const handler = keystoneauth(parseKeystoneAuthConfig(k.conf), filterCtx);
  const c = fakeCtx({ method: k.method, headers: k.headers, accounts: { [k.account]: headersToAccountInfo(accountHeaders(k.accountInfo), k.accountInfo.status) } });
  if (k.container !== null) {
    const sync: Record<string, string> = k.containerSyncKey === null ? {} : { 'x-container-sync-key': k.containerSyncKey };
    c.get('infoCache').set(containerCacheKey(k.account, k.container), headersToContainerInfo(sync, 204));
  }
  c.set('keystone', keystoneResult(k));
  c.set('authorizeOverride', k.override);
  Object.assign(c, { res: new Response(null, { status: 204 }) });

  const out: Partial<Decision> = {};
  await handler(c, async () => {
    const authorize = c.get('authorize');
    out.installed = authorize !== undefined;
    const headers = c.get('headers');
    const denial = authorize
      ? await authorize(c, {
          method: k.method,
          account: k.account,
          container: k.container ?? undefined,
          object: k.object ?? undefined,
          acl: k.acl ?? undefined,
          referer: headers.get('referer'),
          headers,
        })
      : undefined;
    out.status = denial?.status ?? null;
    out.wwwAuthenticate = denial?.status === 401 ? denial.headers.get('www-authenticate') : null;
    out.owner = c.get('swiftOwner') === true;
    out.domainHeader = headers.get(PROJECT_DOMAIN_ID_SYSMETA_HEADER) ?? null;
  });
  out.resellerRequest = c.get('resellerRequest') === true;
  return out as Decision;
}

// ---------------------------------------------------------------------------------------------
// Known differences, where sluice is stricter than Swift: each is named, excluded from the
// equality, checked to be stricter only (never allowing, owning or reseller-flagging more),
// counted, and asserted to be rare.

/**
 * Swift formats a missing project id as "None" ('%s:%s' % (None, user)), so a domain-scoped
 * token matches a container ACL grantee `None:<user>`. sluice: an identity without a project
 * matches no `<project>:<user>` grantee (src/acl/keystone-grantees.ts, keystoneAclIdentities).
 */
function unscopedMatchesNone(k: Case): boolean {
  const user = k.user?.status === 'Confirmed' ? k.user : undefined;
  return !!user && !user.project && !!k.acl && /(^|[ ,])None:/.test(k.acl);
}

/**
 * The same "None" on the account side: Swift's _account_matches_tenant compares the account
 * with '%s%s' % (prefix, None), so a domain-scoped token is the project of `AUTH_None` (its
 * operator roles own that account, its domain id gets recorded there). sluice: an identity
 * without a project matches no account (KeystoneAuth.accountMatchesProject). NOT marked
 * "sluice:" there (reported to the lead).
 */
function unscopedOwnsNoneAccount(k: Case): boolean {
  const user = k.user?.status === 'Confirmed' ? k.user : undefined;
  return !!user && !user.project && k.account.endsWith('None');
}

/**
 * A Keystone role name with a comma or surrounding spaces (ODD_ROLES): Swift reads the roles
 * back from X-Roles with list_from_csv, so `creator,SwiftOperator` is two roles there and
 * ` Admin` is `admin`; sluice gets the token's role names as they are and matches none of
 * them. NOT marked "sluice:" in src/middleware/keystoneauth/ (reported to the lead).
 */
function oddRoleNames(k: Case): boolean {
  return [k.user, k.service].some((t) => t?.status === 'Confirmed' && t.roles.some((r) => r.includes(',') || r !== r.trim()));
}

function knownDifference(k: Case): string | undefined {
  if (unscopedMatchesNone(k)) return 'unscoped token vs a None:<user> grantee';
  if (unscopedOwnsNoneAccount(k)) return 'unscoped token on a <prefix>None account';
  if (oddRoleNames(k)) return 'role names X-Roles cannot carry';
  return undefined;
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(!haveSwift)(`keystoneauth agrees with Swift's KeystoneAuth ${skipReason}`, () => {
  let oracle: Oracle;
  beforeAll(() => {
    oracle = new Oracle();
  });
  afterAll(() => oracle?.close());

  it(`takes Swift's decisions on ${RUNS} generated cases (seed ${SEED})`, async () => {
    const excludedWhy: Record<string, number> = {};
    const seen = { allowed: 0, owner: 0, 401: 0, 403: 0, domainHeader: 0, reseller: 0, notInstalled: 0, excluded: 0 };
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const [swift, ours] = await Promise.all([oracle.decide(k), sluiceDecides(k)]);
        const msg = JSON.stringify(k);
        const known = knownDifference(k);
        if (known) {
          // Where sluice differs, it is only ever stricter.
          seen.excluded++;
          excludedWhy[known] = (excludedWhy[known] ?? 0) + 1;
          expect(ours.installed, msg).toBe(swift.installed);
          if (swift.status !== null) expect(ours.status, msg).toBe(swift.status);
          if (ours.owner) expect(swift.owner, msg).toBe(true);
          if (ours.resellerRequest) expect(swift.resellerRequest, msg).toBe(true);
          return;
        }
        expect(ours, msg).toEqual(swift);
        if (!swift.installed) seen.notInstalled++;
        else if (swift.status === null) seen.allowed++;
        else seen[swift.status as 401 | 403]++;
        if (swift.owner) seen.owner++;
        if (swift.domainHeader !== null) seen.domainHeader++;
        if (swift.resellerRequest) seen.reseller++;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The generators reach every outcome often enough for the comparison to mean something.
    for (const [what, n] of Object.entries(seen)) {
      if (what === 'excluded') expect(n, JSON.stringify(excludedWhy)).toBeLessThan(RUNS * 0.05);
      else expect(n, `${what} (${JSON.stringify(seen)})`).toBeGreaterThan(RUNS * 0.01);
    }
  }, 60_000);

  it(`a stored account ACL only ever adds to what Swift allows (${ACL_RUNS} cases, seed ${SEED + 1})`, async () => {
    const grantees = fc.array(fc.oneof(granteeArb, fc.constantFrom('*:*', PROJECTS[0]!.id + ':*', 'nonsense')), { maxLength: 3 });
    const accountAcl = fc
      .record({ admin: grantees, 'read-write': grantees, 'read-only': grantees }, { requiredKeys: [] })
      .map((acl) => JSON.stringify(acl));
    let widened = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, accountAcl, async (k, acl) => {
        const withAcl: Case = { ...k, accountInfo: { ...k.accountInfo, accountAcl: ownGrantees(acl, k.user) } };
        // Swift's keystoneauth never reads core-access-control: its answer is the no-ACL one.
        const [swift, ours] = await Promise.all([oracle.decide(withAcl), sluiceDecides(withAcl)]);
        if (knownDifference(k)) return;
        const msg = JSON.stringify(withAcl);
        expect(ours.installed, msg).toBe(swift.installed);
        if (swift.status === null) expect(ours.status, msg).toBeNull();
        else if (ours.status !== null) expect(ours, msg).toEqual(swift);
        else widened++;
        if (swift.owner) expect(ours.owner, msg).toBe(true);
        expect(ours.domainHeader, msg).toBe(swift.domainHeader);
        expect(ours.resellerRequest, msg).toBe(swift.resellerRequest);
      }),
      { seed: SEED + 1, numRuns: ACL_RUNS },
    );
    // Some account ACLs did grant what Swift would refuse.
    expect(widened).toBeGreaterThan(0);
  }, 60_000);
});
