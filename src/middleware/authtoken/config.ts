/**
 * `[filter:authtoken]` options, named as keystonemiddleware 10.1's auth_token reads them
 * (auth_token/_opts.py, keystoneauth1's `password`, `v3password` and `v3applicationcredential`
 * loaders). sluice talks to Keystone's v3 API only. Every refusal is a ConfigError of one line
 * naming the option; no message ever holds a password or secret.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, intOption, listOption, type Section } from '../../proxy/config';

/** keystoneauth1 re-authenticates when its own token has less than this left (MIN_TOKEN_LIFE_SECONDS). */
export const SERVICE_TOKEN_MIN_LIFE_SECONDS = 120;

/** How the service authenticates itself: the `auth` part of POST /v3/auth/tokens. */
export interface ServiceCredentials {
  /** auth_type as configured (for messages). */
  authType: string;
  /** Who: user id, or user name and its domain (never the password). */
  principal: string;
  /** The request body; holds the password or secret, so it is never logged. */
  body: Record<string, unknown>;
}

export interface TlsOptions {
  ca: Buffer | undefined;
  cert: Buffer | undefined;
  key: Buffer | undefined;
  rejectUnauthorized: boolean;
}

export interface AuthTokenConfig {
  /** auth_url as configured (keystonemiddleware's last fallback for www_authenticate_uri). */
  authUrl: string;
  /** The v3 API root tokens are issued and validated at, e.g. http://h:5000/v3. */
  identityV3Url: string;
  /** What the WWW-Authenticate challenge names: www_authenticate_uri, auth_uri, then auth_url. */
  wwwAuthenticateUri: string;
  credentials: ServiceCredentials;
  /**
   * region_name and interface are checked but do not steer requests: keystonemiddleware looks
   * the identity endpoint up in its own token's catalog by them, sluice validates at auth_url's
   * v3 root (its own token is requested without a catalog).
   */
  regionName: string | undefined;
  interface: 'public' | 'internal' | 'admin';
  delayAuthDecision: boolean;
  /** Seconds a validated token is kept in the cache; <= 0 keeps none (keystonemiddleware's -1). */
  tokenCacheTime: number;
  includeServiceCatalog: boolean;
  serviceTokenRoles: string[];
  serviceTokenRolesRequired: boolean;
  /** Seconds for connecting to and hearing from Keystone (http_connect_timeout). */
  httpTimeout: number;
  /** Retries after a connection failure or timeout when validating (http_request_max_retries). */
  httpRequestMaxRetries: number;
  tls: TlsOptions;
  /** This service's type in the catalog, for application credentials' access rules. */
  serviceType: string | undefined;
  enforceTokenBind: 'disabled' | 'permissive';
  /** The logger's route (keystonemiddleware's log_name). */
  logName: string;
  /** Start-up warnings (memcached options sluice does not use, deprecated settings). */
  warnings: string[];
}

/**
 * keystonemiddleware leaves http_connect_timeout unset (requests then waits forever); sluice
 * bounds a stuck Keystone so requests get their 503 instead of hanging.
 */
export const DEFAULT_HTTP_TIMEOUT_SECONDS = 10;

const PREFIX = 'authtoken:';

/** oslo.config's BoolOpt values (strutils.bool_from_string, strict): anything else is refused. */
function boolOpt(conf: Section, key: string, dflt: boolean): boolean {
  const raw = conf[key];
  if (raw === undefined || raw.trim() === '') return dflt;
  const v = raw.trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(v)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(v)) return false;
  throw new ConfigError(`${PREFIX} ${key} must be true or false, got ${JSON.stringify(raw)}`);
}

function intOpt(conf: Section, key: string, dflt: number): number {
  try {
    return intOption(conf, key, dflt);
  } catch (err) {
    throw new ConfigError(`${PREFIX} ${(err as Error).message}`);
  }
}

