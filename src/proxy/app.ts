/**
 * Assembles the proxy: the `[pipeline:main]` filters in order, then the proxy application.
 * As in Swift, the required filters are inserted when missing (catch_errors first, gatekeeper
 * right after it, listing_formats before auth, copy after auth), and a pipeline naming a filter
 * sluice does not have is a start-up error that names it. Each filter gets `app`, which runs
 * subrequests through the filters after it and the proxy application (Swift's `self.app`).
 */
import { Hono, type MiddlewareHandler } from 'hono';
import pino, { type Logger } from 'pino';
import type { ProxyEnv } from './context';
import { ConfigError, type ProxyConfig, type Section } from './config';
import type { ProxyState } from './state';
import { proxyServer } from './proxy-server';
import { catchErrors } from '../middleware/catch-errors';
import { gatekeeper } from '../middleware/gatekeeper';
import { healthcheck } from '../middleware/healthcheck';
import { listingFormats } from '../middleware/listing-formats';
import { proxyLogging } from '../middleware/proxy-logging';
import { infoCacheFilter } from '../middleware/cache';
import { containerQuotasFilter } from '../middleware/container-quotas';
import { accountQuotasFilter } from '../middleware/account-quotas';
import { corsFilter } from '../middleware/cors';
import { bulkFilter } from '../middleware/bulk';
import { tempurlFilter } from '../middleware/tempurl';
import { tempauthFilter } from '../middleware/tempauth/index';
import { copyFilter } from '../middleware/copy';
import { symlink } from '../middleware/symlink';
import { versionedWrites } from '../middleware/versioned-writes';
import { pipelineSubrequest, type Subrequest } from './subrequest';

export interface FilterContext {
  state: ProxyState;
  logger: Logger;
  accessLogger: Logger;
  /** Runs subrequests through the filters after this one and the proxy application (Swift's `self.app`). */
  app: Subrequest;
}

export type FilterFactory = (conf: Section, ctx: FilterContext) => MiddlewareHandler<ProxyEnv>;

/** Filters by their pipeline name (Swift's egg names, with `-` and `_` both accepted). */
export const FILTERS: Record<string, FilterFactory> = {
  catch_errors: (conf, ctx) => catchErrors(conf, (err, tx) => ctx.logger.error({ err, transaction_id: tx }, 'unhandled error')),
  gatekeeper: (conf) => gatekeeper(conf),
  healthcheck: (conf) => healthcheck(conf),
  proxy_logging: (conf, ctx) => proxyLogging(conf, ctx.accessLogger),
  cache: (conf, ctx) => infoCacheFilter(conf, ctx.state),
  listing_formats: () => listingFormats(),
  tempauth: tempauthFilter,
  copy: copyFilter,
  symlink: (conf, ctx) => symlink(conf, ctx.state, ctx.app),
  versioned_writes: (conf, ctx) => versionedWrites(conf, ctx.state, ctx.app),
  container_quotas: containerQuotasFilter,
  account_quotas: accountQuotasFilter,
  cors: corsFilter,
  bulk: bulkFilter,
  tempurl: tempurlFilter,
};

export function filterKey(name: string): string {
  return name.replace(/-/g, '_');
}

/** Registers extra filters (auth and feature middleware add themselves here). */
export function registerFilter(name: string, factory: FilterFactory): void {
  FILTERS[filterKey(name)] = factory;
}

/** The pipeline with Swift's required filters inserted where they are missing. */
export function effectivePipeline(pipeline: string[]): string[] {
  const filters = pipeline.slice(0, -1).map(filterKey);
  const app = pipeline[pipeline.length - 1]!;
  if (!filters.includes('catch_errors')) filters.unshift('catch_errors');
  if (!filters.includes('gatekeeper')) filters.splice(filters.indexOf('catch_errors') + 1, 0, 'gatekeeper');
  if (!filters.includes('listing_formats')) {
    const after = Math.max(...['catch_errors', 'gatekeeper', 'proxy_logging', 'cache'].map((f) => filters.indexOf(f)));
    filters.splice(after + 1, 0, 'listing_formats');
  }
  // Swift puts copy after auth (and staticweb), so its subrequests are authorized, and before
  // the quota, large-object and versioning filters, so those see the copy's GET and PUT.
  if (!filters.includes('copy')) {
    const after = Math.max(-1, ...['staticweb', 'tempauth', 'keystoneauth', 'catch_errors', 'gatekeeper', 'proxy_logging'].map((f) => filters.indexOf(f)));
    filters.splice(after + 1, 0, 'copy');
  }
  // versioned_writes is required too (swift/proxy/server.py), after auth and copy; without
  // allow_versioned_writes it only honours a container server's legacy `versions`.
  if (!filters.includes('versioned_writes')) {
    const after = Math.max(-1, ...['slo', 'dlo', 'container_quotas', 'account_quotas', 'copy', 'staticweb', 'tempauth', 'keystoneauth', 'catch_errors', 'gatekeeper', 'proxy_logging'].map((f) => filters.indexOf(f)));
    filters.splice(after + 1, 0, 'versioned_writes');
  }
  // CORS headers on actual responses belong to the controllers in Swift (cors_validation), so
  // the filter always sits last, right before the app, and decorates only what they answer.
  if (!filters.includes('cors')) filters.push('cors');
  return [...filters, app];
}

export interface BuildOptions {
  logger?: Logger;
  accessLogger?: Logger;
}

export function buildProxyApp(config: ProxyConfig, state: ProxyState, opts: BuildOptions = {}): Hono<ProxyEnv> {
  const logger = opts.logger ?? pino({ name: 'proxy-server' });
  const ctx = { state, logger, accessLogger: opts.accessLogger ?? logger.child({ log_route: 'proxy-access' }) };
  const pipeline = effectivePipeline(config.pipeline);
  const appName = pipeline[pipeline.length - 1]!;
  if (filterKey(appName) !== 'proxy_server') throw new ConfigError(`${config.source}: the pipeline must end with proxy-server, not "${appName}"`);
  const app = new Hono<ProxyEnv>();
  const handlers: MiddlewareHandler<ProxyEnv>[] = [];
  const proxyApp = proxyServer(state);
  pipeline.slice(0, -1).forEach((name, i) => {
    const factory = FILTERS[filterKey(name)];
    if (!factory) throw new ConfigError(`${config.source}: unknown filter "${name}" in [pipeline:main]`);
    const conf = config.filters[name] ?? config.filters[name.replace(/_/g, '-')] ?? { ...config.defaults };
    const handler = factory(conf, { ...ctx, app: pipelineSubrequest(() => [...handlers.slice(i + 1), proxyApp]) });
    handlers.push(handler);
    app.use('*', handler);
  });
  // catch_errors turns errors into Swift's 500; Hono must not answer (or print) them itself.
  app.onError((err) => {
    throw err;
  });
  app.all('*', proxyApp);
  return app;
}
