/**
 * ACL helpers: container ACL builders refuse typos before any request; account ACL
 * grant/revoke round-trips through the server, and another user's access really changes.
 */
import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { AclValidationError, accountAcl, containerAcl, formatAccountAcl, parseAccountAcl, validateContainerAcl } from '../../src/client/acl/index';
import { ObjectStore } from '../../src/client/object/index';
import { RecordingSession, useStoreCluster, USERS } from './token-session';

describe('container ACL builders', () => {
  it('builds read and write values', () => {
    const h = containerAcl()
      .read({ users: ['test:tester3', 'AUTH_other'], referrers: ['.example.com', 'example.org', '-bad.example.com', '.r:*'], listings: true })
      .write({ users: ['test:tester3'] })
      .headers();
    expect(h).toEqual({
      'X-Container-Read': 'test:tester3,AUTH_other,.r:.example.com,.r:example.org,.r:-bad.example.com,.r:*,.rlistings',
      'X-Container-Write': 'test:tester3',
    });
    expect(containerAcl().read({}).headers()).toEqual({ 'X-Container-Read': '' });
  });

  it.each([
    [() => containerAcl().read({ referrers: ['.r:'] }), /no host or domain/],
    [() => containerAcl().read({ referrers: [''] }), /no host or domain/],
    [() => containerAcl().read({ referrers: ['-'] }), /no host or domain/],
    [() => containerAcl().read({ referrers: ['http://example.com'] }), /not a URL/],
    [() => containerAcl().read({ referrers: ['*.example.com'] }), /lone "\*"/],
    [() => containerAcl().read({ referrers: ['a.com,b.com'] }), /comma/],
    [() => containerAcl().read({ users: ['.rlisting'] }), /not a user/],
    [() => containerAcl().read({ users: ['.r:*'] }), /not a user/],
    [() => containerAcl().read({ users: [''] }), /empty user/],
    [() => containerAcl().read({ users: [' test:tester'] }), /whitespace/],
    [() => containerAcl().read({ users: ['a,b'] }), /comma/],
    [() => containerAcl().write({ users: ['.rlistings'] }), /not a user/],
    [() => containerAcl().write({ referrers: ['x.com'] } as never), /reading only/],
  ])('refuses typo %#', (build, message) => {
    expect(build).toThrow(AclValidationError);
    expect(build).toThrow(message);
  });

  it.each([
    ['read', '.rlisting', /unknown directive/],
    ['read', '.r:', /no host or domain/],
    ['read', '.r', /unknown directive/],
    ['read', '.ref:example.com', /as "\.r:example\.com"/],
    ['read', '.x:y', /unknown directive/],
    ['read', 'a,,b', /empty item/],
    ['read', 'a,', /empty item/],
    ['read', 'a, b', /whitespace/],
    ['write', '.r:*', /reading only/],
    ['write', '.rlistings', /reading only/],
  ] as const)('validates hand-written %s ACL %j', (kind, value, message) => {
    expect(() => validateContainerAcl(kind, value)).toThrow(message);
  });

  it('passes what the server stores unchanged', () => {
    for (const v of ['', 'a:b', '.r:*,.rlistings', 'AUTH_x,.r:.example.com,.r:-x.example.com']) expect(validateContainerAcl('read', v)).toBe(v);
    expect(validateContainerAcl('write', 'a:b,c:d')).toBe('a:b,c:d');
  });
});

describe('account ACL values', () => {
  it('parses and formats the typed ACL, checked with the server\'s rules', () => {
    expect(parseAccountAcl(undefined)).toEqual({ admin: [], 'read-write': [], 'read-only': [] });
    expect(parseAccountAcl('{"read-only":["a:b"],"admin":["c"]}')).toEqual({ admin: ['c'], 'read-write': [], 'read-only': ['a:b'] });
    expect(formatAccountAcl({ admin: [], 'read-write': ['x:y', 'x:y'], 'read-only': ['é'] })).toBe('{"read-only":["\\u00e9"],"read-write":["x:y"]}');
    expect(() => formatAccountAcl({ admin: [''], 'read-write': [], 'read-only': [] })).toThrow(AclValidationError);
    expect(() => formatAccountAcl({ owner: ['x'] } as never)).toThrow(/unknown account ACL level/);
    expect(() => formatAccountAcl({ admin: 'x' } as never)).toThrow(/must be a list/);
    expect(() => formatAccountAcl({ admin: [], 'read-write': [], 'read-only': ['x'.repeat(9000)] })).toThrow(/8192/);
  });
});

