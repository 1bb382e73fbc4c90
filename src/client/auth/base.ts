/**
 * What every token-fetching plugin shares (keystoneauth1.identity.base.BaseIdentityPlugin): the
 * token is fetched on demand, reused until it is within `minTokenLife` seconds of its expiry
 * (keystoneauth's MIN_TOKEN_LIFE_SECONDS, 120), and fetched once for every caller waiting at the
 * same time, whichever Session they come through.
 *
 * One difference: the margin is at most half the token's lifetime. keystoneauth would fetch a
 * token that lives less than 120 s (TempAuth with a short token_life, a Keystone with a short
 * [token] expiration) before every request, and twice for the request that needs the endpoint.
 */
import type { CatalogService } from '../catalog';
import { selectEndpoint } from '../catalog';
import { ClientConfigError } from '../errors';
import type { AuthPlugin, AuthTransport, EndpointFilter } from '../types';

/** keystoneauth1.identity.base.BaseIdentityPlugin.MIN_TOKEN_LIFE_SECONDS. */
export const MIN_TOKEN_LIFE_SECONDS = 120;

/** What an authentication returned. */
export interface AccessInfo {
  token: string;
  /** undefined: the server named no expiry (the token is used until a 401). */
  expiresAt?: Date;
  /** Keystone v3's catalog. */
  catalog?: CatalogService[];
  /** TempAuth's X-Storage-Url. */
  storageUrl?: string;
  /** The token body as Keystone answered it (user, project, roles), without the catalog. */
  body?: Record<string, unknown>;
}

export interface BaseAuthOptions {
  /** Seconds before expiry at which a token is no longer used; default 120 (keystoneauth's). */
  minTokenLife?: number;
}

export abstract class BaseAuthPlugin implements AuthPlugin {
  private access: AccessInfo | undefined;
  /** When `access` was fetched (ms since the epoch), for its lifetime. */
  private fetchedAt = 0;
  private pending: Promise<AccessInfo> | undefined;
  protected readonly minTokenLife: number;

  constructor(options: BaseAuthOptions = {}) {
    const min = options.minTokenLife ?? MIN_TOKEN_LIFE_SECONDS;
    if (!(min >= 0)) throw new ClientConfigError('minTokenLife must be a number of seconds >= 0');
    this.minTokenLife = min;
  }

  /** Fetches a new token; called by getAccess only, never twice at once. */
  protected abstract authenticate(transport: AuthTransport): Promise<AccessInfo>;

  private fresh(a: AccessInfo | undefined): a is AccessInfo {
    if (!a) return false;
    if (a.expiresAt === undefined) return true;
    const expires = a.expiresAt.getTime();
    const margin = Math.min(this.minTokenLife * 1000, Math.max(0, (expires - this.fetchedAt) / 2));
    return expires - margin > Date.now();
  }

  /** The current access, authenticating first when there is none or it is about to expire. */
  async getAccess(transport: AuthTransport): Promise<AccessInfo> {
    if (this.fresh(this.access)) return this.access;
    if (!this.pending) {
      this.pending = this.authenticate(transport).then(
        (a) => {
          this.access = a;
          this.fetchedAt = Date.now();
          this.pending = undefined;
          return a;
        },
        (err: unknown) => {
          this.pending = undefined;
          throw err;
        },
      );
    }
    return this.pending;
  }

  async getHeaders(transport: AuthTransport): Promise<Record<string, string>> {
    return { 'X-Auth-Token': (await this.getAccess(transport)).token };
  }

  async getEndpoint(transport: AuthTransport, filter: EndpointFilter): Promise<string | undefined> {
    const access = await this.getAccess(transport);
    return access.catalog ? selectEndpoint(access.catalog, filter) : undefined;
  }

  invalidate(token?: string): boolean {
    if (token !== undefined && this.access && this.access.token !== token) return true;
    this.access = undefined;
    return true;
  }
}

/** A required string option, or a ClientConfigError naming it. */
export function required(value: string | undefined, what: string): string {
  if (typeof value !== 'string' || value === '') throw new ClientConfigError(`${what} is required`);
  return value;
}

/** An http(s) URL option, without trailing slashes. */
export function httpUrl(value: string | undefined, what: string): string {
  const url = required(value, what);
  if (!/^https?:\/\/[^/?#]+/i.test(url)) throw new ClientConfigError(`${what} must be an http or https URL`);
  return url.replace(/\/+$/, '');
}
