/**
 * What middleware and controllers share about one request, as typed Hono context variables
 * (Swift keeps these in the WSGI environ: swift.authorize, swift_owner, REMOTE_USER, ...).
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { Info } from './info-cache';
import type { RequestHeaders } from './request-headers';

/** The parts of a request an authorizer decides on (Swift's req plus req.acl). */
export interface AuthorizeRequest {
  method: string;
  account: string;
  container: string | undefined;
  object: string | undefined;
  /** Container read ACL (GET/HEAD) or write ACL (PUT/POST/DELETE) once the controller knows it. */
  acl: string | undefined;
  /** Both of the container's ACLs, when the controller has read the container info. */
  containerAcls?: { readonly read: string | undefined; readonly write: string | undefined };
  referer: string | undefined;
  headers: RequestHeaders;
}

/** Denial as a Response; undefined allows. May mark the request as a swift owner through `c`. */
export type Authorize = (c: ProxyContext, req: AuthorizeRequest) => Promise<Response | undefined>;

/** Validates and canonicalises a container ACL header value; throws Error(message) → 400. */
export type CleanAcl = (headerName: string, value: string) => string;

export interface ParsedPath {
  version: string;
  account: string;
  container: string | undefined;
  object: string | undefined;
}

/**
 * One identity a validated Keystone token establishes (keystonemiddleware's AccessInfo for a v3
 * token): what authtoken puts into the X-User-, X-Project- and X-Roles headers, typed.
 */
export interface KeystoneIdentity {
  userId: string;
  userName: string;
  userDomainId: string;
  userDomainName: string;
  /** Project scope; all four undefined for a domain- or system-scoped or unscoped token. */
  projectId: string | undefined;
  projectName: string | undefined;
  projectDomainId: string | undefined;
  projectDomainName: string | undefined;
  /** Domain scope (X-Domain-Id / X-Domain-Name). */
  domainId: string | undefined;
  domainName: string | undefined;
  /** 'all' for a system-scoped token (OpenStack-System-Scope). */
  systemScope: string | undefined;
  /** Role names as Keystone lists them (implied roles included), case kept. */
  roles: readonly string[];
  /** X-Is-Admin-Project */
  isAdminProject: boolean;
  /** The token's expires_at, in epoch milliseconds. */
  expiresAt: number;
}

/**
 * What authtoken decided about a request (keystonemiddleware's X-Identity-Status and
 * X-Service-Identity-Status plus keystone.token_info): set on every request it sees.
 */
export interface KeystoneAuthResult {
  /** X-Identity-Status: Confirmed only for a valid user token. */
  userStatus: 'Confirmed' | 'Invalid';
  user: KeystoneIdentity | undefined;
  /** X-Service-Identity-Status: undefined when no X-Service-Token was sent. */
  serviceStatus: 'Confirmed' | 'Invalid' | undefined;
  service: KeystoneIdentity | undefined;
}

export interface ProxyVariables {
  /** Set by authtoken on every request it sees (Swift's keystoneauth reads the same as headers). */
  keystone: KeystoneAuthResult | undefined;
  /** The client's headers as the pipeline has edited them; controllers read only these. */
  headers: RequestHeaders;
  /** X-Trans-Id of this request, set by catch_errors. */
  transId: string;
  /** True once the auth layer decided the request comes from an owner (or an ACL admin). */
  swiftOwner: boolean;
  /** Set by auth for reseller admins (Swift's reseller_request): they see X-Container-Sharding. */
  resellerRequest: boolean;
  /** Why the auth layer's policy denied the request (one line, for the access log; no secrets). */
  authzDenial: string | undefined;
  /** Identity (group list) the auth layer established, if any. */
  remoteUser: string | undefined;
  /** Installed by the auth middleware; the proxy calls it before handlers and again on delayed denial. */
  authorize: Authorize | undefined;
  /** Installed by ACL-aware auth middleware: container ACL headers are cleaned only if present. */
  cleanAcl: CleanAcl | undefined;
  /** Per-request info cache (Swift's env['swift.infocache']). */
  infoCache: Map<string, Info>;
  /** Set when a middleware (tempurl, ...) has authorized the request itself. */
  authorizeOverride: boolean;
  /** Set by internal subrequests: skip authorization (Swift's pre-authenticated requests). */
  preAuthenticated: boolean;
  /**
   * A rewritten request target (raw path and query) read by rawPathOf/rawQueryOf in place of the
   * client's request line: set on internal subrequests (src/proxy/subrequest.ts), and by tempurl,
   * which cuts a signed URL's query down to its own parameters.
   */
  rawTarget: string | undefined;
}

export type ProxyEnv = { Bindings: HttpBindings; Variables: ProxyVariables };
export type ProxyContext = Context<ProxyEnv>;
