/** Header-name helpers shared by proxy and servers. */

/** Python's str.title() as swob applies it to header names: `x-account-meta-foo` → `X-Account-Meta-Foo`. */
export function titleCase(name: string): string {
  return name.toLowerCase().replace(/(^|[^a-z])([a-z])/g, (_, sep: string, ch: string) => sep + ch.toUpperCase());
}

export function userMetaPrefix(kind: 'account' | 'container' | 'object'): string {
  return `x-${kind}-meta-`;
}

export function sysMetaPrefix(kind: 'account' | 'container' | 'object'): string {
  return `x-${kind}-sysmeta-`;
}

export const OBJECT_TRANSIENT_SYSMETA_PREFIX = 'x-object-transient-sysmeta-';

/** True for `x-<kind>-meta-<something>` (the name must be longer than the prefix, as Swift's is_user_meta). */
export function isUserMeta(kind: 'account' | 'container' | 'object', name: string): boolean {
  const p = userMetaPrefix(kind);
  return name.length > p.length && name.toLowerCase().startsWith(p);
}

export function isSysMeta(kind: 'account' | 'container' | 'object', name: string): boolean {
  const p = sysMetaPrefix(kind);
  return name.length > p.length && name.toLowerCase().startsWith(p);
}

/** Plain headers an object keeps alongside its metadata (the object server's default allowed_headers). */
export const OBJECT_ALLOWED_HEADERS: readonly string[] = [
  'content-disposition',
  'content-encoding',
  'x-delete-at',
  'x-object-manifest',
  'x-static-large-object',
  'cache-control',
  'content-language',
  'expires',
  'x-robots-tag',
];
