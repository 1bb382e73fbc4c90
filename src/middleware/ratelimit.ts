/**
 * ratelimit (swift/common/middleware/ratelimit.py, Swift 2.30): slows writes per account and
 * container, and container listings, by making requests wait, with Swift's algorithm over the
 * shared cache (Swift's memcache; here `state.cache`, which the cache filter installs).
 *
 * Each limited request adds `1/rate` seconds (in 1/clock_accuracy units) to a running time kept
 * under its key; when that running time is more than `rate_buffer_seconds` behind now it is
 * reset, otherwise the request sleeps until its turn. A request that would sleep
 * `max_sleep_time_seconds` or more (less 1/100 s) takes its increment back and is refused
 * `498 Rate Limited` "Slow down". The keys, checked in order:
 *  - `ratelimit/<account>`: container PUT and DELETE at `account_ratelimit` per second;
 *  - `ratelimit/<account>/<container>`: object PUT, DELETE, POST and COPY at the rate
 *    `container_ratelimit_<size>` gives for the container's object count (interpolated
 *    between the sizes configured; none below the smallest size or for an empty container);
 *  - `ratelimit_listing/<account>/<container>`: container GET, by `container_listing_ratelimit_<size>`;
 *  - `ratelimit/global-write/<account>`: every PUT, DELETE, POST and COPY of an account whose
 *    `X-Account-Sysmeta-Global-Write-Ratelimit` is a number above 0.
 * That sysmeta set to `WHITELIST` (or the deprecated `account_whitelist`) exempts the account;
 * `BLACKLIST` (or `account_blacklist`) refuses every request after a second with
 * `497 Blacklisted` "Your account has been blacklisted". Without the cache filter nothing is
 * limited (logged). Each request is limited once, however often it meets the filter.
 *
 * Counters are updated atomically through the cache's `incr`: memcached's (shared with Swift's
 * own proxies: same keys, same arithmetic), the in-process cache's, or, with proxy workers and
 * no memcached, the primary's, so the workers of one proxy share one limit as Swift's workers
 * share memcached. A cache without `incr` falls back to get and set, which may count two
 * simultaneous requests as one.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { ConfigError, floatOption, intOption, type Section } from '../proxy/config';
import type { ProxyEnv } from '../proxy/context';
import { defineFilter, type FilterContext } from '../proxy/filter';
import { addToCounter, type SharedCache } from '../proxy/info-cache';
import { rawPathOf } from '../proxy/request-target';
import { swiftResponse } from '../proxy/response';
import { splitPath } from '../common/path';
import { PyNumber, pyFloatRepr } from '../compat/json';
import { unquoteUtf8 } from '../compat/quote';
import { fetchAccountInfo, fetchContainerInfo } from './account-info';

/** A container size and the rate (requests per second) from that size on. */
export type RateAtSize = readonly [size: number, rate: number];

export interface RatelimitOptions {
  accountRatelimit: number;
  maxSleepTimeSeconds: number;
  logSleepTimeSeconds: number;
  clockAccuracy: number;
  rateBufferSeconds: number;
  accountWhitelist: string[];
  accountBlacklist: string[];
  /** Sorted by size (interpret_conf_limits). */
  containerRatelimits: RateAtSize[];
  containerListingRatelimits: RateAtSize[];
}

/** Swift's RateLimitMiddleware.BLACK_LIST_SLEEP. */
const BLACKLIST_SLEEP_SECONDS = 1;
const WRITES = new Set(['PUT', 'DELETE', 'POST', 'COPY']);
const COUNTER_TTL_SECONDS = 24 * 3600;

/** Python's int() of a config value (sign, surrounding blanks, `_` between digits). */
function pyInt(raw: string, key: string): number {
  const t = raw.trim();
  if (!/^[+-]?\d+(_\d+)*$/.test(t)) throw new ConfigError(`ratelimit: ${key} must be an integer, got ${JSON.stringify(raw)}`);
  return Number(t.replace(/_/g, ''));
}

