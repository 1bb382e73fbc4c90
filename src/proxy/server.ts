/**
 * Runs the proxy on node:http through @hono/node-server. The raw request (its undecoded
 * target and ordered headers) reaches the pipeline as the `incoming` binding.
 */
import { createAdaptorServer, type Http2Bindings, type HttpBindings } from '@hono/node-server';
import { createServer, ServerResponse, type IncomingMessage, type RequestListener, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { buildProxyApp, type ProxyPipeline } from './pipeline';
import type { FilterRegistry } from './filter';
import { stdoutProxyLog } from './logger';
import { loadProxyConfig, floatOption, intOption, trackReads, type ProxyConfig } from './config';
import { createProxyState, type ProxyState, type Rings } from './state';
import type { SwiftConf } from '../common/swift-conf';
import type { SharedCache } from './info-cache';
import type { Constraints } from '../common/constraints';
import { swobReason } from '../common/http-status';
import { MAX_REQUEST_LINE, RESPONSE_414 } from '../common/eventlet-limits';
export { RESPONSE_414 } from '../common/eventlet-limits';
import { swiftHeaderName } from '../compat/title-case';
import { installRequestLineStep, recoverParseError, stopParsing, takeRequestLineLength, whenIdle } from './request-line';
import { ALREADY_SENT, sendDirectBody } from './direct-body';

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

  /**
   * An answer sent before the request's body has all arrived (a 413 past max_file_size, a 401
   * to an upload) ends its connection. Node would otherwise read and drop the rest to reuse the
   * connection, as eventlet does (Input.discard) with no bound on the total: a body that never
   * ends, trickled within client_timeout, would hold the connection for ever.
   */
  override writeHead(status: number, reasonOrHeaders?: unknown, maybeHeaders?: unknown): this {
    if (!this.headersSent && !this.req.complete) this.shouldKeepAlive = false;
    // swob's reason phrases (413 Request Entity Too Large, 500 Internal Error, 498 Rate
    // Limited, ...) where Node's differ, unless the caller gave one.
    const given = typeof reasonOrHeaders === 'string' ? reasonOrHeaders : undefined;
    const reason = given ?? swobReason(status);
    const spelled = swiftCaseHeaders(given === undefined ? reasonOrHeaders : maybeHeaders, this.req.method === 'OPTIONS');
    this.connectionAsEventlet(spelled);
    const write = super.writeHead as (status: number, ...rest: unknown[]) => this;
    return reason === undefined ? write.call(this, status, spelled.headers) : write.call(this, status, reason, spelled.headers);
  }

  /**
   * eventlet's Connection header: `close` when the connection ends after this answer,
   * `keep-alive` when it stays open and the client asked for it with exactly that, and none
   * otherwise (never Node's `Keep-Alive: timeout=...`).
   */
  private connectionAsEventlet(given: SpelledHeaders): void {
    if (given.connection || this.hasHeader('connection')) return;
    const asked = this.req.headers.connection?.toLowerCase();
    // An HTTP/1.0 client keeps its connection only with exactly `keep-alive`, and only for an
    // answer with a length (Swift's parse_request; eventlet cannot chunk for it).
    if (this.req.httpVersion === '1.0' && (asked !== 'keep-alive' || !(given.contentLength || this.hasHeader('content-length')))) this.shouldKeepAlive = false;
    if (!this.shouldKeepAlive) return;
    if (asked === 'keep-alive') this.setHeader('Connection', 'keep-alive');
    else this.removeHeader('connection');
  }
}

/**
 * Headers of a CORS preflight that Swift's proxy sets in a plain dict (BaseController.OPTIONS
 * replaces swob's HeaderKeyDict with it), so they go out in lower case; the rest of that answer
 * (Allow, Access-Control-Allow-Methods re-set by the copy middleware) is title case.
 */
const PREFLIGHT_VERBATIM = new Set(['access-control-allow-origin', 'access-control-max-age', 'access-control-allow-headers', 'vary']);

/** writeHead's headers argument respelled, and whether it names Connection and Content-Length. */
export interface SpelledHeaders {
  headers: unknown;
  connection: boolean;
  contentLength: boolean;
}

