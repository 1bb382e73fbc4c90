/**
 * Account ACLs (version 2, stored in `x-account-sysmeta-core-access-control`):
 * acls_from_account_info plus TempAuth's validation of the X-Account-Access-Control header.
 */
import { pyJsonString } from '../compat/json';
import { parseAclV2Ordered } from './v2';
import { pyRepr } from '../compat/repr';

export const ACCOUNT_ACL_KEYS = ['admin', 'read-write', 'read-only'] as const;
export type AccountAclKey = (typeof ACCOUNT_ACL_KEYS)[number];

/** Grantees per access level; only ever built from validated-looking data. */
export interface AccountAcls {
  admin: readonly string[];
  'read-write': readonly string[];
  'read-only': readonly string[];
}

/** The parts of account info this needs (src/proxy/info-cache.ts AccountInfo fits). */
export interface AccountInfoLike {
  sysmeta?: Record<string, string | undefined>;
}

function members(v: unknown): string[] {
  // Python would iterate whatever is stored (a string would match single characters); only
  // lists of strings can get in through TempAuth, so anything else grants nothing here.
  if (!Array.isArray(v)) return [];
  return v.filter((x): x is string => typeof x === 'string');
}

function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (typeof v === 'object' && v !== null && 'value' in v && typeof (v as { value: unknown }).value === 'number') return (v as { value: number }).value !== 0;
  return true;
}

/**
 * acls_from_account_info from the stored ACL text: undefined when nothing is stored, the text
 * is not a JSON object, or admin, read-write and read-only are all empty; otherwise exactly
 * those three lists.
 */
export function aclsFromSysmeta(stored: string | undefined | null): AccountAcls | undefined {
  const acl = parseAclV2Ordered(stored);
  if (acl === undefined) return undefined;
  const admin = acl.get('admin');
  const rw = acl.get('read-write');
  const ro = acl.get('read-only');
  if (!truthy(admin) && !truthy(rw) && !truthy(ro)) return undefined;
  return { admin: members(admin), 'read-write': members(rw), 'read-only': members(ro) };
}

/** acls_from_account_info(info): reads `sysmeta['core-access-control']`. */
export function aclsFromAccountInfo(info: AccountInfoLike | undefined | null): AccountAcls | undefined {
  return aclsFromSysmeta(info?.sysmeta?.['core-access-control']);
}

/**
 * What is wrong with an X-Account-Access-Control value (already decoded to text), as
 * TempAuth's extract_acl_and_report_errors words it, or undefined when it is valid:
 * a syntax error (not JSON, not an object), then the first unknown key in document order,
 * then per key in the order admin, read-write, read-only: not a list, or a non-string element.
 */
export function accountAclError(text: string): string | undefined {
  const acl = parseAclV2Ordered(text);
  if (acl === undefined) return `Syntax error in input (${pyRepr(text)})`;
  for (const key of acl.keys()) {
    if (!(ACCOUNT_ACL_KEYS as readonly string[]).includes(key)) return `Key ${pyJsonString(key)} not recognized`;
  }
  for (const key of ACCOUNT_ACL_KEYS) {
    if (!acl.has(key)) continue;
    const v = acl.get(key);
    if (!Array.isArray(v)) return `Value for key ${pyJsonString(key)} must be a list`;
    if (v.some((x) => typeof x !== 'string')) return `Elements of ${pyJsonString(key)} list must be strings`;
  }
  return undefined;
}
