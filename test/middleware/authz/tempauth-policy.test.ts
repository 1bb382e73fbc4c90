/**
 * Policies under tempauth in a whole cluster: the default rules allow what Swift does, a policy
 * file changes decisions without a restart (the README's examples), a broken file leaves the
 * last good rules in force, every 401/403 says why in the access log, and an owner can ask why
 * over HTTP while nobody else learns anything about ACLs that way.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEV_PROXY_CONF } from '../../../src/cluster/dev-cluster';
import { startCluster, type TestCluster } from '../../../src/testing/index';
import { send, Session } from '../../conformance/replayer';
import { PolicyFile, capturedLog, readmeRule } from './policy-helpers';

const policy = new PolicyFile();
const access = capturedLog();
const errors = capturedLog();
const errorLines = errors.lines;
let cluster: TestCluster;
let session: Session;
let url: string;
const tokens: Record<string, string> = {};
const writePolicy = (text: string) => policy.write(text);
const accessLine = access.last;

async function as(user: string, method: string, path: string, headers: Record<string, string> = {}) {
  const token = user === 'anonymous' ? undefined : tokens[user];
  return send(url, method, path, token === undefined ? headers : { 'X-Auth-Token': token, ...headers });
}

beforeAll(async () => {
  const conf = DEV_PROXY_CONF.replace('SERVICE_require_group = service\n', `SERVICE_require_group = service\npolicy_file = ${policy.path}\npolicy_check_interval = 0\n`);
  cluster = await startCluster({ proxyConfig: conf, accessLogger: access.logger, logger: errors.logger });
  url = cluster.url;
  session = new Session(url);
  for (const u of ['test:tester', 'test:tester3', 'test2:tester2', 'admin:admin']) tokens[u] = (await session.login(u)).token;
  // AUTH_test: shared (tester3 may read it), private (no ACL), each with an object.
  expect((await as('test:tester', 'PUT', '/v1/AUTH_test/shared', { 'X-Container-Read': 'test:tester3' })).status).toBe(201);
  expect((await as('test:tester', 'PUT', '/v1/AUTH_test/private')).status).toBe(201);
  for (const c of ['shared', 'private']) expect((await as('test:tester', 'PUT', `/v1/AUTH_test/${c}/notes.txt`)).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  policy.remove();
});

beforeEach(async () => {
  writePolicy('{}\n');
  // No account ACL unless a test sets one.
  expect((await as('test:tester', 'POST', '/v1/AUTH_test', { 'X-Account-Access-Control': '{}' })).status).toBe(204);
});

describe('the default rules', () => {
  it('decide as Swift: owner, container ACL, account ACL levels, strangers, anonymous', async () => {
    expect((await as('test:tester', 'GET', '/v1/AUTH_test')).status).toBe(200);
    expect((await as('test:tester3', 'GET', '/v1/AUTH_test/shared/notes.txt')).status).toBe(200);
    expect((await as('test:tester3', 'GET', '/v1/AUTH_test/private/notes.txt')).status).toBe(403);
    expect((await as('test:tester3', 'GET', '/v1/AUTH_test')).status).toBe(403);
    expect((await as('anonymous', 'GET', '/v1/AUTH_test/shared/notes.txt')).status).toBe(401);
    expect((await as('test:tester', 'POST', '/v1/AUTH_test', { 'X-Account-Access-Control': '{"read-only":["test:tester3"]}' })).status).toBe(204);
    expect((await as('test:tester3', 'GET', '/v1/AUTH_test')).status).toBe(200);
    expect((await as('test:tester3', 'GET', '/v1/AUTH_test/private/notes.txt')).status).toBe(200);
    expect((await as('test:tester3', 'PUT', '/v1/AUTH_test/private/new.txt')).status).toBe(403);
    // The reseller admin owns every account: it sees the ACL.
    const head = await as('admin:admin', 'HEAD', '/v1/AUTH_test');
    expect(head.status).toBe(204);
    expect(head.headers['x-account-access-control']).toBe('{"read-only":["test:tester3"]}');
  });

  it('a 403 says which rule denied and what the ACLs hold, in the access log', async () => {
    const path = '/v1/AUTH_test/private/notes.txt';
    expect((await as('test:tester3', 'GET', path)).status).toBe(403);
    const line = accessLine('GET', path);
    expect(line?.status).toBe(403);
    expect(line?.authz).toBe(
      "deny swift:object:get: account AUTH_test is not the caller's (test:tester3); X-Container-Read on AUTH_test/private names no one; account AUTH_test has no account ACL",
    );
    // An allowed request has no reason logged.
    expect((await as('test:tester3', 'GET', '/v1/AUTH_test/shared/notes.txt')).status).toBe(200);
    expect(accessLine('GET', '/v1/AUTH_test/shared/notes.txt')?.authz).toBeUndefined();
  });

  it('401s and 403s decided before any rule say why too, never with the token', async () => {
    const bogus = 'AUTH_tk0123456789abcdef0123456789abcdef';
    expect((await send(url, 'GET', '/v1/AUTH_test/private', { 'X-Auth-Token': bogus })).status).toBe(401);
    const line = accessLine('GET', '/v1/AUTH_test/private');
    expect(line?.authz).toBe('deny tempauth: the X-Auth-Token is not valid (unknown or expired)');
    expect(JSON.stringify(line)).not.toContain(bogus);
    expect((await as('test:tester', 'GET', '/v1/OTHER_test')).status).toBe(403);
    expect(accessLine('GET', '/v1/OTHER_test')?.authz).toBe('deny tempauth: account OTHER_test has none of the reseller prefixes tempauth serves');
    expect((await as('anonymous', 'GET', '/v1/OTHER_test')).status).toBe(401);
    expect(accessLine('GET', '/v1/OTHER_test')?.authz).toBe('deny tempauth: no valid token, and account OTHER_test is not one tempauth serves');
  });
});

describe("the README's example policies", () => {
  it('read-only grantees may not list the account (but still read its containers)', async () => {
    expect((await as('test:tester', 'POST', '/v1/AUTH_test', { 'X-Account-Access-Control': '{"read-only":["test:tester3"],"read-write":["test2:tester2"]}' })).status).toBe(204);
    expect((await as('test:tester3', 'GET', '/v1/AUTH_test')).status).toBe(200);
    writePolicy(readmeRule('swift:account:get'));
    const denied = await as('test:tester3', 'GET', '/v1/AUTH_test');
    expect(denied.status).toBe(403);
    expect(accessLine('GET', '/v1/AUTH_test')?.authz).toMatch(/^deny swift:account:get: .*the account ACL of AUTH_test grants test:tester3 no read-write access/);
    expect((await as('test:tester3', 'GET', '/v1/AUTH_test/private')).status).toBe(200);
    expect((await as('test:tester3', 'GET', '/v1/AUTH_test/private/notes.txt')).status).toBe(200);
    // HEAD has a rule of its own: unchanged.
    expect((await as('test:tester3', 'HEAD', '/v1/AUTH_test')).status).toBe(204);
    expect((await as('test2:tester2', 'GET', '/v1/AUTH_test')).status).toBe(200);
    expect((await as('test:tester', 'GET', '/v1/AUTH_test')).status).toBe(200);
  });

  it("only the account's own users may create containers, not its read-write grantees", async () => {
    expect((await as('test:tester', 'POST', '/v1/AUTH_test', { 'X-Account-Access-Control': '{"read-write":["test2:tester2"]}' })).status).toBe(204);
    expect((await as('test2:tester2', 'PUT', '/v1/AUTH_test/by-grantee-1')).status).toBe(201);
    writePolicy(readmeRule('swift:container:put'));
    expect((await as('test2:tester2', 'PUT', '/v1/AUTH_test/by-grantee-2')).status).toBe(403);
    expect((await as('test2:tester2', 'GET', '/v1/AUTH_test/by-grantee-2')).status).toBe(404);
    // Writing objects is another rule: still allowed.
    expect((await as('test2:tester2', 'PUT', '/v1/AUTH_test/by-grantee-1/o')).status).toBe(201);
    expect((await as('test:tester', 'PUT', '/v1/AUTH_test/by-owner')).status).toBe(201);
  });

  it('no one may make a container public (.r:* in X-Container-Read), whatever the spelling', async () => {
    writePolicy(readmeRule('swift:acl:container:set'));
    for (const value of ['.r:*', '.r:*,.rlistings', 'test:tester3, .referrer:*', '.ref:*']) {
      const r = await as('test:tester', 'POST', '/v1/AUTH_test/shared', { 'X-Container-Read': value });
      expect(r.status, value).toBe(403);
    }
    expect(accessLine('POST', '/v1/AUTH_test/shared')?.authz).toBe('deny swift:acl:container:set: the request sets X-Container-Read with ".r:*"');
    expect((await as('test:tester', 'PUT', '/v1/AUTH_test/public', { 'X-Container-Read': '.r:*' })).status).toBe(403);
    expect((await as('test:tester', 'GET', '/v1/AUTH_test/public')).status).toBe(404);
    // The ACL stayed as it was; other referrers are fine.
    expect((await as('test:tester', 'HEAD', '/v1/AUTH_test/shared')).headers['x-container-read']).toBe('test:tester3');
    expect((await as('test:tester', 'POST', '/v1/AUTH_test/shared', { 'X-Container-Read': 'test:tester3,.r:.example.com' })).status).toBe(204);
    expect((await as('test:tester', 'HEAD', '/v1/AUTH_test/shared')).headers['x-container-read']).toBe('test:tester3,.r:.example.com');
    expect((await as('test:tester', 'POST', '/v1/AUTH_test/shared', { 'X-Container-Read': 'test:tester3' })).status).toBe(204);
  });
});

describe('the policy file', () => {
  it('a broken version leaves the last good rules in force, and says why once', async () => {
    writePolicy('"swift:account:get": "rule:swift:account_owner"\n');
    expect((await as('admin:admin', 'GET', '/v1/AUTH_test')).status).toBe(403);
    const before = errorLines.length;
    writePolicy('"swift:account:get": "rule:swift:account_owner or (role:x"\n');
    expect((await as('admin:admin', 'GET', '/v1/AUTH_test')).status).toBe(403);
    expect((await as('admin:admin', 'GET', '/v1/AUTH_test')).status).toBe(403);
    const reports = errorLines.slice(before).filter((l) => l.msg === 'policy file not reloaded: the rules loaded before stay in force');
    expect(reports).toHaveLength(1);
    expect(JSON.stringify(reports[0]!.problems)).toContain('rule \\"swift:account:get\\"');
    writePolicy('{}\n');
    expect((await as('admin:admin', 'GET', '/v1/AUTH_test')).status).toBe(200);
  });
});

describe('X-Sluice-Explain: why a request would be allowed or denied', () => {
  const explain = (caller: string, path: string, headers: Record<string, string>) => as(caller, 'GET', path, headers);

  it("tells the owner which entry allows or what is missing, without performing the request", async () => {
    const allowed = await explain('test:tester', '/v1/AUTH_test/shared/notes.txt', { 'X-Sluice-Explain': 'test:tester3' });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['x-sluice-explain-decision']).toBe('allow');
    expect(allowed.headers['x-sluice-explain-rule']).toBe('swift:object:get');
    const text = allowed.body.toString();
    expect(text.split('\n')[0]).toBe('allow GET /v1/AUTH_test/shared/notes.txt for test:tester3');
    expect(text).toContain('container_acl:member -> true: X-Container-Read on AUTH_test/shared names "test:tester3"');

    const denied = await explain('test:tester', '/v1/AUTH_test/shared/notes.txt', { 'X-Sluice-Explain': 'test:tester3', 'X-Sluice-Explain-Method': 'DELETE' });
    expect(denied.headers['x-sluice-explain-decision']).toBe('deny');
    expect(denied.body.toString()).toContain('container_acl:member -> false: X-Container-Write on AUTH_test/shared names no one');
    // Nothing was deleted.
    expect((await as('test:tester', 'HEAD', '/v1/AUTH_test/shared/notes.txt')).status).toBe(200);
  });

  it('follows the account ACL and the policy in force, and answers JSON', async () => {
    expect((await as('test:tester', 'POST', '/v1/AUTH_test', { 'X-Account-Access-Control': '{"read-only":["test:tester3"]}' })).status).toBe(204);
    const r = await explain('test:tester', '/v1/AUTH_test/private/notes.txt', { 'X-Sluice-Explain': 'test:tester3', Accept: 'application/json' });
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = JSON.parse(r.body.toString()) as { allowed: boolean; rule: string; summary: string; trace: { check: string; result: boolean; detail: string | null }[] };
    expect(body.allowed).toBe(true);
    expect(body.rule).toBe('swift:object:get');
    expect(body.trace.find((e) => e.check === 'account_acl:read-only')).toEqual(expect.objectContaining({ result: true, detail: 'the account ACL of AUTH_test grants read-only to "test:tester3"' }));
    writePolicy('"swift:object:get": "rule:swift:account_owner"\n');
    const now = await explain('test:tester', '/v1/AUTH_test/private/notes.txt', { 'X-Sluice-Explain': 'test:tester3' });
    expect(now.headers['x-sluice-explain-decision']).toBe('deny');
    // An unknown user is explained with its own groups, and says so.
    const unknown = await explain('test:tester', '/v1/AUTH_test/shared/notes.txt', { 'X-Sluice-Explain': 'test:nobody' });
    expect(unknown.body.toString()).toContain('note: test:nobody is not a configured user');
    const anon = await explain('test:tester', '/v1/AUTH_test/shared/notes.txt', { 'X-Sluice-Explain': 'anonymous', 'X-Sluice-Explain-Referer': 'http://example.com/' });
    expect(anon.headers['x-sluice-explain-decision']).toBe('deny');
  });

  it('an account-ACL admin may ask; grantees below admin, strangers and anonymous callers learn nothing', async () => {
    expect((await as('test:tester', 'POST', '/v1/AUTH_test', { 'X-Account-Access-Control': '{"admin":["test2:tester2"],"read-write":["test:tester3"]}' })).status).toBe(204);
    const ask = { 'X-Sluice-Explain': 'test:tester3' };
    const admin = await explain('test2:tester2', '/v1/AUTH_test/shared/notes.txt', ask);
    expect(admin.status).toBe(200);
    for (const [caller, status] of [['test:tester3', 403], ['anonymous', 401]] as const) {
      const r = await explain(caller, '/v1/AUTH_test/shared/notes.txt', ask);
      expect(r.status, caller).toBe(status);
      expect(r.headers['x-sluice-explain-decision']).toBeUndefined();
      expect(r.body.toString()).not.toMatch(/tester3|X-Container|account ACL/);
    }
    expect((await as('test:tester', 'POST', '/v1/AUTH_test', { 'X-Account-Access-Control': '{}' })).status).toBe(204);
    const stranger = await explain('test2:tester2', '/v1/AUTH_test/shared/notes.txt', ask);
    expect(stranger.status).toBe(403);
    expect(stranger.body.toString()).not.toContain('tester3');
    expect(accessLine('GET', '/v1/AUTH_test/shared/notes.txt')?.authz).toMatch(/^deny swift:account:head/);
  });

  it('refuses what it cannot explain with a 400 naming the header', async () => {
    const bad = await explain('test:tester', '/v1/AUTH_test/shared/notes.txt', { 'X-Sluice-Explain': 'tester3' });
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).toBe('X-Sluice-Explain: "tester3" is not a TempAuth user (account:user) or "anonymous"\n');
    const method = await explain('test:tester', '/v1/AUTH_test/shared/notes.txt', { 'X-Sluice-Explain': 'test:tester3', 'X-Sluice-Explain-Method': 'GET /x' });
    expect(method.status).toBe(400);
  });
});
