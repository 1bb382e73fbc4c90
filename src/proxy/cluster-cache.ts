/**
 * The shared cache across proxy workers (node:cluster), standing in for the memcached that
 * Swift's workers share: the primary process holds the authoritative entries (auth tokens,
 * account/container info); each worker keeps a local LRU in front of it.
 *
 * - get: local hit, else ask the primary and keep the answer locally for its remaining TTL.
 * - set: local, and the primary (awaited), unless this worker sent the primary the very same
 *   value for the key moments ago: Swift re-sets account info on every account HEAD/GET, and one
 *   IPC round trip per request cost more CPU than the request's own work. The primary then keeps
 *   the value (and the TTL) it already has, both within the window.
 * - delete: local, the primary, and every other worker's local copy (and its record of what it
 *   sent); resolves only when all workers have dropped it, so a write that clears info (an ACL
 *   change) is effective on every worker before its response goes out.
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

/** One end of an IPC channel: a cluster Worker in the primary, `process` in a worker. */
export interface CacheChannel {
  send(message: unknown): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** The primary's side: the authoritative store, serving any number of worker channels. */
export class ClusterCacheServer {
  private readonly store: LRUCache<string, { value: unknown }>;
  /** Each served worker, with whether it can still be asked to drop keys. */
  private readonly peers = new Map<CacheChannel, () => boolean>();

  constructor(max = 500_000) {
    this.store = new LRUCache({ max, ttlAutopurge: false });
  }

  /** Serves a worker until `detach`; `connected` tells whether it can still be asked to drop keys. */
  attach(peer: CacheChannel, connected: () => boolean = () => true): () => void {
    const listener = (m: unknown) => this.handle(peer, m);
    this.peers.set(peer, connected);
    peer.on('message', listener);
    return () => {
      this.peers.delete(peer);
      peer.off('message', listener);
    };
  }

  private handle(peer: CacheChannel, m: unknown): void {
    if (!isMsg(m)) return;
    const reply = (value?: unknown, ttl?: number) => peer.send({ sluiceCache: 'reply', id: m.id, value, ttl });
    switch (m.sluiceCache) {
      case 'get': {
        const hit = this.store.get(m.key);
        reply(hit?.value, hit ? Math.max(0, this.store.getRemainingTTL(m.key)) / 1000 : undefined);
        break;
      }
      case 'set':
        if (m.ttl > 0) this.store.set(m.key, { value: m.value }, { ttl: m.ttl * 1000 });
        reply();
        break;
      case 'delete': {
        this.store.delete(m.key);
        const others = [...this.peers].filter(([p, connected]) => p !== peer && connected()).map(([p]) => p);
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
  }
}

/** Runs in the primary: serves every cluster worker, present and future. */
export function serveClusterCache(max = 500_000): ClusterCacheServer {
  const server = new ClusterCacheServer(max);
  const attach = (worker: Worker) => {
    const detach = server.attach(worker, () => worker.isConnected());
    worker.once('exit', detach);
  };
  for (const w of Object.values(cluster.workers ?? {})) if (w) attach(w);
  cluster.on('fork', attach);
  return server;
}

/** How long a worker trusts that the primary still holds what it sent: half the TTL, at most 5 s. */
function resendAfterMs(ttlSeconds: number): number {
  return Math.min(ttlSeconds * 500, 5_000);
}

/** Runs in a worker: a SharedCache backed by the primary. */
export class ClusterCache implements SharedCache {
  private readonly local: LRUCache<string, { value: unknown }>;
  private readonly waiting = new Map<string, (m: Extract<Msg, { sluiceCache: 'reply' }>) => void>();
  /** What this worker last sent the primary per key (serialised) and until when that stands. */
  private readonly sent: LRUCache<string, { json: string; until: number }>;
  private readonly channel: CacheChannel;

  constructor(max = 100_000, channel?: CacheChannel) {
    if (!channel && !process.send) throw new Error('ClusterCache needs to run in a cluster worker');
    this.channel = channel ?? (process as unknown as CacheChannel);
    this.local = new LRUCache({ max, ttlAutopurge: false });
    this.sent = new LRUCache({ max });
    this.channel.on('message', (m: unknown) => {
      if (!isMsg(m)) return;
      if (m.sluiceCache === 'reply') {
        const done = this.waiting.get(m.id);
        if (done) {
          this.waiting.delete(m.id);
          done(m);
        }
      } else if (m.sluiceCache === 'drop') {
        this.local.delete(m.key);
        this.sent.delete(m.key);
        this.channel.send({ sluiceCache: 'reply', id: m.id });
      }
    });
  }

  private ask(m: Ask): Promise<Extract<Msg, { sluiceCache: 'reply' }>> {
    const id = randomUUID();
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.channel.send({ ...m, id });
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
    const json = JSON.stringify(value);
    const now = Date.now();
    const last = this.sent.get(key);
    if (last && last.json === json && now < last.until) return;
    this.sent.set(key, { json, until: now + resendAfterMs(ttlSeconds) });
    await this.ask({ sluiceCache: 'set', key, value, ttl: ttlSeconds });
  }

  async delete(key: string): Promise<void> {
    this.local.delete(key);
    this.sent.delete(key);
    await this.ask({ sluiceCache: 'delete', key });
  }
}
