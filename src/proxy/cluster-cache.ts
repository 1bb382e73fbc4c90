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
 * - incr: on the primary only, so counters (ratelimit's) are shared and atomic across workers
 *   as memcached's are across Swift's; workers keep no local copy of a counter.
 * - delete: local, the primary, and every other worker's local copy (and its record of what it
 *   sent); resolves only when all workers have dropped it, so a write that clears info (an ACL
 *   change) is effective on every worker before its response goes out.
 * - guarded fills (issue 14): the primary numbers every delete; its answers carry its counter,
 *   which a worker's `mark()` returns. A set with a mark is refused by the worker and by the
 *   primary when the key was deleted after that mark (the drop of that delete reaches the worker
 *   before any later answer, as IPC keeps order), and while the worker's own delete of the key
 *   is unanswered. A get answer read before a delete is not kept locally either.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { addToCounter, Invalidations, type SharedCache } from './info-cache';

type Msg =
  | { sluiceCache: 'get'; id: string; key: string }
  | { sluiceCache: 'set'; id: string; key: string; value: unknown; ttl: number; mark?: number }
  | { sluiceCache: 'delete'; id: string; key: string }
  | { sluiceCache: 'incr'; id: string; key: string; delta: number; ttl: number }
  | { sluiceCache: 'drop'; id: string; key: string; seq: number }
  /** seq: the primary's delete counter when it answered (a delete: that delete's number). */
  | { sluiceCache: 'reply'; id: string; value?: unknown; ttl?: number; seq?: number; stored?: boolean };

type Ask =
  | { sluiceCache: 'get'; key: string }
  | { sluiceCache: 'set'; key: string; value: unknown; ttl: number; mark?: number }
  | { sluiceCache: 'delete'; key: string }
  | { sluiceCache: 'incr'; key: string; delta: number; ttl: number };

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
  private readonly invalidations: Invalidations;

  constructor(max = 500_000, maxInvalidations = 50_000) {
    this.store = new LRUCache({ max, ttlAutopurge: false });
    this.invalidations = new Invalidations(maxInvalidations);
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
    const inv = this.invalidations;
    const reply = (extra: { value?: unknown; ttl?: number; stored?: boolean; seq?: number } = {}) =>
      peer.send({ sluiceCache: 'reply', id: m.id, seq: inv.current, ...extra });
    switch (m.sluiceCache) {
      case 'get': {
        const hit = this.store.get(m.key);
        reply({ value: hit?.value, ttl: hit ? Math.max(0, this.store.getRemainingTTL(m.key)) / 1000 : undefined });
        break;
      }
      case 'set': {
        const stored = m.ttl > 0 && (m.mark === undefined || inv.allows(m.key, m.mark));
        if (stored) this.store.set(m.key, { value: m.value }, { ttl: m.ttl * 1000 });
        reply({ stored });
        break;
      }
      case 'incr': {
        const had = this.store.has(m.key);
        const value = addToCounter(this.store.get(m.key)?.value, m.delta);
        if (had) this.store.set(m.key, { value }, { noUpdateTTL: true });
        else if (m.ttl > 0) this.store.set(m.key, { value }, { ttl: m.ttl * 1000 });
        reply({ value });
        break;
      }
      case 'delete': {
        const seq = inv.record(m.key);
        this.store.delete(m.key);
        const others = [...this.peers].filter(([p, connected]) => p !== peer && connected()).map(([p]) => p);
        let pending = others.length;
        if (pending === 0) reply({ seq });
        for (const other of others) {
          const id = randomUUID();
          const onAck = (a: unknown) => {
            if (isMsg(a) && a.sluiceCache === 'reply' && a.id === id) {
              other.off('message', onAck);
              if (--pending === 0) reply({ seq });
            }
          };
          other.on('message', onAck);
          other.send({ sluiceCache: 'drop', id, key: m.key, seq });
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
  /** Deletes this worker knows of, numbered by the primary; `current` is its latest counter. */
  private readonly invalidations: Invalidations;
  /** Keys this worker is deleting, with how many of its deletes the primary has not answered. */
  private readonly deleting = new Map<string, number>();

  constructor(max = 100_000, channel?: CacheChannel, maxInvalidations = 50_000) {
    if (!channel && !process.send) throw new Error('ClusterCache needs to run in a cluster worker');
    this.channel = channel ?? (process as unknown as CacheChannel);
    this.local = new LRUCache({ max, ttlAutopurge: false });
    this.sent = new LRUCache({ max });
    this.invalidations = new Invalidations(maxInvalidations);
    this.channel.on('message', (m: unknown) => {
      if (!isMsg(m)) return;
      if (m.sluiceCache === 'reply') {
        if (typeof m.seq === 'number') this.invalidations.advance(m.seq);
        const done = this.waiting.get(m.id);
        if (done) {
          this.waiting.delete(m.id);
          done(m);
        }
      } else if (m.sluiceCache === 'drop') {
        this.invalidations.record(m.key, m.seq);
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
    // Not kept when this worker has since deleted the key (or is deleting it): the answer was read before.
    if (r.value !== undefined && r.ttl && r.ttl > 0 && this.mayFill(key, r.seq ?? 0)) this.local.set(key, { value: r.value }, { ttl: r.ttl * 1000 });
    return r.value as T | undefined;
  }

  mark(): number {
    return this.invalidations.current;
  }

  private mayFill(key: string, mark: number): boolean {
    return !this.deleting.has(key) && this.invalidations.allows(key, mark);
  }

  async set(key: string, value: unknown, ttlSeconds: number, mark?: number): Promise<void> {
    if (!(ttlSeconds > 0)) return;
    if (mark !== undefined && !this.mayFill(key, mark)) return;
    this.local.set(key, { value }, { ttl: ttlSeconds * 1000 });
    const json = JSON.stringify(value);
    const now = Date.now();
    const last = this.sent.get(key);
    if (last && last.json === json && now < last.until) return;
    const record = { json, until: now + resendAfterMs(ttlSeconds) };
    this.sent.set(key, record);
    const r = await this.ask({ sluiceCache: 'set', key, value, ttl: ttlSeconds, mark });
    // Refused by the primary: it does not hold the value, so the next set must go out again.
    if (r.stored === false && this.sent.get(key) === record) this.sent.delete(key);
  }

  async incr(key: string, delta: number, ttlSeconds: number): Promise<number> {
    this.local.delete(key);
    this.sent.delete(key);
    const r = await this.ask({ sluiceCache: 'incr', key, delta, ttl: ttlSeconds });
    return r.value as number;
  }

  async delete(key: string): Promise<void> {
    this.deleting.set(key, (this.deleting.get(key) ?? 0) + 1);
    this.local.delete(key);
    this.sent.delete(key);
    try {
      const r = await this.ask({ sluiceCache: 'delete', key });
      if (typeof r.seq === 'number') this.invalidations.record(key, r.seq);
    } finally {
      const left = (this.deleting.get(key) ?? 1) - 1;
      if (left > 0) this.deleting.set(key, left);
      else this.deleting.delete(key);
    }
  }
}
