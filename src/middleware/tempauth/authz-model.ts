/**
 * TempAuth's identities for the Swift check kinds: the caller is its group list (account,
 * account:user, configured groups, and the account ids `.admin` grants), which is also what
 * ACL entries name.
 */
import type { AccountFact, AuthzModel, SwiftCreds, SwiftTarget } from '../authz';
import { accountPrefixOf } from '../reseller-options';
import type { TempAuthConfig } from './config';

/** The credentials of a tempauth caller: `groups` as REMOTE_USER lists them ('' for anonymous). */
export function tempauthCreds(remoteUser: string | undefined): SwiftCreds {
  const groups = (remoteUser ?? '').split(',').filter((g) => g !== '');
  if (groups.length === 0) return { auth: 'anonymous', roles: [], groups: [], is_reseller_admin: false, is_reseller_reader: false };
  return {
    auth: 'tempauth',
    // REMOTE_USER is the account, then account:user, then the groups.
    user: groups[1] ?? groups[0],
    groups,
    roles: groups,
    is_reseller_admin: groups.includes('.reseller_admin'),
    is_reseller_reader: groups.includes('.reseller_reader'),
  };
}

function groupsOf(creds: SwiftCreds): readonly string[] {
  return Array.isArray(creds.groups) ? (creds.groups as string[]) : [];
}

export function tempauthAuthzModel(conf: Pick<TempAuthConfig, 'resellerPrefixes' | 'requireGroup'>): AuthzModel {
  const reserved = (account: string): boolean => {
    if (conf.resellerPrefixes.includes(account)) return true;
    const p = accountPrefixOf(conf.resellerPrefixes, account);
    return p !== undefined && account[p.length] === '.';
  };
  return {
    auth: 'tempauth',
    containerAclIdentities: (_t, creds) => groupsOf(creds),
    accountAclIdentities: (_t, creds) => groupsOf(creds),
    // Groups are tempauth's only names; container_acl:read already compares them.
    aclRoles: () => [],
    account(fact: AccountFact, t: SwiftTarget, creds: SwiftCreds): boolean {
      switch (fact) {
        case 'project':
          return groupsOf(creds).includes(t.account);
        case 'operator': {
          const prefix = accountPrefixOf(conf.resellerPrefixes, t.account);
          const group = prefix === undefined ? '' : (conf.requireGroup.get(prefix) ?? '');
          return group === '' || groupsOf(creds).includes(group);
        }
        case 'service_token':
          return true;
        case 'project_reader':
          return false;
        case 'reserved':
          return reserved(t.account);
      }
    },
    who: (creds) => (typeof creds.user === 'string' ? creds.user : 'an anonymous caller'),
    operatorWords: ['the caller is in the require_group (or none is set) of', 'the caller is not in the require_group of'],
  };
}
