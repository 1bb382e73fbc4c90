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
import { keystoneAccountGranteeError, keystoneAclIdentities } from '../../acl/keystone-grantees';
import { asByteString } from '../../compat/bytes';
import { fetchAccountInfo } from '../account-info';
import { ACL_HEADER, ACL_SYSMETA_HEADER, accountAclInvalid, containerSyncAllows, deniedResponse, headerText, validateAccountAcl } from '../auth-common';
import { accountPrefixOf } from '../reseller-options';
import type { KeystoneAuthConfig } from './config';

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
  constructor(
    readonly conf: KeystoneAuthConfig,
    private readonly state: ProxyState,
    private readonly logger: Logger,
  ) {}

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
   * _is_name_allowed_in_acl: names match only with allow_names_in_acls, for a user and a
   * scoped project in the default domain, on an account whose project is in it too.
   */
  private async namesAllowed(c: ProxyContext, account: string, who: KeystoneIdentity): Promise<boolean> {
    if (!this.conf.allowNamesInAcls) return false;
    const dflt = this.conf.defaultDomainId;
    if (who.userDomainId && who.userDomainId !== dflt) return false;
    if (who.projectDomainId && who.projectDomainId !== dflt) return false;
    if (this.accountMatchesProject(account, who.projectId)) return true;
    const { exists, domainId } = await this.accountDomain(c, account);
    return exists && (domainId === undefined || domainId === dflt);
  }

  /** _authorize_unconfirmed_identity: container sync, then referrers; undefined when undecided. */
  private async unconfirmedIdentity(c: ProxyContext, req: AuthorizeRequest, referrers: readonly string[], groups: ReadonlySet<string>): Promise<boolean | undefined> {
    if (await containerSyncAllows(this.state, c, req)) return true;
    const referer = req.referer === undefined ? undefined : headerText(asByteString(req.referer));
    if (referrerAllowed(referer, referrers)) return !!req.object || groups.has('.rlistings');
    return undefined;
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

  /** sluice: the account ACL level granted to this identity for this request, if any. */
  private async accountAclAllows(c: ProxyContext, req: AuthorizeRequest, who: KeystoneIdentity): Promise<boolean> {
    const info = await fetchAccountInfo(this.state, c, req.account);
    const acls = accountAclsCached(info.sysmeta['core-access-control']);
    if (!acls) return false;
    const names = await this.namesAllowed(c, req.account, who);
    // "*:*" is refused at write time; never honour it if an ACL stored by another filter has it.
    const ids = keystoneAclIdentities(who, names).filter((g) => g !== '*:*');
    const grant = accountAclGrant(acls, (set) => ids.some((g) => set.has(g)), req.method, !!req.container);
    if (!grant) return false;
    this.logger.debug({ grant }, 'keystoneauth: account ACL authorizing');
    if (grant === 'admin') c.set('swiftOwner', true);
    return true;
  }

  /** authorize for a confirmed identity (bound per request). */
  authorizeIdentity(identity: KeystoneAuthIdentity): Authorize {
    return async (c, req) => {
      // A COPY's second authorization must not inherit the first's ownership.
      c.set('swiftOwner', false);
      const who = identity.user;
      const { method, account, container, object } = req;
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
      const roles = who.roles.map((r) => r.toLowerCase());
      if (roles.includes(this.conf.resellerAdminRole)) {
        this.logger.debug('keystoneauth: reseller admin authorizing');
        c.set('swiftOwner', true);
        return undefined;
      }
      // A system reader may read anything; its writes fall through to the other checks.
      if ((method === 'GET' || method === 'HEAD') && roles.some((r) => this.conf.systemReaderRoles.has(r))) return undefined;
      // Only a reseller admin may delete an account.
      if (!container && !object && method === 'DELETE') return deniedResponse(c, req);

      const acl = parseAclV1Cached(req.acl);
      if (acl.groups.length > 0) {
        const names = await this.namesAllowed(c, account, who);
        if (keystoneAclIdentities(who, names).some((g) => acl.groupSet.has(g))) return undefined;
      }
      const unconfirmed = await this.unconfirmedIdentity(c, req, acl.referrers, acl.groupSet);
      if (unconfirmed) return undefined;

      if (!this.accountMatchesProject(account, who.projectId)) {
        if (await this.accountAclAllows(c, req, who)) return undefined;
        return deniedResponse(c, req);
      }

      // Operator roles own the account; where the prefix names service roles, only together
      // with a service token carrying one of them.
      const rules = this.conf.accountRules.get(this.accountPrefix(account) ?? '');
      if (rules) {
        const operator = rules.operatorRoles.some((r) => roles.includes(r));
        const service = rules.serviceRoles.length === 0 || rules.serviceRoles.some((r) => identity.serviceRoles.includes(r));
        if (operator && service) {
          c.set('swiftOwner', true);
          return undefined;
        }
        if ((method === 'GET' || method === 'HEAD') && rules.projectReaderRoles.some((r) => roles.includes(r))) return undefined;
      }
      if (await this.accountAclAllows(c, req, who)) return undefined;
      if (unconfirmed !== undefined) return deniedResponse(c, req);
      // A role named in the container ACL.
      const aclRoles = new Set(acl.groups.map((g) => g.toLowerCase()));
      if (roles.some((r) => aclRoles.has(r))) return undefined;
      return deniedResponse(c, req);
    };
  }

  /** authorize_anonymous: only our accounts, and only what referrers or container sync allow. */
  readonly authorizeAnonymous: Authorize = async (c, req) => {
    if (req.method === 'OPTIONS') return undefined;
    if (this.accountPrefix(req.account) === undefined) return deniedResponse(c, req);
    const acl = parseAclV1Cached(req.acl);
    if (await this.unconfirmedIdentity(c, req, acl.referrers, acl.groupSet)) return undefined;
    return deniedResponse(c, req);
  };
}
