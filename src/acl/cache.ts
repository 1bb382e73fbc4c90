/**
 * Parsed-ACL caches: authorization runs on every request with the same few container and
 * account ACL strings, so each distinct string is parsed once. Results are frozen because
 * they are shared between requests.
 */
import { LRUCache } from 'lru-cache';
import { parseAclV1, type ParsedAclV1 } from './v1';
import { aclsFromSysmeta, type AccountAcls } from './account-acls';

export interface CachedAclV1 extends ParsedAclV1 {
  /** The groups as a set, for membership tests. */
  readonly groupSet: ReadonlySet<string>;
}

export interface CachedAccountAcls {
  readonly admin: ReadonlySet<string>;
  readonly 'read-write': ReadonlySet<string>;
  readonly 'read-only': ReadonlySet<string>;
}

const NONE = Symbol('no account ACLs');

function lru<V extends {}>() {
  // Bounded by count and by the total length of the ACL strings used as keys.
  return new LRUCache<string, V>({ max: 2048, maxSize: 8 * 1024 * 1024, sizeCalculation: (_v, k) => Math.max(1, k.length) });
}

const v1Cache = lru<CachedAclV1>();
const accountCache = lru<CachedAccountAcls | typeof NONE>();

const EMPTY_V1: CachedAclV1 = Object.freeze({ referrers: Object.freeze([]) as unknown as string[], groups: Object.freeze([]) as unknown as string[], groupSet: new Set<string>() });

/** parseAclV1 through the cache. */
export function parseAclV1Cached(acl: string | undefined | null): CachedAclV1 {
  if (!acl) return EMPTY_V1;
  const hit = v1Cache.get(acl);
  if (hit) return hit;
  const p = parseAclV1(acl);
  const value: CachedAclV1 = Object.freeze({
    referrers: Object.freeze(p.referrers) as string[],
    groups: Object.freeze(p.groups) as string[],
    groupSet: new Set(p.groups),
  });
  v1Cache.set(acl, value);
  return value;
}

function toSets(a: AccountAcls): CachedAccountAcls {
  return Object.freeze({ admin: new Set(a.admin), 'read-write': new Set(a['read-write']), 'read-only': new Set(a['read-only']) });
}

/** aclsFromSysmeta through the cache (undefined: no account ACLs). */
export function accountAclsCached(stored: string | undefined | null): CachedAccountAcls | undefined {
  if (stored === undefined || stored === null || stored === '') return undefined;
  const hit = accountCache.get(stored);
  if (hit !== undefined) return hit === NONE ? undefined : hit;
  const acls = aclsFromSysmeta(stored);
  const value = acls ? toSets(acls) : NONE;
  accountCache.set(stored, value);
  return value === NONE ? undefined : value;
}

/** Empties both caches (tests). */
export function clearAclCaches(): void {
  v1Cache.clear();
  accountCache.clear();
}
