/**
 * What an auth filter tells the Swift check kinds about its identities: which ACL entries name
 * the caller, and how the caller relates to the account. TempAuth and keystoneauth each provide
 * one (src/middleware/tempauth/authz-model.ts, src/middleware/keystoneauth/authz-model.ts).
 */
import type { SwiftCreds, SwiftTarget } from './target';

/**
 * Relations between the caller and the account:
 *  - `project`: the account is the caller's (tempauth: the caller's groups include it;
 *    keystoneauth: it is `<prefix><project_id>` of the token's project);
 *  - `operator`: the caller holds what makes a project member the owner (tempauth: the
 *    prefix's `require_group`, if any; keystoneauth: one of the prefix's operator roles);
 *  - `service_token`: the prefix's service roles are satisfied by an X-Service-Token, or it names none;
 *  - `project_reader`: keystoneauth's project reader roles;
 *  - `reserved`: the account is a bare reseller prefix or a dot account (tempauth's reseller
 *    admin and reader may not use those).
 */
export const ACCOUNT_FACTS = ['project', 'operator', 'service_token', 'project_reader', 'reserved'] as const;
export type AccountFact = (typeof ACCOUNT_FACTS)[number];

export interface AuthzModel {
  readonly auth: 'tempauth' | 'keystone';
  /** The names a container ACL entry may give the caller (tempauth: its groups; keystoneauth: `<project>:<user>` forms). */
  containerAclIdentities(target: SwiftTarget, creds: SwiftCreds): readonly string[];
  /** The names an account ACL grantee may give the caller. */
  accountAclIdentities(target: SwiftTarget, creds: SwiftCreds): readonly string[];
  /** Role names (lowercased) compared with container ACL entries; keystoneauth only. */
  aclRoles(creds: SwiftCreds): readonly string[];
  account(fact: AccountFact, target: SwiftTarget, creds: SwiftCreds): boolean;
  /** The caller in words, for explanations: `test:tester3`, `user u1 of project p1`. */
  who(creds: SwiftCreds): string;
  /** What `account:operator` means here, in words: [when it passes, when it fails] (followed by the account). */
  readonly operatorWords: readonly [string, string];
}
