/**
 * Runs the proxy on node:http through @hono/node-server. The raw request (its undecoded
 * target and ordered headers) reaches the pipeline as the `incoming` binding.
 */
import { createAdaptorServer } from '@hono/node-server';
import { createServer, ServerResponse, type IncomingMessage, type RequestListener, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { buildProxyApp, type ProxyPipeline } from './pipeline';
import type { FilterRegistry } from './filter';
import { stdoutProxyLog } from './logger';
import { loadProxyConfig, floatOption, intOption, trackReads, type ProxyConfig } from './config';
import { createProxyState, type ProxyState, type Rings } from './state';
import type { SwiftConf } from '../common/swift-conf';
import type { SharedCache } from './info-cache';

/**
 * Node 20's ServerResponse.flushHeaders() sends the header block as UTF-8, so header values
 * holding raw UTF-8 bytes (latin-1 strings, e.g. `X-Object-Meta-*: café`) go out encoded twice.
 * @hono/node-server flushes headers before a streamed body whose first chunk is not ready yet,
 * which is how object GETs are sent. Flushing with an empty Buffer write keeps the header block
 * latin-1, byte for byte.
 */
export class Latin1HeaderResponse extends ServerResponse {
  override flushHeaders(): void {
    this.write(Buffer.alloc(0));
  }
}

/**
 * Swift takes a raw `\` in a request path as part of the name (eventlet does not touch it);
 * @hono/node-server refuses such targets with a bare 400. Percent-encoding it first names the
 * same object once the path is unquoted, so the request reaches the pipeline unchanged.
 */
export function encodeBackslashes(req: IncomingMessage): void {
  const url = req.url;
  if (!url || !url.includes('\\')) return;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path.includes('\\')) req.url = path.replace(/\\/g, '%5C') + (q < 0 ? '' : url.slice(q));
}

/** Bytes of the request line as eventlet reads it (`METHOD SP target SP HTTP/x.y CRLF`). */
export function requestLineLength(req: IncomingMessage): number {
  // Node hands the target over as latin-1, one character per byte.
  return `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`.length;
}

/**
 * What eventlet does before Swift's proxy sees a request: a request line of max_request_line
 * bytes or more is 414 with an empty body, and the connection is closed. Without it a long
 * percent-encoded UTF-8 name (up to 12 bytes a character) passes the proxy and fails at the
 * storage servers instead ("Header value too long: Referer").
 */
function frontDoor(maxRequestLine: number, app: RequestListener): RequestListener {
  return (req, res) => {
    if (requestLineLength(req) >= maxRequestLine) {
      res.writeHead(414, 'Request URI Too Long', { Connection: 'close', 'Content-Length': 0 });
      res.end();
      return;
    }
    encodeBackslashes(req);
    app(req, res);
  };
}

/** How often Node looks for connections past their header timeout (bounds how late one is cut). */
export function connectionsCheckingInterval(headerTimeoutMs: number): number {
  if (headerTimeoutMs <= 0) return 30_000; // no header timeout: Node's default, nothing to look for
  return Math.min(1000, Math.max(50, Math.round(headerTimeoutMs / 10)));
}

/**
 * The client side's timeouts (options of [app:proxy-server], [DEFAULT] included):
 * - `client_timeout` (Swift's, default 60): eventlet's socket_timeout, so a kept-alive
 *   connection idle that long is closed; the object controller applies it to every pause in a
 *   PUT body (408), as Swift's proxy does.
 * - `header_timeout` (sluice only, default client_timeout): the whole request line and headers
 *   must arrive within it. eventlet times out each read only, which a client sending a header
 *   byte now and then (slowloris) never trips; a connection that sends nothing is cut at the
 *   same time as in Swift.
 * Node's requestTimeout stays off: it would cut a long upload that is streaming steadily.
 */
export function clientTimeouts(conf: Record<string, string>, clientTimeout: number): Pick<ServerOptions, 'keepAliveTimeout' | 'headersTimeout' | 'requestTimeout' | 'connectionsCheckingInterval'> {
  // As eventlet's socket_timeout: `client_timeout = 0` is the default there, not "never".
  const idleMs = Math.round((clientTimeout || 60) * 1000);
  const headerMs = Math.round(floatOption(conf, 'header_timeout', clientTimeout || 60) * 1000);
  return {
    keepAliveTimeout: idleMs,
    headersTimeout: headerMs,
    requestTimeout: 0,
    connectionsCheckingInterval: connectionsCheckingInterval(headerMs),
  };
}

