/**
 * proxy-logging: one JSON access-log line per client request (pino). Swift lists the filter
 * twice in its pipeline (to also log subrequests made by middleware); sluice logs once, at the
 * outermost instance. Tokens, keys and signatures never reach the log: sensitive headers and
 * query parameters are replaced by `***` unless `reveal_sensitive_prefix` (default 0; Swift
 * shows 16 characters) allows a prefix. It also sends Swift's per-request StatsD metrics
 * (src/proxy/request-metrics.ts) and hands the same figures to the Prometheus filter.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { ProxyEnv } from '../proxy/context';
import { intOption } from '../proxy/config';
import { defineFilter } from '../proxy/filter';
import { rawPathOf, rawQueryOf } from '../proxy/request-target';
import { replaceResponse } from '../proxy/response';
import { asByteString } from '../compat/bytes';
import { unquotePlusBytes } from '../compat/quote';
import { RequestMetrics, requestMetricsOptions, type RequestMetricsOptions } from '../proxy/request-metrics';

const SENSITIVE_HEADERS = ['x-auth-token', 'x-storage-token', 'x-service-token', 'x-auth-key', 'x-storage-pass'];
// Compared in lower case: Swift registers temp_url_sig (tempurl) and Signature, X-Amz-Signature (s3api).
const SENSITIVE_PARAMS = new Set(['temp_url_sig', 'swiftinfo_sig', 'multipart-manifest-sig', 'signature', 'x-amz-signature']);

export function obscure(value: string | undefined, reveal: number): string | undefined {
  if (value === undefined || value === '') return value;
  if (reveal > 0 && value.length > reveal * 2) return `${value.slice(0, reveal)}...`;
  return '***';
}

/**
 * The query string with sensitive parameter values obscured, the rest as sent. A parameter is
 * known by its name as swob's params decode it (so `temp%5Furl_sig` is caught too), in any case.
 */
export function obscureQuery(rawQuery: string, reveal: number): string {
  if (!rawQuery) return '';
  return rawQuery
    .split('&')
    .map((p) => {
      const eq = p.indexOf('=');
      if (eq < 0) return p;
      const name = unquotePlusBytes(asByteString(p.slice(0, eq)));
      return SENSITIVE_PARAMS.has(name.toLowerCase()) ? `${p.slice(0, eq)}=${obscure(p.slice(eq + 1), reveal)}` : p;
    })
    .join('&');
}

/**
 * A Referer with its query's signatures obscured. Swift logs the Referer as sent; a page opened
 * through a temp URL sends its signature there, so sluice obscures it as in the request's own query.
 */
export function obscureReferer(referer: string | undefined, reveal: number): string | undefined {
  const q = referer?.indexOf('?') ?? -1;
  if (referer === undefined || q < 0) return referer;
  const hash = referer.indexOf('#', q);
  const end = hash < 0 ? referer.length : hash;
  return referer.slice(0, q + 1) + obscureQuery(referer.slice(q + 1, end), reveal) + referer.slice(end);
}

export interface ProxyLoggingOptions {
  /** Characters of a token or signature shown before `...` (Swift's reveal_sensitive_prefix; 0 hides all). */
  revealSensitivePrefix?: number;
  /** StatsD and valid methods for Swift's per-request metrics (log_statsd_*, access_log_statsd_*). */
  metrics?: RequestMetricsOptions;
}

export function proxyLogging(options: ProxyLoggingOptions, logger: Logger, metrics?: RequestMetrics): MiddlewareHandler<ProxyEnv> {
  const reveal = options.revealSensitivePrefix ?? 0;
  const LOGGED = Symbol.for('sluice.proxy-logging');
  return async (c, next) => {
    const incoming = c.env?.incoming as (NonNullable<ProxyEnv['Bindings']['incoming']> & { [LOGGED]?: boolean }) | undefined;
    if (!incoming || incoming[LOGGED]) return next();
    incoming[LOGGED] = true;
    const start = performance.now();
    const startTime = Date.now() / 1000;
    const headers = c.get('headers');
    // Read before next(): later middleware may rename or drop these headers.
    const token = headers.get('x-auth-token') ?? headers.get('x-storage-token');
    const referer = obscureReferer(headers.get('referer'), reveal);
    const userAgent = headers.get('user-agent');
    const clientEtag = headers.get('etag');
    const query = obscureQuery(rawQueryOf(c), reveal);
    const measure = metrics?.start(c, incoming, rawPathOf(c));
    let status = 500;
    let answered = false;
    try {
      await next();
      status = c.res.status;
      answered = true;
      measure?.headersReady(status);
    } finally {
      const method = c.req.method;
      const res = c.res as Response | undefined;
      const declared = res?.headers.get('content-length');
      let bytesSent = method === 'HEAD' ? 0 : Number(declared ?? 0) || 0;
      // A streamed body of unknown length (listings, bulk results) is counted as it goes out.
      // `body` is read last: on @hono/node-server's light Response it builds the full web
      // Response (and a ReadableStream), which loses the server's fast path for small bodies.
      if (answered && declared == null && method !== 'HEAD' && res?.body) {
        let counted = 0;
        bytesSent = 0;
        const counter = new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, ctl) {
            counted += chunk.byteLength;
            bytesSent = counted;
            ctl.enqueue(chunk);
          },
        });
        replaceResponse(c, new Response(res.body.pipeThrough(counter), { status: res.status, statusText: res.statusText, headers: res.headers }));
      }
      const write = (clientDisconnected: boolean) => {
        logger.info({
          client_ip: headers.get('x-forwarded-for')?.split(',')[0]?.trim() ?? incoming.socket?.remoteAddress,
          remote_addr: incoming.socket?.remoteAddress,
          method,
          path: rawPathOf(c) + (query ? `?${query}` : ''),
          protocol: `HTTP/${incoming.httpVersion}`,
          // Swift logs 499 when the client went away before the whole response was sent.
          status: clientDisconnected ? 499 : status,
          referer,
          user_agent: userAgent,
          auth_token: obscure(token, reveal),
          bytes_recvd: Number(headers.get('content-length') ?? 0) || 0,
          bytes_sent: bytesSent,
          client_etag: clientEtag,
          transaction_id: c.get('transId'),
          remote_user: c.get('remoteUser')?.split(',')[1],
          // sluice: why the auth policy refused the request (which rule, which ACL entries).
          authz: status === 401 || status === 403 ? c.get('authzDenial') : undefined,
          start_time: startTime,
          request_time: (performance.now() - start) / 1000,
        });
        measure?.done(clientDisconnected ? 499 : status, bytesSent);
      };
      // As Swift, the line is written once the response body has gone out (or the client left),
      // so request_time covers the transfer.
      const outgoing = c.env?.outgoing;
      if (outgoing && !outgoing.writableFinished && !outgoing.destroyed) {
        outgoing.once('close', () => write(!outgoing.writableFinished));
      } else {
        write(false);
      }
    }
  };
}

export { SENSITIVE_HEADERS };

export const proxyLoggingFilter = defineFilter<ProxyLoggingOptions>({
  name: 'proxy_logging',
  options: (conf) => ({ revealSensitivePrefix: intOption(conf, 'reveal_sensitive_prefix', 0), metrics: requestMetricsOptions(conf) }),
  create: (options, ctx) => {
    const metrics = new RequestMetrics(options.metrics ?? requestMetricsOptions({}), ctx.state, ctx.logger);
    return { handler: proxyLogging(options, ctx.accessLogger, metrics), close: async () => metrics.close() };
  },
});
