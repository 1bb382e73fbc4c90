/**
 * The public shape of `startFakeKeystone` (`sluice/testing`): options that describe an identity
 * world (domains, projects, users, roles, application credentials, a catalog) and the running
 * fake it starts. Names and defaults follow Keystone 22 (Zed) as `keystone-manage bootstrap`
 * leaves it.
 */

/** A domain. The `Default` domain (id `default`) always exists, as bootstrap makes it. */
export interface FakeKeystoneDomainOptions {
  /** Defaults to 32 random lower-case hex digits (Keystone's uuid4().hex). */
  id?: string;
  /** Unique among domains. */
  name: string;
  /** Default true. Nothing can be scoped to, or authenticate in, a disabled domain. */
  enabled?: boolean;
}

/** A project. */
export interface FakeKeystoneProjectOptions {
  /** Defaults to 32 random lower-case hex digits. */
  id?: string;
  /** Unique within its domain. */
  name: string;
  /** Its domain, by name or id; default `Default`. */
  domain?: string;
  /** Default true. A disabled project cannot be scoped to (401). */
  enabled?: boolean;
}

/**
 * A role. `admin`, `member` and `reader` always exist with bootstrap's implications
 * (admin ⇒ member ⇒ reader); listing one of them here only sets its id or adds implications.
 */
export interface FakeKeystoneRoleOptions {
  /** Defaults to 32 random lower-case hex digits. */
  id?: string;
  /** Unique among roles. */
  name: string;
  /** Names of the roles this one implies (Keystone's implied roles); tokens list them too. */
  implies?: string[];
}

/** A user with a password, and its role assignments. */
export interface FakeKeystoneUserOptions {
  /** Defaults to 32 random lower-case hex digits. */
  id?: string;
  /** Unique within its domain. */
  name: string;
  /** Never logged; compared in constant time. */
  password: string;
  /** Its domain, by name or id; default `Default`. */
  domain?: string;
  /** Default true. A disabled user cannot authenticate (401) and its tokens do not validate (404). */
  enabled?: boolean;
  /**
   * Project (name, `domain/name` or id) that a password request without a scope is scoped to, when the user has a
   * role there (Keystone's default_project_id); without it such a token is unscoped.
   */
  defaultProject?: string;
  /** Direct role names per project (project name, `domain/name` or id). Tokens add the implied roles. */
  roles?: Record<string, string[]>;
  /** Direct role names per domain (domain name or id), for domain-scoped tokens. */
  domainRoles?: Record<string, string[]>;
  /** Role names on the system (`scope: {system: {all: true}}`); bootstrap gives `admin` this one. */
  systemRoles?: string[];
  /** The token's `user.password_expires_at`: an ISO time, or null (default) for none. */
  passwordExpiresAt?: string | null;
}

/** An application credential: authenticates as its user, always scoped to its project. */
export interface FakeKeystoneApplicationCredentialOptions {
  /** Defaults to 32 random lower-case hex digits. */
  id?: string;
  /** Unique per user. */
  name: string;
  /** Never logged; compared in constant time. */
  secret: string;
  /** Its owner, by name (unique across domains) or id. */
  user: string;
  /** Its project (name, `domain/name` or id); default the user's `defaultProject`. */
  project?: string;
  /**
   * Role names it carries; default the owner's effective roles on the project (implied ones
   * included) at start, as Keystone stores them when none are given. A token gets those the
   * owner still has.
   */
  roles?: string[];
  /** Tokens say `restricted: !unrestricted`; default false. */
  unrestricted?: boolean;
  /** After this time it no longer authenticates; tokens never outlive it. Default: never. */
  expiresAt?: Date | string | null;
}

/** One endpoint of a catalog service. */
export interface FakeKeystoneEndpointOptions {
  /** Default: stable, derived from the service and the interface. */
  id?: string;
  interface: 'public' | 'internal' | 'admin';
  /** A URL template: `%(project_id)s` (or `%(tenant_id)s`) and `%(user_id)s` are filled in per token. */
  url: string;
  /** Default the fake's `region`. */
  region?: string;
}

/** One service of the catalog. */
export interface FakeKeystoneServiceOptions {
  /** Default: stable, derived from the type and the name. */
  id?: string;
  /** e.g. `object-store`. */
  type: string;
  /** e.g. `swift`. */
  name: string;
  endpoints: FakeKeystoneEndpointOptions[];
}

/** Where a token's is_admin_project points (Keystone's `[resource] admin_project_*`). */
export interface FakeKeystoneAdminProject {
  /** Project name. */
  name: string;
  /** Domain name. */
  domain: string;
}

