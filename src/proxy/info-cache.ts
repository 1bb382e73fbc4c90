/**
 * Account and container info, as swift.proxy.controllers.base caches it: built from the
 * backend HEAD/GET response headers, kept per request and in a shared cache keyed
 * `account/<a>` and `container/<a>/<c>` for `recheck_*_existence` seconds (10% of that for
 * 404/410; other errors are not cached), and cleared by the writes that change it.
 */
import { LRUCache } from 'lru-cache';
import { asByteString, textIfUtf8 } from '../compat/bytes';

export interface AccountInfo {
  status: number;
  containerCount: number;
  objectCount: number;
  bytes: number;
  /** Lower-case suffixes of `x-account-meta-*`, values as Unicode text. */
  meta: Record<string, string>;
  /** Lower-case suffixes of `x-account-sysmeta-*` (`core-access-control` holds the account ACL). */
  sysmeta: Record<string, string>;
  /** False for the proxy's fake listing of a missing account under account_autocreate. */
  reallyExists: boolean;
}

export interface ContainerInfo {
  status: number;
  readAcl: string | undefined;
  writeAcl: string | undefined;
  syncKey: string | undefined;
  syncTo: string | undefined;
  versions: string | undefined;
  objectCount: number;
  bytes: number;
  storagePolicy: number;
  cors: { allowOrigin?: string; exposeHeaders?: string; maxAge?: string };
  meta: Record<string, string>;
  sysmeta: Record<string, string>;
}

export type Info = AccountInfo | ContainerInfo;

/**
 * The cache shared between requests (Swift's memcache: account/container info, auth tokens),
 * per proxy worker today, between proxies once a memcached backend exists. Values are plain
 * JSON-able data so any backend can serialise them.
 *
 * Fills guarded by a mark (issue 14): a reader takes `mark()` before it asks the backend and
 * passes it to `set`; the value is then stored only if no `delete(key)` came after the mark, so
 * a read in flight across an invalidation (an ACL change) cannot put the old value back.
 * Swift's memcache has no such guard (set_info_cache simply overwrites); sets without a mark
 * behave as before.
 */
export interface SharedCache {
  get<T>(key: string): Promise<T | undefined> | T | undefined;
  set(key: string, value: unknown, ttlSeconds: number, mark?: number): Promise<void> | void;
  delete(key: string): Promise<void> | void;
  /**
   * Swift's set(..., raise_on_error=True), for what is useless unless stored (tempauth's new
   * tokens): rejects when no server stored it. Caches that cannot fail to store omit it.
   */
  setOrFail?(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  /** The invalidation counter now, for a guarded `set` (caches without guards omit it). */
  mark?(): number;
  /**
   * Swift's MemcacheRing.incr (ratelimit's counters), atomic: a missing key starts at `delta`
   * (0 for a decrement) with `ttlSeconds`; an existing one keeps its expiry; never below 0.
   */
  incr?(key: string, delta: number, ttlSeconds: number): Promise<number> | number;
}

/** memcached's counter arithmetic: from `current` (undefined: absent), never below 0. */
export function addToCounter(current: unknown, delta: number): number {
  return Math.max(0, (typeof current === 'number' && Number.isFinite(current) ? current : 0) + Math.trunc(delta));
}

/**
 * The deletes a cache has seen, numbered: a fill marked `m` may store key k unless k was
 * deleted with a number above m. Bounded: the oldest records go first, and the highest
 * number forgotten becomes a floor below which every mark is refused (a fill that slow is not
 * stored: safe, it is only a later miss).
 */
export class Invalidations {
  private seq = 0;
  private floor = 0;
  /** key -> number of its latest delete, roughly in number order (oldest first). */
  private readonly byKey = new Map<string, number>();

  constructor(private readonly max = 50_000) {}

  /** The highest delete number known: the mark for a fill starting now. */
  get current(): number {
    return this.seq;
  }

  /** Records a delete of key, numbered next (or `n`, a number given by the primary). */
  record(key: string, n = this.seq + 1): number {
    this.advance(n);
    const had = this.byKey.get(key);
    if (had !== undefined && had >= n) return n;
    this.byKey.delete(key);
    this.byKey.set(key, n);
    if (this.byKey.size > this.max) {
      const [oldest, num] = this.byKey.entries().next().value as [string, number];
      this.byKey.delete(oldest);
      if (num > this.floor) this.floor = num;
    }
    return n;
  }

  /** Learns that deletes up to `n` happened (the primary's counter, seen in its answers). */
  advance(n: number): void {
    if (n > this.seq) this.seq = n;
  }

