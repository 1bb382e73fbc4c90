/**
 * `sluice acl explain` against an in-process cluster: the owner's TempAuth v1 credentials or a
 * ready token and storage URL, exit statuses 0/1 for allow/deny, --json, a relative path, the
 * environment defaults swiftclient reads, a non-owner (3, no ACL text), a server that does not
 * explain (3), an unreachable proxy or auth service and a wrong key (4); and no token or key in
 * any output. Then Keystone ids and --roles against the real Keystone, when one is reachable.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ACL_USAGE } from '../../src/cli/acl';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { send, Session } from '../conformance/replayer';
import { findKeystone, keystoneProxyConf, TokenBox, type KeystoneFixtures } from '../keystone/fixtures';
import { cliRunner } from './run-cli';

const ks = await findKeystone();

/** Every secret the runs could hold: none may appear in any line they print. */
const secrets = new Set<string>(['testing', 'testing3', 'not-the-key-3f9c', 'not-a-token-77d1']);
const TEMPAUTH_TOKEN = /AUTH_tk[0-9a-f]/;

const sluice = cliRunner(secrets);

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const CREDENTIAL_ENV = ['ST_AUTH', 'ST_USER', 'ST_KEY', 'OS_AUTH_TOKEN', 'OS_STORAGE_URL'];

