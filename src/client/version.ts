/**
 * API versions as keystoneauth1.discover reads them: `v1`, `1`, `1.0`, `v2.latest`, `latest` →
 * a tuple of numbers (Infinity for "latest"), and an endpoint's version from the last path
 * segment of its URL that starts with `v` (`/v1/AUTH_x` → 1.0). No discovery document is
 * fetched: Swift publishes none (its /info is capabilities, not versions).
 */
import { ClientConfigError } from './errors';

export type Version = readonly number[];

const LATEST = Infinity;

export function parseVersion(spec: string): Version {
  const s = spec.trim().replace(/^v/, '');
  if (s === 'latest') return [LATEST, LATEST];
  const parts = s.split('.');
  if (!parts.every((p) => p === 'latest' || /^\d+$/.test(p))) throw new ClientConfigError(`invalid version ${JSON.stringify(spec)}`);
  const nums = parts.map((p) => (p === 'latest' ? LATEST : Number(p)));
  return nums.length === 1 ? [nums[0]!, 0] : nums;
}

/** The version an endpoint URL names, or undefined (discover._version_from_url). */
export function versionFromUrl(url: string): Version | undefined {
  const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').split(/[?#]/)[0] ?? '';
  for (const part of path.split('/').reverse()) {
    if (!part.startsWith('v')) continue;
    try {
      return parseVersion(part);
    } catch {
      // not a version segment
    }
  }
  return undefined;
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0 && !Number.isNaN(d)) return d < 0 ? -1 : 1;
  }
  return 0;
}

export interface VersionRange {
  min?: Version;
  max?: Version;
}

/**
 * The range a filter asks for (discover._normalize_version_args): `version` X means X up to the
 * latest minor of X's major; `minVersion` alone means up to the latest; none means any.
 */
export function versionRange(f: { version?: string; minVersion?: string; maxVersion?: string }): VersionRange | undefined {
  if (f.version !== undefined && (f.minVersion !== undefined || f.maxVersion !== undefined)) {
    throw new ClientConfigError('version is mutually exclusive with minVersion and maxVersion');
  }
  if (f.version !== undefined) {
    const min = parseVersion(f.version);
    return { min, max: [min[0]!, LATEST] };
  }
  if (f.minVersion === undefined && f.maxVersion === undefined) return undefined;
  const min = f.minVersion !== undefined ? parseVersion(f.minVersion) : undefined;
  const max = f.maxVersion !== undefined ? parseVersion(f.maxVersion) : [LATEST, LATEST];
  if (min && compare(max, min) < 0) throw new ClientConfigError('minVersion cannot be greater than maxVersion');
  return { min, max };
}

/** discover.version_between: min <= candidate <= max, "latest" parts unbounded. */
export function versionBetween(range: VersionRange, candidate: Version): boolean {
  if (range.min && compare(candidate, range.min) < 0) return false;
  if (range.max && compare(candidate, range.max) > 0) return false;
  return true;
}
