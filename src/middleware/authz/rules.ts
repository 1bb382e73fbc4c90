/**
 * Swift's authorization decisions as named default rules, one per operation
 * (`swift:<level>:<method>`) built from named helper rules, in the order Swift's filters check
 * them. With these defaults a filter allows exactly what Swift's TempAuth and keystoneauth do
 * (plus sluice's account ACLs under keystoneauth); a policy file overrides any of them.
 *
 * Which allowed requests count as the account owner's (Swift's swift_owner: they may see and set
 * ACLs and keys) is not a rule: it stays Swift's, decided in the filter's code.
 */
import type { RuleDefault } from '../../policy';
import { ruleFor, type SwiftLevel } from './target';

export const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS'] as const;
/** The rule of a method without its own: `swift:<level>:other`. */
export const OTHER_METHOD = 'OTHER';
const LEVELS: readonly SwiftLevel[] = ['account', 'container', 'object'];
const PATHS: Record<SwiftLevel, string> = {
  account: '/v1/{account}',
  container: '/v1/{account}/{container}',
  object: '/v1/{account}/{container}/{object}',
};

const isRead = (m: string) => m === 'GET' || m === 'HEAD';

/** Evaluated, after the operation's rule, for requests that set ACLs. */
const ACL_SET_RULES: RuleDefault[] = [
  { name: 'swift:acl:container:set', check: '@', description: 'Setting X-Container-Read or X-Container-Write (a container PUT or POST the operation rule allowed); sets_acl:<entry> looks at the entries set.', operations: [{ method: 'PUT', path: '/v1/{account}/{container}' }, { method: 'POST', path: '/v1/{account}/{container}' }] },
  { name: 'swift:acl:account:set', check: '@', description: 'Setting X-Account-Access-Control (an account PUT or POST the operation rule allowed); sets_acl:<grantee> looks at its grantees.', operations: [{ method: 'PUT', path: '/v1/{account}' }, { method: 'POST', path: '/v1/{account}' }] },
];

const ACCOUNT_ACL_HELPERS: RuleDefault[] = [
  { name: 'swift:account_acl:read', check: 'account_acl:admin or account_acl:read-write or account_acl:read-only', description: 'Any account ACL level: what lets a grantee read (GET/HEAD) the account and its containers and objects.' },
  { name: 'swift:account_acl:write', check: 'account_acl:admin or account_acl:read-write', description: 'The read-write and admin account ACL levels: what lets a grantee write containers and objects.' },
];

/** The rule text of one operation, in Swift's order. */
type OperationText = (level: SwiftLevel, method: string) => string;

function operationRules(text: OperationText): RuleDefault[] {
  const out: RuleDefault[] = [];
  for (const level of LEVELS) {
    const what = level === 'account' ? 'an account' : level === 'container' ? 'a container' : 'an object';
    for (const method of [...METHODS, OTHER_METHOD]) {
      const other = method === OTHER_METHOD;
      out.push({
        name: other ? `swift:${level}:other` : ruleFor(level, method),
        check: text(level, method),
        description: other ? `A method without a rule of its own on ${what} (the proxy itself takes only the six above).` : `${method} on ${what}.`,
        operations: other ? [] : [{ method, path: PATHS[level] }],
      });
    }
  }
  return out;
}

/** accountAclGrant's levels: admin but for account PUT and DELETE; read-write inside the account and for reads; read-only for reads. */
function accountAclClause(level: SwiftLevel, method: string): string | undefined {
  if (isRead(method)) return 'rule:swift:account_acl:read';
  if (level !== 'account') return 'rule:swift:account_acl:write';
  return method === 'PUT' || method === 'DELETE' ? undefined : 'account_acl:admin';
}

/** A referrer entry allows objects, and a listing only with `.rlistings`. */
function referrerClause(level: SwiftLevel): string {
  return level === 'object' ? 'container_acl:referrer' : '(container_acl:referrer and container_acl:rlistings)';
}

const syncs = (level: SwiftLevel, method: string) => level === 'object' && (method === 'PUT' || method === 'DELETE');

function or(parts: (string | undefined | false)[]): string {
  return parts.filter((p): p is string => typeof p === 'string').join(' or ');
}

/** TempAuth's authorize, in its order. */
export function tempauthRuleDefaults(): RuleDefault[] {
  const text: OperationText = (level, method) => {
    if (method === 'OPTIONS') return '@';
    const read = isRead(method);
    return or([
      'rule:swift:reseller_admin',
      read && 'rule:swift:reseller_reader',
      !(level === 'account' && (method === 'PUT' || method === 'DELETE')) && 'rule:swift:account_owner',
      syncs(level, method) && 'container_sync:key',
      referrerClause(level),
      'container_acl:member',
      accountAclClause(level, method),
    ]);
  };
  return [
    { name: 'swift:reseller_admin', check: 'is_reseller_admin:True and not account:reserved', description: 'A member of .reseller_admin: may do anything on every account but the bare reseller prefixes and dot accounts.' },
    { name: 'swift:reseller_reader', check: 'is_reseller_reader:True and not account:reserved', description: 'A member of .reseller_reader: may read (GET/HEAD) every account but the bare reseller prefixes and dot accounts.' },
    { name: 'swift:account_owner', check: 'account:project and account:operator', description: "The account's own users (the account is one of their groups), holding the prefix's require_group when one is set." },
    ...ACCOUNT_ACL_HELPERS,
    ...operationRules(text),
    ...ACL_SET_RULES,
  ];
}

/** keystoneauth's authorize, in its order, with sluice's account ACLs. */
export function keystoneRuleDefaults(): RuleDefault[] {
  const text: OperationText = (level, method) => {
    if (method === 'OPTIONS') return '@';
    if (level === 'account' && method === 'DELETE') return 'rule:swift:reseller_admin';
    const read = isRead(method);
    return or([
      'rule:swift:reseller_admin',
      read && 'rule:swift:reseller_reader',
      'container_acl:member',
      syncs(level, method) && 'container_sync:key',
      referrerClause(level),
      'rule:swift:account_owner',
      read && 'rule:swift:project_reader',
      accountAclClause(level, method),
      // A role entry counts only where no referrer entry matched: Swift's unconfirmed-identity step denies first.
      '(account:project and not container_acl:referrer and container_acl:role)',
    ]);
  };
  return [
    { name: 'swift:reseller_admin', check: 'is_reseller_admin:True', description: 'A holder of reseller_admin_role: may do anything on every account.' },
    { name: 'swift:reseller_reader', check: 'is_reseller_reader:True', description: 'A holder of one of system_reader_roles: may read (GET/HEAD) every account.' },
    { name: 'swift:account_owner', check: 'account:project and account:operator and account:service_token', description: "A user of the account's project holding one of the prefix's operator_roles, with an X-Service-Token holding one of its service_roles where the prefix names any." },
    { name: 'swift:project_reader', check: 'account:project and account:project_reader', description: "A user of the account's project holding one of the prefix's project_reader_roles: may read (GET/HEAD) it." },
    ...ACCOUNT_ACL_HELPERS,
    ...operationRules(text),
    ...ACL_SET_RULES,
  ];
}
