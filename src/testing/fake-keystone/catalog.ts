/**
 * The service catalog of the fake: `identity` (named `keystone`, as bootstrap names it) at the
 * fake's own /v3, then the configured services (by default `object-store` named `swift`), and
 * how Keystone renders it into a token (catalog/backends/sql.py get_v3_catalog).
 */
import { createHash } from 'node:crypto';
import type { FakeKeystoneServiceOptions } from './types';

export interface Endpoint {
  id: string;
  interface: 'public' | 'internal' | 'admin';
  url: string;
  region: string;
}

export interface Service {
  id: string;
  type: string;
  name: string;
  endpoints: Endpoint[];
}

const INTERFACES = ['public', 'internal', 'admin'] as const;

/** An id that stays the same for the same service (and interface) across starts. */
function stableId(...parts: string[]): string {
  return createHash('sha256').update(['fake-keystone', ...parts].join('\0')).digest('hex').slice(0, 32);
}

function service(options: FakeKeystoneServiceOptions, region: string): Service {
  const id = options.id ?? stableId('service', options.type, options.name);
  return {
    id,
    type: options.type,
    name: options.name,
    endpoints: options.endpoints.map((e) => ({
      id: e.id ?? stableId('endpoint', id, e.interface, e.region ?? region),
      interface: e.interface,
      url: e.url,
      region: e.region ?? region,
    })),
  };
}

function threeEndpoints(url: string): FakeKeystoneServiceOptions['endpoints'] {
  return INTERFACES.map((i) => ({ interface: i, url }));
}

export class Catalog {
  private readonly services: Service[];

  constructor(
    v3Url: string,
    private readonly region: string,
    configured: FakeKeystoneServiceOptions[],
  ) {
    this.services = [
      service({ type: 'identity', name: 'keystone', endpoints: threeEndpoints(v3Url) }, region),
      ...configured.map((s) => service(s, region)),
    ];
  }

  static objectStore(urlTemplate: string): FakeKeystoneServiceOptions {
    return { type: 'object-store', name: 'swift', endpoints: threeEndpoints(urlTemplate) };
  }

  /** Every object-store endpoint now answers with `template` (ids kept); adds the service if there is none. */
  setObjectStoreUrl(template: string): void {
    const store = this.services.find((s) => s.type === 'object-store');
    if (!store) {
      this.services.push(service(Catalog.objectStore(template), this.region));
      return;
    }
    for (const e of store.endpoints) e.url = template;
  }

  serviceIds(): Record<string, string> {
    return Object.fromEntries(this.services.map((s) => [s.type, s.id]));
  }

  /**
   * The catalog as a token carries it: every service, each endpoint with its URL filled in for
   * the token. Without a project (domain or system scope) an endpoint whose URL needs one is left
   * out, and so is one naming a key Keystone would not know (a malformed endpoint).
   */
  render(userId: string, projectId: string | null): unknown[] {
    const values: Record<string, string> = { user_id: userId };
    if (projectId) Object.assign(values, { project_id: projectId, tenant_id: projectId });
    return this.services.map((s) => ({
      endpoints: s.endpoints.flatMap((e) => {
        const url = formatUrl(e.url, values);
        // Keystone's endpoint dict: id, interface, region_id, url, then region (a copy of region_id).
        return url === null ? [] : [{ id: e.id, interface: e.interface, region_id: e.region, url, region: e.region }];
      }),
      id: s.id,
      type: s.type,
      name: s.name,
    }));
  }
}

/** Python's `url % values` for `%(key)s` and `%%`; null when a key is missing or the template is malformed. */
export function formatUrl(template: string, values: Record<string, string>): string | null {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '%') {
      out += c;
      continue;
    }
    if (template[i + 1] === '%') {
      out += '%';
      i++;
      continue;
    }
    const m = /^%\(([^)]*)\)s/.exec(template.slice(i));
    if (!m) return null;
    const value = Object.hasOwn(values, m[1]!) ? values[m[1]!] : undefined;
    if (value === undefined) return null;
    out += value;
    i += m[0].length - 1;
  }
  return out;
}
