import pino from 'pino';
/**
 * `npm run bench:auth`: what the auth filters cost per request on their own, without HTTP or
 * storage: TempAuth (token lookup + authorize) next to authtoken + keystoneauth with a cached
 * token (cache lookup, identity headers, authorize), for an account owner's HEAD, and TempAuth
 * for a read-only account-ACL grantee's HEAD (the path that needs the account's info). Uses the real
 * Keystone when KEYSTONE_FIXTURES is set (eval "$(scripts/keystone-dev.sh env)"), else the fake
 * one from sluice/testing; either way only the first request reaches it. Three alternating rounds
 * of 50,000 requests each; see docs/benchmarks.md.
 */
import { readFileSync } from 'node:fs';
import { RequestHeaders } from '../src/proxy/request-headers';
import { LruInfoCache, accountCacheKey, type AccountInfo } from '../src/proxy/info-cache';
import type { ProxyState } from '../src/proxy/state';
import { parseTempAuthConfig } from '../src/middleware/tempauth/config';
import { TempAuth } from '../src/middleware/tempauth/tempauth';
import { parseAuthTokenConfig } from '../src/middleware/authtoken/config';
import { AuthToken } from '../src/middleware/authtoken/auth-token';
import { IdentityClient } from '../src/middleware/authtoken/identity-client';
import { parseKeystoneAuthConfig, KeystoneAuth, keystoneIdentity } from '../src/middleware/keystoneauth/index';
import { startFakeKeystone, type FakeKeystone } from '../src/testing/index';
import { DEVELOPMENT_USERS } from '../src/middleware/tempauth/config';

interface Setup { authUrl: string; service: { username: string; password: string; project: string }; ownerToken: string; projectId: string; source: string; stop(): Promise<void> }

async function keystoneSetup(): Promise<Setup> {
  const path = process.env.KEYSTONE_FIXTURES;
  if (path) {
    const f = JSON.parse(readFileSync(path, 'utf8'));
    const owner = f.users['operator-a'];
    const res = await fetch(`${f.keystone.v3_url}/auth/tokens?nocatalog`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { id: owner.id, password: owner.password } } }, scope: { project: { id: owner.project_id } } } }) });
    await res.arrayBuffer();
    const token = res.headers.get('x-subject-token');
    if (res.status !== 201 || !token) throw new Error(`Keystone answered ${res.status}`);
    return { authUrl: f.authtoken.auth_url, service: { username: f.authtoken.username, password: f.authtoken.password, project: f.authtoken.project_name }, ownerToken: token, projectId: owner.project_id, source: `real Keystone at ${f.keystone.v3_url}`, stop: async () => undefined };
  }
  const ks: FakeKeystone = await startFakeKeystone({
    projects: [{ name: 'service' }, { name: 'proj-a' }],
    roles: [{ name: 'service' }, { name: 'swiftoperator' }],
    users: [
      { name: 'sluice', password: 'bench-service-password', roles: { service: ['admin', 'service'] } },
      { name: 'operator-a', password: 'bench-owner-password', roles: { 'proj-a': ['swiftoperator'] } },
    ],
  });
  return { authUrl: ks.url, service: { username: 'sluice', password: 'bench-service-password', project: 'service' }, ownerToken: ks.issue({ user: 'operator-a', project: 'proj-a' }).token, projectId: ks.ids.projects['proj-a']!, source: `fake Keystone at ${ks.v3Url}`, stop: () => ks.stop() };
}

const setup = await keystoneSetup();
const logger = pino({ level: 'silent' });
const state = { cache: new LruInfoCache(), options: { recheckAccountExistence: 60, recheckContainerExistence: 60 } } as unknown as ProxyState;
function ctx(headers: Record<string, string>) {
  const vars = new Map<string, unknown>([['headers', RequestHeaders.fromRaw(Object.entries(headers).flat())], ['infoCache', new Map()]]);
  return { get: (k: string) => vars.get(k), set: (k: string, v: unknown) => vars.set(k, v), req: { method: 'HEAD', url: 'http://x/' }, env: {}, res: { status: 204 } } as never;
}
const req = (c: any, account: string) => ({ method: 'HEAD', account, container: undefined, object: undefined, acl: undefined, referer: undefined, headers: c.get('headers') });

