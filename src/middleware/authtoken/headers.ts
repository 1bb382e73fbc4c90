/**
 * The identity headers auth_token hands downstream, named as keystonemiddleware's
 * _request._AuthTokenRequest names them, and the list it removes from every request first so
 * a client can never claim an identity (remove_auth_headers).
 */
import { bytesOf } from '../../compat/bytes';
import { pyJsonDumps } from '../../compat/json';
import type { KeystoneIdentity } from '../../proxy/context';
import type { RequestHeaders } from '../../proxy/request-headers';
import { DEPRECATED_IDENTITY_HEADERS, IDENTITY_HEADER_SET, IDENTITY_HEADER_SUFFIXES, IDENTITY_HEADERS, type IdentityHeaderSuffix } from '../../common/identity-headers';

/** _HEADER_TEMPLATE's value for each name (X%s-<name>, '' for the user, '-Service' for the service token). */
const VALUE_OF: Record<IdentityHeaderSuffix, (i: KeystoneIdentity) => string | undefined> = {
  'Domain-Id': (i) => i.domainId,
  'Domain-Name': (i) => i.domainName,
  'Project-Id': (i) => i.projectId,
  'Project-Name': (i) => i.projectName,
  'Project-Domain-Id': (i) => i.projectDomainId,
  'Project-Domain-Name': (i) => i.projectDomainName,
  'User-Id': (i) => i.userId || undefined,
  'User-Name': (i) => i.userName || undefined,
  'User-Domain-Id': (i) => i.userDomainId || undefined,
  'User-Domain-Name': (i) => i.userDomainName || undefined,
};
const TEMPLATE = IDENTITY_HEADER_SUFFIXES.map((name) => [name, VALUE_OF[name]] as const);

const DEPRECATED = DEPRECATED_IDENTITY_HEADERS;
const PREFIXES = ['', '-Service'] as const;

export const AUTH_HEADERS = IDENTITY_HEADERS;
const AUTH_HEADER_SET = IDENTITY_HEADER_SET;

/**
 * Removes every identity header the client sent. Names spelt with `_` for `-` go too: a WSGI
 * server folds both into one environ key, so such a header is the same claim there.
 */
export function removeAuthHeaders(headers: RequestHeaders): void {
  headers.deleteWhere((name) => AUTH_HEADER_SET.has(name) || (name.includes('_') && AUTH_HEADER_SET.has(name.replace(/_/g, '-'))));
}

export type HeaderPairs = readonly (readonly [string, string])[];

/** Header values are byte strings: Keystone's names are text, sent as their UTF-8 bytes. */
function pair(name: string, value: string): readonly [string, string] {
  return [name, bytesOf(value)];
}

function authHeaders(identity: KeystoneIdentity, prefix: '' | '-Service'): [string, string][] {
  const out: [string, string][] = [pair(`X${prefix}-Roles`, identity.roles.join(',')) as [string, string]];
  for (const [name, get] of TEMPLATE) {
    const value = get(identity);
    if (value !== undefined) out.push(pair(`X${prefix}-${name}`, value) as [string, string]);
  }
  return out;
}

/**
 * set_user_headers: roles, the X-User-/X-Project-/X-Domain- set, OpenStack-System-Scope,
 * X-Is-Admin-Project (`True`/`False`) and the deprecated aliases. Absent values (a project
 * token has no X-Domain-Id) are absent headers, as keystonemiddleware's None is.
 */
export function userHeaders(identity: KeystoneIdentity): HeaderPairs {
  const out = authHeaders(identity, '');
  if (identity.systemScope) out.push(['OpenStack-System-Scope', identity.systemScope]);
  out.push(['X-Is-Admin-Project', identity.isAdminProject ? 'True' : 'False']);
  for (const [old, current] of DEPRECATED) {
    const found = out.find(([n]) => n === current);
    if (found) out.push([old, found[1]]);
  }
  return out;
}

/** set_service_headers: the same set with the X-Service- prefix, and OpenStack-System-Scope. */
export function serviceHeaders(identity: KeystoneIdentity): HeaderPairs {
  const out = authHeaders(identity, '-Service');
  if (identity.systemScope) out.push(['OpenStack-System-Scope', identity.systemScope]);
  return out;
}

/**
 * X-Service-Catalog: the v3 catalog in keystonemiddleware's older shape (_normalize_catalog):
 * per service its type, name and one entry per region with `<interface>URL` keys, as
 * json.dumps writes it (ASCII, `", "` and `": "`), in the token's order.
 */
export function catalogHeader(catalog: readonly unknown[]): string {
  const services = catalog.map((raw) => {
    const svc = (raw ?? {}) as Record<string, unknown>;
    const service = new Map<string, unknown>([['type', svc.type ?? null]]);
    if ('name' in svc) service.set('name', svc.name);
    const regions = new Map<unknown, Map<string, unknown>>();
    for (const rawEp of Array.isArray(svc.endpoints) ? svc.endpoints : []) {
      const ep = (rawEp ?? {}) as Record<string, unknown>;
      const regionName = ep.region ?? null;
      let region = regions.get(regionName);
      if (!region) {
        region = new Map(regionName ? [['region', regionName]] : []);
        regions.set(regionName, region);
      }
      region.set(`${String(ep.interface ?? '').toLowerCase()}URL`, ep.url ?? null);
    }
    service.set('endpoints', [...regions.values()]);
    return service;
  });
  return pyJsonDumps(services);
}