describe('ACLs against a cluster', () => {
  const f = useStoreCluster(async ({ store }) => {
    await store.container('shared').create();
    await store.object('shared', 'doc').put('shared doc');
  });
  let owner: ObjectStore;
  let plain: ObjectStore;
  beforeAll(() => {
    owner = f.store;
    plain = f.env.storeAs(USERS.plain);
  });

  /** Status of a request by the plain user (test:tester3, no rights of its own on AUTH_test). */
  async function plainStatus(op: () => Promise<unknown>): Promise<number> {
    try {
      await op();
      return 200;
    } catch (err) {
      return (err as { status?: number }).status ?? -1;
    }
  }

  it('a refused container ACL sends no request', async () => {
    const rec = new RecordingSession(f.env.session);
    const s = new ObjectStore(rec);
    await expect(s.container('shared').post({}, { read: '.rlisting' })).rejects.toThrow(AclValidationError);
    await expect(s.container('other').create({}, { write: 'a,,b' })).rejects.toThrow(AclValidationError);
    expect(rec.requests).toEqual([]);
  });

  it('container read and write ACLs change what another user may do', async () => {
    expect(await plainStatus(() => plain.object('shared', 'doc').stat())).toBe(403);
    await owner.container('shared').post({}, { acl: containerAcl().read({ users: [USERS.plain.user] }).write({ users: [USERS.plain.user] }) });
    expect(await owner.container('shared').stat()).toMatchObject({ read: 'test:tester3', write: 'test:tester3' });
    expect(await plainStatus(() => plain.object('shared', 'doc').stat())).toBe(200);
    expect(await plainStatus(() => plain.object('shared', 'by-plain').put('x'))).toBe(200);
    await owner.container('shared').post({}, { read: '', write: '' });
    expect(await plainStatus(() => plain.object('shared', 'doc').stat())).toBe(403);
  });

  it('a referrer ACL with listings opens reads to anonymous clients', async () => {
    const base = `${await owner.storageUrl()}/shared`;
    expect((await request(`${base}/doc`)).statusCode).toBe(401);
    await owner.container('shared').post({}, { read: containerAcl().read({ referrers: ['*'], listings: true }).headers()['X-Container-Read'] });
    const got = await request(`${base}/doc`);
    expect(got.statusCode).toBe(200);
    expect(await got.body.text()).toBe('shared doc');
    const listing = await request(base);
    expect(listing.statusCode).toBe(200);
    expect(await listing.body.text()).toContain('doc');
    await owner.container('shared').post({}, { read: '' });
  });

  it('grant and revoke round-trip the account ACL and change the other user\'s access', async () => {
    const acls = accountAcl(owner.account);
    expect(await acls.getAccountAcl()).toEqual({ admin: [], 'read-write': [], 'read-only': [] });
    expect(await plainStatus(() => plain.account.stat())).toBe(403);

    expect(await acls.grant('read-only', USERS.plain.user)).toEqual({ admin: [], 'read-write': [], 'read-only': ['test:tester3'] });
    expect(await acls.getAccountAcl()).toEqual({ admin: [], 'read-write': [], 'read-only': ['test:tester3'] });
    expect(await plainStatus(() => plain.object('shared', 'doc').stat())).toBe(200);
    expect(await plainStatus(() => plain.object('shared', 'ro-write').put('x'))).toBe(403);

    await acls.grant('read-write', USERS.plain.user);
    expect(await acls.getAccountAcl()).toEqual({ admin: [], 'read-write': ['test:tester3'], 'read-only': [] });
    expect(await plainStatus(() => plain.object('shared', 'rw-write').put('x'))).toBe(200);

    await acls.grant('admin', 'test2:tester2');
    expect(await acls.revoke(USERS.plain.user)).toEqual({ admin: ['test2:tester2'], 'read-write': [], 'read-only': [] });
    expect(await plainStatus(() => plain.object('shared', 'doc').stat())).toBe(403);
    await acls.revoke('test2:tester2');
    expect(await acls.getAccountAcl()).toEqual({ admin: [], 'read-write': [], 'read-only': [] });
  });

  it('refuses a bad level or identity before any request', async () => {
    const rec = new RecordingSession(f.env.session);
    const acls = accountAcl(new ObjectStore(rec).account);
    await expect(acls.grant('owner' as never, 'a:b')).rejects.toThrow(/unknown account ACL level/);
    await expect(acls.grant('admin', '')).rejects.toThrow(AclValidationError);
    await expect(acls.grant('admin', ' a:b')).rejects.toThrow(/whitespace/);
    await expect(acls.revoke('a\nb')).rejects.toThrow(/control character/);
    await expect(accountAcl(new ObjectStore(rec).account, { keystone: true }).grant('admin', 'nocolon')).rejects.toThrow(/<project>:<user>/);
    expect(rec.requests).toEqual([]);
  });
});