function str(conf: Section, key: string): string | undefined {
  const v = conf[key]?.trim();
  return v ? v : undefined;
}

/** The v3 root of auth_url: `http://h:5000` and `http://h:5000/v3` name the same one. */
export function identityV3UrlOf(authUrl: string): string {
  let url: URL;
  try {
    url = new URL(authUrl);
  } catch {
    throw new ConfigError(`${PREFIX} auth_url ${JSON.stringify(authUrl)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${PREFIX} auth_url must be an http or https URL, got ${JSON.stringify(authUrl)}`);
  if (url.search || url.hash) throw new ConfigError(`${PREFIX} auth_url must not have a query or fragment, got ${JSON.stringify(authUrl)}`);
  const base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  if (/\/v3(\.\d+)?$/.test(base)) return base.replace(/\/v3(\.\d+)?$/, '/v3');
  if (/\/v2(\.\d+)?$/.test(base)) throw new ConfigError(`${PREFIX} auth_url ${JSON.stringify(authUrl)} names Keystone's v2 API; sluice uses v3 only`);
  return `${base}/v3`;
}

/** The user part of a password or application-credential auth: by id, or by name in a domain. */
function userRef(conf: Section, authType: string, defaultDomain: { id?: string; name?: string }): { ref: Record<string, unknown>; principal: string } | undefined {
  const userId = str(conf, 'user_id');
  const username = str(conf, 'username');
  if (userId) return { ref: { id: userId }, principal: `user_id ${userId}` };
  if (!username) return undefined;
  const domainId = str(conf, 'user_domain_id') ?? defaultDomain.id;
  const domainName = str(conf, 'user_domain_name') ?? defaultDomain.name;
  if (!domainId && !domainName) throw new ConfigError(`${PREFIX} auth_type = ${authType} with username needs user_domain_id or user_domain_name`);
  const domain = domainId ? { id: domainId } : { name: domainName };
  return { ref: { name: username, domain }, principal: `user ${username} (domain ${domainId ?? domainName})` };
}

/** The scope of the service's token: a project, a domain or the system (keystoneauth's order). */
function scopeOf(conf: Section, defaultDomain: { id?: string; name?: string }): Record<string, unknown> | undefined {
  const projectId = str(conf, 'project_id') ?? str(conf, 'tenant_id');
  const projectName = str(conf, 'project_name') ?? str(conf, 'tenant_name');
  if (projectId) return { project: { id: projectId } };
  if (projectName) {
    const domainId = str(conf, 'project_domain_id') ?? defaultDomain.id;
    const domainName = str(conf, 'project_domain_name') ?? defaultDomain.name;
    if (!domainId && !domainName) throw new ConfigError(`${PREFIX} project_name needs project_domain_id or project_domain_name`);
    return { project: { name: projectName, domain: domainId ? { id: domainId } : { name: domainName } } };
  }
  const domainId = str(conf, 'domain_id');
  const domainName = str(conf, 'domain_name');
  if (domainId) return { domain: { id: domainId } };
  if (domainName) return { domain: { name: domainName } };
  const system = str(conf, 'system_scope');
  if (system) {
    if (system !== 'all') throw new ConfigError(`${PREFIX} system_scope must be "all", got ${JSON.stringify(system)}`);
    return { system: { all: true } };
  }
  return undefined;
}

const MISSING_CREDENTIALS =
  `${PREFIX} no service credentials: set auth_url, auth_type = password, username (or user_id), password, ` +
  'user_domain_id, project_name and project_domain_id (the Keystone user sluice validates tokens as)';

function credentialsOf(conf: Section): ServiceCredentials {
  // keystonemiddleware takes auth_type, and from a paste section the older auth_plugin too.
  const authType = str(conf, 'auth_type') ?? str(conf, 'auth_plugin');
  if (!authType) throw new ConfigError(MISSING_CREDENTIALS);
  if (authType === 'password' || authType === 'v3password') {
    // Only the generic `password` loader has default_domain_id/_name (keystoneauth1 generic.Password).
    const defaultDomain = authType === 'password' ? { id: str(conf, 'default_domain_id'), name: str(conf, 'default_domain_name') } : {};
    const user = userRef(conf, authType, defaultDomain);
    const password = conf.password;
    if (!user || password === undefined || password === '') throw new ConfigError(MISSING_CREDENTIALS);
    const identity = { methods: ['password'], password: { user: { ...user.ref, password } } };
    const scope = scopeOf(conf, defaultDomain);
    return { authType, principal: user.principal, body: { auth: scope ? { identity, scope } : { identity } } };
  }
  if (authType === 'v3applicationcredential') {
    const secret = conf.application_credential_secret;
    const id = str(conf, 'application_credential_id');
    const name = str(conf, 'application_credential_name');
    if (!secret || (!id && !name)) {
      throw new ConfigError(`${PREFIX} auth_type = v3applicationcredential needs application_credential_id (or _name with username) and application_credential_secret`);
    }
    let credential: Record<string, unknown>;
    let principal: string;
    if (id) {
      credential = { id, secret };
      principal = `application credential ${id}`;
    } else {
      const user = userRef(conf, authType, {});
      if (!user) throw new ConfigError(`${PREFIX} application_credential_name needs username (with user_domain_id) or user_id`);
      credential = { name, secret, user: user.ref };
      principal = `application credential ${name} of ${user.principal}`;
    }
    // An application credential carries its own scope: keystoneauth sends none.
    return { authType, principal, body: { auth: { identity: { methods: ['application_credential'], application_credential: credential } } } };
  }
  throw new ConfigError(`${PREFIX} auth_type ${JSON.stringify(authType)} is not supported; sluice has password, v3password and v3applicationcredential`);
}

function readPem(conf: Section, key: string): Buffer | undefined {
  const path = str(conf, key);
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${PREFIX} ${key} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { kind: 'read' });
  }
}

