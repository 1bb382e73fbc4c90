/**
 * Rendered object listings of container DBs that have not changed since they were rendered
 * (sluice; Swift's container server walks the DB and serialises every listing afresh).
 *
 * A 1,000-row JSON listing costs the container server about 2.5 ms of CPU in a loop (the SQLite range
 * scan, one object per row, json.dumps), during which its event loop serves nothing else; the
 * same listing of an unchanged DB is the same bytes. An entry is found only under the DB's
 * current change stamp (ContainerBroker.changeStamp: commits by any other connection or process,
 * rows changed through this one), so a write makes every older entry of that DB unreachable:
 * the cache never answers with a listing the DB no longer gives. Response headers (counts,
 * metadata, timestamps) are read from the DB on every request; only the body is kept.
 */
import { LRUCache } from 'lru-cache';

/** Listings smaller than this are cheap to render and not kept. */
export const LISTING_CACHE_MIN_BYTES = 8 * 1024;

export class ListingCache {
  private readonly bodies: LRUCache<string, Buffer>;

  /** `maxBytes`: the rendered bytes kept in all. A listing over an eighth of it is not kept. */
  constructor(readonly maxBytes: number) {
    this.bodies = new LRUCache<string, Buffer>({ maxSize: maxBytes, sizeCalculation: (b) => b.length });
  }

  /** `stamp`: the DB's change stamp; `query`: everything else the body depends on. */
  get(stamp: string, query: string): Buffer | undefined {
    return this.bodies.get(`${stamp}\n${query}`);
  }

  set(stamp: string, query: string, body: Buffer): void {
    if (body.length < LISTING_CACHE_MIN_BYTES || body.length > this.maxBytes / 8) return;
    this.bodies.set(`${stamp}\n${query}`, body);
  }

  get size(): number {
    return this.bodies.size;
  }

  clear(): void {
    this.bodies.clear();
  }
}
