/**
 * Swift's keystoneauth: authorization for identities authtoken confirmed. Accounts are
 * `<reseller_prefix><project_id>`; operator roles make a user the owner of its project's
 * accounts (with a service token carrying a service role where the prefix asks for one); the
 * reseller admin role owns every account; container ACLs name `<project>:<user>` (ids, names
 * in the default domain, `*`) or roles; referrers and container sync as in tempauth.
 *
 * sluice goes past Swift (marked "sluice:" below): account ACLs (X-Account-Access-Control)
 * are honoured for Keystone identities, with the grantee grammar of src/acl/keystone-grantees.ts
 * checked at write time, and decided by the same code as under tempauth.
 */
import type { Logger } from 'pino';
import type { Authorize, AuthorizeRequest, KeystoneIdentity, ProxyContext } from '../../proxy/context';
import type { ProxyState } from '../../proxy/state';
import { accountAclsCached, parseAclV1Cached } from '../../acl/cache';
import { accountAclGrant } from '../../acl/account-access';
import { parseAclV2Ordered } from '../../acl/v2';
import { referrerAllowed } from '../../acl/referrer';
import { keystoneAccountGranteeError } from '../../acl/keystone-grantees';
import { fetchAccountInfo } from '../account-info';
import { ACL_HEADER, ACL_SYSMETA_HEADER, accountAclInvalid, deniedResponse, headerText, validateAccountAcl } from '../auth-common';
import { accountPrefixOf } from '../reseller-options';
import type { KeystoneAuthConfig } from './config';
import { SwiftAuthz, keystoneRuleDefaults, requestTarget, withData, type ExplainHooks, type ExplainedIdentity, type SwiftCreds, type SwiftTarget } from '../authz';
import { ROLES_HEADER } from '../authz/explain-request';
import type { RequestHeaders } from '../../proxy/request-headers';
import { keystoneAuthzModel, keystoneCreds } from './authz-model';

export const PROJECT_DOMAIN_ID_HEADER = 'x-account-project-domain-id';
export const PROJECT_DOMAIN_ID_SYSMETA_HEADER = 'x-account-sysmeta-project-domain-id';
/** Stored for an account created by someone who is not its project's member (domain unknown). */
export const UNKNOWN_DOMAIN_ID = '_unknown';

/** The identity keystoneauth authorizes: the user token's, plus the service token's roles. */
export interface KeystoneAuthIdentity {
  user: KeystoneIdentity;
  /** Role names of a confirmed X-Service-Token (lower-cased), empty without one. */
  serviceRoles: readonly string[];
}

export class KeystoneAuth {
  /** The rules deciding each request (src/middleware/authz), with their policy file. */
  readonly authz: SwiftAuthz;

  constructor(
    readonly conf: KeystoneAuthConfig,
    private readonly state: ProxyState,
    private readonly logger: Logger,
  ) {
    this.authz = new SwiftAuthz(keystoneAuthzModel(conf), keystoneRuleDefaults(), conf.authz, logger);
  }

  accountPrefix(account: string): string | undefined {
    return accountPrefixOf(this.conf.resellerPrefixes, account);
  }

  /** _account_matches_tenant: the account is `<one of our prefixes><project id>`. */
  accountMatchesProject(account: string, projectId: string | undefined): boolean {
    // sluice: a token without a project owns no account (Swift formats the missing id as
    // "None", making a domain-scoped admin the owner of `AUTH_None`).
    if (projectId === undefined) return false;
    return this.conf.resellerPrefixes.some((p) => `${p}${projectId}` === account);
  }

  /** _get_project_domain_id: whether the account exists, and the domain stored in its sysmeta. */
  private async accountDomain(c: ProxyContext, account: string): Promise<{ exists: boolean; domainId: string | undefined }> {
    const info = await fetchAccountInfo(this.state, c, account);
    return { exists: info.status >= 200 && info.status < 300 && info.reallyExists, domainId: info.sysmeta['project-domain-id'] };
  }

