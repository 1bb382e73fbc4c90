// The shared cache between proxy workers (src/proxy/cluster-cache.ts), over in-memory channels
// that behave like node:cluster IPC: messages arrive asynchronously, as serialised copies.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClusterCache, ClusterCacheServer, type CacheChannel } from '../../src/proxy/cluster-cache';
import { channel } from '../helpers/cache-channel';
import { LruInfoCache } from '../../src/proxy/info-cache';

interface Pipe {
  primaryEnd: CacheChannel;
  workerEnd: CacheChannel;
  /** Messages the worker sent to the primary, by kind. */
  sent: Record<string, number>;
}


function pipe(): Pipe {
  const sent: Record<string, number> = {};
  let workerEnd!: CacheChannel & EventEmitter;
  const primaryEnd = channel((m) => workerEnd.emit('message', m));
  workerEnd = channel((m) => {
    const kind = (m as { sluiceCache: string }).sluiceCache;
    sent[kind] = (sent[kind] ?? 0) + 1;
    primaryEnd.emit('message', m);
  });
  return { primaryEnd, workerEnd, sent };
}

function cluster(workers: number) {
  const server = new ClusterCacheServer();
  const pipes = Array.from({ length: workers }, () => pipe());
  const caches = pipes.map((p) => {
    server.attach(p.primaryEnd);
    return new ClusterCache(1000, p.workerEnd);
  });
  return { server, pipes, caches };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ClusterCache', () => {
  it('shares values between workers through the primary and serves repeats locally', async () => {
    const { pipes, caches } = cluster(2);
    const [a, b] = caches as [ClusterCache, ClusterCache];
    expect(await b.get('account/AUTH_test')).toBeUndefined();
    await a.set('account/AUTH_test', { status: 204, meta: { color: 'blue' } }, 60);
    expect(await b.get('account/AUTH_test')).toEqual({ status: 204, meta: { color: 'blue' } });
    const asked = pipes[1]!.sent.get;
    expect(await b.get('account/AUTH_test')).toEqual({ status: 204, meta: { color: 'blue' } });
    expect(pipes[1]!.sent.get).toBe(asked); // the second read is the worker's own copy
  });

  it('does not cache values with no TTL, and expires them with the TTL', async () => {
    const { caches } = cluster(2);
    const [a, b] = caches as [ClusterCache, ClusterCache];
    await a.set('k0', 'never', 0);
    expect(await b.get('k0')).toBeUndefined();
    // Long enough to be read back on a loaded machine, short enough to wait out.
    await a.set('k1', 'short', 0.5);
    expect(await b.get('k1')).toBe('short');
    await new Promise((r) => setTimeout(r, 700));
    expect(await a.get('k1')).toBeUndefined();
    expect(await b.get('k1')).toBeUndefined();
  });

  it('sends a value the primary already has from this worker only once within the window', async () => {
    const { pipes, caches } = cluster(1);
    const [a] = caches as [ClusterCache];
    for (let i = 0; i < 50; i++) await a.set('account/AUTH_test', { status: 204, objects: 1 }, 60);
    expect(pipes[0]!.sent.set).toBe(1);
    // A different value always goes out.
    await a.set('account/AUTH_test', { status: 204, objects: 2 }, 60);
    expect(pipes[0]!.sent.set).toBe(2);
    // So does the same value under another key.
    await a.set('account/AUTH_other', { status: 204, objects: 2 }, 60);
    expect(pipes[0]!.sent.set).toBe(3);
  });

  it('sends an unchanged value again once the window (half the TTL, at most 5 s) has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { pipes, caches } = cluster(1);
    const [a] = caches as [ClusterCache];
    await a.set('k', 'v', 60);
    vi.setSystemTime(Date.now() + 4_900);
    await a.set('k', 'v', 60);
    expect(pipes[0]!.sent.set).toBe(1);
    vi.setSystemTime(Date.now() + 200);
    await a.set('k', 'v', 60);
    expect(pipes[0]!.sent.set).toBe(2);
    // A 404's short TTL (6 s) gives a 3 s window.
    await a.set('n', 'gone', 6);
    vi.setSystemTime(Date.now() + 3_100);
    await a.set('n', 'gone', 6);
    expect(pipes[0]!.sent.set).toBe(4);
  });

  it('a delete reaches every worker before it resolves, and the next set goes to the primary again', async () => {
    const { pipes, caches } = cluster(3);
    const [a, b, c] = caches as [ClusterCache, ClusterCache, ClusterCache];
    await a.set('container/AUTH_test/c', { readAcl: '.r:*' }, 60);
    expect(await b.get('container/AUTH_test/c')).toEqual({ readAcl: '.r:*' });
    expect(await c.get('container/AUTH_test/c')).toEqual({ readAcl: '.r:*' });

    await b.delete('container/AUTH_test/c');
    // No worker answers from a stale local copy once delete() has resolved.
    expect(await a.get('container/AUTH_test/c')).toBeUndefined();
    expect(await c.get('container/AUTH_test/c')).toBeUndefined();

    // Worker a had sent this very value moments ago, but the primary dropped it: send again.
    const before = pipes[0]!.sent.set!;
    await a.set('container/AUTH_test/c', { readAcl: '.r:*' }, 60);
    expect(pipes[0]!.sent.set).toBe(before + 1);
    expect(await c.get('container/AUTH_test/c')).toEqual({ readAcl: '.r:*' });
  });

  it('the worker that deletes also forgets what it sent', async () => {
    const { pipes, caches } = cluster(2);
    const [a, b] = caches as [ClusterCache, ClusterCache];
    await a.set('token/AUTH_tk1', [1e12, 'test:tester'], 60);
    await a.delete('token/AUTH_tk1');
    expect(await b.get('token/AUTH_tk1')).toBeUndefined();
    await a.set('token/AUTH_tk1', [1e12, 'test:tester'], 60);
    expect(pipes[0]!.sent.set).toBe(2);
    expect(await b.get('token/AUTH_tk1')).toEqual([1e12, 'test:tester']);
  });

  it('a delete does not wait for workers that are gone', async () => {
    const server = new ClusterCacheServer();
    const live = pipe();
    const gone = pipe();
    server.attach(live.primaryEnd);
    server.attach(gone.primaryEnd, () => false);
    const a = new ClusterCache(1000, live.workerEnd);
    await a.set('k', 'v', 60);
    await expect(a.delete('k')).resolves.toBeUndefined();
    expect(await a.get('k')).toBeUndefined();
  });

  it('refuses to run outside a cluster worker without a channel', () => {
    const send = process.send;
    try {
      process.send = undefined;
      expect(() => new ClusterCache()).toThrow(/cluster worker/);
    } finally {
      process.send = send;
    }
  });
});