  /** Whether a fill that took `mark` before reading its source may store key. */
  allows(key: string, mark: number): boolean {
    return mark >= this.floor && (this.byKey.get(key) ?? 0) <= mark;
  }
}

/** In-process shared cache (one per proxy worker). */
export class LruInfoCache implements SharedCache {
  private readonly lru: LRUCache<string, {}>;
  private readonly invalidations: Invalidations;

  constructor(max = 100_000, maxInvalidations = 50_000) {
    this.lru = new LRUCache<string, {}>({ max, ttlAutopurge: false });
    this.invalidations = new Invalidations(maxInvalidations);
  }

  get<T>(key: string): T | undefined {
    return this.lru.get(key) as T | undefined;
  }

  set(key: string, value: unknown, ttlSeconds: number, mark?: number): void {
    if (!(ttlSeconds > 0) || value === undefined || value === null) return;
    if (mark !== undefined && !this.invalidations.allows(key, mark)) return;
    this.lru.set(key, value as {}, { ttl: ttlSeconds * 1000 });
  }

  delete(key: string): void {
    this.invalidations.record(key);
    this.lru.delete(key);
  }

  mark(): number {
    return this.invalidations.current;
  }

  incr(key: string, delta: number, ttlSeconds: number): number {
    const had = this.lru.has(key);
    const value = addToCounter(this.lru.get(key), delta);
    if (had) this.lru.set(key, value, { noUpdateTTL: true });
    else if (ttlSeconds > 0) this.lru.set(key, value, { ttl: ttlSeconds * 1000 });
    return value;
  }
}

export function accountCacheKey(account: string): string {
  return `account/${account}`;
}

export function containerCacheKey(account: string, container: string): string {
  return `container/${account}/${container}`;
}

/** Swift caches 2xx for the full TTL, 404/410 for a tenth of it, and nothing else. */
export function infoTtl(status: number, recheckSeconds: number): number {
  if (status >= 200 && status < 300) return recheckSeconds;
  if (status === 404 || status === 410) return recheckSeconds * 0.1;
  return 0;
}

function intHeader(v: string | undefined): number {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** A header value (its bytes as received) as text when it is UTF-8. */
function utf8(v: string): string {
  return textIfUtf8(asByteString(v));
}

function metaOf(headers: Record<string, string>, kind: 'account' | 'container'): { meta: Record<string, string>; sysmeta: Record<string, string> } {
  const meta: Record<string, string> = {};
  const sysmeta: Record<string, string> = {};
  const mp = `x-${kind}-meta-`;
  const sp = `x-${kind}-sysmeta-`;
  for (const [k, v] of Object.entries(headers)) {
    const key = k.toLowerCase();
    if (key.startsWith(mp) && key.length > mp.length) meta[key.slice(mp.length)] = utf8(v);
    else if (key.startsWith(sp) && key.length > sp.length) sysmeta[key.slice(sp.length)] = utf8(v);
  }
  return { meta, sysmeta };
}

/** headers_to_account_info; header names must be lower-case. */
export function headersToAccountInfo(headers: Record<string, string>, status: number): AccountInfo {
  return {
    status,
    containerCount: intHeader(headers['x-account-container-count']),
    objectCount: intHeader(headers['x-account-object-count']),
    bytes: intHeader(headers['x-account-bytes-used']),
    ...metaOf(headers, 'account'),
    reallyExists: status >= 200 && status < 300 && !/^(yes|true|1|on|t|y)$/i.test(headers['x-backend-fake-account-listing'] ?? ''),
  };
}

/** headers_to_container_info; header names must be lower-case. */
export function headersToContainerInfo(headers: Record<string, string>, status: number): ContainerInfo {
  const { meta, sysmeta } = metaOf(headers, 'container');
  const opt = (k: string) => (headers[k] === undefined ? undefined : utf8(headers[k]!));
  return {
    status,
    readAcl: opt('x-container-read'),
    writeAcl: opt('x-container-write'),
    syncKey: opt('x-container-sync-key'),
    syncTo: opt('x-container-sync-to'),
    versions: opt('x-versions-location'),
    objectCount: intHeader(headers['x-container-object-count']),
    bytes: intHeader(headers['x-container-bytes-used']),
    storagePolicy: intHeader(headers['x-backend-storage-policy-index']),
    cors: {
      allowOrigin: meta['access-control-allow-origin'],
      exposeHeaders: meta['access-control-expose-headers'],
      maxAge: meta['access-control-max-age'],
    },
    meta,
    sysmeta,
  };
}
