/**
 * startFakeKeystone: a small, faithful fake of the Keystone v3 identity API that clients
 * (keystoneauth) and keystonemiddleware's auth_token use: version discovery, token issue
 * (password, token, application_credential; project, domain, system scope or none),
 * validation, check and revocation, with Keystone 22's status codes, headers and bodies.
 * test/keystone/fake-vs-real.test.ts compares it with the real Keystone.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authenticator } from './auth';
import { Catalog } from './catalog';
import { Directory } from './directory';
import { KeystoneError } from './errors';
import { renderToken, type RenderContext } from './render';
import { FakeKeystoneApp } from './server';
import { keystoneTime, TokenStore, type TokenScope } from './tokens';
import type { FakeKeystone, FakeKeystoneIssueRequest, FakeKeystoneIssuedToken, FakeKeystoneOptions, FakeKeystoneRoute } from './types';

export type * from './types';

const DEFAULT_OBJECT_STORE_URL = 'http://127.0.0.1:8080/v1/AUTH_%(project_id)s';

function newRequestCounts(): Record<FakeKeystoneRoute, number> {
  return {
    'GET /': 0,
    'HEAD /': 0,
    'GET /v3': 0,
    'HEAD /v3': 0,
    'POST /v3/auth/tokens': 0,
    'GET /v3/auth/tokens': 0,
    'HEAD /v3/auth/tokens': 0,
    'DELETE /v3/auth/tokens': 0,
    other: 0,
  };
}

function positiveSeconds(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`startFakeKeystone: ${name} must be a positive number of seconds`);
  return value;
}

/**
 * Starts a fake Keystone on `host:port` (127.0.0.1 and an ephemeral port by default).
 *
 * ```ts
 * const ks = await startFakeKeystone({
 *   projects: [{ name: 'proj-a' }],
 *   users: [{ name: 'alice', password: 'secret', defaultProject: 'proj-a', roles: { 'proj-a': ['member'] } }],
 * });
 * // keystoneauth / auth_token: auth_url = ks.url; tokens carry member and reader (implied)
 * await ks.stop();
 * ```
 */
export async function startFakeKeystone(options: FakeKeystoneOptions): Promise<FakeKeystone> {
  const ttlMs = positiveSeconds(options.tokenTtlSeconds, 3600, 'tokenTtlSeconds') * 1000;
  const allowExpiredWindowMs = positiveSeconds(options.allowExpiredWindowSeconds, 172800, 'allowExpiredWindowSeconds') * 1000;
  const directory = new Directory(options);
  const host = options.host ?? '127.0.0.1';
  const requests = newRequestCounts();

  let app: FakeKeystoneApp | undefined;
  const server: Server = createServer((req, res) => {
    // the app is set in the same tick as listening starts, before any request can be read
    void app!.handle(req, res).catch(() => {
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const v3Url = `${url}/v3`;

  const catalog = new Catalog(v3Url, options.region ?? 'RegionOne', options.catalog ?? [Catalog.objectStore(options.objectStoreUrl ?? DEFAULT_OBJECT_STORE_URL)]);
  // tokens are forgotten a day after no window can make them valid again
  const tokens = new TokenStore(allowExpiredWindowMs + 86_400_000);
  const ctx: RenderContext = { directory, catalog, adminProject: options.adminProject ?? null };
  const authenticator = new Authenticator({ ...ctx, tokens, ttlMs });
  app = new FakeKeystoneApp({ ...ctx, tokens, authenticator, allowExpiredWindowMs, url, requests });

  const issue = (request: FakeKeystoneIssueRequest): FakeKeystoneIssuedToken => {
    const refuse = (why: string): never => {
      throw new Error(`fake Keystone: no token for ${request.user}: ${why}`);
    };
    let user;
    if (request.userDomain !== undefined) {
      const domain = directory.domainByRef(request.userDomain) ?? directory.domainByName(request.userDomain);
      user = domain && directory.userByName(request.user, domain.id);
    } else {
      user = directory.userById(request.user) ?? directory.uniqueUserByName(request.user);
    }
    if (!user) return refuse('no such user (or the name is in several domains: give userDomain)');
    if (!user.enabled || !directory.domainByRef(user.domainId)!.enabled) refuse('the user or its domain is disabled');
    const asked = [request.project !== undefined, request.domain !== undefined, request.system === true, request.unscoped === true].filter(Boolean);
    if (asked.length > 1) refuse('more than one scope');
    let scope: TokenScope;
    if (request.project !== undefined) {
      const project = directory.projectByRef(request.project);
      if (!project || !project.enabled || !directory.domainByRef(project.domainId)!.enabled) return refuse(`no enabled project ${request.project}`);
      scope = { kind: 'project', projectId: project.id };
    } else if (request.domain !== undefined) {
      const domain = directory.domainByRef(request.domain) ?? directory.domainByName(request.domain);
      if (!domain || !domain.enabled) return refuse(`no enabled domain ${request.domain}`);
      scope = { kind: 'domain', domainId: domain.id };
    } else if (request.system) scope = { kind: 'system' };
    else if (request.unscoped) scope = { kind: 'unscoped' };
    else scope = authenticator.defaultScope(user);
    const ttlSeconds = positiveSeconds(request.ttlSeconds, ttlMs / 1000, 'ttlSeconds');
    try {
      const record = authenticator.issue(user, scope, { methods: request.methods ?? ['password'], appCredId: null, ttlMs: ttlSeconds * 1000 });
      return { token: record.id, expiresAt: keystoneTime(record.expiresAt), body: renderToken(ctx, record, true) };
    } catch (e) {
      if (e instanceof KeystoneError) return refuse('no role on that scope');
      throw e;
    }
  };

  return {
    url,
    v3Url,
    port,
    ids: { ...directory.ids(), services: catalog.serviceIds() },
    requests,
    resetRequests() {
      for (const key of Object.keys(requests) as FakeKeystoneRoute[]) requests[key] = 0;
    },
    issue,
    revoke: (token) => tokens.revoke(token),
    setObjectStoreUrl: (template) => catalog.setObjectStoreUrl(template),
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
