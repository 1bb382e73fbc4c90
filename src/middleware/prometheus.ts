/**
 * prometheus (`use = egg:sluice#prometheus`, sluice only; Swift has no such filter): answers
 * `GET <metrics_path>` (default `/metrics`) with the proxy's figures in Prometheus' text format
 * and passes every other request on. Opt-in by listing it in the pipeline, like healthcheck:
 * put it before proxy-logging and the auth filter, since scrapers send no token, and keep the
 * path reachable only from the monitoring network. With `workers`, a scrape answers for every
 * worker (their sums, collected through the primary), whichever worker it reaches.
 */
import type { MiddlewareHandler } from 'hono';
import type { ProxyEnv } from '../proxy/context';
import { ConfigError, listOption } from '../proxy/config';
import { defineFilter } from '../proxy/filter';
import { rawPathOf } from '../proxy/request-target';
import { swiftResponse } from '../proxy/response';
import { exposition, PrometheusMetrics } from '../proxy/prometheus-metrics';
import { figuresFromPrimary, inClusterWorker, shareWorkerFigures } from '../proxy/metrics-cluster';

export interface PrometheusOptions {
  /** The path scrapers GET (metrics_path, default /metrics). */
  metricsPath: string;
  /** Histogram buckets in seconds (buckets, comma-separated); prom-client's defaults when unset. */
  buckets: number[] | undefined;
}

export function prometheusOptions(conf: Record<string, string>): PrometheusOptions {
  const metricsPath = conf.metrics_path || '/metrics';
  if (!metricsPath.startsWith('/')) throw new ConfigError(`[filter:prometheus] metrics_path must start with "/", got ${JSON.stringify(metricsPath)}`);
  const raw = listOption(conf, 'buckets');
  const buckets = raw.map(Number);
  if (buckets.some((b) => !Number.isFinite(b) || b <= 0)) throw new ConfigError(`[filter:prometheus] buckets must be positive numbers of seconds, got ${JSON.stringify(conf.buckets)}`);
  return { metricsPath, buckets: buckets.length ? [...new Set(buckets)].sort((a, b) => a - b) : undefined };
}

export const prometheusFilter = defineFilter<PrometheusOptions>({
  name: 'prometheus',
  options: prometheusOptions,
  create: (options, ctx) => {
    const local = new PrometheusMetrics(ctx.state, options.buckets);
    const unobserve = ctx.state.metrics.observe(local);
    const unshare = shareWorkerFigures(() => local.figures());
    const handler: MiddlewareHandler<ProxyEnv> = async (c, next) => {
      const method = c.req.method;
      if ((method !== 'GET' && method !== 'HEAD') || rawPathOf(c) !== options.metricsPath) return next();
      let processes;
      try {
        processes = inClusterWorker() ? await figuresFromPrimary() : [await local.figures()];
      } catch (err) {
        ctx.logger.warn(`prometheus: ${(err as Error).message}`);
        return swiftResponse(503, { body: 'Metrics unavailable', contentType: 'text/plain', method });
      }
      const { text, contentType } = await exposition(processes);
      return swiftResponse(200, { body: text, contentType, method });
    };
    return {
      handler,
      close: () => {
        unobserve();
        unshare();
      },
    };
  },
});
