/**
 * cache (Swift's `memcache` filter, egg name `cache`): chooses where shared state lives (info
 * cache, later auth tokens). sluice keeps it in-process per worker (lru-cache) unless
 * `memcache_servers` is set, which a later issue backs with memcached; until then that option
 * is refused at start-up rather than silently ignored.
 */
import type { MiddlewareHandler } from 'hono';
import type { ProxyEnv } from '../proxy/context';
import { ConfigError, type Section } from '../proxy/config';
import type { ProxyState } from '../proxy/state';

export function infoCacheFilter(conf: Section, _state: ProxyState): MiddlewareHandler<ProxyEnv> {
  if (conf.memcache_servers) {
    throw new ConfigError('[filter:cache] memcache_servers is not supported yet: remove it to use the in-process cache');
  }
  return async (_c, next) => next();
}