export interface FakeKeystoneOptions {
  /** Domains besides `Default`. */
  domains?: FakeKeystoneDomainOptions[];
  projects: FakeKeystoneProjectOptions[];
  users: FakeKeystoneUserOptions[];
  /** Roles besides admin, member and reader (every role a user or credential names must be here). */
  roles?: FakeKeystoneRoleOptions[];
  applicationCredentials?: FakeKeystoneApplicationCredentialOptions[];
  /**
   * The `object-store` service (name `swift`): one URL template for its public, internal and
   * admin endpoints, e.g. `http://127.0.0.1:8080/v1/AUTH_%(project_id)s` (the default).
   * Ignored when `catalog` is given. `setObjectStoreUrl` changes it later.
   */
  objectStoreUrl?: string;
  /** The services besides `identity` (which always points at the fake itself); replaces `objectStoreUrl`. */
  catalog?: FakeKeystoneServiceOptions[];
  /** Token lifetime in seconds (Keystone's `[token] expiration`); default 3600. */
  tokenTtlSeconds?: number;
  /** How long past expiry `?allow_expired=1` still validates a token (`[token] allow_expired_window`); default 172800. */
  allowExpiredWindowSeconds?: number;
  /**
   * The admin project: project-scoped tokens then carry `is_admin_project` (true only for it).
   * Default null, Keystone's default: tokens carry no `is_admin_project`, which keystonemiddleware
   * reads as true. Keystone as scripts/keystone/keystone.sh runs it uses `{name: 'admin', domain: 'Default'}`.
   */
  adminProject?: FakeKeystoneAdminProject | null;
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Region of every endpoint; default `RegionOne`. */
  region?: string;
}

/** The routes the fake counts requests for, `METHOD path`; anything else counts as `other`. */
export type FakeKeystoneRoute =
  | 'GET /'
  | 'HEAD /'
  | 'GET /v3'
  | 'HEAD /v3'
  | 'POST /v3/auth/tokens'
  | 'GET /v3/auth/tokens'
  | 'HEAD /v3/auth/tokens'
  | 'DELETE /v3/auth/tokens'
  | 'other';

/** What `issue` makes a token for: a user (no password needed) and a scope. */
export interface FakeKeystoneIssueRequest {
  /** The user's id, or its name (in `domain`'s name or id if given, otherwise unique across domains). */
  user: string;
  /** The user's domain (name or id) when `user` is a name shared by several domains. */
  userDomain?: string;
  /** Project scope (name, `domain/name` or id). */
  project?: string;
  /** Domain scope (name or id). */
  domain?: string;
  /** System scope. */
  system?: boolean;
  /** No scope even if the user has a default project. Without any scope the default project applies. */
  unscoped?: boolean;
  /** Lifetime in seconds; default the fake's `tokenTtlSeconds`. */
  ttlSeconds?: number;
  /** The token's `methods`; default `['password']`. */
  methods?: string[];
}

/** A token made by `issue`. */
export interface FakeKeystoneIssuedToken {
  /** The token (what X-Subject-Token carries). */
  token: string;
  /** Keystone's `expires_at`, e.g. `2026-12-03T12:00:00.000000Z`. */
  expiresAt: string;
  /** The body POST /v3/auth/tokens would have answered (catalog included). */
  body: { token: Record<string, unknown> };
}

/** The ids the fake uses, by name: generated ones included. */
export interface FakeKeystoneIds {
  /** Domain id by domain name. */
  domains: Record<string, string>;
  /** Project id by `domain/name`, and by `name` where no other domain has that name. */
  projects: Record<string, string>;
  /** User id by `domain/name`, and by `name` where no other domain has that name. */
  users: Record<string, string>;
  /** Role id by name. */
  roles: Record<string, string>;
  /** Application credential id by `user/name` (user name), and by `name` where unique. */
  applicationCredentials: Record<string, string>;
  /** Service id by service type. */
  services: Record<string, string>;
}

/** A running fake Keystone. */
export interface FakeKeystone {
  /** e.g. `http://127.0.0.1:35123` (what Keystone calls its public endpoint without the version). */
  url: string;
  /** `url` + `/v3`: the identity endpoint in the catalog. */
  v3Url: string;
  port: number;
  /** The ids of every domain, project, user, role, credential and service. */
  ids: FakeKeystoneIds;
  /** Requests received per route (whatever their outcome), live; for tests that assert caching. */
  requests: Readonly<Record<FakeKeystoneRoute, number>>;
  /** Sets every count of `requests` back to 0. */
  resetRequests(): void;
  /** Makes a token without an HTTP round trip (and without a password); throws if Keystone would refuse it. */
  issue(request: FakeKeystoneIssueRequest): FakeKeystoneIssuedToken;
  /** Revokes a token as DELETE /v3/auth/tokens would; false if the fake never issued it. */
  revoke(token: string): boolean;
  /** Points the object-store endpoints at another URL template (ids stay the same); for a proxy started after the fake. */
  setObjectStoreUrl(template: string): void;
  /** Stops listening and closes every connection. */
  stop(): Promise<void>;
}