/** interpret_conf_limits: every `<prefix><size> = <rate>` of the section, sorted by size. */
export function interpretConfLimits(conf: Section, prefix: string): RateAtSize[] {
  const limits: RateAtSize[] = [];
  for (const key of Object.keys(conf)) {
    if (!key.startsWith(prefix)) continue;
    const size = pyInt(key.slice(prefix.length), key);
    const rate = floatOption(conf, key, 0);
    if (limits.some(([s]) => s === size)) throw new ConfigError(`ratelimit: more than one rate for container size ${size} (${prefix}*)`);
    limits.push([size, rate]);
  }
  return limits.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** get_maxrate: the rate for a container of `size` objects, on the line between configured points. */
export function getMaxRate(limits: readonly RateAtSize[], size: number): number | undefined {
  if (!size) return undefined;
  let at = -1;
  for (let i = 0; i < limits.length && size >= limits[i]![0]; i++) at = i;
  if (at < 0) return undefined;
  const [curSize, curRate] = limits[at]!;
  const next = limits[at + 1];
  if (!next) return curRate;
  const slope = (next[1] - curRate) / (next[0] - curSize);
  return (size - curSize) * slope + curRate;
}

/** Python's round() (halves to even), which Swift's sleep arithmetic uses. */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export class MaxSleepTimeHitError extends Error {}

/** memcache incr: a missing key starts at 0; counters never go below 0 (memcached's decr). */
async function incr(cache: SharedCache, key: string, delta: number, ttlSeconds: number): Promise<number> {
  if (cache.incr) return cache.incr(key, delta, ttlSeconds);
  const got = cache.get<number>(key);
  // A cache that answers synchronously is updated with no await in between: atomic.
  const value = addToCounter(got instanceof Promise ? await got : got, delta);
  await cache.set(key, value, ttlSeconds);
  return value;
}

/** Time and waiting, injectable so tests count requests rather than measure seconds. */
export interface RatelimitClock {
  /** Seconds since the epoch. */
  now(): number;
  sleep(seconds: number): Promise<void>;
}

export const REAL_CLOCK: RatelimitClock = {
  now: () => Date.now() / 1000,
  sleep: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000)),
};

export class RateLimiter {
  constructor(
    private readonly options: RatelimitOptions,
    private readonly clock: RatelimitClock = REAL_CLOCK,
  ) {}

  /**
   * _get_sleep_time: seconds the request must wait for `key` at `maxRate` per second; throws
   * MaxSleepTimeHitError (having taken its increment back) when that reaches max_sleep_time_seconds.
   */
  async sleepTime(cache: SharedCache, key: string, maxRate: number): Promise<number> {
    const { clockAccuracy: acc, rateBufferSeconds, maxSleepTimeSeconds } = this.options;
    const nowM = pyRound(this.clock.now() * acc);
    const perRequestM = pyRound(acc / maxRate);
    // Swift's counters never expire. Kept a day here (and at least until the reset below would
    // reset them anyway): a memcached counter's expiry is set when it is created, so one in
    // constant use starts afresh once a day at most.
    const ttl = Math.max(COUNTER_TTL_SECONDS, Math.ceil(maxSleepTimeSeconds + rateBufferSeconds + perRequestM / acc) + 1);
    const runningM = await incr(cache, key, perRequestM, ttl);
    let needM = 0;
    if (nowM - runningM > rateBufferSeconds * acc) await cache.set(key, nowM + perRequestM, ttl);
    else needM = Math.max(runningM - nowM - perRequestM, 0);
    if (maxSleepTimeSeconds * acc - needM <= acc * 0.01) {
      await incr(cache, key, -perRequestM, ttl);
      throw new MaxSleepTimeHitError(`Max Sleep Time Exceeded: ${(needM / acc).toFixed(2)}`);
    }
    return needM / acc;
  }

  /** Sleeps as the clock says. */
  sleep(seconds: number): Promise<void> {
    return this.clock.sleep(seconds);
  }
}

/** get_ratelimitable_key_tuples. */
async function keysFor(
  options: RatelimitOptions,
  method: string,
  account: string,
  container: string | undefined,
  obj: string | undefined,
  globalRatelimit: string | undefined,
  containerSize: () => Promise<number>,
): Promise<[string, number][]> {
  const keys: [string, number][] = [];
  if (options.accountRatelimit && container && !obj && (method === 'PUT' || method === 'DELETE')) {
    keys.push([`ratelimit/${account}`, options.accountRatelimit]);
  }
  if (container && obj && WRITES.has(method)) {
    const rate = getMaxRate(options.containerRatelimits, await containerSize());
    if (rate) keys.push([`ratelimit/${account}/${container}`, rate]);
  }
  if (container && !obj && method === 'GET') {
    const rate = getMaxRate(options.containerListingRatelimits, await containerSize());
    if (rate) keys.push([`ratelimit_listing/${account}/${container}`, rate]);
  }
  if (WRITES.has(method) && globalRatelimit) {
    // Python's float(): a number, `inf` or `nan` (which is not above 0); anything else is ignored.
    const t = globalRatelimit.trim().toLowerCase();
    const rate = /^[+-]?(inf|infinity)$/.test(t) ? (t.startsWith('-') ? -Infinity : Infinity) : t !== '' && !/[^0-9eE.+_-]/.test(t) ? Number(t.replace(/_/g, '')) : NaN;
    if (rate > 0) keys.push([`ratelimit/global-write/${account}`, rate]);
  }
  return keys;
}

