/**
 * The shared cache across proxy workers (node:cluster), standing in for the memcached that
 * Swift's workers share: the primary process holds the authoritative entries (auth tokens,
 * account/container info); each worker keeps a local LRU in front of it.
 *
 * - get: local hit, else ask the primary and keep the answer locally for its remaining TTL.
 * - set: local, and the primary (awaited).
 * - delete: local, the primary, and every other worker's local copy; resolves only when all
 *   workers have dropped it, so a write that clears info (an ACL change) is effective on every
 *   worker before its response goes out.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { SharedCache } from './info-cache';

type Msg =
  | { sluiceCache: 'get'; id: string; key: string }
  | { sluiceCache: 'set'; id: string; key: string; value: unknown; ttl: number }
  | { sluiceCache: 'delete'; id: string; key: string }
  | { sluiceCache: 'drop'; id: string; key: string }
  | { sluiceCache: 'reply'; id: string; value?: unknown; ttl?: number };

type Ask =
  | { sluiceCache: 'get'; key: string }
  | { sluiceCache: 'set'; key: string; value: unknown; ttl: number }
  | { sluiceCache: 'delete'; key: string };

function isMsg(m: unknown): m is Msg {
  return typeof m === 'object' && m !== null && 'sluiceCache' in m;
}

/** Runs in the primary: serves workers' requests and fans out invalidations. */
export function serveClusterCache(max = 500_000): void {
  const store = new LRUCache<string, { value: unknown }>({ max, ttlAutopurge: false });
  const attach = (worker: Worker) => {
    worker.on('message', (m: unknown) => {
      if (!isMsg(m)) return;
      const reply = (value?: unknown, ttl?: number) => worker.send({ sluiceCache: 'reply', id: m.id, value, ttl });
      switch (m.sluiceCache) {
        case 'get': {
          const hit = store.get(m.key);
          reply(hit?.value, hit ? Math.max(0, store.getRemainingTTL(m.key)) / 1000 : undefined);
          break;
        }
        case 'set':
          if (m.ttl > 0) store.set(m.key, { value: m.value }, { ttl: m.ttl * 1000 });
          reply();
          break;
        case 'delete': {
          store.delete(m.key);
          const others = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w !== worker && w.isConnected());
          let pending = others.length;
          if (pending === 0) reply();
          for (const other of others) {
            const id = randomUUID();
            const onAck = (a: unknown) => {
              if (isMsg(a) && a.sluiceCache === 'reply' && a.id === id) {
                other.off('message', onAck);
                if (--pending === 0) reply();
              }
            };
            other.on('message', onAck);
            other.send({ sluiceCache: 'drop', id, key: m.key });
          }
          break;
        }
      }
    });
  };
  for (const w of Object.values(cluster.workers ?? {})) if (w) attach(w);
  cluster.on('fork', attach);
}

/** Runs in a worker: a SharedCache backed by the primary. */
export class ClusterCache implements SharedCache {
  private readonly local: LRUCache<string, { value: unknown }>;
  private readonly waiting = new Map<string, (m: Extract<Msg, { sluiceCache: 'reply' }>) => void>();

  constructor(max = 100_000) {
    if (!process.send) throw new Error('ClusterCache needs to run in a cluster worker');
    this.local = new LRUCache({ max, ttlAutopurge: false });
    process.on('message', (m: unknown) => {
      if (!isMsg(m)) return;
      if (m.sluiceCache === 'reply') {
        const done = this.waiting.get(m.id);
        if (done) {
          this.waiting.delete(m.id);
          done(m);
        }
      } else if (m.sluiceCache === 'drop') {
        this.local.delete(m.key);
        process.send!({ sluiceCache: 'reply', id: m.id });
      }
    });
  }

  private ask(m: Ask): Promise<Extract<Msg, { sluiceCache: 'reply' }>> {
    const id = randomUUID();
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      process.send!({ ...m, id });
    });
  }

  async get<T>(key: string): Promise<T | undefined> {
    const hit = this.local.get(key);
    if (hit) return hit.value as T;
    const r = await this.ask({ sluiceCache: 'get', key });
    if (r.value !== undefined && r.ttl && r.ttl > 0) this.local.set(key, { value: r.value }, { ttl: r.ttl * 1000 });
    return r.value as T | undefined;
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0) return;
    this.local.set(key, { value }, { ttl: ttlSeconds * 1000 });
    await this.ask({ sluiceCache: 'set', key, value, ttl: ttlSeconds });
  }

  async delete(key: string): Promise<void> {
    this.local.delete(key);
    await this.ask({ sluiceCache: 'delete', key });
  }
}
