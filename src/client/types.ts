/**
 * The contract between the Session (auth, endpoint discovery, transport) and the service clients
 * built on it, as keystoneauth1's Session is shared by every OpenStack service client.
 */
import type { Readable } from 'node:stream';

/** Which endpoint of the service catalog a request goes to (keystoneauth's endpoint_filter). */
export interface EndpointFilter {
  serviceType?: string;
  /** One interface or an ordered preference: 'public' | 'internal' | 'admin'. */
  interface?: string | readonly string[];
  regionName?: string;
  version?: string;
  minVersion?: string;
  maxVersion?: string;
}

export type RequestBody = string | Uint8Array | Readable | AsyncIterable<Uint8Array> | null | undefined;

export interface ClientRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Query parameters, added to the URL percent-encoded; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  /** The endpoint a relative path is joined to; default: the object-store public endpoint. */
  endpointFilter?: EndpointFilter;
  endpointOverride?: string;
  /** false: no token is sent (and none fetched). Default true. */
  authenticated?: boolean;
  /** false: an HTTP error status is returned instead of thrown. Default true. */
  raiseExc?: boolean;
  /** Milliseconds for this request; default the Session's timeout. */
  timeout?: number;
  signal?: AbortSignal;
  /** Another auth plugin for this request only (keystoneauth's `auth=` per request). */
  auth?: AuthPlugin;
}

export interface ClientResponse {
  status: number;
  /** Response header names lower case; repeated headers joined with ', '. */
  headers: Record<string, string>;
  url: string;
  /** The body as a stream; read it once, through this or text()/json()/bytes(). */
  body: Readable;
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
  bytes(): Promise<Buffer>;
}

/** What a service client needs of a Session. */
export interface SessionLike {
  /** `pathOrUrl`: an absolute URL, or a path joined to the endpoint `options` select. */
  request(pathOrUrl: string, options?: ClientRequestOptions): Promise<ClientResponse>;
  /** The endpoint URL the filter selects (the storage URL for object-store). */
  getEndpoint(filter?: EndpointFilter): Promise<string>;
}

/** An HTTP error status, thrown by Session.request unless raiseExc is false. */
export class ClientHttpError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly url: string,
    readonly headers: Record<string, string>,
    readonly body: string,
  ) {
    super(`${method} ${url} failed: ${status}${body ? `: ${body.slice(0, 200)}` : ''}`);
    this.name = 'ClientHttpError';
  }
}

/** What an auth plugin gets from the Session to make its own requests (logged, redacted, same TLS and timeouts). */
export interface AuthTransport {
  send(url: string, request: { method: string; headers: Record<string, string>; json?: unknown }): Promise<AuthTransportResponse>;
}

export interface AuthTransportResponse {
  status: number;
  /** Names lower case. */
  headers: Record<string, string>;
  url: string;
  text: string;
}

/**
 * An auth plugin (keystoneauth's BaseAuthPlugin): it fetches and caches its own token, so one
 * plugin shared by several Sessions authenticates once.
 */
export interface AuthPlugin {
  /** The headers that authenticate a request (`X-Auth-Token`), authenticating first if needed. */
  getHeaders(transport: AuthTransport): Promise<Record<string, string>>;
  /** The endpoint the filter selects from what authentication returned; undefined if none matches. */
  getEndpoint(transport: AuthTransport, filter: EndpointFilter): Promise<string | undefined>;
  /**
   * Forgets the token (after a 401) so the next request authenticates again. With `token`, only
   * if that is still the current one. Returns false when the plugin cannot get another token.
   */
  invalidate(token?: string): boolean;
}
