/**
 * The per-request metrics of Swift's proxy_logging: for each client request under /v1/,
 * `<type>.<method>.<status>.timing` and `.xfer` (bytes received + sent), for GETs
 * `<type>.<method>.<status>.first-byte.timing`, and for object requests the same under
 * `object.policy.<index>.<method>.<status>`; sent through proxy-logging's own StatsD client
 * (its access_log_statsd_* / log_statsd_* options, tail prefix `proxy-server`) and handed to
 * the proxy's metrics hub for the Prometheus filter.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { ProxyContext } from './context';
import type { Section } from './config';
import type { ProxyState } from './state';
import type { ContainerInfo } from './info-cache';
import { containerCacheKey } from './info-cache';
import { accessStatsdConfig, proxyStatsd } from './metrics';
import { parseProxyPath } from './request-target';
import type { StatsdConfig, SwiftStatsdClient } from '../common/statsd';

const DEFAULT_VALID_METHODS = 'GET,HEAD,POST,PUT,DELETE,COPY,OPTIONS';

/**
 * get_metric_name_type: under `/v1/`, account, container or object by the number of slashes of
 * the path once its `%2F`s are slashes (Swift counts on PATH_INFO, which the server unquoted);
 * anything else (auth, /info, other API versions) has no metrics.
 */
export function statType(rawPath: string): string | undefined {
  const path = rawPath.replace(/%2f/gi, '/');
  if (!path.startsWith('/v1/')) return undefined;
  const slashes = path.replace(/^\/+|\/+$/g, '').split('/').length - 1;
  return slashes >= 3 ? 'object' : [undefined, 'account', 'container'][slashes];
}

/**
 * The storage policy an object request ran under: the response's X-Backend-Storage-Policy-Index,
 * else the policy of the container the object controller looked up (Swift's controller puts
 * that into the request's headers before authorizing GET, HEAD, PUT and DELETE; for POST only
 * once authorization and the metadata checks passed on an existing container). Only policies
 * swift.conf defines count, as Swift's POLICIES.get_by_index.
 */
function policyOf(c: ProxyContext, state: ProxyState, rawPath: string, method: string, status: number): string | undefined {
  const fromResponse = c.res?.headers.get('x-backend-storage-policy-index');
  let index: number | undefined = fromResponse != null && /^\d+$/.test(fromResponse.trim()) ? Number(fromResponse) : undefined;
  if (index === undefined) {
    const parsed = parseProxyPath(rawPath, state.constraints.valid_api_versions);
    if (parsed instanceof Response || !parsed.container) return undefined;
    const info = c.get('infoCache')?.get(containerCacheKey(parsed.account, parsed.container)) as ContainerInfo | undefined;
    if (!info) return undefined;
    if (method === 'POST' && (!(info.status >= 200 && info.status < 300) || status === 400 || status === 401 || status === 403)) return undefined;
    index = info.storagePolicy;
  }
  return state.swiftConf.policies.some((p) => p.index === index) ? String(index) : undefined;
}

/**
 * Counts the request body bytes the proxy took in (Swift's InputProxy.bytes_received): every
 * chunk Node's parser hands the request stream; a body left unread and dumped after the
 * response is not counted, as Swift counts only what the application read.
 */
function countReceived(incoming: IncomingMessage): () => number {
  // What the parser handed over before this filter ran (a small body in the headers' packet).
  let received = incoming.readableLength;
  const push = incoming.push;
  incoming.push = function (this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding) {
    if (chunk && typeof (chunk as Buffer).length === 'number') received += (chunk as Buffer).length;
    return push.call(this, chunk, encoding);
  };
  return () => received;
}

export interface RequestMeasure {
  /** Call once the response headers are ready (proxy_logging's time to first byte, GETs only). */
  headersReady(status: number): void;
  /** Call once the response has gone out; `status` as logged (499 for a client that left). */
  done(status: number, bytesSent: number): void;
}

/** proxy_logging's metric options, read from its section ([DEFAULT] included). */
export interface RequestMetricsOptions {
  statsd: StatsdConfig | undefined;
  /** access_log_statsd_valid_http_methods / log_statsd_valid_http_methods: others are BAD_METHOD. */
  validMethods: string[];
}

export function requestMetricsOptions(conf: Section): RequestMetricsOptions {
  const methods = conf.access_log_statsd_valid_http_methods ?? conf.log_statsd_valid_http_methods ?? DEFAULT_VALID_METHODS;
  return {
    statsd: accessStatsdConfig(conf),
    validMethods: methods
      .split(',')
      .map((m) => m.trim().toUpperCase())
      .filter(Boolean),
  };
}

export class RequestMetrics {
  private readonly statsd: SwiftStatsdClient | undefined;
  private readonly validMethods: Set<string>;

  constructor(
    options: RequestMetricsOptions,
    private readonly state: ProxyState,
    logger: Logger,
  ) {
    this.statsd = proxyStatsd(options.statsd, logger);
    this.validMethods = new Set(options.validMethods);
  }

  /** Starts measuring a client request; undefined when neither StatsD nor an observer wants it. */
  start(c: ProxyContext, incoming: IncomingMessage, rawPath: string): RequestMeasure | undefined {
    if (!this.statsd && !this.state.metrics.observed) return undefined;
    const type = statType(rawPath);
    if (type === undefined) return undefined;
    const started = performance.now();
    const received = countReceived(incoming);
    const method = this.validMethods.has(c.req.method) ? c.req.method : 'BAD_METHOD';
    const names = (status: number, policy: string | undefined) => {
      const base = `${type}.${method}.${status}`;
      return policy === undefined ? [base] : [base, `${type}.policy.${policy}.${method}.${status}`];
    };
    const policyFor = (status: number) => (type === 'object' ? policyOf(c, this.state, rawPath, c.req.method, status) : undefined);
    return {
      headersReady: (status) => {
        if (c.req.method !== 'GET') return;
        const ms = performance.now() - started;
        const policy = policyFor(status);
        for (const name of names(status, policy)) this.statsd?.timing(`${name}.first-byte.timing`, ms);
        this.state.metrics.firstByte({ type, method, status, policy, seconds: ms / 1000 });
      },
      done: (status, bytesSent) => {
        const ms = performance.now() - started;
        const bytes = received() + bytesSent;
        const policy = policyFor(status);
        for (const name of names(status, policy)) {
          this.statsd?.timing(`${name}.timing`, ms);
          this.statsd?.updateStats(`${name}.xfer`, bytes);
        }
        this.state.metrics.request({ type, method, status, policy, seconds: ms / 1000, bytes });
      },
    };
  }

  close(): Promise<void> | undefined {
    return this.statsd?.close();
  }
}
