/**
 * What the account, container and object handles share: requests to `<storage URL>[/c[/o]]`
 * through the Session, names quoted as swiftclient quotes them (UTF-8, `/` kept in object names).
 */
import { quote } from '../../compat/quote';
import type { ClientRequestOptions, ClientResponse, EndpointFilter, SessionLike } from '../types';
import { ObjectClientUsageError } from './errors';

export interface Target {
  container?: string;
  object?: string;
}

/** The cluster's /info document (capabilities), as Swift's info middleware serves it. */
export type SwiftInfo = Record<string, Record<string, unknown> | undefined>;

export function checkContainerName(name: string): void {
  if (typeof name !== 'string' || name === '') throw new ObjectClientUsageError('container name must be a non-empty string');
  if (name.includes('/')) throw new ObjectClientUsageError(`container name ${JSON.stringify(name)} must not contain "/"`);
}

export function checkObjectName(name: string): void {
  if (typeof name !== 'string' || name === '') throw new ObjectClientUsageError('object name must be a non-empty string');
}

/** `/<container>[/<object>]`, unquoted: how segments are named in SLO manifests and bulk deletes. */
export function displayPath(t: Target): string {
  if (t.container === undefined) return '/';
  return t.object === undefined ? `/${t.container}` : `/${t.container}/${t.object}`;
}

/** The quoted path below the storage URL (`/c%20x/a/b`), empty for the account. */
export function quotedPath(t: Target): string {
  if (t.container === undefined) return '';
  const c = `/${quote(t.container, '')}`;
  return t.object === undefined ? c : `${c}/${quote(t.object, '/')}`;
}

export class StoreCore {
  private infoPromise: Promise<SwiftInfo> | undefined;

  constructor(
    readonly session: SessionLike,
    readonly endpointFilter: EndpointFilter | undefined,
  ) {}

  /** The storage URL (account URL), without a trailing slash. */
  async storageUrl(): Promise<string> {
    return (await this.session.getEndpoint(this.endpointFilter)).replace(/\/+$/, '');
  }

  async url(t: Target): Promise<string> {
    return (await this.storageUrl()) + quotedPath(t);
  }

  /** One request to an account, container or object; absolute URLs, so the endpoint is ours. */
  async call(t: Target, opts: ClientRequestOptions): Promise<ClientResponse> {
    if (t.container !== undefined) checkContainerName(t.container);
    if (t.object !== undefined) checkObjectName(t.object);
    return this.session.request(await this.url(t), opts);
  }

  /**
   * GET /info on the storage URL's host, unauthenticated and cached, as swiftclient's
   * get_capabilities; an answer other than 200 (info disabled) is an empty document.
   */
  info(): Promise<SwiftInfo> {
    this.infoPromise ??= (async () => {
      const u = new URL(await this.storageUrl());
      const res = await this.session.request(`${u.origin}/info`, { method: 'GET', authenticated: false, raiseExc: false });
      if (res.status !== 200) {
        await res.text();
        return {};
      }
      return res.json<SwiftInfo>();
    })().catch((err: unknown) => {
      this.infoPromise = undefined;
      throw err;
    });
    return this.infoPromise;
  }
}