beforeEach(() => {
  // The runner's own environment must not choose credentials for these tests.
  for (const name of CREDENTIAL_ENV) vi.stubEnv(name, '');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('sluice acl explain with tempauth', () => {
  let cluster: TestCluster;
  let authUrl: string;
  let ownerToken: string;
  let storageUrl: string;
  const owner = () => ['-A', authUrl, '-U', 'test:tester', '-K', 'testing'];
  const tokenStyle = () => ['--os-auth-token', ownerToken, '--os-storage-url', storageUrl];

  beforeAll(async () => {
    cluster = await startCluster();
    authUrl = `${cluster.url}/auth/v1.0`;
    const session = new Session(cluster.url);
    const id = await session.login('test:tester');
    ownerToken = id.token;
    storageUrl = id.storageUrl;
    secrets.add(ownerToken);
    secrets.add((await session.login('test:tester3')).token);
    const as = (method: string, path: string, headers: Record<string, string> = {}) => send(cluster.url, method, path, { 'X-Auth-Token': ownerToken, ...headers });
    // shared: test:tester3 may read it; private: no ACL; refs: readable from *.example.com pages.
    expect((await as('PUT', '/v1/AUTH_test/shared', { 'X-Container-Read': 'test:tester3' })).status).toBe(201);
    expect((await as('PUT', '/v1/AUTH_test/private')).status).toBe(201);
    expect((await as('PUT', '/v1/AUTH_test/refs', { 'X-Container-Read': '.r:.example.com' })).status).toBe(201);
    for (const c of ['shared', 'private', 'refs']) expect((await as('PUT', `/v1/AUTH_test/${c}/notes.txt`)).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('-A/-U/-K: allow exits 0 with the proxy text as is, naming the ACL entry', async () => {
    const r = await sluice('acl', 'explain', '--user', 'test:tester3', '--method', 'GET', '--path', '/v1/AUTH_test/shared/notes.txt', ...owner());
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe('allow GET /v1/AUTH_test/shared/notes.txt for test:tester3');
    expect(r.out).toContain('');
    expect(r.out.join('\n')).toContain('container_acl:member -> true: X-Container-Read on AUTH_test/shared names "test:tester3"');
    // The proxy's text ends with a newline: no empty last line is added.
    expect(r.out[r.out.length - 1]).not.toBe('');
  });

  it('deny exits 1; DELETE is asked about, not performed', async () => {
    const r = await sluice('acl', 'explain', '--user', 'test:tester3', '--method', 'DELETE', '--path', '/v1/AUTH_test/shared/notes.txt', ...owner());
    expect(r.code).toBe(1);
    expect(r.err).toEqual([]);
    expect(r.out[0]).toBe('deny DELETE /v1/AUTH_test/shared/notes.txt for test:tester3');
    expect(r.out.join('\n')).toContain('container_acl:member -> false: X-Container-Write on AUTH_test/shared names no one');
    expect((await send(cluster.url, 'HEAD', '/v1/AUTH_test/shared/notes.txt', { 'X-Auth-Token': ownerToken })).status).toBe(200);
    // The method defaults to GET, and a lower-case one is the same method.
    const lower = await sluice('acl', 'explain', '--user', 'test:tester3', '--method', 'delete', '--path', '/v1/AUTH_test/shared/notes.txt', ...owner());
    expect([lower.code, lower.out[0]]).toEqual([1, 'deny DELETE /v1/AUTH_test/shared/notes.txt for test:tester3']);
    const private_ = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', '/v1/AUTH_test/private/notes.txt', ...owner());
    expect([private_.code, private_.out[0]]).toEqual([1, 'deny GET /v1/AUTH_test/private/notes.txt for test:tester3']);
  });

  it('--os-auth-token/--os-storage-url, with a path relative to the storage URL', async () => {
    const r = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/notes.txt', ...tokenStyle());
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe('allow GET /v1/AUTH_test/shared/notes.txt for test:tester3');
    // A name is quoted as swiftclient quotes it; "." and ".." are names to Swift, not resolved away.
    const odd = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/a b/../c%.txt', ...tokenStyle());
    expect(odd.code).toBe(0);
    expect(odd.out[0]).toBe('allow GET /v1/AUTH_test/shared/a%20b/../c%25.txt for test:tester3');
  });

  it('--json pretty-prints the JSON answer', async () => {
    const r = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', '/v1/AUTH_test/private/notes.txt', '--json', ...owner());
    expect(r.code).toBe(1);
    expect(r.out[0]).toBe('{');
    expect(r.out[1]).toBe('  "identity": "test:tester3",');
    const body = JSON.parse(r.out.join('\n')) as { identity: string; method: string; path: string; allowed: boolean; rule: string; trace: { check: string; result: boolean | null; detail: string | null }[] };
    expect(body).toMatchObject({ identity: 'test:tester3', method: 'GET', path: '/v1/AUTH_test/private/notes.txt', allowed: false, rule: 'swift:object:get' });
    expect(body.trace.find((e) => e.check === 'container_acl:member')).toEqual(expect.objectContaining({ result: false }));
    const allowed = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/notes.txt', '--json', ...tokenStyle());
    expect(allowed.code).toBe(0);
    expect((JSON.parse(allowed.out.join('\n')) as { allowed: boolean }).allowed).toBe(true);
  });

  it('--referer is the Referer the identity would send', async () => {
    const args = ['acl', 'explain', '--user', 'anonymous', '--path', '/v1/AUTH_test/refs/notes.txt', ...owner()];
    const without = await sluice(...args);
    expect([without.code, without.out[0]]).toEqual([1, 'deny GET /v1/AUTH_test/refs/notes.txt for anonymous']);
    const from = await sluice(...args, '--referer', 'http://www.example.com/page.html');
    expect([from.code, from.out[0]]).toEqual([0, 'allow GET /v1/AUTH_test/refs/notes.txt for anonymous']);
    const elsewhere = await sluice(...args, '--referer', 'http://example.org/');
    expect(elsewhere.code).toBe(1);
  });

  it("takes swiftclient's environment variables; the command line wins over them", async () => {
    vi.stubEnv('ST_AUTH', authUrl);
    vi.stubEnv('ST_USER', 'test:tester');
    vi.stubEnv('ST_KEY', 'testing');
    const v1 = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/notes.txt');
    expect([v1.code, v1.out[0]]).toEqual([0, 'allow GET /v1/AUTH_test/shared/notes.txt for test:tester3']);
    // -U/-K on the command line: test:tester3 does not own AUTH_test.
    const other = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', '/v1/AUTH_test/shared/notes.txt', '-U', 'test:tester3', '-K', 'testing3');
    expect(other.code).toBe(3);
    // A token and storage URL, both set, are used as they are (swiftclient's order).
    vi.stubEnv('OS_AUTH_TOKEN', 'not-a-token-77d1');
    vi.stubEnv('OS_STORAGE_URL', storageUrl);
    const bad = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/notes.txt');
    expect(bad.code).toBe(3);
    expect(bad.err).toEqual([
      "sluice: error: only the account's owner may ask why (the proxy answered 401)",
      'sluice: a 401 also means the proxy did not accept the token (expired, or not one its auth filter knows)',
    ]);
    vi.stubEnv('OS_AUTH_TOKEN', ownerToken);
    const good = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/notes.txt');
    expect(good.code).toBe(0);
  });

  it("a non-owner's credentials: 3, the refusal, and nothing about ACLs", async () => {
    for (const path of ['/v1/AUTH_test/shared/notes.txt', '/v1/AUTH_test/private/notes.txt']) {
      const r = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', path, '-A', authUrl, '-U', 'test:tester3', '-K', 'testing3');
      expect(r.code).toBe(3);
      expect(r.out).toEqual([]);
      expect(r.err).toEqual(["sluice: error: only the account's owner may ask why (the proxy answered 403)"]);
    }
    // Another account's owner is no owner of this one.
    const stranger = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', '/v1/AUTH_test/shared/notes.txt', '-A', authUrl, '-U', 'test2:tester2', '-K', 'testing2');
    expect(stranger.err).toEqual(["sluice: error: only the account's owner may ask why (the proxy answered 403)"]);
    expect(stranger.code).toBe(3);
  });

  it('a wrong key, an unreachable auth service or proxy: 4, saying which', async () => {
    const wrong = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/notes.txt', '-A', authUrl, '-U', 'test:tester', '-K', 'not-the-key-3f9c');
    expect(wrong.code).toBe(4);
    expect(wrong.out).toEqual([]);
    expect(wrong.err).toEqual([`sluice: error: authentication as test:tester failed: the auth service at ${authUrl} answered 401`]);

    const port = await closedPort();
    const noAuth = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/notes.txt', '-A', `http://127.0.0.1:${port}/auth/v1.0`, '-U', 'test:tester', '-K', 'testing');
    expect(noAuth.code).toBe(4);
    expect(noAuth.err[0]).toMatch(new RegExp(`^sluice: error: cannot reach the auth service at http://127\\.0\\.0\\.1:${port}/auth/v1\\.0: .*ECONNREFUSED`));

    const noProxy = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/notes.txt', '--os-auth-token', ownerToken, '--os-storage-url', `http://127.0.0.1:${port}/v1/AUTH_test`);
    expect(noProxy.code).toBe(4);
    expect(noProxy.out).toEqual([]);
    expect(noProxy.err[0]).toMatch(new RegExp(`^sluice: error: cannot reach the proxy at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });

  it('a question the proxy cannot explain (an identity of the wrong form) is a usage error', async () => {
    const r = await sluice('acl', 'explain', '--user', 'tester3', '--path', 'shared/notes.txt', ...owner());
    expect(r.code).toBe(2);
    expect(r.err).toEqual([`sluice: the proxy at ${new URL(cluster.url).origin} refused the question: X-Sluice-Explain: "tester3" is not a TempAuth user (account:user) or "anonymous"`]);
    // Not UTF-8 safe in a header unless encoded: the proxy decodes the bytes as UTF-8 again.
    const utf8 = await sluice('acl', 'explain', '--user', 'tëst:tester', '--path', 'shared/notes.txt', ...owner());
    expect(utf8.code).toBe(1);
    expect(utf8.out[0]).toBe('deny GET /v1/AUTH_test/shared/notes.txt for tëst:tester');
  });

  it('no token or key in any output, whatever happened', async () => {
    const runs = [
      await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/notes.txt', '--json', ...owner()),
      await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/notes.txt', ...tokenStyle()),
      await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/notes.txt', '-A', authUrl, '-U', 'test:tester', '-K', 'not-the-key-3f9c'),
      await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/notes.txt', '--os-auth-token', 'not-a-token-77d1', '--os-storage-url', storageUrl),
      await sluice('acl', 'explain', '--path', 'shared/notes.txt', '-A', authUrl, '-U', 'test:tester', '-K', 'testing'),
      await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/notes.txt', '--os-auth-token', 'bad\ntoken', '--os-storage-url', storageUrl),
      await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'shared/notes.txt', '--os-auth-token', 'tökén€', '--os-storage-url', storageUrl),
    ];
    expect(runs.map((r) => r.code)).toEqual([0, 0, 4, 3, 2, 2, 2]);
    expect(runs[6]!.err[0]).toBe('sluice: the token holds characters a header cannot carry');
    const all = runs.flatMap((r) => [...r.out, ...r.err]).join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const s of [ownerToken, 'testing', 'not-the-key-3f9c', 'not-a-token-77d1', 'bad\ntoken', 'tökén€']) expect(all).not.toContain(s);
    expect(all).not.toMatch(TEMPAUTH_TOKEN);
  });
});

describe('sluice acl explain against a server that does not explain', () => {
  let server: Server;
  let origin: string;
  const requests: { method?: string; url?: string; explain?: string | string[] }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push({ method: req.method, url: req.url, explain: req.headers['x-sluice-explain'] });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('the object itself\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('exits 3 saying so, and shows none of what it answered', async () => {
    const r = await sluice('acl', 'explain', '--user', 'test:tester3', '--path', 'c/o', '--os-auth-token', 'not-a-token-77d1', '--os-storage-url', `${origin}/v1/AUTH_test`);
    expect(r.code).toBe(3);
    expect(r.out).toEqual([]);
    expect(r.err).toEqual([`sluice: error: the proxy at ${origin} does not explain decisions (not sluice, or no auth filter that does)`]);
    expect(requests).toEqual([{ method: 'GET', url: '/v1/AUTH_test/c/o', explain: 'test:tester3' }]);
  });
});

describe('sluice acl: usage', () => {
  it('help, and bad usage exits 2 with the usage text', async () => {
    const help = await sluice('help', 'acl');
    expect(help).toMatchObject({ code: 0, err: [] });
    // The show/grant/revoke usage first, then explain's.
    expect(help.out.slice(-ACL_USAGE.split('\n').length)).toEqual(ACL_USAGE.split('\n'));
    expect(help.out[0]).toMatch(/^Usage: sluice acl show/);
    expect((await sluice('acl', 'explain', '--help')).out[0]).toBe(ACL_USAGE.split('\n')[0]);
    const cases: [string[], string][] = [
      [['acl'], 'sluice: acl needs a subcommand (show, grant, revoke or explain)'],
      [['acl', 'why'], 'sluice: unknown acl subcommand "why"'],
      [['acl', 'explain', '--path', 'c/o'], 'sluice: --user IDENTITY is required (ACCOUNT:USER, PROJECT_ID:USER_ID or anonymous)'],
      [['acl', 'explain', '--user', 'a:b'], 'sluice: --path PATH is required'],
      [['acl', 'explain', '--user', 'a:b', '--path', 'c', '--method', 'GET /x'], 'sluice: --method "GET /x" is not an HTTP method'],
      [['acl', 'explain', '--user', 'a:b', '--path', 'c'], "sluice: the owner's credentials are missing: give --os-auth-token and --os-storage-url, or -A, -U and -K (missing -A/--auth (ST_AUTH), -U/--auth-user (ST_USER), -K/--auth-key (ST_KEY))"],
      [['acl', 'explain', '--user', 'a:b', '--path', 'c', '-A', 'http://h/auth/v1.0', '--os-auth-token', 'not-a-token-77d1'], 'sluice: give -A/-U/-K or --os-auth-token/--os-storage-url, not both'],
      [['acl', 'explain', '--user', 'a:b', '--path', 'c', '--os-auth-token', 'not-a-token-77d1'], 'sluice: --os-auth-token needs --os-storage-url (or OS_STORAGE_URL)'],
      [['acl', 'explain', '--user', 'a:b', '--path', 'c', '--os-auth-token', 'not-a-token-77d1', '--os-storage-url', 'ftp://h/v1/AUTH_a'], 'sluice: the storage URL (--os-storage-url or OS_STORAGE_URL) is not an http or https URL'],
      [['acl', 'explain', '--user', 'a:b', '--path', 'c', '-A', 'nowhere', '-U', 'a:b', '-K', 'not-the-key-3f9c'], 'sluice: the auth URL (-A/--auth or ST_AUTH) is not a URL'],
    ];
    for (const [args, first] of cases) {
      const r = await sluice(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err[0], args.join(' ')).toBe(first);
      expect(r.err.join('\n')).toContain(ACL_USAGE.split('\n')[0]);
    }
    // A stray word is not echoed: it may be part of a key that lost its quotes.
    const stray = await sluice('acl', 'explain', '--user', 'a:b', '--path', 'c', '-K', 'half', 'of-the-key-5e2a');
    expect(stray.code).toBe(2);
    expect(stray.err[0]).toBe('sluice: acl explain takes options only (1 other argument given)');
    expect(stray.err.join('\n')).not.toContain('of-the-key-5e2a');
    const unknown = await sluice('acl', 'explain', '--bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.err[0]).toMatch(/^sluice: Unknown option '--bogus'/);
  });
});

describe.skipIf(!ks.ok)('sluice acl explain with keystoneauth and a real Keystone', () => {
  const f = (ks as { fixtures: KeystoneFixtures }).fixtures;
  const pid = (project: string) => f.projects[project]!.id;
  const uid = (user: string) => f.users[user]!.id;
  let cluster: TestCluster;
  let tokens: TokenBox;
  let storageUrl: string;
  let operatorToken: string;

  beforeAll(async () => {
    tokens = new TokenBox(f);
    cluster = await startCluster({ proxyConfig: keystoneProxyConf(f) });
    operatorToken = await tokens.get('operator-a');
    secrets.add(operatorToken);
    secrets.add(await tokens.get('member-b'));
    storageUrl = `${cluster.url}/v1/AUTH_${pid('proj-a')}`;
    const memberB = `${pid('proj-b')}:${uid('member-b')}`;
    expect((await send(cluster.url, 'PUT', `/v1/AUTH_${pid('proj-a')}/c`, { 'X-Auth-Token': operatorToken, 'X-Container-Read': memberB })).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("the operator's token and storage URL; ids and --roles as the identity", async () => {
    const creds = ['--os-auth-token', operatorToken, '--os-storage-url', storageUrl];
    const memberB = `${pid('proj-b')}:${uid('member-b')}`;
    const read = await sluice('acl', 'explain', '--user', memberB, '--path', 'c/o', ...creds);
    expect(read.err).toEqual([]);
    expect([read.code, read.out[0]]).toEqual([0, `allow GET /v1/AUTH_${pid('proj-a')}/c/o for ${memberB}`]);
    expect(read.out).toContain('note: ids only (names in ACLs are not matched), roles: none, no service token');
    // A user of the project creates containers only with an operator role: --roles decides.
    const memberA = `${pid('proj-a')}:${uid('member-a')}`;
    const plain = await sluice('acl', 'explain', '--user', memberA, '--method', 'PUT', '--path', 'new', '--roles', 'member', ...creds);
    expect(plain.code).toBe(1);
    expect(plain.out).toContain('note: ids only (names in ACLs are not matched), roles: member, no service token');
    const operator = await sluice('acl', 'explain', '--user', memberA, '--method', 'PUT', '--path', 'new', '--roles', 'member,swiftoperator', ...creds);
    expect([operator.code, operator.out[0]]).toEqual([0, `allow PUT /v1/AUTH_${pid('proj-a')}/new for ${memberA}`]);
    // member-b may read c, but does not own the account: it may not ask.
    const notOwner = await sluice('acl', 'explain', '--user', memberB, '--path', 'c/o', '--os-auth-token', await tokens.get('member-b'), '--os-storage-url', storageUrl);
    expect(notOwner.code).toBe(3);
    expect(notOwner.err).toEqual(["sluice: error: only the account's owner may ask why (the proxy answered 403)"]);
  });
});

if (!ks.ok) {
  describe('sluice acl explain with keystoneauth', () => {
    it.skip(`needs a Keystone: ${ks.reason}`, () => {});
  });
}
