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
import { loadProxyConfig, intOption, trackReads, type ProxyConfig } from './config';
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
  close(): Promise<void>;
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
  try {
    pipeline = buildProxyApp(config, state, { logger: opts.logger ?? ownLog!.logger, accessLogger: opts.accessLogger, registry: opts.registry, configWarnings: opts.configWarnings });
  } catch (err) {
    await state.close();
    await ownLog?.flush();
    throw err;
  }
  const app = pipeline.app;
  // `workers` is read by `sluice proxy` before any server starts.
  const unread = opts.configWarnings === false ? [] : appConf.unread().filter((k) => k !== 'workers');
  if (unread.length) {
    const appName = config.pipeline[config.pipeline.length - 1];
    (opts.logger ?? ownLog!.logger).warn(`${config.source}: [app:${appName}] ignores unknown option${unread.length > 1 ? 's' : ''} ${unread.join(', ')}`);
  }
  const server = createAdaptorServer({
    fetch: app.fetch,
    serverOptions: { maxHeaderSize: 256 * 1024, keepAliveTimeout: 30_000, requestTimeout: 0, ServerResponse: Latin1HeaderResponse as typeof ServerResponse },
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
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pipeline.close();
      await state.close();
      await ownLog?.flush();
    },
  };
}