export function ratelimit(options: RatelimitOptions, ctx: FilterContext, clock: RatelimitClock = REAL_CLOCK): MiddlewareHandler<ProxyEnv> {
  const { state } = ctx;
  const logger: Logger = ctx.logger.child({ log_route: 'ratelimit' });
  if (options.accountWhitelist.length) {
    logger.warn('Option account_whitelist is deprecated. Use an internal client to POST a `X-Account-Sysmeta-Global-Write-Ratelimit: WHITELIST` header to the specific accounts instead.');
  }
  if (options.accountBlacklist.length) {
    logger.warn('Option account_blacklist is deprecated. Use an internal client to POST a `X-Account-Sysmeta-Global-Write-Ratelimit: BLACKLIST` header to the specific accounts instead.');
  }
  const limiter = new RateLimiter(options, clock);
  // Swift's env['swift.ratelimit.handled']: a request is limited once, however often it passes.
  const handled = new WeakSet<Request>();
  let warnedNoCache = false;

  return async (c, next) => {
    const cache = state.cache as SharedCache | undefined;
    if (!cache) {
      if (!warnedNoCache) logger.warn('Warning: Cannot ratelimit without a memcached client');
      warnedNoCache = true;
      return next();
    }
    let parts: (string | undefined)[];
    try {
      parts = splitPath(unquoteUtf8(rawPathOf(c)), 1, 4, true);
    } catch {
      return next();
    }
    const [version, account, container, obj] = parts as [string, string | undefined, string | undefined, string | undefined];
    if (!state.constraints.valid_api_versions.includes(version) || !account) return next();
    if (handled.has(c.req.raw)) return next();
    handled.add(c.req.raw);
    const method = c.req.method;

    const accountInfo = await fetchAccountInfo(state, c, account);
    const globalRatelimit = accountInfo.sysmeta['global-write-ratelimit'];
    if (options.accountWhitelist.includes(account) || globalRatelimit === 'WHITELIST') return next();
    if (options.accountBlacklist.includes(account) || globalRatelimit === 'BLACKLIST') {
      logger.error(`Returning 497 because of blacklisting: ${account}`);
      await limiter.sleep(BLACKLIST_SLEEP_SECONDS);
      return swiftResponse(497, { body: 'Your account has been blacklisted', method });
    }

    const containerSize = async () => (await fetchContainerInfo(state, c, account, container!)).objectCount;
    for (const [key, maxRate] of await keysFor(options, method, account, container || undefined, obj || undefined, globalRatelimit, containerSize)) {
      let sleep: number;
      try {
        sleep = await limiter.sleepTime(cache, key, maxRate);
      } catch (err) {
        if (err instanceof MaxSleepTimeHitError) {
          const path = [account, container, ...(obj ? [obj] : [])].join('/');
          logger.error(`Returning 498 for ${method} to ${path}. Ratelimit (Max Sleep) ${err.message}`);
          return swiftResponse(498, { body: 'Slow down', method });
        }
        // Swift's MemcacheConnectionError: the cache is not there, so no limit.
        logger.warn({ err }, `ratelimit: cache unavailable for ${key}`);
        continue;
      }
      if (options.logSleepTimeSeconds && sleep > options.logSleepTimeSeconds) {
        logger.warn(`Ratelimit sleep log: ${sleep} for ${account}/${container ?? 'None'}/${obj ?? 'None'}`);
      }
      if (sleep > 0) await limiter.sleep(sleep);
    }
    return next();
  };
}

/** The Python float /info shows for a rate (`10.0`, not `10`). */
const pyFloat = (x: number) => new PyNumber(x, pyFloatRepr(x), false);

function accountList(conf: Section, key: string): string[] {
  return (conf[key] ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
}

export const ratelimitFilter = defineFilter<RatelimitOptions>({
  name: 'ratelimit',
  options: (conf) => ({
    accountRatelimit: floatOption(conf, 'account_ratelimit', 0),
    maxSleepTimeSeconds: floatOption(conf, 'max_sleep_time_seconds', 60),
    logSleepTimeSeconds: floatOption(conf, 'log_sleep_time_seconds', 0),
    clockAccuracy: positive(intOption(conf, 'clock_accuracy', 1000), 'clock_accuracy'),
    rateBufferSeconds: intOption(conf, 'rate_buffer_seconds', 5),
    accountWhitelist: accountList(conf, 'account_whitelist'),
    accountBlacklist: accountList(conf, 'account_blacklist'),
    containerRatelimits: interpretConfLimits(conf, 'container_ratelimit_'),
    containerListingRatelimits: interpretConfLimits(conf, 'container_listing_ratelimit_'),
  }),
  // register_swift_info('ratelimit', ...): not every limit is shown (as in Swift).
  info: (o) => ({
    ratelimit: {
      account_ratelimit: pyFloat(o.accountRatelimit),
      max_sleep_time_seconds: pyFloat(o.maxSleepTimeSeconds),
      container_ratelimits: o.containerRatelimits.map(([size, rate]) => [size, pyFloat(rate)]),
      container_listing_ratelimits: o.containerListingRatelimits.map(([size, rate]) => [size, pyFloat(rate)]),
    },
  }),
  create: (options, ctx) => ratelimit(options, ctx),
});

function positive(n: number, key: string): number {
  if (n <= 0) throw new ConfigError(`ratelimit: ${key} must be a positive integer, got ${n}`);
  return n;
}
