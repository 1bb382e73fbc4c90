// Issue 14: a read of account info in flight across an ACL change must not put the old ACL back
// into the shared cache. The interleaving is forced, not hoped for: the proxy's backend client is
// wrapped so that request A's account HEAD is answered by the real account server (with the
// granting ACL) and then held until request B (the owner revoking the ACL by POST) has cleared
// the cache, or has completed; only then does A go on to fill the cache. (The proxy also clears
// again after the write, which alone closes the first of those windows.)
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../src/testing/index';
import { startProxyServer, type RunningProxy } from '../../src/proxy/server';
import { devProxyConfig } from '../../src/cluster/dev-cluster';
import { loadSwiftConf } from '../../src/common/swift-conf';
import { ClusterCache, ClusterCacheServer, type CacheChannel } from '../../src/proxy/cluster-cache';
import { accountCacheKey, LruInfoCache, type AccountInfo, type SharedCache } from '../../src/proxy/info-cache';
import type { BackendRequest } from '../../src/common/backend-client';
import { call } from './helpers';
import { channel } from '../helpers/cache-channel';

const ACCOUNT = 'AUTH_test';
const ACL_KEY = 'core-access-control';
const GRANT = JSON.stringify({ 'read-only': ['test2:tester2'] });

/** When A's held answer is let go, relative to B's ACL change. */
type ReleaseAt = 'after-clear' | 'after-response';

/** Holds the answer of the next account HEAD a proxy sends, and tells when B's POST goes out. */
function instrument(proxy: RunningProxy) {
  const backend = proxy.state.backend;
  const send = backend.send.bind(backend);
  let hold: { reached: () => void; gate: Promise<void> } | undefined;
  let onPost: (() => void) | undefined;
  backend.send = async (node, req: BackendRequest) => {
    if (req.method === 'POST' && req.path === `/${ACCOUNT}` && onPost) {
      onPost();
      onPost = undefined;
    }
    const held = req.method === 'HEAD' && req.path === `/${ACCOUNT}` ? hold : undefined;
    if (held) hold = undefined;
    const res = await send(node, req);
    if (held) {
      held.reached();
      await held.gate;
    }
    return res;
  };
  return {
    /** Arms the hold; `reached` resolves once the backend has answered the held HEAD. */
    holdNextAccountHead() {
      let release!: () => void;
      let reached!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const wasReached = new Promise<void>((r) => (reached = r));
      hold = { reached, gate };
      return { reached: wasReached, release };
    },
    /** Resolves when this proxy sends the account POST to the backend (after its cache clear). */
    nextAccountPost() {
      return new Promise<void>((r) => (onPost = r));
    },
  };
}

async function token(base: string, user: string, key: string): Promise<string> {
  const r = await call(base, 'GET', '/auth/v1.0', { 'X-Auth-User': user, 'X-Auth-Key': key });
  expect(r.status).toBe(200);
  return String(r.headers['x-auth-token']);
}

interface Setup {
  /** Proxy serving A (the reader) and B (the ACL change); `check` are asked afterwards. */
  a: RunningProxy;
  b: RunningProxy;
  check: RunningProxy[];
  /** The caches the ACL must be gone from. */
  caches: SharedCache[];
}

/**
 * One forced interleaving; returns the status tester2 then gets from each proxy and the ACL each
 * shared cache holds.
 */
async function race(s: Setup, releaseAt: ReleaseAt, container: string) {
  const owner = await token(s.a.url, 'test:tester', 'testing');
  const reader = await token(s.a.url, 'test2:tester2', 'testing2');
  expect((await call(s.b.url, 'PUT', `/v1/${ACCOUNT}/${container}`, { 'X-Auth-Token': owner })).status).toBe(201);
  // Granting the ACL also clears the cached info, so A's lookup below goes to the backend.
  expect((await call(s.b.url, 'POST', `/v1/${ACCOUNT}`, { 'X-Auth-Token': owner, 'X-Account-Access-Control': GRANT })).status).toBe(204);

  const ia = instrument(s.a);
  const ib = s.b === s.a ? ia : instrument(s.b);
  const held = ia.holdNextAccountHead();
  const a = call(s.a.url, 'GET', `/v1/${ACCOUNT}/${container}`, { 'X-Auth-Token': reader });
  await held.reached;
  const posted = ib.nextAccountPost();
  const b = call(s.b.url, 'POST', `/v1/${ACCOUNT}`, { 'X-Auth-Token': owner, 'X-Account-Access-Control': '{}' });
  if (releaseAt === 'after-clear') {
    await posted;
    held.release();
    // B's backend write and response come after A's fill.
    expect((await b).status).toBe(204);
  } else {
    expect((await b).status).toBe(204);
    held.release();
  }
  // A was allowed: the ACL granted read when it was checked.
  expect((await a).status).toBe(204);
  // Let the fire-and-forget cache sets settle (ClusterCache round trips).
  await new Promise((r) => setTimeout(r, 50));

  const statuses = [];
  for (const p of s.check) statuses.push((await call(p.url, 'GET', `/v1/${ACCOUNT}/${container}`, { 'X-Auth-Token': reader })).status);
  const cached = [];
  for (const c of s.caches) cached.push((await c.get<AccountInfo>(accountCacheKey(ACCOUNT)))?.sysmeta[ACL_KEY] ?? null);
  return { statuses, cached };
}

