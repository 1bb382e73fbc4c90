/**
 * What an account ACL (v2) grants one request, the same under every auth filter: TempAuth's
 * checks in its authorize, which keystoneauth reuses for Keystone identities (sluice).
 */
import type { CachedAccountAcls } from './cache';

export type AccountAclGrant = 'admin' | 'read-write' | 'read-only';

/**
 * The level that allows `method` on the account (no container) or inside it, or undefined.
 * `member` says whether the requester is one of a level's grantees.
 *  - admin: everything an owner may do, which (sluice) excludes account PUT and DELETE;
 *  - read-write: anything on containers and objects, and account GET/HEAD;
 *  - read-only: GET and HEAD.
 */
export function accountAclGrant(
  acls: CachedAccountAcls,
  member: (grantees: ReadonlySet<string>) => boolean,
  method: string,
  inContainer: boolean,
): AccountAclGrant | undefined {
  const read = method === 'GET' || method === 'HEAD';
  if (member(acls.admin) && (!(method === 'DELETE' || method === 'PUT') || inContainer)) return 'admin';
  if (member(acls['read-write']) && (inContainer || read)) return 'read-write';
  if (member(acls['read-only']) && read) return 'read-only';
  return undefined;
}