/**
 * Response header names as swob spells them (see swiftHeaderName); Node's own are left alone.
 * One pass over writeHead's headers in any of Node's forms: an object, a flat
 * [name, value, name, value, ...] list, or a list of pairs.
 */
export function swiftCaseHeaders(headers: unknown, preflight: boolean): SpelledHeaders {
  let connection = false;
  let contentLength = false;
  const spell = (name: string): string => {
    const lower = name.toLowerCase();
    if (lower === 'connection') connection = true;
    else if (lower === 'content-length') contentLength = true;
    if (preflight && PREFLIGHT_VERBATIM.has(lower)) return name;
    return swiftHeaderName(name);
  };
  let out: unknown = headers;
  if (Array.isArray(headers)) {
    if (headers.length && Array.isArray(headers[0])) out = headers.map(([k, v]: [string, unknown]) => [spell(k), v]);
    else out = headers.map((x: unknown, i) => (i % 2 === 0 ? spell(String(x)) : x));
  } else if (headers && typeof headers === 'object') {
    const spelled: Record<string, unknown> = {};
    for (const k in headers) if (Object.hasOwn(headers, k)) spelled[spell(k)] = (headers as Record<string, unknown>)[k];
    out = spelled;
  }
  return { headers: out, connection, contentLength };
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

/**
 * An HTTP/1.0 request may come without Host; Swift then builds URLs from SERVER_NAME and
 * SERVER_PORT (the address the request came in on). @hono/node-server needs a Host to build the
 * request's URL and answers a bare 400 without one, so the local address stands in, as in Swift.
 * (HTTP/1.1 without Host is refused by Node's parser, as RFC 9112 requires.)
 */
export function supplyHost(req: IncomingMessage): void {
  if (req.headers.host !== undefined) return;
  const { localAddress, localPort } = req.socket;
  if (!localAddress) return;
  req.headers.host = `${localAddress.includes(':') ? `[${localAddress}]` : localAddress}:${localPort}`;
}

/**
 * Bytes of the request line as eventlet reads it, terminator included: as the client sent it
 * (counted before raw bytes were percent-encoded, see request-line.ts), else rebuilt as
 * `METHOD SP target SP HTTP/x.y CRLF`.
 */
export function requestLineLength(req: IncomingMessage, raw?: number): number {
  // Node hands the target over as latin-1, one character per byte.
  return raw ?? `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`.length;
}

/** eventlet's answer to a request line of url_length_limit bytes or more, byte for byte. */


/** eventlet's MAX_TOTAL_HEADER_SIZE: the header lines' bytes together (Swift leaves it as is). */
export const MAX_TOTAL_HEADER_SIZE = 65536;

/** The limits eventlet, as Swift's proxy sets it up, puts on a request's head. */
export interface HeadLimits {
  /** A request line this long or longer (CRLF included) is 414 (eventlet's url_length_limit). */
  maxRequestLine: number;
  /** A header line this long or longer is 400 (Swift sets eventlet's MAX_HEADER_LINE to max_header_size). */
  maxHeaderLine: number;
  /** More bytes than this over all header lines is 400. */
  maxTotal: number;
  /**
   * More lines than this (the blank one ending the block included) is 431: Swift's
   * bufferedhttp sets http.client's _MAXHEADERS to 1.6 × MAX_HEADER_COUNT, and
   * MAX_HEADER_COUNT is max_meta_count + 36 + extra_header_count.
   */
  maxLines: number;
}

export function headLimits(c: Constraints): HeadLimits {
  return {
    maxRequestLine: MAX_REQUEST_LINE,
    maxHeaderLine: c.max_header_size,
    maxTotal: MAX_TOTAL_HEADER_SIZE,
    maxLines: (c.max_meta_count + 36 + Math.max(c.extra_header_count, 0)) * 1.6,
  };
}

/** Node's byte limit on a request's head: whatever eventlet would let through fits under it. */
export const nodeMaxHeaderSize = (l: HeadLimits): number => l.maxRequestLine + l.maxTotal + 1024;

interface HeadRefusal {
  status: number;
  reason: string;
  /**
   * The body: http.server's send_error page for the 431; for eventlet's own refusals, which
   * have none, sluice says which header and which limit (text/plain).
   */
  body: string;
  contentType?: string;
}

/**
 * eventlet's checks on a request's head, in its order: the request line, then line by line the
 * line's length, the running total, and (http.client's) the line count. Node hands over the
 * headers parsed, so each line is measured as `Name: value` CRLF, the form clients send.
 */
export function refuseHead(req: IncomingMessage, l: HeadLimits, rawLineLength?: number): HeadRefusal | undefined {
  if (requestLineLength(req, rawLineLength) >= l.maxRequestLine) return { status: 414, reason: 'Request URI Too Long', body: '' };
  const raw = req.rawHeaders;
  let total = 0;
  let lines = 0;
  for (let i = 0; i <= raw.length; i += 2) {
    // Past the last header: the blank line that ends the block.
    const line = i < raw.length ? raw[i]!.length + raw[i + 1]!.length + 4 : 2;
    if (line >= l.maxHeaderLine) {
      const body = `Header line too long: ${raw[i]} is ${line} bytes with its name; a header line must be under ${l.maxHeaderLine} bytes`;
      return { status: 400, reason: 'Header Line Too Long', body, contentType: 'text/plain' };
    }
    total += line;
    if (total > l.maxTotal) return { status: 400, reason: 'Headers Too Large', body: `Headers too large: more than ${l.maxTotal} bytes of header lines`, contentType: 'text/plain' };
    if (++lines > l.maxLines) {
      const body = `<html><h1>Error response</h1><p>Error code: 431</p><p>Message: Too many headers.</p></html>\n`;
      return { status: 431, reason: 'Too many headers', body, contentType: 'text/html;charset=utf-8' };
    }
  }
  return undefined;
}

/**
 * What eventlet (with Swift's http_protocol) does before Swift's proxy sees a request, see
 * refuseHead: the answer, and the connection closed. Without the request-line check a long
 * percent-encoded UTF-8 name (up to 12 bytes a character) passes the proxy and fails at the
 * storage servers instead ("Header value too long: Referer"); without the others Node would
 * take 256 KiB of headers and silently drop those past its 2000th.
 */
function frontDoor(limits: HeadLimits, app: RequestListener): RequestListener {
  return (req, res) => {
    const refused = refuseHead(req, limits, takeRequestLineLength(req.socket));
    if (refused?.status === 414) {
      answerRaw(res, RESPONSE_414);
      return;
    }
    if (refused) {
      const type: Record<string, string> = refused.contentType ? { 'Content-Type': refused.contentType } : {};
      res.writeHead(refused.status, refused.reason, { ...type, Connection: 'close', 'Content-Length': Buffer.byteLength(refused.body) });
      res.end(refused.body);
      return;
    }
    encodeBackslashes(req);
    supplyHost(req);
    // Node's parser, reading the socket itself, hands a request over before it has parsed the
    // rest of that read, and the pipeline may run ahead of it: a body that came with the head
    // would count as not yet arrived (see Latin1HeaderResponse.writeHead). Such a request
    // starts once the read is parsed, as it did when the parser read through data events.
    if (!req.complete && hasBody(req)) setImmediate(() => app(req, res));
    else app(req, res);
  };
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Writes `bytes` as the whole answer to `res` once it is this response's turn on the connection
 * (after the answers to requests pipelined before it), then closes the connection.
 */
function answerRaw(res: ServerResponse, bytes: Buffer): void {
  const send = (socket: Duplex) => socket.end(bytes, () => socket.destroy());
  if (res.socket) send(res.socket);
  else res.once('socket', send);
}

/** Connections whose refusal waits for the answers to requests pipelined before the refused one. */
const refusing = new WeakSet<object>();

/**
 * Node's parser errors, answered as Node would but for a head past nodeMaxHeaderSize: eventlet
 * would have refused it line by line with a 400, never Node's 431. Which 400 is told from the
 * bytes in hand: the line they end in is max_header_size or longer (Header Line Too Long), or
 * not (Headers Too Large); a request line that long alone gets eventlet's 414. Bytes eventlet
 * takes and Node's parser refuses go on to the pipeline instead (recoverParseError), and a
 * refusal waits for the answers to requests pipelined before it.
 */
export function clientErrorHandler(limits: HeadLimits): (err: NodeJS.ErrnoException & { rawPacket?: Buffer; bytesParsed?: number }, socket: Duplex) => void {
  return (err, socket) => {
    // What eventlet takes and Node's parser refuses goes on through a RequestStream (request-line.ts).
    const recovered = recoverParseError(err, socket as Socket, limits.maxRequestLine, nodeMaxHeaderSize(limits));
    if (recovered === 'resumed' || recovered === 'ignored' || refusing.has(socket)) return;
    if (recovered === 'request-line-too-long') {
      refusing.add(socket);
      whenIdle(socket as Socket, () => socket.end(RESPONSE_414, () => socket.destroy()));
      return;
    }
    const inFlight = (socket as unknown as { _httpMessage?: ServerResponse })._httpMessage;
    if (!socket.writable || (inFlight && inFlight.headersSent)) {
      socket.destroy();
      return;
    }
    let status = '400 Bad Request';
    let body = '';
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      const seen = err.rawPacket?.subarray(0, err.bytesParsed ?? err.rawPacket.length);
      const lineSoFar = seen ? seen.length - (seen.lastIndexOf(0x0a) + 1) : 0;
      const lineTooLong = lineSoFar >= limits.maxHeaderLine;
      status = lineTooLong ? '400 Header Line Too Long' : '400 Headers Too Large';
      body = lineTooLong ? `Header line too long: a header line must be under ${limits.maxHeaderLine} bytes` : `Headers too large: more than ${limits.maxTotal} bytes of header lines`;
    } else if (err.code === 'HPE_INVALID_TRANSFER_ENCODING') {
      // swob's message_length text; Node cannot frame such a body, so the request ends here.
      body = 'Invalid Transfer-Encoding header value';
    } else if (err.code === 'HPE_UNEXPECTED_CONTENT_LENGTH') {
      body = 'Conflicting Content-Length headers: a request has one length';
    } else if (err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') status = '413 Payload Too Large';
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') status = '408 Request Timeout';
    const type = body ? 'Content-Type: text/plain\r\n' : '';
    const answer = `HTTP/1.1 ${status}\r\n${type}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    // A request refused behind one still being answered is answered after it, as eventlet
    // would, one request at a time: closing now would cut that request (an upload) short.
    // (Not a client that left mid-request: HPE_INVALID_EOF_STATE.)
    if (inFlight && err.code?.startsWith('HPE_') && err.code !== 'HPE_INVALID_EOF_STATE') {
      refusing.add(socket);
      stopParsing(socket as Socket);
      whenIdle(socket as Socket, () => socket.end(answer, () => socket.destroy()));
      return;
    }
    socket.end(answer, () => socket.destroy());
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
  const limits = headLimits(state.constraints);
  const server = createAdaptorServer({
    // A streamed object body the pipeline left untouched is piped by the server (direct-body.ts).
    fetch: async (req: Request, env: HttpBindings | Http2Bindings) => {
      const res = await app.fetch(req, env);
      return env?.outgoing instanceof ServerResponse && sendDirectBody(res, env.outgoing) ? ALREADY_SENT : res;
    },
    serverOptions: { maxHeaderSize: nodeMaxHeaderSize(limits), ...timeouts, ServerResponse: Latin1HeaderResponse as typeof ServerResponse },
    createServer: ((options: ServerOptions, listener: RequestListener) => createServer(options, frontDoor(limits, listener))) as typeof createServer,
  }) as Server;
  // Node keeps only the first 2000 headers; refuseHead must see at least one past the limit.
  server.maxHeadersCount = Math.max(2000, Math.ceil(limits.maxLines) + 1);
  server.on('clientError', clientErrorHandler(limits));
  installRequestLineStep(server, limits.maxRequestLine, nodeMaxHeaderSize(limits));
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
