// The real Keystone that scripts/keystone/keystone.sh runs, as tests see it: the fixtures it
// writes (every id, name and secret) and a few v3 calls. Tests find it through the variables
// `eval "$(scripts/keystone-dev.sh env)"` exports; see scripts/keystone/README.md.
import { readFileSync } from 'node:fs';
import { proxyConf } from '../helpers/proxy-conf';

export interface KeystoneUser {
  id: string;
  name: string;
  password: string;
  /** What a test uses this user for. */
  purpose: string;
  domain_id: string;
  domain_name: string;
  /** The project it has its roles on (and is scoped to by default). */
  project: string;
  project_id: string;
  project_domain_id: string;
  project_domain_name: string;
  /** Direct role assignments on `project`; tokens also carry implied roles (admin ⇒ member ⇒ reader). */
  roles: string[];
}

export interface KeystoneFixtures {
  format: 1;
  keystone: {
    /** e.g. http://127.0.0.1:5000 */
    url: string;
    /** e.g. http://127.0.0.1:5000/v3 */
    v3_url: string;
    region: string;
    /** dpkg version of python3-keystone, e.g. 2:22.0.2-0+deb12u6 */
    version: string;
    token_expiration: number;
    identity_service_id: string | null;
  };
  domains: Record<string, { id: string; name: string }>;
  projects: Record<string, { id: string; name: string; domain_id: string; domain_name: string }>;
  roles: Record<string, { id: string; name: string }>;
  users: Record<string, KeystoneUser>;
  application_credentials: Record<
    string,
    { id: string; name: string; secret: string; user: string; user_id: string; project_id: string; roles: string[] }
  >;
  object_store: {
    service_id: string;
    /** e.g. http://127.0.0.1:8080/v1/AUTH_%(project_id)s */
    url_template: string;
    endpoints: Record<'public' | 'internal' | 'admin', { id: string; url: string }>;
  };
  /** keystonemiddleware auth_token options for the service user (`sluice`). */
  authtoken: {
    www_authenticate_uri: string;
    auth_url: string;
    auth_type: 'password';
    username: string;
    password: string;
    user_domain_id: string;
    project_name: string;
    project_domain_id: string;
    region_name: string;
    service_token_roles: string;
  };
}

export type KeystoneSetup =
  | { ok: true; url: string; fixtures: KeystoneFixtures }
  | { ok: false; reason: string };

/**
 * The running Keystone named by KEYSTONE_URL and KEYSTONE_FIXTURES, or why there is none.
 * Under CI (the CI variable set) there must be one: this throws instead of returning a reason,
 * so a suite can skip with the reason on a developer's machine but never in CI.
 */
export async function findKeystone(env: NodeJS.ProcessEnv = process.env): Promise<KeystoneSetup> {
  const setup = await probe(env);
  if (!setup.ok && env.CI) throw new Error(`Keystone is required in CI: ${setup.reason}`);
  return setup;
}

async function probe(env: NodeJS.ProcessEnv): Promise<KeystoneSetup> {
  const url = env.KEYSTONE_URL;
  const path = env.KEYSTONE_FIXTURES;
  if (!url || !path) {
    return { ok: false, reason: 'KEYSTONE_URL and KEYSTONE_FIXTURES are not set (run: eval "$(scripts/keystone-dev.sh env)")' };
  }
  let fixtures: KeystoneFixtures;
  try {
    fixtures = JSON.parse(readFileSync(path, 'utf8')) as KeystoneFixtures;
  } catch (e) {
    return { ok: false, reason: `cannot read ${path}: ${(e as Error).message}` };
  }
  if (fixtures.format !== 1) return { ok: false, reason: `${path}: unknown format ${String(fixtures.format)}` };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    if (res.status !== 200) return { ok: false, reason: `${url} answered ${res.status}` };
  } catch (e) {
    return { ok: false, reason: `${url} does not answer: ${(e as Error).message}` };
  }
  return { ok: true, url, fixtures };
}

/** The body of POST /v3/auth/tokens for a fixture user's password, scoped to its project. */
export function passwordAuth(user: KeystoneUser, scope: { project_id?: string } | 'unscoped' = {}): unknown {
  const identity = { methods: ['password'], password: { user: { id: user.id, password: user.password } } };
  if (scope === 'unscoped') return { auth: { identity } };
  return { auth: { identity, scope: { project: { id: scope.project_id ?? user.project_id } } } };
}

/** Issues a token (POST /v3/auth/tokens); throws unless Keystone answers 201. */
export async function issueToken(v3Url: string, body: unknown): Promise<{ token: string; body: unknown }> {
  const res = await fetch(`${v3Url}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json: unknown = await res.json();
  const token = res.headers.get('x-subject-token');
  if (res.status !== 201 || !token) throw new Error(`POST ${v3Url}/auth/tokens answered ${res.status}`);
  return { token, body: json };
}

/** The `[filter:authtoken]` lines for the fixtures' service user, plus `extra` lines. */
export function authtokenSection(f: KeystoneFixtures, extra = ''): string {
  const a = f.authtoken;
  return `paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = ${a.www_authenticate_uri}
auth_url = ${a.auth_url}
auth_type = ${a.auth_type}
username = ${a.username}
password = ${a.password}
user_domain_id = ${a.user_domain_id}
project_name = ${a.project_name}
project_domain_id = ${a.project_domain_id}
service_token_roles = ${a.service_token_roles}
${extra}`;
}

/**
 * A proxy-server.conf with `authtoken keystoneauth` (Swift's documented Keystone pipeline),
 * the given extra authtoken and keystoneauth option lines.
 */
export function keystoneProxyConf(f: KeystoneFixtures, opts: { authtoken?: string; keystoneauth?: string; app?: string } = {}): string {
  return proxyConf({
    pipeline: 'catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl authtoken keystoneauth copy container-quotas account-quotas versioned_writes symlink proxy-logging'.split(' '),
    sections: {
      authtoken: authtokenSection(f, opts.authtoken ?? 'delay_auth_decision = true'),
      keystoneauth: opts.keystoneauth ?? '',
      versioned_writes: 'allow_versioned_writes = true',
    },
    app: opts.app,
  });
}

/** Tokens for fixture users, issued once per test file. */
export class TokenBox {
  private readonly tokens = new Map<string, Promise<string>>();
  constructor(private readonly f: KeystoneFixtures) {}

  /** A project-scoped token of fixture user `name` (its own project unless `projectId`). */
  get(name: string, projectId?: string): Promise<string> {
    const key = `${name}@${projectId ?? ''}`;
    let t = this.tokens.get(key);
    if (!t) {
      const user = this.f.users[name];
      if (!user) throw new Error(`no fixture user ${name}`);
      t = issueToken(this.f.keystone.v3_url, passwordAuth(user, { project_id: projectId })).then((r) => r.token);
      this.tokens.set(key, t);
    }
    return t;
  }
}
