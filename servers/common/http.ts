/**
 * HTTP plumbing shared by the account, container and object servers: Swift-style responses,
 * backend path parsing and validation, device checks, and an in-process server runner.
 *
 * The storage servers use node:http directly rather than Hono: they stream object bodies
 * both ways and must control status lines and headers byte for byte as Swift's servers do.
 */
import { MAX_REQUEST_LINE, RESPONSE_414 } from '../../src/common/eventlet-limits';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { defaultBody, HTML_CONTENT_TYPE } from '../../src/common/http-status';
import { InvalidPathError, splitPath } from '../../src/common/path';
import { InvalidTimestampError, Timestamp } from '../../src/common/timestamp';
import { asByteString, type ByteString } from '../../src/compat/bytes';
import { HttpException } from '../../src/compat/http-exception';
import { InvalidUtf8Error, quote, unquoteUtf8 } from '../../src/compat/quote';

export type ResponseHeaders = Record<string, string | number | string[]>;

export interface SendOptions {
  headers?: ResponseHeaders;
  body?: string | Buffer;
  contentType?: string;
  /** Template variables for swob's default bodies (507's drive name). */
  vars?: Record<string, string>;
}

/**
 * Sends a complete (non-streamed) response the way swob would: a body-less response whose
 * status has an explanation gets the default HTML body; HEAD responses keep Content-Length but
 * send no body.
 */
export function send(req: IncomingMessage, res: ServerResponse, status: number, opts: SendOptions = {}): void {
  let body = opts.body;
  let contentType = opts.contentType;
  if (body === undefined) {
    // swob builds the default body only for non-HEAD requests: a HEAD error has length 0.
    body = req.method === 'HEAD' ? '' : defaultBody(status, opts.vars);
    if (body) contentType = HTML_CONTENT_TYPE;
  }
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const headers: ResponseHeaders = { ...opts.headers };
  if (contentType && !hasHeader(headers, 'content-type')) headers['Content-Type'] = contentType;
  if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = HTML_CONTENT_TYPE;
  if (!hasHeader(headers, 'content-length')) headers['Content-Length'] = buf.length;
  res.writeHead(status, headers as Record<string, string | number | string[]>);
  if (req.method === 'HEAD' || status === 204 || status === 304) res.end();
  else res.end(buf);
}

function hasHeader(h: ResponseHeaders, name: string): boolean {
  for (const k of Object.keys(h)) if (k.toLowerCase() === name) return true;
  return false;
}

/** An HttpException thrown by a handler, as the server loop answers it (a given body is text/plain by default). */
export function sendError(req: IncomingMessage, res: ServerResponse, err: HttpException): void {
  send(req, res, err.status, { headers: err.headers, body: err.body, contentType: err.body !== undefined ? (err.contentType ?? 'text/plain') : undefined });
}

export interface BackendPath {
  device: string;
  partition: string;
  account: string;
  container?: string;
  object?: string;
}

/** The request target (Node's latin-1 view of its bytes) split into the raw path and the raw query. */
export function splitTarget(req: IncomingMessage): { rawPath: ByteString; rawQuery: ByteString } {
  const url = asByteString(req.url ?? '/');
  const q = url.indexOf('?');
  return q < 0 ? { rawPath: url, rawQuery: asByteString('') } : { rawPath: asByteString(url.slice(0, q)), rawQuery: asByteString(url.slice(q + 1)) };
}

/** How a server answers a path its check_utf8 refuses: Swift's servers word and type the 412 differently. */
export interface PathCheck {
  /** check_utf8(internal=True): NUL allowed (reserved names start with one). */
  internal: boolean;
  body: string;
  contentType: string;
}

/**
 * The object server's: check_utf8(internal=True) as in Swift 2.30 (object versioning stores
 * versions under NUL-led names); the reserved-namespace rules are validateInternalObject's.
 */
export const OBJECT_PATH_CHECK: PathCheck = { internal: true, body: 'Invalid UTF8 or contains NULL', contentType: HTML_CONTENT_TYPE };

/** The raw request path as text, or the server's 412 when its bytes fail check_utf8. */
export function requestPathText(rawPath: ByteString, check: PathCheck): string {
  try {
    return unquoteUtf8(rawPath, check.internal);
  } catch (err) {
    if (err instanceof InvalidUtf8Error) throw new HttpException(412, check.body, {}, check.contentType);
    throw err;
  }
}

/**
 * Splits a decoded `/<device>/<partition>/<account>[/<container>[/<object>]]` as Swift's
 * split_and_validate_path does (at least device, partition and account): 400 for a path
 * split_path refuses, or a bad device or partition.
 */