export interface ProxyServerOptions {
  /** Parsed configuration, or a path to proxy-server.conf; neither: built-in defaults. */
  config?: ProxyConfig | string;
  host?: string;
  port?: number;
  swiftDir?: string;
  swiftConf?: SwiftConf;
  rings?: Rings;
  cache?: SharedCache;
  logger?: Logger;
  accessLogger?: Logger;
  /** Where the pipeline's filters are found (default: the registry src/middleware/index.ts fills). */
  registry?: FilterRegistry;
  /** Log the configuration's unknown and shadowed options (default true). */
  configWarnings?: boolean;
}

export interface RunningProxy {
  url: string;
  host: string;
  port: number;
  server: Server;
  state: ProxyState;
  /** Stops serving; with `graceMs`, requests in flight may finish first (see close() below). */
  close(graceMs?: number): Promise<void>;
}

export async function startProxyServer(opts: ProxyServerOptions = {}): Promise<RunningProxy> {
  const config = typeof opts.config === 'object' ? opts.config : loadProxyConfig(opts.config);
  // The app's options as read, to name the ones nothing reads (as the pipeline does for filters).
  const appConf = trackReads(config.app, config.defaults);
  const state = createProxyState({ app: appConf.section, swiftDir: opts.swiftDir, swiftConf: opts.swiftConf, rings: opts.rings, cache: opts.cache });
  // Swift's run_wsgi reads these from the app's conf ([DEFAULT] included).
  const host = opts.host ?? appConf.section.bind_ip ?? '127.0.0.1';
  const port = opts.port ?? intOption(appConf.section, 'bind_port', 8080);
  const ownLog = opts.logger ? undefined : stdoutProxyLog();
  let pipeline: ProxyPipeline;
  let timeouts: ReturnType<typeof clientTimeouts>;
  try {
    timeouts = clientTimeouts(appConf.section, state.options.clientTimeout);
    pipeline = buildProxyApp(config, state, { logger: opts.logger ?? ownLog!.logger, accessLogger: opts.accessLogger, registry: opts.registry, configWarnings: opts.configWarnings });
  } catch (err) {
    await state.close();
    await ownLog?.flush();
    throw err;
  }
  const app = pipeline.app;
  // `workers` and `graceful_shutdown_timeout` are read by the process that runs the servers (src/cli).
  const unread = opts.configWarnings === false ? [] : appConf.unread().filter((k) => k !== 'workers' && k !== 'graceful_shutdown_timeout');
  if (unread.length) {
    const appName = config.pipeline[config.pipeline.length - 1];
    (opts.logger ?? ownLog!.logger).warn(`${config.source}: [app:${appName}] ignores unknown option${unread.length > 1 ? 's' : ''} ${unread.join(', ')}`);
  }
  const server = createAdaptorServer({
    fetch: app.fetch,
    serverOptions: { maxHeaderSize: 256 * 1024, ...timeouts, ServerResponse: Latin1HeaderResponse as typeof ServerResponse },
    createServer: ((options: ServerOptions, listener: RequestListener) => createServer(options, frontDoor(state.constraints.max_request_line, listener))) as typeof createServer,
  }) as Server;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // A busy port: release what the pipeline opened before the caller reports it.
    await pipeline.close();
    await state.close();
    await ownLog?.flush();
    throw err;
  }
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    host,
    port: actual,
    server,
    state,
    /**
     * Stops accepting connections and ends idle kept-alive ones. With `graceMs` > 0 requests in
     * flight (long streamed downloads and uploads too) may finish, each then ending its
     * connection, and whatever is still open after `graceMs` is cut; 0 cuts everything now.
     */
    async close(graceMs = 0) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if (!(graceMs > 0)) {
          server.closeAllConnections();
          return;
        }
        // A request that comes on a kept-alive connection while draining is served, and its
        // connection then ended (Connection: close), so the drain is not kept open by clients.
        server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
          if (!res.headersSent) res.setHeader('Connection', 'close');
        });
        // Node 20 keeps a kept-alive connection open after the response in flight when closing
        // began has ended; such connections are idle from then on, and are ended here.
        const sweep = setInterval(() => server.closeIdleConnections(), 100);
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        server.once('close', () => {
          clearInterval(sweep);
          clearTimeout(cut);
        });
      });
      await pipeline.close();
      await state.close();
      await ownLog?.flush();
    },
  };
}
