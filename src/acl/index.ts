/** ACL library: container ACLs (v1), account ACLs (v2), referrers, caches. */
export { cleanAcl, parseAclV1, formatAclV1, formatAcl, parseAcl, type ParsedAclV1, type FormatAclArgs } from './v1';
export { parseAclV2, parseAclV2Ordered, formatAclV2, ownerAclHeader, type AclV2 } from './v2';
export { referrerAllowed, referrerHost } from './referrer';
export { aclsFromAccountInfo, aclsFromSysmeta, accountAclError, ACCOUNT_ACL_KEYS, type AccountAcls, type AccountAclKey } from './account-acls';
export { parseAclV1Cached, accountAclsCached, clearAclCaches, type CachedAclV1, type CachedAccountAcls } from './cache';
// The JSON values parseAclV2Ordered returns (Python's json semantics live in src/compat).
export { PyNumber, PyJsonError, type PyValue, type PyDict } from '../compat/json';
