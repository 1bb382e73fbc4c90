/**
 * The shared cache on memcached (Swift's MemcacheRing, env['swift.cache'] with memcache_servers),
 * talked to with memjs: each key goes to the servers Swift's ring picks for it, under Swift's
 * hashed key, as JSON with Swift's JSON flag (2), with Swift's expiry rules, so sluice and Swift
 * proxies sharing the servers see each other's tokens, account/container info and clears.
 *
 * Failures behave as Swift's default (raise_on_error=False): a get that no server answers is a
 * miss, a set or delete that fails is dropped, so requests go to the backends and never fail
 * because memcached is down or slow. A server that fails more than error_suppression_limit
 * times within error_suppression_interval seconds is skipped for that long (Swift's error
 * limiting), and failures are logged at most once per server and interval, not per request.
 *
 * Guarded fills across proxies (issue 14's guarantee, which Swift lacks): a delete first records
 * its time under `sluice/invalidated/<key>` (for INVALIDATION_TTL seconds), then deletes; a fill
 * marked with `mark()` is refused when that record is not older than the mark (less a margin
 * for clock skew between proxies), checked before its set and again after it (then it is
 * undone), so a fill that read its backend before another proxy's clear cannot outlive it.
 */
import memjs from 'memjs';
import type { Logger } from 'pino';
import { pyJsonDumps } from '../compat/json';
import { memcacheKey, MemcacheRing } from '../common/memcache-ring';
import { Invalidations, type SharedCache } from './info-cache';
import { decodeEntry, encodeEntry, storedKey } from './swift-cache-shapes';

/** swift.common.memcached: flag bits of a stored value. */
const PICKLE_FLAG = 1;
const JSON_FLAG = 2;
/** memcached reads an expiry above 30 days as an absolute time (Swift's sanitize_timeout). */
const RELATIVE_EXPIRY_LIMIT = 30 * 24 * 60 * 60;
/** How long a clear is remembered for guarded fills (s); older fills are refused. */
export const INVALIDATION_TTL = 60;
/** A fill is refused when a clear is recorded up to this long before its mark (clock skew, ms). */
export const CLOCK_SKEW_MS = 1_000;
const DEFAULT_PORT = 11211;

export interface MemcacheOptions {
  servers: string[];
  /** memcache_max_connections: connections per server. */
  maxConnections: number;
  /** connect_timeout, io_timeout (seconds). */
  connectTimeout: number;
  ioTimeout: number;
  /** tries: servers tried per operation (at most the number of servers). */
  tries: number;
  /** error_suppression_limit / error_suppression_interval. */
  errorLimitCount: number;
  errorLimitTime: number;
  logger?: Pick<Logger, 'error' | 'warn'>;
}

/** swift.common.utils.parse_socket_string: `host`, `host:port`, `[v6]`, `[v6]:port`, bare v6. */
export function parseServer(server: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : DEFAULT_PORT };
  const parts = server.split(':');
  if (parts.length === 2) return { host: parts[0]!, port: Number(parts[1]) };
  // No port, or an IPv6 address without brackets (which cannot carry one).
  return { host: server, port: DEFAULT_PORT };
}

/** Swift's sanitize_timeout; a positive TTL below a second is kept a second (0 means "forever"). */
function expiry(ttlSeconds: number): number {
  const ttl = Math.max(1, Math.trunc(ttlSeconds));
  return ttl > RELATIVE_EXPIRY_LIMIT ? Math.trunc(ttl + Date.now() / 1000) : ttl;
}

/** Sets write Swift's JSON flag into the request's extras (memjs writes 0 otherwise). */
const jsonFlagSerializer: memjs.Serializer<Buffer, Buffer | null> = {
  serialize(opcode, value, extras) {
    if (opcode === 0x01 && extras.length >= 4) extras.writeUInt32BE(JSON_FLAG, 0);
    return { value, extras };
  },
  deserialize: (_opcode, value, extras) => ({ value, extras }),
};

const quiet = { log: () => {} };

/** One server's connections (memcache_max_connections), each multiplexing its requests. */
class ServerPool {
  private readonly clients: memjs.Client<Buffer, Buffer | null>[] = [];
  private next = 0;
  private errors: number[] = [];
  limitedUntil = 0;
  lastLogged = 0;
  unlogged = 0;

  constructor(
    readonly name: string,
    options: MemcacheOptions,
  ) {
    const { host, port } = parseServer(name);
    for (let i = 0; i < Math.max(1, options.maxConnections); i++) {
      const opts = { retries: 1, failover: false, timeout: options.ioTimeout, conntimeout: options.connectTimeout, keepAlive: true, logger: quiet };
      const server = new memjs.Server(host, port, undefined, undefined, opts);
      this.clients.push(new memjs.Client<Buffer, Buffer | null>([server], { ...opts, serializer: jsonFlagSerializer }));
    }
  }