const MEMCACHE_OPTIONS = [
  'memcache_secret_key',
  'memcache_pool_dead_retry',
  'memcache_pool_maxsize',
  'memcache_pool_socket_timeout',
  'memcache_pool_unused_timeout',
  'memcache_pool_conn_get_timeout',
  'memcache_use_advanced_pool',
];

export function parseAuthTokenConfig(conf: Section): AuthTokenConfig {
  const warnings: string[] = [];
  for (const key of ['auth_section', 'oslo_config_project', 'oslo_config_file', 'oslo_config_config']) {
    if (str(conf, key)) throw new ConfigError(`${PREFIX} ${key} is not supported: sluice reads the auth_token options from this filter's section only`);
  }
  const authUrl = str(conf, 'auth_url');
  if (!authUrl) throw new ConfigError(MISSING_CREDENTIALS);
  const identityV3Url = identityV3UrlOf(authUrl);
  const authVersion = str(conf, 'auth_version');
  if (authVersion && !/^v?3(\.\d+)?$/.test(authVersion)) throw new ConfigError(`${PREFIX} auth_version ${JSON.stringify(authVersion)} is not supported; sluice uses Keystone's v3 API`);
  const credentials = credentialsOf(conf);

  let wwwAuthenticateUri = str(conf, 'www_authenticate_uri') ?? str(conf, 'auth_uri');
  if (!wwwAuthenticateUri) {
    // keystonemiddleware warns and falls back to the auth plugin's endpoint, its auth_url.
    warnings.push('authtoken: www_authenticate_uri is not set; clients are sent to auth_url, which should be the public identity endpoint');
    wwwAuthenticateUri = authUrl;
  }

  // It goes into a WWW-Authenticate header as it is.
  if (!/^[\x21-\x7e]+$/.test(wwwAuthenticateUri) || wwwAuthenticateUri.includes('"')) {
    throw new ConfigError(`${PREFIX} www_authenticate_uri must be a URL of printable ASCII without quotes, got ${JSON.stringify(wwwAuthenticateUri)}`);
  }

  const iface = (str(conf, 'interface') ?? 'internal').toLowerCase().replace(/url$/, '');
  if (iface !== 'public' && iface !== 'internal' && iface !== 'admin') {
    throw new ConfigError(`${PREFIX} interface must be public, internal or admin, got ${JSON.stringify(conf.interface)}`);
  }

  const bind = (str(conf, 'enforce_token_bind') ?? 'permissive').toLowerCase();
  if (bind !== 'disabled' && bind !== 'permissive') {
    throw new ConfigError(`${PREFIX} enforce_token_bind = ${bind} is not supported; sluice supports disabled and permissive`);
  }

  // sluice keeps validated tokens in the proxy's cache filter (Swift's `cache = swift.cache`).
  const strategy = str(conf, 'memcache_security_strategy') ?? 'None';
  if (strategy.toLowerCase() !== 'none') {
    throw new ConfigError(`${PREFIX} memcache_security_strategy = ${strategy} cannot be honoured: sluice keeps tokens in the proxy's own cache, not in memcached; remove it`);
  }
  const memcached = str(conf, 'memcached_servers') ?? str(conf, 'memcache_servers');
  const memcacheSet = MEMCACHE_OPTIONS.filter((k) => conf[k] !== undefined);
  if (memcached || memcacheSet.length) {
    const names = [...(memcached ? ['memcached_servers'] : []), ...memcacheSet].join(', ');
    warnings.push(`authtoken: ${names} ignored: sluice keeps validated tokens in the proxy's cache filter, shared by its workers`);
  }
  const cache = str(conf, 'cache');
  if (cache && cache !== 'swift.cache') warnings.push(`authtoken: cache = ${cache} ignored: tokens are kept in the proxy's cache filter (swift.cache)`);

  const tokenCacheTime = intOpt(conf, 'token_cache_time', 300);
  const httpRequestMaxRetries = intOpt(conf, 'http_request_max_retries', 3);
  if (httpRequestMaxRetries < 0) throw new ConfigError(`${PREFIX} http_request_max_retries must not be negative, got ${httpRequestMaxRetries}`);
  const timeoutRaw = str(conf, 'http_connect_timeout');
  const httpTimeout = timeoutRaw === undefined ? DEFAULT_HTTP_TIMEOUT_SECONDS : Number(timeoutRaw);
  if (!Number.isFinite(httpTimeout) || httpTimeout <= 0) throw new ConfigError(`${PREFIX} http_connect_timeout must be a positive number of seconds, got ${JSON.stringify(timeoutRaw)}`);

  const serviceTokenRolesRequired = boolOpt(conf, 'service_token_roles_required', false);
  if (!serviceTokenRolesRequired) {
    warnings.push('authtoken: service_token_roles_required is false: any valid token is accepted as a service token (backwards compatible but deprecated, as in keystonemiddleware); set it to true');
  }

  return {
    authUrl,
    identityV3Url,
    wwwAuthenticateUri,
    credentials,
    regionName: str(conf, 'region_name'),
    interface: iface,
    delayAuthDecision: boolOpt(conf, 'delay_auth_decision', false),
    tokenCacheTime,
    includeServiceCatalog: boolOpt(conf, 'include_service_catalog', true),
    serviceTokenRoles: listOption(conf, 'service_token_roles', ['service']),
    serviceTokenRolesRequired,
    httpTimeout,
    httpRequestMaxRetries,
    tls: {
      ca: readPem(conf, 'cafile'),
      cert: readPem(conf, 'certfile'),
      key: readPem(conf, 'keyfile'),
      rejectUnauthorized: !boolOpt(conf, 'insecure', false),
    },
    serviceType: str(conf, 'service_type'),
    enforceTokenBind: bind,
    logName: str(conf, 'log_name') ?? 'authtoken',
    warnings,
  };
}