export function splitBackendPath(path: string, minSegs: number, maxSegs: number, restWithLast = false): BackendPath {
  let segs: (string | undefined)[];
  try {
    segs = splitPath(path, minSegs, maxSegs, restWithLast);
  } catch (err) {
    if (err instanceof InvalidPathError) throw new HttpException(400, err.message, {}, 'text/plain');
    throw err;
  }
  const [device, partition, account, container, object] = segs;
  if (!device || device.includes('/') || device === '.' || device === '..') {
    throw new HttpException(400, `Invalid device: ${quote(device ?? '')}`, {}, 'text/plain');
  }
  if (!partition || partition.includes('/') || partition === '.' || partition === '..') {
    throw new HttpException(400, `Invalid partition: ${quote(partition ?? '')}`, {}, 'text/plain');
  }
  return { device, partition, account: account!, container: container || undefined, object: object || undefined };
}

/** Swift's validate_internal_*: a name in the reserved namespace starts with the reserved byte, not merely holds it. */
export function checkReservedName(name: string | undefined, type: 'account' | 'container' | 'object'): void {
  if (name && name.includes('\0') && !name.startsWith('\0')) {
    throw new HttpException(400, `Invalid reserved-namespace ${type}`, {}, HTML_CONTENT_TYPE);
  }
}

/**
 * Swift's validate_internal_obj: each name is reserved only from its first byte, and reserved
 * objects live only in reserved containers and the other way round (auto-created accounts,
 * `.expiring_objects` ..., hold any name).
 */
export function validateInternalObject(account: string, container: string, object: string, autoCreatePrefix = '.'): void {
  checkReservedName(account, 'account');
  checkReservedName(container, 'container');
  if (!object || account.startsWith(autoCreatePrefix) || account === '.misplaced_objects') return;
  checkReservedName(object, 'object');
  const reservedContainer = container.startsWith('\0');
  if (reservedContainer && !object.startsWith('\0')) throw new HttpException(400, 'Invalid user-namespace object in reserved-namespace container', {}, HTML_CONTENT_TYPE);
  if (object.startsWith('\0') && !reservedContainer) throw new HttpException(400, 'Invalid reserved-namespace object in user-namespace container', {}, HTML_CONTENT_TYPE);
}

/**
 * The device directory if it exists (mount_check = false semantics), else 507 as Swift answers
 * for an unmounted or missing drive. Device names must be what quote_plus leaves unchanged.
 */
export function checkDevice(devices: string, device: string): string {
  if (!/^[A-Za-z0-9_.\-~]+$/.test(device)) throw new HttpException(507, undefined, {}, undefined);
  const path = join(devices, device);
  try {
    if (statSync(path).isDirectory()) return path;
  } catch {
    // fall through to 507
  }
  throw new HttpException(507);
}

/** X-Timestamp for writes: 400 with Swift's messages when missing or malformed. */
export function requireTimestamp(req: IncomingMessage, header = 'x-timestamp'): Timestamp {
  const raw = req.headers[header];
  if (raw === undefined || Array.isArray(raw)) throw new HttpException(400, 'Missing X-Timestamp header', {}, 'text/plain');
  try {
    return Timestamp.parse(raw);
  } catch (err) {
    if (err instanceof InvalidTimestampError) {
      throw new HttpException(400, `X-Timestamp should be a UNIX timestamp float value; was '${raw}'`, {}, 'text/plain');
    }
    throw err;
  }
}

/**
 * A header value as a single byte string, as Node hands it over (Node joins duplicates for most
 * headers; we take the first).
 */
export function header(req: IncomingMessage, name: string): ByteString | undefined {
  const v = req.headers[name];
  return v === undefined ? undefined : asByteString(Array.isArray(v) ? v[0]! : v);
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export interface ListenOptions {
  host?: string;
  port?: number;
  /** Name for error logs, e.g. `account-server`. */
  name: string;
  onClose?: () => Promise<void> | void;
}

/**
 * Runs a handler behind node:http with Swift-like error handling: HttpException becomes its
 * response; anything else is logged and becomes a bare 500 with no internals in the body.
 */
export async function listen(handler: Handler, opts: ListenOptions): Promise<RunningServer> {
  const server = createServer({ maxHeaderSize: 256 * 1024, keepAliveTimeout: 30_000, requestTimeout: 0 }, (req, res) => {
    // eventlet's url_length_limit, as under Swift's storage servers: the backend path
    // (/<device>/<partition>/...) is longer than the client's, so a proxy in front passes on a
    // 414 for some lines its own front door served.
    if (req.method!.length + req.url!.length + req.httpVersion.length + 9 >= MAX_REQUEST_LINE) {
      req.socket.end(RESPONSE_414);
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (err instanceof HttpException) {
          sendError(req, res, err);
          return;
        }
        process.stderr.write(`${opts.name}: ERROR ${req.method} ${req.url?.split('?')[0]}: ${(err as Error)?.stack ?? String(err)}\n`);
        send(req, res, 500);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = opts.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`,
    host,
    port: addr.port,
    server,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await opts.onClose?.();
    },
  };
}