const ta = new TempAuth(parseTempAuthConfig({ reseller_prefix: 'AUTH', ...DEVELOPMENT_USERS }), state, logger);
const { token: tt } = await ta.tokens.issue('test:tester', 'test,test:tester,AUTH_test');
const { token: tt3 } = await ta.tokens.issue('test:tester3', 'test,test:tester3');
// AUTH_test's info as the proxy caches it: an account ACL granting test:tester3 read-only.
const aclInfo: AccountInfo = { status: 204, containerCount: 0, objectCount: 0, bytes: 0, meta: {}, sysmeta: { 'core-access-control': '{"read-only":["test:tester3"]}' }, reallyExists: true };
state.cache!.set(accountCacheKey('AUTH_test'), aclInfo, 3600);
const cfg = parseAuthTokenConfig({ www_authenticate_uri: setup.authUrl, auth_url: setup.authUrl, auth_type: 'password', username: setup.service.username, password: setup.service.password, user_domain_id: 'default', project_name: setup.service.project, project_domain_id: 'default', delay_auth_decision: 'true', include_service_catalog: 'false' });
const client = new IdentityClient({ v3Url: `${setup.authUrl.replace(/\/v3$/, '')}/v3`, credentials: cfg.credentials, timeout: 10, maxRetries: 1, tls: cfg.tls });
const at = new AuthToken({ config: cfg, cache: state.cache!, client, logger });
const ka = new KeystoneAuth(parseKeystoneAuthConfig({}), state, logger);
const kt = setup.ownerToken;
const acct = `AUTH_${setup.projectId}`;
const next = async () => undefined;

async function tempauthOnce() {
  const c: any = ctx({ 'X-Auth-Token': tt, Host: 'x', 'User-Agent': 'bench' });
  await ta.identify(c, `/v1/AUTH_test` as never);
  const d = await c.get('authorize')(c, req(c, 'AUTH_test'));
  if (d || !c.get('swiftOwner')) throw new Error('tempauth denied');
}
async function tempauthAclOnce() {
  const c: any = ctx({ 'X-Auth-Token': tt3, Host: 'x', 'User-Agent': 'bench' });
  await ta.identify(c, `/v1/AUTH_test` as never);
  const d = await c.get('authorize')(c, req(c, 'AUTH_test'));
  if (d || c.get('swiftOwner')) throw new Error('tempauth: the ACL grantee was denied, or made an owner');
}
async function keystoneOnce() {
  const c: any = ctx({ 'X-Auth-Token': kt, Host: 'x', 'User-Agent': 'bench' });
  await at.handle(c, next);
  const id = keystoneIdentity(c.get('keystone'));
  if (!id) throw new Error('not confirmed');
  c.set('authorize', ka.authorizeIdentity(id));
  const d = await c.get('authorize')(c, req(c, acct));
  if (d || !c.get('swiftOwner')) throw new Error('keystone denied');
}
async function time(name: string, fn: () => Promise<void>) {
  const n = Number(process.env.BENCH_AUTH_REQUESTS ?? 50_000);
  for (let i = 0; i < n / 10; i++) await fn();
  const s = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  console.log(`${name}: ${(Number(process.hrtime.bigint() - s) / n / 1000).toFixed(2)} µs/request`);
}
console.log(`auth filters alone, one owner HEAD each (and an ACL grantee's); Keystone: ${setup.source}`);
for (let r = 0; r < 3; r++) {
  await time('tempauth (identify + authorize)', tempauthOnce);
  await time('tempauth, account-ACL grantee (identify + authorize)', tempauthAclOnce);
  await time('authtoken + keystoneauth (cached token)', keystoneOnce);
}
await setup.stop();
process.exit(0);
