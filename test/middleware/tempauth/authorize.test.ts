/** The authorize callback walked step by step (Swift's decision order, spec §1b). */
import { describe, expect, it } from 'vitest';
import type { AuthorizeRequest, ProxyContext } from '../../../src/proxy/context';
import { accountInfo, DEV_GROUPS, fakeCtx, makeTempAuth } from './helpers';

const ta = makeTempAuth();

function req(c: ProxyContext, over: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  return { method: c.req.method, account: 'AUTH_test', container: undefined, object: undefined, acl: undefined, referer: c.get('headers').get('referer'), headers: c.get('headers'), ...over };
}

async function decide(opts: Parameters<typeof fakeCtx>[0], over: Partial<AuthorizeRequest> = {}) {
  const c = fakeCtx({ accounts: { AUTH_test: accountInfo(), SERVICE_test: accountInfo(), ...(opts?.accounts ?? {}) }, ...opts });
  const res = await ta.authorize(c, req(c, over));
  return { status: res?.status ?? 'allow', owner: c.get('swiftOwner'), res, c };
}

describe('authorize decision order', () => {
  it('foreign account prefix: denied (401 anonymous, 403 known user)', async () => {
    expect((await decide({}, { account: 'OTHER_x' })).status).toBe(401);
    expect((await decide({ remoteUser: DEV_GROUPS.admin }, { account: 'OTHER_x' })).status).toBe(403);
  });

  it('reseller admin: owner on every prefixed account, not the bare prefix or dot accounts', async () => {
    const r = await decide({ remoteUser: DEV_GROUPS.admin, method: 'DELETE' });
    expect(r).toMatchObject({ status: 'allow', owner: true });
    expect((await decide({ remoteUser: DEV_GROUPS.admin, accounts: { AUTH_: accountInfo() } }, { account: 'AUTH_' })).status).toBe(403);
    expect((await decide({ remoteUser: DEV_GROUPS.admin, accounts: { 'AUTH_.x': accountInfo() } }, { account: 'AUTH_.x' })).status).toBe(403);
  });

  it('reseller reader: GET/HEAD only, never owner', async () => {
    const groups = 'r,r:r,.reseller_reader';
    expect(await decide({ remoteUser: groups, method: 'HEAD' })).toMatchObject({ status: 'allow', owner: false });
    expect((await decide({ remoteUser: groups, method: 'POST' })).status).toBe(403);
  });

  it('owner: everything but account PUT/DELETE', async () => {
    expect(await decide({ remoteUser: DEV_GROUPS.tester, method: 'POST' })).toMatchObject({ status: 'allow', owner: true });
    expect((await decide({ remoteUser: DEV_GROUPS.tester, method: 'PUT' })).status).toBe(403);
    expect((await decide({ remoteUser: DEV_GROUPS.tester, method: 'DELETE' })).status).toBe(403);
    expect((await decide({ remoteUser: DEV_GROUPS.tester, method: 'DELETE' }, { container: 'c' })).status).toBe('allow');
  });

  it('require_group: SERVICE_ accounts need the service group too', async () => {
    expect((await decide({ remoteUser: DEV_GROUPS.tester }, { account: 'SERVICE_test' })).status).toBe(403);
    expect(await decide({ remoteUser: `${DEV_GROUPS.tester},${DEV_GROUPS.test5}` }, { account: 'SERVICE_test' })).toMatchObject({ status: 'allow', owner: true });
  });

  it('OPTIONS is allowed for anyone', async () => {
    expect((await decide({ method: 'OPTIONS' }, { container: 'c' })).status).toBe('allow');
  });

  it('referrers: objects, or container listings with .rlistings', async () => {
    const h = { referer: 'http://www.example.com/page' };
    expect((await decide({ headers: h }, { container: 'c', object: 'o', acl: '.r:.example.com' })).status).toBe('allow');
    expect((await decide({ headers: h }, { container: 'c', acl: '.r:.example.com' })).status).toBe(401);
    expect((await decide({ headers: h }, { container: 'c', acl: '.r:.example.com,.rlistings' })).status).toBe('allow');
    expect((await decide({}, { container: 'c', acl: '.rlistings' })).status).toBe(401);
    expect((await decide({ headers: { referer: 'http://bad.com/' } }, { container: 'c', object: 'o', acl: '.r:*,.r:-bad.com' })).status).toBe(401);
    expect((await decide({ headers: { referer: 'http://bad.com/' } }, { container: 'c', object: 'o', acl: '.r:-bad.com,.r:*' })).status).toBe('allow');
  });

  it('container ACL groups: any of the user groups, URL-unquoted entries', async () => {
    const base = { container: 'c', object: 'o' };
    expect((await decide({ remoteUser: DEV_GROUPS.tester3 }, { ...base, acl: 'test%3Atester3' })).status).toBe('allow');
    expect((await decide({ remoteUser: DEV_GROUPS.tester3 }, { ...base, acl: 'test' })).status).toBe('allow');
    expect((await decide({ remoteUser: DEV_GROUPS.test2 }, { ...base, acl: 'AUTH_test2' })).status).toBe('allow');
    expect((await decide({ remoteUser: DEV_GROUPS.test2 }, { ...base, acl: 'test:tester3' })).status).toBe(403);
  });

  it('sluice: an empty grantee never matches the anonymous group list [""]', async () => {
    expect((await decide({}, { container: 'c', object: 'o', acl: 'x,' })).status).toBe(401);
    const accounts = { AUTH_test: accountInfo('{"read-only":[""],"admin":[""]}') };
    expect((await decide({ accounts, method: 'GET' })).status).toBe(401);
  });

  describe('account ACLs', () => {
    const acl = JSON.stringify({ admin: ['test:tester3'], 'read-write': ['test2'], 'read-only': ['test5:tester5'] });
    const accounts = { AUTH_test: accountInfo(acl) };
    it('admin: owner powers', async () => {
      expect(await decide({ accounts, remoteUser: DEV_GROUPS.tester3, method: 'POST' })).toMatchObject({ status: 'allow', owner: true });
      expect((await decide({ accounts, remoteUser: DEV_GROUPS.tester3, method: 'DELETE' }, { container: 'c' })).status).toBe('allow');
    });
    it('sluice: an ACL admin may not PUT or DELETE the account (the owner may not either)', async () => {
      expect((await decide({ accounts, remoteUser: DEV_GROUPS.tester3, method: 'PUT' })).status).toBe(403);
      const r = await decide({ accounts, remoteUser: DEV_GROUPS.tester3, method: 'DELETE' });
      expect(r).toMatchObject({ status: 403, owner: false });
    });
    it('read-write: containers and objects, account GET/HEAD only', async () => {
      expect(await decide({ accounts, remoteUser: DEV_GROUPS.test2, method: 'PUT' }, { container: 'c' })).toMatchObject({ status: 'allow', owner: false });
      expect((await decide({ accounts, remoteUser: DEV_GROUPS.test2, method: 'GET' })).status).toBe('allow');
      expect((await decide({ accounts, remoteUser: DEV_GROUPS.test2, method: 'POST' })).status).toBe(403);
    });
    it('read-only: GET/HEAD', async () => {
      expect((await decide({ accounts, remoteUser: DEV_GROUPS.test5, method: 'HEAD' }, { container: 'c' })).status).toBe('allow');
      expect((await decide({ accounts, remoteUser: DEV_GROUPS.test5, method: 'PUT' }, { container: 'c', object: 'o' })).status).toBe(403);
    });
    it('anonymous and ungranted users', async () => {
      const anon = await decide({ accounts, method: 'GET' });
      expect(anon.status).toBe(401);
      expect(anon.res!.headers.get('www-authenticate')).toBe('Swift realm="AUTH_test"');
      const other = await decide({ accounts, remoteUser: 'x,x:y', method: 'GET' });
      expect(other.status).toBe(403);
      expect(other.res!.headers.get('www-authenticate')).toBeNull();
    });
    it('stored garbage or all-empty lists grant nothing', async () => {
      expect((await decide({ accounts: { AUTH_test: accountInfo('not json') }, remoteUser: DEV_GROUPS.test2 })).status).toBe(403);
      expect((await decide({ accounts: { AUTH_test: accountInfo('{"admin":[],"read-only":[]}') }, remoteUser: DEV_GROUPS.test2 })).status).toBe(403);
    });
  });

  describe('X-Account-Access-Control validation comes first', () => {
    it('400 with the exact body even for anonymous users; valid header moved to sysmeta', async () => {
      const bad = await decide({ headers: { 'x-account-access-control': '{"admin":[' }, method: 'POST' });
      expect(bad.status).toBe(400);
      expect(bad.res!.headers.get('content-type')).toBe('text/plain; charset=UTF-8');
      expect(await bad.res!.text()).toBe(`X-Account-Access-Control invalid: Syntax error in input ('{"admin":[')\n\nInput: {"admin":[\n`);
      const good = await decide({ headers: { 'x-account-access-control': '{"admin":["a"]}' }, method: 'POST' });
      expect(good.status).toBe(401);
      expect(good.c.get('headers').get('x-account-access-control')).toBeUndefined();
      expect(good.c.get('headers').get('x-account-sysmeta-core-access-control')).toBe('{"admin":["a"]}');
    });

    it('sluice: raw UTF-8 is decoded; the 400 body echoes proper text', async () => {
      const raw = Buffer.from('{"bogus":["é"]}', 'utf8').toString('latin1');
      const r = await decide({ headers: { 'x-account-access-control': raw }, remoteUser: DEV_GROUPS.tester, method: 'POST' });
      expect(await r.res!.text()).toBe('X-Account-Access-Control invalid: Key "bogus" not recognized\n\nInput: {"bogus":["é"]}\n');
      const ok = await decide({ headers: { 'x-account-access-control': Buffer.from('{"admin":["é"]}').toString('latin1') }, remoteUser: DEV_GROUPS.tester, method: 'POST' });
      expect(ok.status).toBe('allow');
      expect(ok.c.get('headers').get('x-account-sysmeta-core-access-control')).toBe(Buffer.from('{"admin":["é"]}').toString('latin1'));
    });

    it('sluice: deep nesting is a 400 syntax error, never a 500', async () => {
      const r = await decide({ headers: { 'x-account-access-control': '['.repeat(8000) }, method: 'POST' });
      expect(r.status).toBe(400);
      expect(await r.res!.text()).toMatch(/^X-Account-Access-Control invalid: Syntax error in input \('\[\[\[/);
    });

    it('sluice: values over 8150 bytes get one clear 400 naming the limit', async () => {
      const long = `{"read-only":["${'x'.repeat(8150 - 18)}"]}`;
      expect(long.length).toBe(8150);
      expect((await decide({ headers: { 'x-account-access-control': long }, remoteUser: DEV_GROUPS.tester, method: 'POST' })).status).toBe('allow');
      const tooLong = `{"read-only":["${'x'.repeat(8151 - 18)}"]}`;
      const r = await decide({ headers: { 'x-account-access-control': tooLong }, remoteUser: DEV_GROUPS.tester, method: 'POST' });
      expect(r.status).toBe(400);
      expect(await r.res!.text()).toBe('X-Account-Access-Control invalid: value is 8151 bytes long; the limit is 8150 bytes\n');
    });
  });

  it('401 realm is the quoted account; HEAD denials carry no body', async () => {
    const r = await decide({ method: 'HEAD', accounts: { 'AUTH_é': accountInfo() } }, { account: 'AUTH_é' });
    expect(r.res!.headers.get('www-authenticate')).toBe('Swift realm="AUTH_%C3%A9"');
    expect(r.res!.headers.get('content-length')).toBe('0');
    expect((await decide({}, { account: 'auth' })).res).toBeUndefined;
  });
});