describe('counters (incr), as ratelimit uses them', () => {
  it('counts concurrent increments from every worker once each, on the primary', async () => {
    const { pipes, caches } = cluster(3);
    const all = caches.flatMap((c) => Array.from({ length: 20 }, () => c.incr('ratelimit/AUTH_test', 5, 60)));
    const values = await Promise.all(all);
    // Atomic: every increment saw a distinct running total, the last one 60 × 5.
    expect(new Set(values).size).toBe(60);
    expect(Math.max(...values)).toBe(300);
    expect(await caches[0]!.incr('ratelimit/AUTH_test', 0, 60)).toBe(300);
    expect(pipes.every((p) => p.sent.incr! >= 20)).toBe(true);
  });

  it('starts a missing counter at delta (0 for a decrement) and never goes below 0', async () => {
    const { caches } = cluster(2);
    const [a, b] = caches as [ClusterCache, ClusterCache];
    expect(await a.incr('c1', -7, 60)).toBe(0);
    expect(await b.incr('c2', 7, 60)).toBe(7);
    expect(await a.incr('c2', -10, 60)).toBe(0);
    expect(await b.get('c2')).toBe(0);
  });

  it('keeps the expiry set when the counter was created, as memcached incr does', async () => {
    const { caches } = cluster(2);
    const [a, b] = caches as [ClusterCache, ClusterCache];
    await a.incr('short', 1, 0.4);
    await new Promise((r) => setTimeout(r, 250));
    expect(await b.incr('short', 1, 60)).toBe(2); // does not extend the first TTL
    await new Promise((r) => setTimeout(r, 300));
    expect(await a.incr('short', 1, 60)).toBe(1); // expired: starts again
  });

  it('is the same arithmetic in the in-process cache', () => {
    const lru = new LruInfoCache();
    expect(lru.incr('k', -3, 60)).toBe(0);
    expect(lru.incr('k', 4, 60)).toBe(4);
    expect(lru.incr('k', -10, 60)).toBe(0);
    expect(lru.get('k')).toBe(0);
  });
});