  /**
   * _set_project_domain_id: on an account PUT/POST, or a container PUT (which may create the
   * account), record the project's domain in account sysmeta: the token's project domain when
   * the account is the token's project, `_unknown` for a new account of another project, and a
   * legacy or unknown value corrected once a member of the project confirms it.
   */
  private async setProjectDomainId(c: ProxyContext, req: AuthorizeRequest, who: KeystoneIdentity): Promise<void> {
    if (req.headers.has(PROJECT_DOMAIN_ID_SYSMETA_HEADER)) return;
    const { method, object, container } = req;
    if (object || (container && method !== 'PUT') || (method !== 'PUT' && method !== 'POST')) return;
    const { exists, domainId: stored } = await this.accountDomain(c, req.account);
    const fromRequest = this.accountMatchesProject(req.account, who.projectId);
    const requestId = fromRequest ? who.projectDomainId : undefined;
    let newId: string | undefined;
    if (!exists) newId = fromRequest ? (requestId ?? '') : UNKNOWN_DOMAIN_ID;
    else if (stored === undefined && requestId === this.conf.defaultDomainId) newId = requestId;
    else if (stored === UNKNOWN_DOMAIN_ID && fromRequest) newId = requestId ?? '';
    else if (fromRequest && stored !== requestId) {
      this.logger.warn(`Inconsistent project domain id: ${requestId} in token vs ${stored} in account metadata.`);
    }
    if (newId !== undefined) req.headers.set(PROJECT_DOMAIN_ID_SYSMETA_HEADER, newId);
  }

  /**
   * sluice: why name grantees can never match in this account's ACL, or undefined when they
   * can. Used at write time so an ACL that cannot work is refused, not stored.
   */
  private async namesRefusedFor(c: ProxyContext, account: string, who: KeystoneIdentity): Promise<string | undefined> {
    if (!this.conf.allowNamesInAcls) return 'allow_names_in_acls is false';
    const dflt = this.conf.defaultDomainId;
    let domain: string | undefined;
    if (this.accountMatchesProject(account, who.projectId)) domain = who.projectDomainId;
    else domain = (await this.accountDomain(c, account)).domainId;
    if (domain !== undefined && domain !== UNKNOWN_DOMAIN_ID && domain !== dflt) {
      return `the account's project is in domain ${JSON.stringify(domain)}, and names resolve only in the default domain (${JSON.stringify(dflt)})`;
    }
    return undefined;
  }

  /** sluice: each grantee of a valid ACL document must be able to match a Keystone identity. */
  private async granteesError(c: ProxyContext, account: string, who: KeystoneIdentity, text: string): Promise<string | undefined> {
    const acl = parseAclV2Ordered(text);
    if (!acl) return undefined;
    let namesRefused: string | undefined | null = null;
    for (const level of ['admin', 'read-write', 'read-only'] as const) {
      const grantees = acl.get(level);
      if (!Array.isArray(grantees)) continue;
      for (const g of grantees) {
        if (typeof g !== 'string') continue;
        if (namesRefused === null) namesRefused = await this.namesRefusedFor(c, account, who);
        const error = keystoneAccountGranteeError(g, namesRefused);
        if (error) return error;
      }
    }
    return undefined;
  }

  /** The policy target: the request, and the account's existence and domain loaded when names need them. */
  private target(c: ProxyContext, req: AuthorizeRequest): SwiftTarget {
    let domain: Promise<{ exists: boolean; domainId: string | undefined }> | undefined;
    const lookup = () => (domain ??= this.accountDomain(c, req.account));
    return requestTarget(this.state, c, req, {
      account_exists: async () => (await lookup()).exists,
      account_domain_id: async () => (await lookup()).domainId,
    });
  }

  /**
   * Whether an allowed request is the owner's (swift_owner): the branch of Swift's authorize
   * (with sluice's account ACLs) that would have allowed it first is the reseller admin, the
   * project's operator, or an account-ACL admin. Swift's order, not a policy rule: it decides
   * who sees ACLs and keys.
   */
  private swiftOwner(req: AuthorizeRequest, target: SwiftTarget, creds: SwiftCreds): boolean {
    const { method, container, object } = req;
    const model = this.authz.model;
    const read = method === 'GET' || method === 'HEAD';
    if (creds.is_reseller_admin) return true;
    if (read && creds.is_reseller_reader) return false;
    if (!container && !object && method === 'DELETE') return false;
    const acl = parseAclV1Cached(req.acl);
    if (acl.groups.length > 0 && model.containerAclIdentities(target, creds).some((g) => acl.groupSet.has(g))) return false;
    if (target.container_sync === true) return false;
    if (referrerAllowed(target.referer, acl.referrers) && (object || acl.groupSet.has('.rlistings'))) return false;
    const aclAdmin = () => {
      const acls = accountAclsCached(target.account_acl);
      if (!acls) return false;
      const ids = model.accountAclIdentities(target, creds);
      return accountAclGrant(acls, (set) => ids.some((g) => set.has(g)), method, !!container) === 'admin';
    };
    if (!model.account('project', target, creds)) return aclAdmin();
    if (model.account('operator', target, creds) && model.account('service_token', target, creds)) return true;
    if (read && model.account('project_reader', target, creds)) return false;
    return aclAdmin();
  }

