/**
 * Assembles the proxy: the `[pipeline:main]` filters in order, then the proxy application.
 * Each pipeline element is found by the egg name its section's `use` names (PasteDeploy's way,
 * so a section may be called anything), in a FilterRegistry. As Swift's
 * modify_wsgi_pipeline does, the required filters are inserted when missing (catch_errors
 * first, gatekeeper right after it, listing_formats before auth, copy and versioned_writes
 * after auth), and a pipeline naming a filter sluice does not have is a start-up error that
 * names it. Each filter gets `app`, which runs subrequests through the filters after it and the
 * proxy application (Swift's `self.app`).
 */
import { Hono, type MiddlewareHandler } from 'hono';
import pino, { type Logger } from 'pino';
import type { ProxyEnv } from './context';
import { ConfigError, trackReads, type ProxyConfig, type Section } from './config';
import type { ProxyState } from './state';
import { proxyServer } from './proxy-server';
import { filterName, filterRegistry, type FilterRegistry } from './filter';
import { pipelineSubrequest } from './subrequest';
import { backendErrorLogger } from './backend-error-log';

/** One filter of the effective pipeline: its egg name and its section (empty when inserted). */
export interface PipelineEntry {
  /** The name as the pipeline spells it (the section name), or the egg name for an inserted filter. */
  name: string;
  egg: string;
  /** Its section ([DEFAULT] included), or [DEFAULT] alone for a required filter Swift inserts. */
  conf: Section;
}

function insertAfter(filters: string[], after: readonly string[], egg: string): void {
  const at = Math.max(-1, ...after.map((f) => filters.indexOf(f)));
  filters.splice(at + 1, 0, egg);
}

/**
 * The filters' egg names with Swift's required filters inserted where they are missing
 * (swift.proxy.server.required_filters), the app last.
 */
export function effectivePipeline(eggs: readonly string[]): string[] {
  const filters = eggs.map(filterName);
  if (!filters.includes('catch_errors')) filters.unshift('catch_errors');
  if (!filters.includes('gatekeeper')) filters.splice(filters.indexOf('catch_errors') + 1, 0, 'gatekeeper');
  if (!filters.includes('listing_formats')) insertAfter(filters, ['catch_errors', 'gatekeeper', 'proxy_logging', 'memcache'], 'listing_formats');
  // Swift puts copy after auth (and staticweb), so its subrequests are authorized, and before
  // the quota, large-object and versioning filters, so those see the copy's GET and PUT.
  if (!filters.includes('copy')) insertAfter(filters, ['staticweb', 'tempauth', 'keystoneauth', 'catch_errors', 'gatekeeper', 'proxy_logging'], 'copy');
  // versioned_writes is required too, after auth and copy; without allow_versioned_writes it
  // only honours a container server's legacy `versions`.
  if (!filters.includes('versioned_writes')) {
    insertAfter(filters, ['slo', 'dlo', 'container_quotas', 'account_quotas', 'copy', 'staticweb', 'tempauth', 'keystoneauth', 'catch_errors', 'gatekeeper', 'proxy_logging'], 'versioned_writes');
  }
  // CORS headers on actual responses belong to the controllers in Swift (cors_validation), so
  // the filter always sits last, right before the app, and decorates only what they answer.
  if (!filters.includes('cors')) filters.push('cors');
  return filters;
}

/** The configured pipeline resolved to egg names, with the required filters inserted. */
export function pipelineEntries(config: ProxyConfig): PipelineEntry[] {
  const named = config.pipeline.slice(0, -1).map((name) => ({ name, egg: filterName(config.uses[name] ?? name) }));
  const eggs = effectivePipeline(named.map((e) => e.egg));
  const remaining = [...named];
  return eggs.map((egg) => {
    const i = remaining.findIndex((e) => e.egg === egg);
    if (i < 0) return { name: egg, egg, conf: { ...config.defaults } };
    const [entry] = remaining.splice(i, 1);
    return { name: entry!.name, egg, conf: config.filters[entry!.name] ?? { ...config.defaults } };
  });
}

