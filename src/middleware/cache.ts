/**
 * cache (Swift's `memcache` filter, egg:swift#memcache): gives everything after it the shared
 * cache (Swift's env['swift.cache']) for account/container info and auth tokens. sluice keeps it
 * in-process (lru-cache), shared by the proxy workers through their primary; `memcache_servers`
 * needs a memcached client that sluice does not have yet, so it is refused at start-up rather
 * than silently ignored. Without this filter, info is cached for one request only and tempauth
 * refuses to start, as Swift's TempAuth needs memcache.
 */
import { ConfigError } from '../proxy/config';
import { defineFilter } from '../proxy/filter';

export interface CacheOptions {
  /** Swift's memcache_servers; refused until a memcached backend exists. */
  memcacheServers: string[];
}

export const cacheFilter = defineFilter<CacheOptions>({
  name: 'memcache',
  options: (conf) => {
    const memcacheServers = (conf.memcache_servers ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (memcacheServers.length) {
      throw new ConfigError('[filter:cache] memcache_servers is not supported yet: remove it to use the in-process cache');
    }
    return { memcacheServers };
  },
  create: (_options, ctx) => {
    // Chosen once, at start-up; the proxy application and the filters read it from the state.
    ctx.state.cache = ctx.state.cacheBackend;
    return async (_c, next) => next();
  },
});
