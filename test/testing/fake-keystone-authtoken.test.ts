// The fake Keystone as its real clients use it: Debian's keystonemiddleware auth_token (with
// keystoneauth1 underneath: version discovery, the service user's password token, token
// validation, its token cache) in front of a stub WSGI app. Skipped, with the reason, where
// python3-keystonemiddleware is not installed (scripts/keystone/keystone.sh installs it).
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKeystone, type FakeKeystone } from '../../src/testing/index';

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import keystonemiddleware.auth_token, webob'], { encoding: 'utf8' });
const missing = probe.error ? probe.error.message : probe.status !== 0 ? probe.stderr.trim().split('\n').pop() : null;

interface Seen {
  status: number;
  www_authenticate: string | null;
  passed: Record<string, string | null>;
}

/** Runs auth_token once (one process, so its in-memory token cache spans the requests). */
async function authToken(conf: Record<string, string>, requests: Array<Record<string, string>>): Promise<Seen[]> {
  const child = spawn(PYTHON, [join(__dirname, 'authtoken-probe.py')]);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  child.stdin.end(JSON.stringify({ conf, requests }));
  const code = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`authtoken-probe.py exited ${String(code)}: ${err.slice(-2000)}`);
  return out.trim().split('\n').map((line) => JSON.parse(line) as Seen);
}

describe("keystonemiddleware's auth_token against the fake", () => {
  if (missing) {
    it.skip(`skipped: python3-keystonemiddleware is not importable (${missing})`, () => {});
    return;
  }
  let ks: FakeKeystone;
  let conf: Record<string, string>;

  beforeAll(async () => {
    ks = await startFakeKeystone({
      domains: [{ name: 'domain-2' }],
      projects: [{ name: 'proj-a' }, { name: 'service' }, { name: 'admin' }],
      roles: [{ name: 'service' }, { name: 'swiftoperator' }],
      users: [
        { name: 'member-a', password: 'pw-a', defaultProject: 'proj-a', roles: { 'proj-a': ['member'] } },
        { name: 'op', password: 'pw-op', domain: 'domain-2', defaultProject: 'proj-a', roles: { 'proj-a': ['swiftoperator'] } },
        { name: 'sluice', password: 'pw-svc', defaultProject: 'service', roles: { service: ['admin', 'service'] } },
      ],
      adminProject: { name: 'admin', domain: 'Default' },
    });
    conf = {
      auth_type: 'password',
      auth_url: ks.url,
      username: 'sluice',
      password: 'pw-svc',
      user_domain_id: 'default',
      project_name: 'service',
      project_domain_id: 'default',
      www_authenticate_uri: ks.url,
      region_name: 'RegionOne',
      include_service_catalog: 'true',
    };
  });
  afterAll(async () => {
    await ks?.stop();
  });

  it('discovers the API, authenticates its service user, validates tokens and caches them', async () => {
    const member = ks.issue({ user: 'member-a' }).token;
    const op = ks.issue({ user: 'op' }).token;
    ks.resetRequests();
    const seen = await authToken(conf, [{ 'X-Auth-Token': member }, { 'X-Auth-Token': member }, { 'X-Auth-Token': op }, { 'X-Auth-Token': 'garbage' }]);

    expect(seen[0]!.status).toBe(200);
    expect(seen[0]!.passed).toMatchObject({
      'X-Identity-Status': 'Confirmed',
      'X-Roles': 'member,reader',
      'X-Project-Id': ks.ids.projects['proj-a'],
      'X-Project-Name': 'proj-a',
      'X-Project-Domain-Id': 'default',
      'X-User-Id': ks.ids.users['member-a'],
      'X-User-Name': 'member-a',
      'X-User-Domain-Name': 'Default',
      'X-Is-Admin-Project': 'False',
    });
    const catalog = JSON.parse(seen[0]!.passed['X-Service-Catalog']!) as Array<{ type: string; endpoints: Array<{ publicURL: string }> }>;
    expect(catalog.find((s) => s.type === 'object-store')!.endpoints[0]!.publicURL).toBe(`http://127.0.0.1:8080/v1/AUTH_${ks.ids.projects['proj-a']}`);
    expect(seen[1]!.passed['X-User-Name']).toBe('member-a');
    expect(seen[2]!.passed).toMatchObject({ 'X-User-Domain-Name': 'domain-2', 'X-Roles': 'swiftoperator' });
    expect(seen[3]).toEqual({ status: 401, www_authenticate: `Keystone uri="${ks.url}"`, passed: {} });

    // discovery once, one service token, and one validation per distinct token: the second
    // request for `member` came from auth_token's cache
    expect(ks.requests).toMatchObject({ 'GET /': 1, 'POST /v3/auth/tokens': 1, 'GET /v3/auth/tokens': 3, other: 0 });
  });

  it('a revoked or expired token is refused', async () => {
    const revoked = ks.issue({ user: 'member-a' }).token;
    ks.revoke(revoked);
    const expiring = ks.issue({ user: 'member-a', ttlSeconds: 1 }).token;
    await new Promise((r) => setTimeout(r, 2100));
    const seen = await authToken(conf, [{ 'X-Auth-Token': revoked }, { 'X-Auth-Token': expiring }]);
    expect(seen.map((s) => s.status)).toEqual([401, 401]);
  });
});
