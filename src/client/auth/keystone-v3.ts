/**
 * What the Keystone v3 plugins share (keystoneauth1.identity.v3.base.Auth): POST
 * `<auth_url>/v3/auth/tokens` with one identity method and an optional scope, the token from
 * X-Subject-Token, its expiry from `token.expires_at` and the endpoints from `token.catalog`.
 * An auth URL without a trailing `/v3` gets it added, as keystoneauth does.
 */
import type { CatalogService } from '../catalog';
import { AuthenticationError, ClientConfigError } from '../errors';
import type { AuthTransport } from '../types';
import { BaseAuthPlugin, httpUrl, type AccessInfo, type BaseAuthOptions } from './base';

export interface KeystoneV3Options extends BaseAuthOptions {
  /** Keystone's URL, with or without `/v3` (e.g. `http://127.0.0.1:5000`). */
  authUrl: string;
}

/** Which project, domain or system the token is for; none: Keystone's default (the user's default project, or unscoped). */
export interface KeystoneScopeOptions {
  projectId?: string;
  projectName?: string;
  /** The project's domain, when the project is given by name. */
  projectDomainId?: string;
  projectDomainName?: string;
  domainId?: string;
  domainName?: string;
  /** `'all'`: a system-scoped token. */
  systemScope?: 'all';
  /** Ask for an unscoped token even if the user has a default project. */
  unscoped?: boolean;
}

/** The `scope` of an auth request (keystoneauth's v3 Auth.get_auth_ref), or undefined. */
export function scopeBody(s: KeystoneScopeOptions): unknown {
  const given = [s.projectId ?? s.projectName, s.domainId ?? s.domainName, s.systemScope, s.unscoped || undefined].filter((x) => x !== undefined);
  if (given.length > 1) throw new ClientConfigError('give at most one scope: a project, a domain, the system or unscoped');
  if (s.domainId) return { domain: { id: s.domainId } };
  if (s.domainName) return { domain: { name: s.domainName } };
  if (s.projectId) return { project: { id: s.projectId } };
  if (s.projectName) {
    if (!s.projectDomainId && !s.projectDomainName) throw new ClientConfigError('projectName needs projectDomainId or projectDomainName');
    return { project: { name: s.projectName, domain: s.projectDomainId ? { id: s.projectDomainId } : { name: s.projectDomainName } } };
  }
  if (s.systemScope === 'all') return { system: { all: true } };
  if (s.unscoped) return 'unscoped';
  return undefined;
}

/** `{ id }` or `{ name, domain }` of a user (the password and application-credential methods name users this way). */
export function userRef(o: { userId?: string; username?: string; userDomainId?: string; userDomainName?: string }, what: string): Record<string, unknown> {
  if (o.userId) return { id: o.userId };
  if (!o.username) throw new ClientConfigError(`${what} needs userId, or username with userDomainId or userDomainName`);
  if (!o.userDomainId && !o.userDomainName) throw new ClientConfigError(`${what}: username needs userDomainId or userDomainName`);
  return { name: o.username, domain: o.userDomainId ? { id: o.userDomainId } : { name: o.userDomainName } };
}

export abstract class KeystoneV3Auth extends BaseAuthPlugin {
  readonly tokenUrl: string;

  constructor(options: KeystoneV3Options) {
    super(options);
    const base = httpUrl(options.authUrl, 'Keystone authUrl');
    this.tokenUrl = /\/v3$/.test(base) ? `${base}/auth/tokens` : `${base}/v3/auth/tokens`;
  }

  /** The method name and its section of `identity` (e.g. `['password', { user }]`). */
  protected abstract identity(): [method: string, data: unknown];

  /** The scope section, or undefined for none. */
  protected abstract scope(): unknown;

  protected async authenticate(transport: AuthTransport): Promise<AccessInfo> {
    const [method, data] = this.identity();
    const auth: Record<string, unknown> = { identity: { methods: [method], [method]: data } };
    const scope = this.scope();
    if (scope !== undefined) auth.scope = scope;
    const res = await transport.send(this.tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, json: { auth } });
    if (res.status < 200 || res.status >= 300) throw new AuthenticationError(res.status, 'POST', res.url, res.headers, res.text);
    const token = res.headers['x-subject-token'];
    let body: { token?: Record<string, unknown> } | undefined;
    try {
      body = JSON.parse(res.text) as typeof body;
    } catch {
      body = undefined;
    }
    const t = body?.token;
    if (!token || !t || typeof t !== 'object') {
      throw new AuthenticationError(res.status, 'POST', res.url, res.headers, '', 'the answer has no X-Subject-Token or no token body');
    }
    const expires = typeof t.expires_at === 'string' ? new Date(t.expires_at) : undefined;
    const { catalog, ...rest } = t;
    return {
      token,
      expiresAt: expires && !Number.isNaN(expires.getTime()) ? expires : undefined,
      catalog: Array.isArray(catalog) ? (catalog as CatalogService[]) : [],
      body: rest,
    };
  }
}
