/**
 * keystoneauth's identities for the Swift check kinds: a confirmed token's user and project
 * (ACL entries name `<project>:<user>` by id, by name in the default domain, or `*`), its roles,
 * and the roles of an X-Service-Token.
 */
import type { AccountFact, AuthzModel, SwiftCreds, SwiftTarget } from '../authz';
import { keystoneAclIdentities } from '../../acl/keystone-grantees';
import { accountPrefixOf } from '../reseller-options';
import type { KeystoneAuthConfig } from './config';
import type { KeystoneAuthIdentity } from './keystoneauth';

const ANONYMOUS: SwiftCreds = { auth: 'anonymous', roles: [], service_roles: [], is_reseller_admin: false, is_reseller_reader: false };

/** The credentials of a confirmed Keystone identity (roles lowercased), or of an anonymous caller. */
export function keystoneCreds(conf: Pick<KeystoneAuthConfig, 'resellerAdminRole' | 'systemReaderRoles'>, identity: KeystoneAuthIdentity | undefined): SwiftCreds {
  if (!identity) return ANONYMOUS;
  const u = identity.user;
  const roles = u.roles.map((r) => r.toLowerCase());
  return {
    auth: 'keystone',
    user_id: u.userId,
    user_name: u.userName,
    user_domain_id: u.userDomainId,
    project_id: u.projectId,
    project_name: u.projectName,
    project_domain_id: u.projectDomainId,
    roles,
    service_roles: identity.serviceRoles,
    is_reseller_admin: roles.includes(conf.resellerAdminRole),
    is_reseller_reader: roles.some((r) => conf.systemReaderRoles.has(r)),
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** A list of names from the credentials (keystoneCreds and `sluice policy check` make them lists of strings). */
const strings = (v: unknown): readonly string[] => (Array.isArray(v) ? (v as string[]) : []);

export function keystoneAuthzModel(conf: KeystoneAuthConfig): AuthzModel {
  const accountMatchesProject = (account: string, projectId: string | undefined): boolean =>
    // sluice: a token without a project owns no account (Swift formats the missing id as "None").
    projectId !== undefined && account.endsWith(projectId) && conf.resellerPrefixes.some((p) => p.length + projectId.length === account.length && account.startsWith(p));

  /**
   * _is_name_allowed_in_acl: names match only with allow_names_in_acls, for a user and a scoped
   * project in the default domain, on an account whose project is in it too.
   */
  const namesAllowed = (t: SwiftTarget, creds: SwiftCreds): boolean => {
    if (!conf.allowNamesInAcls) return false;
    const dflt = conf.defaultDomainId;
    const userDomain = str(creds.user_domain_id);
    const projectDomain = str(creds.project_domain_id);
    if (userDomain && userDomain !== dflt) return false;
    if (projectDomain && projectDomain !== dflt) return false;
    if (accountMatchesProject(t.account, str(creds.project_id))) return true;
    return t.account_exists === true && (t.account_domain_id === undefined || t.account_domain_id === dflt);
  };

  const identities = (t: SwiftTarget, creds: SwiftCreds): string[] => {
    if (creds.auth !== 'keystone') return [];
    const userId = str(creds.user_id);
    if (userId === undefined) return [];
    const who = { projectId: str(creds.project_id), projectName: str(creds.project_name), userId, userName: str(creds.user_name) ?? '' };
    return keystoneAclIdentities(who, namesAllowed(t, creds));
  };

  const rulesFor = (account: string) => conf.accountRules.get(accountPrefixOf(conf.resellerPrefixes, account) ?? '');

  return {
    auth: 'keystone',
    containerAclIdentities: identities,
    // "*:*" is refused at write time; never honour it if an ACL stored by another filter has it.
    accountAclIdentities: (t, creds) => identities(t, creds).filter((g) => g !== '*:*'),
    aclRoles: (creds) => strings(creds.roles),
    account(fact: AccountFact, t: SwiftTarget, creds: SwiftCreds): boolean {
      const roles = strings(creds.roles);
      switch (fact) {
        case 'project':
          return creds.auth === 'keystone' && accountMatchesProject(t.account, str(creds.project_id));
        case 'operator':
          return rulesFor(t.account)?.operatorRoles.some((r) => roles.includes(r)) ?? false;
        case 'service_token': {
          const rules = rulesFor(t.account);
          if (!rules) return false;
          const serviceRoles = strings(creds.service_roles);
          return rules.serviceRoles.length === 0 || rules.serviceRoles.some((r) => serviceRoles.includes(r));
        }
        case 'project_reader':
          return rulesFor(t.account)?.projectReaderRoles.some((r) => roles.includes(r)) ?? false;
        case 'reserved':
          return false;
      }
    },
    operatorWords: ['the caller holds one of the operator_roles of', 'the caller holds none of the operator_roles of'],
    who: (creds) => {
      if (creds.auth !== 'keystone') return 'an anonymous caller';
      const user = str(creds.user_name) ?? str(creds.user_id);
      const project = str(creds.project_name) ?? str(creds.project_id);
      return project === undefined ? `user ${user}` : `user ${user} of project ${project}`;
    },
  };
}
