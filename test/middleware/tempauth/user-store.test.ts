/**
 * The TempAuth user store (sluice, beyond Swift): stored form, verification, and /auth through
 * a whole cluster reading the store without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { SCRYPT_PARAMS, UserStore, UserStoreError } from '../../../src/middleware/tempauth/user-store';
import { parseTempAuthConfig } from '../../../src/middleware/tempauth/config';
import { DEV_PROXY_CONF, devProxyConfWithUserStore } from '../../../src/cluster/dev-cluster';
import { startCluster, type TestCluster } from '../../../src/testing/index';
import { send } from '../../conformance/replayer';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-users-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('UserStore', () => {
  it('stores salted scrypt hashes, never the key', async () => {
    const path = join(dir, 'hash.db');
    const store = new UserStore(path);
    await store.add('acct', 'alice', 'same-key');
    await store.add('acct', 'bob', 'same-key');
    const a = store.rawForTesting('acct', 'alice')!;
    const b = store.rawForTesting('acct', 'bob')!;
    expect(a.salt).toHaveLength(16);
    expect(a.hash).toHaveLength(SCRYPT_PARAMS.keyLen);
    expect(a.hash.toString('utf8')).not.toContain('same-key');
    expect(a.salt.equals(b.salt)).toBe(false);
    expect(a.hash.equals(b.hash)).toBe(false);
    expect([a.scrypt_n, a.scrypt_r, a.scrypt_p]).toEqual([SCRYPT_PARAMS.N, SCRYPT_PARAMS.r, SCRYPT_PARAMS.p]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // Listings carry no secret material.
    expect(JSON.stringify(store.list())).not.toMatch(/same-key|salt|hash/);
    store.close();
  });

  it('verifies keys: right, wrong, unknown user, removed, re-added with another key', async () => {
    const path = join(dir, 'verify.db');
    const store = new UserStore(path);
    const reader = new UserStore(path, { readonly: true });
    await store.add('acct', 'alice', 'k1', { groups: ['.admin', 'g1'], storageUrl: 'https://s.example.com/v1/AUTH_acct' });
    const ok = await reader.verify('acct', 'alice', 'k1');
    expect(ok).toEqual({ ok: true, user: expect.objectContaining({ account: 'acct', user: 'alice', groups: ['.admin', 'g1'], storageUrl: 'https://s.example.com/v1/AUTH_acct' }) });
    // Again: served from the success cache, same answer.
    expect((await reader.verify('acct', 'alice', 'k1')).ok).toBe(true);
    expect(await reader.verify('acct', 'alice', 'k2')).toEqual({ ok: false, reason: 'bad-key' });
    expect(await reader.verify('acct', 'alice', 'k1 ')).toEqual({ ok: false, reason: 'bad-key' });
    expect(await reader.verify('acct', 'nobody', 'k1')).toEqual({ ok: false, reason: 'unknown-user' });
    expect(await reader.verify('ACCT', 'alice', 'k1')).toEqual({ ok: false, reason: 'unknown-user' });
    // A removal is seen at once by the read-only connection, despite the cached success.
    expect(store.remove('acct', 'alice')).toBe(true);
    expect(store.remove('acct', 'alice')).toBe(false);
    expect(await reader.verify('acct', 'alice', 'k1')).toEqual({ ok: false, reason: 'unknown-user' });
    await store.add('acct', 'alice', 'k3');
    expect(await reader.verify('acct', 'alice', 'k1')).toEqual({ ok: false, reason: 'bad-key' });
    expect(await reader.verify('acct', 'alice', 'k3')).toMatchObject({ ok: true, user: { groups: [], storageUrl: undefined } });
    reader.close();
    store.close();
  });

  it('refuses duplicates, bad names, keys, groups and storage URLs', async () => {
    const store = new UserStore(join(dir, 'bad.db'));
    await store.add('a', 'u', 'k');
    await expect(store.add('a', 'u', 'other')).rejects.toThrow('user a:u already exists');
    for (const [account, user, key, opts, msg] of [
      ['', 'u', 'k', {}, 'account name is empty'],
      ['a', '', 'k', {}, 'user name is empty'],
      ['a:b', 'u', 'k', {}, "contains ':'"],
      ['a', 'u:v', 'k', {}, "contains ':'"],
      ['a', 'u v', 'k', {}, 'whitespace'],
      ['a', 'v', '', {}, 'key is empty'],
      ['a', 'v', ' k', {}, 'whitespace'],
      ['a', 'v', 'k\n', {}, 'control characters'],
      ['a', 'v', 'k', { groups: ['x,y'] }, 'bad group name'],
      ['a', 'v', 'k', { storageUrl: '/v1/AUTH_a' }, 'must be absolute'],
    ] as const) {
      await expect(store.add(account, user, key, opts), `${account}:${user}`).rejects.toThrow(UserStoreError);
      await expect(store.add(account, user, key, opts)).rejects.toThrow(msg);
    }
    expect(store.list().map((u) => `${u.account}:${u.user}`)).toEqual(['a:u']);
    store.close();
  });

  it('read-only: a missing file has no users and is picked up once created; writes refused', async () => {
    const path = join(dir, 'later', 'users.db');
    const reader = new UserStore(path, { readonly: true });
    expect(reader.isOpen).toBe(false);
    expect(await reader.verify('a', 'u', 'k')).toEqual({ ok: false, reason: 'unknown-user' });
    expect(() => reader.remove('a', 'u')).toThrow('read-only');
    const writer = new UserStore(path);
    await writer.add('a', 'u', 'k');
    expect((await reader.verify('a', 'u', 'k')).ok).toBe(true);
    expect(reader.isOpen).toBe(true);
    writer.close();
    reader.close();
  });
});

describe('tempauth configuration with users_db', () => {
  it('a store alone means no development users; plaintext user_ lines are counted, never shown', () => {
    const onlyStore = parseTempAuthConfig({ users_db: join(dir, 'x.db') });
    expect(onlyStore.developmentUsers).toBe(false);
    expect(onlyStore.users.size).toBe(0);
    expect(onlyStore.userStore).toBe(join(dir, 'x.db'));
    expect(onlyStore.warnings).toEqual([]);
    const plain = parseTempAuthConfig({ user_a_b: 'sekrit .admin', user_a_c: 'sekrit2' });
    expect(plain.warnings.some((w) => w.includes('2 users have plaintext keys'))).toBe(true);
    expect(plain.warnings.join('\n')).not.toMatch(/sekrit/);
    expect(parseTempAuthConfig({ user_a_b: 'k' }).warnings[0]).toContain('1 user has a plaintext key');
    expect(parseTempAuthConfig({ users_db: '  ' }).userStore).toBeUndefined();
  });
});

describe('/auth with a user store (whole cluster)', () => {
  let cluster: TestCluster;
  let storePath: string;
  let writer: UserStore;
  const logLines: string[] = [];

  beforeAll(async () => {
    storePath = join(dir, 'cluster', 'users.db');
    writer = new UserStore(storePath);
    await writer.add('test', 'tester', 'not-the-config-key'); // shadowed by the user_ line
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, done) {
          logLines.push(String(chunk));
          done();
        },
      }),
    );
    cluster = await startCluster({ proxyConfig: devProxyConfWithUserStore(storePath), logger });
  }, 60_000);

  afterAll(async () => {
    writer?.close();
    await cluster?.stop();
  });

  const auth = (user: string, key: string) => send(cluster.url, 'GET', '/auth/v1.0', { 'X-Auth-User': user, 'X-Auth-Key': key });

  it('logs the plaintext-key count and the shadowed store user, never a key', () => {
    const log = logLines.join('');
    expect(log).toContain('6 users have plaintext keys');
    expect(log).toContain('override these user store entries, whose keys are ignored: test:tester');
    expect(log).not.toMatch(/testing|not-the-config-key/);
  });

  it('config users win over store users of the same name', async () => {
    expect((await auth('test:tester', 'testing')).status).toBe(200);
    expect((await auth('test:tester', 'not-the-config-key')).status).toBe(401);
  });

  it('a user added while running gets a token that works on its account; removal needs no restart', async () => {
    expect((await auth('store:ann', 'ann-key')).status).toBe(401);
    await writer.add('store', 'ann', 'ann-key', { groups: ['.admin'] });
    const r = await auth('store:ann', 'ann-key');
    expect(r.status).toBe(200);
    expect(r.headers['x-storage-url']).toBe(`${cluster.url}/v1/AUTH_store`);
    const token = r.headers['x-auth-token']!;
    expect(token).toMatch(/^AUTH_tk/);
    expect((await send(cluster.url, 'PUT', '/v1/AUTH_store/c', { 'X-Auth-Token': token })).status).toBe(201);
    expect((await send(cluster.url, 'PUT', '/v1/AUTH_store/c/o', { 'X-Auth-Token': token }, 'hi')).status).toBe(201);
    expect((await send(cluster.url, 'GET', '/v1/AUTH_store/c/o', { 'X-Auth-Token': token })).body.toString()).toBe('hi');
    // Not someone else's account.
    expect((await send(cluster.url, 'GET', '/v1/AUTH_test', { 'X-Auth-Token': token })).status).toBe(403);
    // Wrong key: Swift's realm for a bad key is "unknown"; for an unknown user, the account.
    const bad = await auth('store:ann', 'nope');
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toBe('Swift realm="unknown"');
    const v1 = await send(cluster.url, 'GET', '/auth/v1/store/auth', { 'X-Storage-User': 'ann', 'X-Storage-Pass': 'ann-key' });
    expect(v1.status).toBe(200);
    expect(v1.headers['x-auth-token']).toBe(token);

    expect(writer.remove('store', 'ann')).toBe(true);
    const gone = await auth('store:ann', 'ann-key');
    expect(gone.status).toBe(401);
    expect(gone.headers['www-authenticate']).toBe('Swift realm="store"');
    // As in Swift, a token already issued lives until token_life.
    expect((await send(cluster.url, 'HEAD', '/v1/AUTH_store/c', { 'X-Auth-Token': token })).status).toBe(204);
  });

  it('a store user without .admin is not the owner; groups reach container ACLs; explicit storage URLs', async () => {
    await writer.add('store', 'reader', 'r-key', { groups: ['readers'], storageUrl: '$HOST/v1/AUTH_store' });
    const owner = (await auth('store:boss', 'x')).status;
    expect(owner).toBe(401);
    await writer.add('store', 'boss', 'b-key', { groups: ['.admin'] });
    const boss = (await auth('store:boss', 'b-key')).headers['x-auth-token']!;
    expect((await send(cluster.url, 'PUT', '/v1/AUTH_store/shared', { 'X-Auth-Token': boss, 'X-Container-Read': 'readers' })).status).toBe(201);
    const r = await auth('store:reader', 'r-key');
    expect(r.headers['x-storage-url']).toBe(`${cluster.url}/v1/AUTH_store`);
    const reader = r.headers['x-auth-token']!;
    expect((await send(cluster.url, 'GET', '/v1/AUTH_store/shared', { 'X-Auth-Token': reader })).status).toBe(204);
    expect((await send(cluster.url, 'PUT', '/v1/AUTH_store/mine', { 'X-Auth-Token': reader })).status).toBe(403);
  });
});

describe('a proxy whose store does not exist yet', () => {
  it('starts with a warning and serves users once the store is created', async () => {
    const storePath = join(dir, 'late', 'users.db');
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }));
    const conf = DEV_PROXY_CONF.replace('use = egg:swift#tempauth\n', `use = egg:swift#tempauth\nusers_db = ${storePath}\n`);
    const cluster = await startCluster({ proxyConfig: conf, logger });
    try {
      expect(lines.join('')).toContain('does not exist yet');
      // No development users with a store configured.
      expect((await send(cluster.url, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' })).status).toBe(401);
      const writer = new UserStore(storePath);
      await writer.add('late', 'u', 'k');
      writer.close();
      expect((await send(cluster.url, 'GET', '/auth/v1.0', { 'X-Auth-User': 'late:u', 'X-Auth-Key': 'k' })).status).toBe(200);
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});

/** The files this process holds open that resolve to `path` (Linux /proc). */
function openHandles(path: string): string[] {
  const fds = readdirSync('/proc/self/fd');
  return fds.filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false; // closed meanwhile
    }
  });
}

describe('the proxy\'s user store handle', () => {
  it('is open while the proxy runs and closed when it stops (the filter\'s close hook)', async () => {
    const storePath = join(dir, 'closed', 'users.db');
    const writer = new UserStore(storePath);
    await writer.add('shut', 'u', 'k');
    writer.close();
    expect(openHandles(storePath)).toEqual([]);
    const cluster = await startCluster({ proxyConfig: devProxyConfWithUserStore(storePath), logger: pino({ level: 'silent' }) });
    try {
      expect((await send(cluster.url, 'GET', '/auth/v1.0', { 'X-Auth-User': 'shut:u', 'X-Auth-Key': 'k' })).status).toBe(200);
      expect(openHandles(storePath).length).toBeGreaterThan(0);
    } finally {
      await cluster.stop();
    }
    expect(openHandles(storePath)).toEqual([]);
  }, 60_000);
});