  /** authorize for a confirmed identity (bound per request). */
  authorizeIdentity(identity: KeystoneAuthIdentity): Authorize {
    const creds = keystoneCreds(this.conf, identity);
    return async (c, req) => {
      // A COPY's second authorization must not inherit the first's ownership.
      c.set('swiftOwner', false);
      const who = identity.user;
      const { method, account } = req;
      if (method === 'OPTIONS') return undefined;

      // sluice: X-Account-Access-Control is validated before any permission check, as under
      // tempauth, and then kept only as sysmeta (which only owners may end up writing).
      const rawAcl = req.headers.get(ACL_HEADER);
      if (rawAcl !== undefined) {
        const checked = validateAccountAcl(rawAcl, method);
        if (!checked.ok) return checked.response;
        const granteeError = await this.granteesError(c, account, who, checked.text);
        if (granteeError) return accountAclInvalid(method, granteeError, checked.text);
        req.headers.delete(ACL_HEADER);
        req.headers.set(ACL_SYSMETA_HEADER, rawAcl);
      }

      await this.setProjectDomainId(c, req, who);

      // sluice: role names are compared whole, as Keystone lists them. Swift sees them through
      // the comma-joined X-Roles header, so a role named "creator,SwiftOperator" or " Admin"
      // there counts as SwiftOperator or Admin.
      const target = this.target(c, req);
      if (!(await this.authz.allows(c, target, creds))) return deniedResponse(c, req);
      if (!(await this.authz.allowsAclChange(c, req, target, creds, rawAcl === undefined ? undefined : headerText(rawAcl)))) return deniedResponse(c, req);
      if (await withData(() => this.swiftOwner(req, target, creds))) c.set('swiftOwner', true);
      return undefined;
    };
  }

  /**
   * The credentials of `<project_id>:<user_id>` for an owner's X-Sluice-Explain, with the roles
   * the owner names (X-Sluice-Explain-Roles): sluice cannot ask Keystone for another user's
   * roles or names, so name entries in ACLs are not matched.
   */
  explainedIdentity(name: string, headers: RequestHeaders): ExplainedIdentity {
    if (name === 'anonymous') return { creds: keystoneCreds(this.conf, undefined) };
    const colon = name.indexOf(':');
    if (colon <= 0 || colon === name.length - 1 || name.indexOf(':', colon + 1) >= 0) {
      return { error: `${JSON.stringify(name)} is not <project_id>:<user_id> or "anonymous"` };
    }
    const rolesRaw = headers.get(ROLES_HEADER);
    const roles = rolesRaw === undefined ? [] : headerText(rolesRaw).split(',').map((r) => r.trim()).filter((r) => r !== '');
    const creds = keystoneCreds(this.conf, {
      user: {
        userId: name.slice(colon + 1),
        userName: '',
        userDomainId: this.conf.defaultDomainId,
        userDomainName: '',
        projectId: name.slice(0, colon),
        projectName: undefined,
        projectDomainId: this.conf.defaultDomainId,
        projectDomainName: undefined,
        domainId: undefined,
        domainName: undefined,
        systemScope: undefined,
        roles,
        isAdminProject: false,
        expiresAt: 0,
      },
      serviceRoles: [],
    });
    return { creds: { ...creds, user_name: undefined }, assumed: `ids only (names in ACLs are not matched), roles: ${roles.length === 0 ? 'none' : roles.join(', ')}, no service token` };
  }

  readonly explainHooks: ExplainHooks = {
    identity: (name, headers) => this.explainedIdentity(name, headers),
    target: (c, req) => this.target(c, req),
  };

  /** authorize_anonymous: only our accounts, and only what the rules allow anyone (referrers, container sync). */
  readonly authorizeAnonymous: Authorize = async (c, req) => {
    if (req.method === 'OPTIONS') return undefined;
    if (this.accountPrefix(req.account) === undefined) {
      c.set('authzDenial', `deny keystoneauth: no valid token, and account ${req.account} has none of the reseller prefixes keystoneauth serves`);
      return deniedResponse(c, req);
    }
    if (await this.authz.allows(c, this.target(c, req), keystoneCreds(this.conf, undefined))) return undefined;
    return deniedResponse(c, req);
  };
}