  client(): memjs.Client<Buffer, Buffer | null> {
    const c = this.clients[this.next]!;
    this.next = (this.next + 1) % this.clients.length;
    return c;
  }

  /** Swift's _exception_occurred bookkeeping: true when this error starts a suppression. */
  failed(now: number, count: number, time: number): boolean {
    if (time <= 0) return false;
    this.errors.push(now);
    if (this.errors.length <= count) return false;
    this.errors = this.errors.filter((t) => t > now - time * 1000);
    if (this.errors.length <= count) return false;
    this.limitedUntil = now + time * 1000;
    return true;
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

const OP_INCREMENT = 0x05;
const OP_DECREMENT = 0x06;

/** The part of memjs's client that sends a prepared binary request (public in memjs 1.3, untyped). */
interface RawClient {
  seq: number;
  incrSeq(): void;
  perform(key: string, request: Buffer, seq: number, callback: (err: Error | null, response: { header: { status: number }; val: Buffer } | null) => void): void;
}

/**
 * memcached's binary increment/decrement with the 64-bit counter read whole. memjs 1.3 reads
 * it as `(hi << 8) + lo`, which is wrong past 2^32, and ratelimit's counters (milliseconds
 * since 1970, as Swift's) are far past it: every request would look like the first.
 */
function counter(client: memjs.Client<Buffer, Buffer | null>, op: number, key: string, amount: number, initial: number, expires: number): Promise<number> {
  const raw = client as unknown as RawClient;
  raw.incrSeq();
  const seq = raw.seq;
  const name = Buffer.from(key, 'utf8');
  const request = Buffer.alloc(24 + 20 + name.length);
  request[0] = 0x80;
  request[1] = op;
  request.writeUInt16BE(name.length, 2);
  request[4] = 20;
  request.writeUInt32BE(20 + name.length, 8);
  request.writeUInt32BE(seq, 12);
  request.writeBigUInt64BE(BigInt(amount), 24);
  request.writeBigUInt64BE(BigInt(initial), 32);
  request.writeUInt32BE(expires, 40);
  name.copy(request, 44);
  return new Promise((resolve, reject) => {
    raw.perform(key, request, seq, (err, response) => {
      if (err) return reject(err);
      if (!response || response.header.status !== 0 || response.val.length < 8) return reject(new Error('counter not updated'));
      resolve(Number(response.val.readBigUInt64BE(0)));
    });
  });
}

export class MemcacheCache implements SharedCache {
  private readonly ring: MemcacheRing;
  private readonly pools = new Map<string, ServerPool>();
  /** This process's own clears, exact (the memcached records cover the other processes). */
  private readonly invalidations = new Invalidations();
  /** How long one operation may take in all, whatever memjs does with a vanished server. */
  private readonly deadlineMs: number;

  constructor(private readonly options: MemcacheOptions) {
    this.ring = new MemcacheRing(options.servers, options.tries);
    for (const s of this.ring.servers) this.pools.set(s, new ServerPool(s, options));
    this.deadlineMs = (options.connectTimeout + options.ioTimeout) * 1000 + 100;
  }

  /**
   * Runs `op` on the servers Swift's ring picks for `key`, in order, until one answers;
   * `failed` when none did (error-limited servers are skipped, as Swift skips them).
   */
  private async run<T>(key: string, op: (client: memjs.Client<Buffer, Buffer | null>, hashed: string) => Promise<T>): Promise<{ value: T } | 'failed'> {
    const hashed = memcacheKey(storedKey(key));
    for (const name of this.ring.serversFor(hashed)) {
      const pool = this.pools.get(name)!;
      if (pool.limitedUntil > Date.now()) continue;
      try {
        return { value: await this.withDeadline(op(pool.client(), hashed)) };
      } catch (err) {
        this.failure(pool, err);
      }
    }
    return 'failed';
  }

  private withDeadline<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer in time')), this.deadlineMs);
    });
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  }

  private failure(pool: ServerPool, err: unknown): void {
    const now = Date.now();
    const limited = pool.failed(now, this.options.errorLimitCount, this.options.errorLimitTime);
    const interval = Math.max(this.options.errorLimitTime, 1) * 1000;
    if (now - pool.lastLogged < interval) {
      pool.unlogged++;
      return;
    }
    const why = err instanceof Error ? err.message : String(err);
    const more = pool.unlogged ? ` (${pool.unlogged} more errors since the last report)` : '';
    const suppressed = limited ? `; error limiting it for ${this.options.errorLimitTime}s` : '';
    this.options.logger?.error(`Error talking to memcached: ${pool.name}: ${why}${more}${suppressed}; requests go to the backends meanwhile`);
    pool.lastLogged = now;
    pool.unlogged = 0;
  }

  /** The raw value under a key (flags applied as Swift's get applies them). */
  private async read(key: string): Promise<unknown> {
    const r = await this.run(key, async (client, hashed) => client.get(hashed));
    if (r === 'failed' || !r.value.value) return undefined;
    const { value, flags } = r.value;
    const f = flags && flags.length >= 4 ? flags.readUInt32BE(0) : 0;
    if (f & PICKLE_FLAG) return undefined;
    if (!(f & JSON_FLAG)) return value.toString('utf8');
    try {
      return JSON.parse(value.toString('utf8'));
    } catch {
      return undefined;
    }
  }

  async get<T>(key: string): Promise<T | undefined> {
    return decodeEntry(key, await this.read(key)) as T | undefined;
  }

  /** memcached `set`, JSON with flag 2; true when a server stored it. */
  private async write(key: string, value: unknown, ttlSeconds: number): Promise<boolean> {
    const body = Buffer.from(pyJsonDumps(value), 'ascii');
    const r = await this.run(key, (client, hashed) => client.set(hashed, body, { expires: expiry(ttlSeconds) }));
    return r !== 'failed' && r.value;
  }

  /** Never rejects (callers fire and forget): a value that cannot be written is dropped. */
  async set(key: string, value: unknown, ttlSeconds: number, mark?: number): Promise<void> {
    if (!(ttlSeconds > 0) || value === undefined || value === null) return;
    try {
      if (mark !== undefined && !(await this.mayFill(key, mark))) return;
      const stored = await this.write(key, encodeEntry(key, value), ttlSeconds);
      // A clear that came in while the set was on its way: undo the fill (the clear's own delete may have run first).
      if (stored && mark !== undefined && !(await this.mayFill(key, mark))) await this.run(key, (client, hashed) => client.delete(hashed));
    } catch (err) {
      this.options.logger?.error(`memcached: could not store ${key.split('/')[0]} entry: ${(err as Error).message}`);
    }
  }

  async setOrFail(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    if (!(await this.write(key, encodeEntry(key, value), ttlSeconds))) throw new Error('No memcached connections succeeded.');
  }

  /** Not when this process or another (through memcached) cleared the key since the mark. */
  private async mayFill(key: string, mark: number): Promise<boolean> {
    if (!this.invalidations.allows(key, mark)) return false;
    if (mark < Date.now() - (INVALIDATION_TTL - 10) * 1000) return false;
    const cleared = await this.read(invalidationKey(key));
    return !(typeof cleared === 'number' && cleared >= mark - CLOCK_SKEW_MS);
  }

  async delete(key: string): Promise<void> {
    const at = this.stamp();
    this.invalidations.record(key, at);
    await this.write(invalidationKey(key), at, INVALIDATION_TTL);
    await this.run(key, (client, hashed) => client.delete(hashed));
  }

  /** A clock in milliseconds that never repeats: a mark before a clear is always below it. */
  private stamp(): number {
    const n = Math.max(Date.now(), this.invalidations.current + 1);
    this.invalidations.advance(n);
    return n;
  }

  mark(): number {
    const n = Math.max(Date.now(), this.invalidations.current);
    this.invalidations.advance(n);
    return n;
  }

  /**
   * Swift's MemcacheRing.incr (ratelimit's counters): a missing key starts at delta (0 for a
   * decrement), counters never go below 0. memcached's own initial value makes it one command.
   */
  async incr(key: string, delta: number, ttlSeconds: number): Promise<number> {
    const amount = Math.abs(Math.trunc(delta));
    const initial = delta < 0 ? 0 : amount;
    const r = await this.run(key, (client, hashed) => counter(client, delta < 0 ? OP_DECREMENT : OP_INCREMENT, hashed, amount, initial, expiry(ttlSeconds)));
    if (r === 'failed') throw new Error('No memcached connections succeeded.');
    return r.value;
  }

  /** The servers skipped now for too many errors (for operators and metrics). */
  errorLimited(): string[] {
    const now = Date.now();
    return [...this.pools.values()].filter((p) => p.limitedUntil > now).map((p) => p.name);
  }

  close(): void {
    for (const p of this.pools.values()) p.close();
  }
}

function invalidationKey(key: string): string {
  return `sluice/invalidated/${key}`;
}
