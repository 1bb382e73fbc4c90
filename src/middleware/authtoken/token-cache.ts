/**
 * Validated tokens in the proxy's shared cache (Swift's swift.cache, which keystonemiddleware
 * uses with `cache = swift.cache`): the `token` object Keystone returned, under
 * keystonemiddleware's key `tokens/<sha256 of the token>`, for token_cache_time seconds but never
 * past the token's expires_at. Tokens Keystone called invalid are remembered for a few seconds
 * under a key of sluice's own, so a client repeating a bad token does not reach Keystone each
 * time; Keystone being unavailable is never remembered.
 *
 * The cached value is plain JSON (any cache backend can hold it). What sluice makes of it (the
 * identity, the header values) is kept per worker in a WeakMap keyed by the cached object
 * itself: it is found only through a live cache entry, so it can neither outgrow the cache nor
 * outlive the entry it was made from.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { KeystoneIdentity } from '../../proxy/context';
import type { SharedCache } from '../../proxy/info-cache';
import { catalogHeader, serviceHeaders, userHeaders, type HeaderPairs } from './headers';
import { parseTokenInfo, type TokenInfo } from './token-info';

/** How long a token Keystone called invalid is remembered (at most token_cache_time). */
export const NEGATIVE_CACHE_SECONDS = 10;

/** A cached token as the filter uses it: its contents, and its header values made once. */
export class ParsedToken {
  private user: HeaderPairs | undefined;
  private service: HeaderPairs | undefined;
  private catalog: string | null | undefined;

  constructor(readonly info: TokenInfo) {}

  get identity(): KeystoneIdentity {
    return this.info.identity;
  }

  get userHeaders(): HeaderPairs {
    return (this.user ??= userHeaders(this.info.identity));
  }

  get serviceHeaders(): HeaderPairs {
    return (this.service ??= serviceHeaders(this.info.identity));
  }

  /** X-Service-Catalog's value; undefined when the token came without a catalog. */
  get catalogHeader(): string | undefined {
    if (this.catalog === undefined) this.catalog = this.info.catalog ? catalogHeader(this.info.catalog) : null;
    return this.catalog ?? undefined;
  }
}

/** Hashes of recently seen tokens: the cached-token path runs on every request. */
const recentHashes = new LRUCache<string, string>({ max: 10_000 });

export function tokenHash(token: string): string {
  let hash = recentHashes.get(token);
  if (hash === undefined) {
    hash = createHash('sha256').update(token, 'utf8').digest('hex');
    recentHashes.set(token, hash);
  }
  return hash;
}

/** keystonemiddleware's _CACHE_KEY_TEMPLATE. */
export function tokenCacheKey(hash: string): string {
  return `tokens/${hash}`;
}

export function invalidTokenCacheKey(hash: string): string {
  return `sluice/tokens-invalid/${hash}`;
}

export class TokenCache {
  private readonly memo = new WeakMap<object, ParsedToken>();
  /** Token objects read into a ParsedToken: once per cached entry and worker. */
  readonly stats = { parses: 0 };

  constructor(
    private readonly cache: SharedCache,
    /** token_cache_time; <= 0 caches nothing. */
    private readonly cacheTime: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token object as the filter uses it, or undefined for "invalid token contents". */
  parse(token: Record<string, unknown>): ParsedToken | undefined {
    const known = this.memo.get(token);
    if (known) return known;
    this.stats.parses++;
    const info = parseTokenInfo(token);
    if (!info) return undefined;
    const parsed = new ParsedToken(info);
    this.memo.set(token, parsed);
    return parsed;
  }

  /** The cached token for this hash, if any (its expiry is the caller's to check). */
  get(hash: string): ParsedToken | undefined | Promise<ParsedToken | undefined> {
    if (this.cacheTime <= 0) return undefined;
    const hit = this.read<Record<string, unknown>>(tokenCacheKey(hash));
    if (hit instanceof Promise) return hit.then((v) => this.fromCache(v));
    return this.fromCache(hit);
  }

  /** A cache that fails to answer is a miss: Keystone is asked instead, never a 500. */
  private read<T>(key: string): T | undefined | Promise<T | undefined> {
    try {
      const hit = this.cache.get<T>(key);
      return hit instanceof Promise ? hit.catch(() => undefined) : hit;
    } catch {
      return undefined;
    }
  }

  private fromCache(value: unknown): ParsedToken | undefined {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
    return this.parse(value as Record<string, unknown>);
  }

  /** Keeps a validated token for min(token_cache_time, its remaining life). */
  set(hash: string, token: Record<string, unknown>, parsed: ParsedToken): void {
    const ttl = Math.min(this.cacheTime, (parsed.identity.expiresAt - this.now()) / 1000);
    if (ttl <= 0) return;
    this.settle(() => this.cache.set(tokenCacheKey(hash), token, ttl));
  }

  isInvalid(hash: string): boolean | Promise<boolean> {
    if (this.cacheTime <= 0) return false;
    const hit = this.read<boolean>(invalidTokenCacheKey(hash));
    return hit instanceof Promise ? hit.then((v) => v === true) : hit === true;
  }

  setInvalid(hash: string): void {
    const ttl = Math.min(this.cacheTime, NEGATIVE_CACHE_SECONDS);
    if (ttl <= 0) return;
    this.settle(() => this.cache.set(invalidTokenCacheKey(hash), true, ttl));
  }

  /** A shared cache's write is not waited for: a lost one only costs another validation. */
  private settle(write: () => void | Promise<void>): void {
    try {
      const result = write();
      if (result instanceof Promise) result.catch(() => undefined);
    } catch {
      // as a lost write
    }
  }
}
