/**
 * cache (Swift's `memcache` filter, egg:swift#memcache): gives everything after it the shared
 * cache (Swift's env['swift.cache']) for account/container info and auth tokens.
 *
 * With memcached servers configured, as Swift's MemcacheMiddleware finds them (`memcache_servers`
 * in the filter section, else in `<swift_dir>/memcache.conf`'s [memcache] section, whose options
 * are the base the filter's own override), each proxy process talks to memcached itself
 * (src/proxy/memcache-cache.ts), keys placed by Swift's ring. Without any, sluice keeps the cache
 * in-process (shared by the proxy workers through their primary), where Swift would try
 * 127.0.0.1:11211. Without this filter, info is cached for one request only and tempauth
 * refuses to start, as Swift's TempAuth needs memcache.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig } from '../compat/config-parser';
import { configTrue } from '../compat/truthy';
import { ConfigError, floatOption, intOption, type Section } from '../proxy/config';
import { defineFilter } from '../proxy/filter';
import { MemcacheCache, type MemcacheOptions } from '../proxy/memcache-cache';
import { DEFAULT_TRIES } from '../common/memcache-ring';

export interface CacheOptions {
  /** Undefined: the in-process cache. */
  memcache: Omit<MemcacheOptions, 'logger'> | undefined;
}

/** Options MemcacheMiddleware takes from the filter section or memcache.conf. */
const MEMCACHE_OPTIONS = [
  'connect_timeout',
  'io_timeout',
  'pool_timeout',
  'tries',
  'tls_enabled',
  'tls_cafile',
  'tls_certfile',
  'tls_keyfile',
  'error_suppression_interval',
  'error_suppression_limit',
  'item_size_warning_threshold',
  'memcache_serialization_support',
];

/** Python's int() of an option, or `dflt` where Swift catches the ValueError. */
function lenientInt(raw: string | undefined, dflt: number): number {
  if (raw === undefined || !/^\s*[-+]?\d+\s*$/.test(raw)) return dflt;
  return Number(raw);
}

/** `<swift_dir>/memcache.conf`'s [memcache] items ([DEFAULT] included), read as ConfigParser() reads it. */
function memcacheConf(swiftDir: string): Section | undefined {
  const path = join(swiftDir, 'memcache.conf');
  if (!existsSync(path)) return undefined;
  return readConfig(path, { interpolation: 'basic' }).sections.get('memcache') ?? {};
}

/** MemcacheMiddleware.__init__'s option handling. */
export function cacheOptionsFrom(conf: Section): CacheOptions {
  let servers = conf.memcache_servers;
  let maxConns = lenientInt(conf.memcache_max_connections ?? conf.max_connections, 0);
  let base: Section = {};
  if (!servers || maxConns <= 0) {
    const file = memcacheConf(conf.swift_dir ?? '/etc/swift');
    if (file) {
      base = file;
      if (!servers) servers = file.memcache_servers;
      if (maxConns <= 0) maxConns = lenientInt(file.memcache_max_connections, maxConns);
    }
  }
  const list = (servers ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) return { memcache: undefined };
  // The filter's own options are more specific than memcache.conf's. pool_timeout,
  // item_size_warning_threshold and memcache_serialization_support are read but have no
  // effect: memjs multiplexes its connections (nothing waits for one), values are JSON.
  const options: Section = {};
  for (const k of MEMCACHE_OPTIONS) {
    const v = conf[k] ?? base[k];
    if (v !== undefined) options[k] = v;
  }
  floatOption(options, 'pool_timeout', 1.0);
  if (configTrue(options.tls_enabled)) {
    throw new ConfigError('[filter:cache] tls_enabled: memcached over TLS is not supported by sluice (memjs has no TLS)');
  }
  return {
    memcache: {
      servers: list,
      maxConnections: maxConns > 0 ? maxConns : 2,
      connectTimeout: floatOption(options, 'connect_timeout', 0.3),
      ioTimeout: floatOption(options, 'io_timeout', 2.0),
      tries: intOption(options, 'tries', DEFAULT_TRIES),
      errorLimitTime: floatOption(options, 'error_suppression_interval', 60),
      errorLimitCount: floatOption(options, 'error_suppression_limit', 10),
    },
  };
}

export const cacheFilter = defineFilter<CacheOptions>({
  name: 'memcache',
  options: cacheOptionsFrom,
  create: (options, ctx) => {
    if (!options.memcache) {
      // Chosen once, at start-up; the proxy application and the filters read it from the state.
      ctx.state.cache = ctx.state.cacheBackend;
      return async (_c, next) => next();
    }
    const cache = new MemcacheCache({ ...options.memcache, logger: ctx.logger });
    ctx.state.cache = cache;
    return { handler: async (_c, next) => next(), close: () => cache.close() };
  },
});