/** A SharedCache as it was before issue 14: sets ignore marks (and there is no mark()). */
function unguarded(cache: SharedCache): SharedCache {
  return {
    get: (k) => cache.get(k),
    set: (k, v, ttl) => cache.set(k, v, ttl),
    delete: (k) => cache.delete(k),
  };
}

const quiet = pino({ level: 'silent' });
const REVOKED = [403];

describe('stale ACL: in-process LruInfoCache', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  const setup = (): Setup => ({ a: cluster.proxy, b: cluster.proxy, check: [cluster.proxy], caches: [cluster.proxy.state.cache!] });

  it('reproduces the race without the guard: the old ACL is served after the change', async () => {
    const proxy = cluster.proxy;
    const guarded = proxy.state.cache!;
    proxy.state.cache = unguarded(guarded);
    try {
      // Released after B's response: the proxy's second clear (after the write) is past too.
      const r = await race(setup(), 'after-response', 'unguarded');
      expect(r.statuses).toEqual([204]);
      expect(r.cached).toEqual([GRANT]);
    } finally {
      proxy.state.cache = guarded;
      await guarded.delete(accountCacheKey(ACCOUNT));
    }
  });

  for (const at of ['after-clear', 'after-response'] as const) {
    it(`with the guard, A's old answer is not cached (released ${at})`, async () => {
      const r = await race(setup(), at, `guarded-${at}`);
      expect(r.statuses).toEqual(REVOKED);
      expect(r.cached.every((v) => v === null || v === '{}')).toBe(true);
    });
  }
});


function workerCache(server: ClusterCacheServer): ClusterCache {
  let workerEnd!: CacheChannel & EventEmitter;
  const primaryEnd = channel((m) => workerEnd.emit('message', m));
  workerEnd = channel((m) => primaryEnd.emit('message', m));
  server.attach(primaryEnd);
  return new ClusterCache(1000, workerEnd);
}

describe('stale ACL: ClusterCache, A on one worker and B on another', () => {
  let cluster: TestCluster;
  const proxies: RunningProxy[] = [];
  let caches: ClusterCache[] = [];
  beforeAll(async () => {
    cluster = await startCluster();
    const server = new ClusterCacheServer();
    caches = [workerCache(server), workerCache(server)];
    for (const cache of caches) {
      proxies.push(
        await startProxyServer({
          config: devProxyConfig({}),
          host: '127.0.0.1',
          port: 0,
          swiftDir: cluster.swiftDir,
          swiftConf: loadSwiftConf(cluster.swiftDir),
          cache,
          logger: quiet,
          accessLogger: quiet,
          configWarnings: false,
        }),
      );
    }
  });
  afterAll(async () => {
    for (const p of proxies) await p.close();
    await cluster?.stop();
  });
  const setup = (): Setup => ({ a: proxies[0]!, b: proxies[1]!, check: proxies, caches });

  it('reproduces the race without the guard on both workers', async () => {
    const [p0, p1] = proxies as [RunningProxy, RunningProxy];
    p0.state.cache = unguarded(caches[0]!);
    p1.state.cache = unguarded(caches[1]!);
    try {
      // Released after B's response: the proxy's second clear (after the write) is past too.
      const r = await race(setup(), 'after-response', 'unguarded');
      expect(r.statuses).toEqual([204, 204]);
      expect(r.cached).toEqual([GRANT, GRANT]);
    } finally {
      p0.state.cache = caches[0];
      p1.state.cache = caches[1];
      await caches[1]!.delete(accountCacheKey(ACCOUNT));
    }
  });

  for (const at of ['after-clear', 'after-response'] as const) {
    it(`with the guard, neither worker nor the primary keeps A's old answer (released ${at})`, async () => {
      const r = await race(setup(), at, `guarded-${at}`);
      expect(r.statuses).toEqual([403, 403]);
      expect(r.cached.every((v) => v === null || v === '{}')).toBe(true);
    });
  }
});

describe('fill guard units', () => {
  it('LruInfoCache: a set marked before a delete is refused, one marked after is stored; unmarked sets as before', () => {
    const cache = new LruInfoCache(100, 2);
    const before = cache.mark();
    cache.delete('k');
    cache.set('k', 'old', 60, before);
    expect(cache.get('k')).toBeUndefined();
    cache.set('k', 'new', 60, cache.mark());
    expect(cache.get('k')).toBe('new');
    cache.set('u', 'plain', 60);
    expect(cache.get('u')).toBe('plain');
    // Forgotten records raise a floor: a mark older than them is refused for every key.
    const old = cache.mark();
    cache.delete('a');
    cache.delete('b');
    cache.delete('c');
    cache.set('never-deleted', 'v', 60, old);
    expect(cache.get('never-deleted')).toBeUndefined();
  });

  it('ClusterCache: a worker refuses fills for a key it is deleting, and the primary refuses marks older than a delete', async () => {
    const server = new ClusterCacheServer();
    const [w0, w1] = [workerCache(server), workerCache(server)];
    const mark0 = w0.mark();
    const deleting = w0.delete('k');
    await w0.set('k', 'old', 60, w0.mark());
    await deleting;
    expect(await w1.get('k')).toBeUndefined();
    // w1 marked before the delete (its counter had not moved): refused by w1 and by the primary.
    await w1.set('k', 'old', 60, mark0);
    expect(await w0.get('k')).toBeUndefined();
    expect(await w1.get('k')).toBeUndefined();
    await w1.set('k', 'new', 60, w1.mark());
    expect(await w0.get('k')).toBe('new');
  });
});