export interface BuildOptions {
  logger?: Logger;
  accessLogger?: Logger;
  /** Where filters are looked up (default: the registry src/middleware/index.ts fills). */
  registry?: FilterRegistry;
  /**
   * Log unknown and shadowed options (default true). Proxy workers built from one file leave it
   * to one of them, so each is logged once, not once per worker.
   */
  configWarnings?: boolean;
}

export interface ProxyPipeline {
  app: Hono<ProxyEnv>;
  /** Runs every filter's close hook (user stores, timers), once. */
  close(): Promise<void>;
}

export function buildProxyApp(config: ProxyConfig, state: ProxyState, opts: BuildOptions = {}): ProxyPipeline {
  const registry = opts.registry ?? filterRegistry;
  const logger = opts.logger ?? pino({ name: 'proxy-server' });
  const checks: (() => void)[] = [];
  const ctx = { state, logger, accessLogger: opts.accessLogger ?? logger.child({ log_route: 'proxy-access' }), whenBuilt: (check: () => void) => void checks.push(check) };
  const appName = config.pipeline[config.pipeline.length - 1]!;
  const appEgg = filterName(config.uses[appName] ?? appName);
  if (appEgg !== 'proxy' && appEgg !== 'proxy_server') throw new ConfigError(`${config.source}: the pipeline must end with the proxy application (egg:swift#proxy), not "${appName}"`);
  const entries = pipelineEntries(config);
  const missing = entries.filter((e) => !registry.get(e.egg));
  if (missing.length) {
    const what = missing.map((e) => (e.name === e.egg ? `"${e.name}"` : `"${e.name}" (egg:swift#${e.egg})`)).join(', ');
    throw new ConfigError(`${config.source}: unknown filter ${what} in [pipeline:main]; sluice has ${registry.names().join(', ')}`);
  }
  const app = new Hono<ProxyEnv>();
  const handlers: MiddlewareHandler<ProxyEnv>[] = [];
  const closers: (() => void | Promise<void>)[] = [];
  const proxyApp = proxyServer(state);
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  // Swift's proxy logs each failed backend request: this pipeline's logger does, until it closes.
  // (A state made for a unit test may have no backend client.)
  if (state.backend) closers.push(state.backend.observe({ backendError: backendErrorLogger(logger) }));
  const configWarnings = opts.configWarnings ?? true;
  for (const [name, options] of configWarnings ? Object.entries(config.shadowed) : []) {
    // PasteDeploy gives [DEFAULT] the last word; Swift operators write `set <option> = ...`.
    const section = name === appName ? `app:${name}` : `filter:${name}`;
    logger.warn(`${config.source}: [${section}] ${options.join(', ')} ${options.length > 1 ? 'are' : 'is'} also set in [DEFAULT], whose value wins as in Swift (write "set ${options[0]} = ..." to override it)`);
  }
  // A section used twice (proxy-logging, first and last) is reported once.
  const reported = new Set<string>();
  try {
    entries.forEach((entry, i) => {
      const tracked = trackReads(entry.conf, config.defaults);
      const built = registry.get(entry.egg)!.build(tracked.section, { ...ctx, app: pipelineSubrequest(() => [...handlers.slice(i + 1), proxyApp]) });
      if (built.close) closers.push(built.close);
      Object.assign(state.info, built.info);
      const unread = !configWarnings || reported.has(entry.name) ? [] : tracked.unread();
      reported.add(entry.name);
      if (unread.length) logger.warn(`${config.source}: [filter:${entry.name}] ignores unknown option${unread.length > 1 ? 's' : ''} ${unread.join(', ')}`);
      handlers.push(built.handler);
      app.use('*', built.handler);
    });
    for (const check of checks) check();
  } catch (err) {
    void closeAll();
    throw err;
  }
  // catch_errors turns errors into Swift's 500; Hono must not answer (or print) them itself.
  app.onError((err) => {
    throw err;
  });
  app.all('*', proxyApp);
  return { app, close: closeAll };
}
