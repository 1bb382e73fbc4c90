/**
 * Which memcached server holds a key, as swift.common.memcached.MemcacheRing decides it, so
 * that sluice proxies and Swift proxies sharing a memcached pool read and write each key on the
 * same server (and clear it there).
 *
 * Swift hashes every key to the hex md5 of its UTF-8 bytes (that hex string is also the key
 * memcached sees), places each server on a circle of hex md5 points (`<server>-<i>` for i below
 * NODE_WEIGHT, servers in sorted order), and walks the circle from the key, starting one point
 * past the first point above it (Swift's `bisect` then `pos + 1`), collecting distinct servers
 * until it has `tries` of them. An error-limited server still counts toward `tries` (it is
 * skipped, not replaced), so callers filter the order, they do not extend it.
 */
import { createHash } from 'node:crypto';

/** Points per server on the circle (Swift's NODE_WEIGHT). */
export const NODE_WEIGHT = 50;
/** Swift's TRY_COUNT: how many servers a request may try. */
export const DEFAULT_TRIES = 3;

/** Swift's md5hash: the hex md5 of the key's UTF-8 bytes; the key memcached stores. */
export function memcacheKey(key: string): string {
  return createHash('md5').update(key, 'utf8').digest('hex');
}

export class MemcacheRing {
  /** Circle points (hex md5), sorted. */
  private readonly points: string[];
  private readonly owners = new Map<string, string>();
  readonly servers: readonly string[];
  readonly tries: number;

  /**
   * `servers` as configured (`host:port` strings, compared as written: Swift hashes the text).
   * Duplicates are dropped: Swift would loop forever looking for a second distinct server.
   */
  constructor(servers: readonly string[], tries = DEFAULT_TRIES) {
    this.servers = [...new Set(servers)];
    if (this.servers.length === 0) throw new Error('a memcache ring needs at least one server');
    for (const server of [...this.servers].sort(codePointOrder)) {
      for (let i = 0; i < NODE_WEIGHT; i++) this.owners.set(memcacheKey(`${server}-${i}`), server);
    }
    this.points = [...this.owners.keys()].sort();
    this.tries = Math.max(0, Math.min(tries, this.servers.length));
  }

  /** The servers Swift would try for `hashedKey` (a memcacheKey), in order. */
  serversFor(hashedKey: string): string[] {
    const served: string[] = [];
    let pos = bisectRight(this.points, hashedKey);
    while (served.length < this.tries) {
      pos = (pos + 1) % this.points.length;
      const server = this.owners.get(this.points[pos]!)!;
      if (!served.includes(server)) served.push(server);
    }
    return served;
  }
}

/** Python's str ordering (by code point), which Swift's sorted(servers) uses. */
function codePointOrder(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** bisect.bisect_right: the index of the first element greater than x. */
function bisectRight(sorted: readonly string[], x: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x < sorted[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
