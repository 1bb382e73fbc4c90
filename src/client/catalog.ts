/**
 * Endpoint selection from a Keystone v3 service catalog, as keystoneauth1's ServiceCatalog does
 * it: the services of the type, their endpoints of the first interface in the preference list
 * that has any (v2 spellings such as `publicURL` accepted), in the region if one is named, and
 * whose URL version is in the range asked for.
 */
import type { EndpointFilter } from './types';
import { versionBetween, versionFromUrl, versionRange } from './version';

export interface CatalogEndpoint {
  id?: string;
  interface: string;
  region?: string | null;
  region_id?: string | null;
  url: string;
}

export interface CatalogService {
  id?: string;
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

export const DEFAULT_SERVICE_TYPE = 'object-store';
export const DEFAULT_INTERFACE = 'public';

/** `publicURL` → `public` (keystoneauth normalises v2 names the same way). */
function normaliseInterface(i: string): string {
  return i.toLowerCase().replace(/url$/, '');
}

export function interfacesOf(filter: EndpointFilter): string[] {
  const i = filter.interface ?? DEFAULT_INTERFACE;
  return (typeof i === 'string' ? [i] : [...i]).map(normaliseInterface);
}

/** The URL the filter selects, or undefined. */
export function selectEndpoint(catalog: readonly CatalogService[], filter: EndpointFilter): string | undefined {
  const type = filter.serviceType ?? DEFAULT_SERVICE_TYPE;
  const range = versionRange(filter);
  const candidates = catalog
    .filter((s) => s.type === type)
    .flatMap((s) => s.endpoints ?? [])
    .filter((e) => filter.regionName === undefined || e.region_id === filter.regionName || e.region === filter.regionName)
    .filter((e) => {
      if (!range) return true;
      const v = versionFromUrl(e.url);
      return v !== undefined && versionBetween(range, v);
    });
  for (const wanted of interfacesOf(filter)) {
    const hit = candidates.find((e) => normaliseInterface(e.interface) === wanted);
    if (hit) return hit.url;
  }
  return undefined;
}

/** How a filter reads in an error message. */
export function describeFilter(filter: EndpointFilter): string {
  const parts = [`service type ${filter.serviceType ?? DEFAULT_SERVICE_TYPE}`, `interface ${interfacesOf(filter).join(',')}`];
  if (filter.regionName !== undefined) parts.push(`region ${filter.regionName}`);
  for (const k of ['version', 'minVersion', 'maxVersion'] as const) if (filter[k] !== undefined) parts.push(`${k} ${filter[k]}`);
  return parts.join(', ');
}
