/**
 * The identity headers keystonemiddleware's auth_token removes from every request and then
 * sets for the filters after it (_AuthTokenRequest._all_auth_headers), lower-case. They are for
 * the pipeline: the proxy does not pass them on to storage servers (src/proxy/controllers).
 */

/** _HEADER_TEMPLATE's names, after `X` (user) or `X-Service` (service token). */
export const IDENTITY_HEADER_SUFFIXES = [
  'Domain-Id',
  'Domain-Name',
  'Project-Id',
  'Project-Name',
  'Project-Domain-Id',
  'Project-Domain-Name',
  'User-Id',
  'User-Name',
  'User-Domain-Id',
  'User-Domain-Name',
] as const;

export type IdentityHeaderSuffix = (typeof IDENTITY_HEADER_SUFFIXES)[number];

/** _DEPRECATED_HEADER_MAP: old name → the header whose value it repeats. */
export const DEPRECATED_IDENTITY_HEADERS: readonly [string, string][] = [
  ['X-Role', 'X-Roles'],
  ['X-User', 'X-User-Name'],
  ['X-Tenant-Id', 'X-Project-Id'],
  ['X-Tenant-Name', 'X-Project-Name'],
  ['X-Tenant', 'X-Project-Name'],
];

const PREFIXES = ['', '-Service'] as const;

/**
 * _all_auth_headers, lower-case, plus OpenStack-System-Scope, which keystonemiddleware sets but
 * does not remove (sluice removes it too: a client must not claim a system scope either).
 */
export const IDENTITY_HEADERS: readonly string[] = [
  'x-service-catalog',
  'x-identity-status',
  'x-service-identity-status',
  'x-is-admin-project',
  ...DEPRECATED_IDENTITY_HEADERS.map(([old]) => old.toLowerCase()),
  ...IDENTITY_HEADER_SUFFIXES.flatMap((name) => PREFIXES.map((p) => `x${p}-${name}`.toLowerCase())),
  ...PREFIXES.map((p) => `x${p}-roles`.toLowerCase()),
  'openstack-system-scope',
];

export const IDENTITY_HEADER_SET: ReadonlySet<string> = new Set(IDENTITY_HEADERS);
