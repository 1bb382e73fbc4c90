/**
 * HTTP plumbing shared by the account, container and object servers: Swift-style responses,
 * backend path parsing and validation, device checks, and an in-process server runner.
 *
 * The storage servers use node:http directly rather than Hono: they stream object bodies
 * both ways and must control status lines and headers byte for byte as Swift's servers do.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { defaultBody, HTML_CONTENT_TYPE } from '../../src/common/http-status';
import { decodePathStrict, InvalidPathError, InvalidUtf8Error, pyQuote, splitPath } from '../../src/common/path';
import { InvalidTimestampError, Timestamp } from '../../src/common/timestamp';
import { decodeUtf8SurrogateEscape } from '../../src/acl/pystr';

/** An error that maps to a Swift response. Thrown by handlers, rendered by the server loop. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body?: string,
    readonly headers: Record<string, string> = {},
    readonly contentType?: string,
  ) {
    super(body ?? `HTTP ${status}`);
  }
}

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

export function sendError(req: IncomingMessage, res: ServerResponse, err: HttpError): void {
  send(req, res, err.status, { headers: err.headers, body: err.body, contentType: err.body !== undefined ? (err.contentType ?? 'text/plain') : undefined });
}

export interface BackendPath {
  device: string;
  partition: string;
  account: string;
  container?: string;
  object?: string;
}

/** Splits the raw request target into path and query without decoding the query's values. */
export function splitTarget(rawUrl: string): { rawPath: string; query: URLSearchParams } {
  const q = rawUrl.indexOf('?');
  return q < 0
    ? { rawPath: rawUrl, query: new URLSearchParams() }
    : { rawPath: rawUrl.slice(0, q), query: new URLSearchParams(rawUrl.slice(q + 1)) };
}

/**
 * Parses `/<device>/<partition>/<account>[/<container>[/<object>]]` as Swift's
 * split_and_validate_path does: 400 for a bad path, device or partition, 412 for invalid UTF-8
 * or NUL anywhere in the path.
 */
export function parseBackendPath(rawPath: string, minSegs: number, maxSegs: number, restWithLast = false): BackendPath {
  let path: string;
  try {
    path = decodePathStrict(rawPath);
  } catch (err) {
    if (err instanceof InvalidUtf8Error) throw new HttpError(412, 'Invalid UTF8 or contains NULL', {}, 'text/plain');
    throw err;
  }
  let segs: (string | undefined)[];
  try {
    segs = splitPath(path, minSegs, maxSegs, restWithLast);
  } catch (err) {
    if (err instanceof InvalidPathError) throw new HttpError(400, err.message, {}, 'text/plain');
    throw err;
  }
  const [device, partition, account, container, object] = segs;
  if (!device || device.includes('/') || device === '.' || device === '..') {
    throw new HttpError(400, `Invalid device: ${pyQuote(device ?? '')}`, {}, 'text/plain');
  }
  if (!partition || partition.includes('/') || partition === '.' || partition === '..') {
    throw new HttpError(400, `Invalid partition: ${pyQuote(partition ?? '')}`, {}, 'text/plain');
  }
  return { device, partition, account: account!, container: container || undefined, object: object || undefined };
}

/** Partition as an integer; Swift's servers reject non-numeric partitions on writes with 400. */
export function partitionNumber(partition: string): number {
  if (!/^\d+$/.test(partition)) throw new HttpError(400, `Invalid partition: ${pyQuote(partition)}`, {}, 'text/plain');
  return Number(partition);
}

/**
 * The device directory if it exists (mount_check = false semantics), else 507 as Swift answers
 * for an unmounted or missing drive. Device names must be what quote_plus leaves unchanged.
 */
export function checkDevice(devices: string, device: string): string {
  if (!/^[A-Za-z0-9_.\-~]+$/.test(device)) throw new HttpError(507, undefined, {}, undefined);
  const path = join(devices, device);
  try {
    if (statSync(path).isDirectory()) return path;
  } catch {
    // fall through to 507
  }
  throw new HttpError(507);
}

/** X-Timestamp for writes: 400 with Swift's messages when missing or malformed. */
export function requireTimestamp(req: IncomingMessage, header = 'x-timestamp'): Timestamp {
  const raw = req.headers[header];
  if (raw === undefined || Array.isArray(raw)) throw new HttpError(400, 'Missing X-Timestamp header', {}, 'text/plain');
  try {
    return Timestamp.parse(raw);
  } catch (err) {
    if (err instanceof InvalidTimestampError) {
      throw new HttpError(400, `X-Timestamp should be a UNIX timestamp float value; was '${raw}'`, {}, 'text/plain');
    }
    throw err;
  }
}

/** A header value as a single string (Node joins duplicates for most headers; we take the first). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Node exposes header values as latin-1 strings of the raw bytes. Metadata values travel as
 * UTF-8 bytes, so decode them; bytes that are not valid UTF-8 become lone surrogates
 * U+DC80..U+DCFF (Python's surrogateescape, which Swift's diskfile uses for metadata), so
 * headerBytes gives back exactly the bytes received.
 */
export function headerUtf8(value: string): string {
  if (!/[^\x00-\x7f]/.test(value)) return value;
  return decodeUtf8SurrogateEscape(Buffer.from(value, 'latin1'));
}

/** True if a latin-1 header value holds valid UTF-8 bytes. */
export function isUtf8Header(value: string): boolean {
  if (!/[^\x00-\x7f]/.test(value)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(value, 'latin1'));
    return true;
  } catch {
    return false;
  }
}

/** Encodes a stored (Unicode) value back into the latin-1 string Node writes as raw bytes (surrogateescape undone). */
export function headerBytes(value: string): string {
  if (!/[^\x00-\x7f]/.test(value)) return value;
  if (!/[\udc80-\udcff]/.test(value)) return Buffer.from(value, 'utf8').toString('latin1');
  let out = '';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    out += cp >= 0xdc80 && cp <= 0xdcff ? String.fromCharCode(cp - 0xdc00) : Buffer.from(ch, 'utf8').toString('latin1');
  }
  return out;
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
 * Runs a handler behind node:http with Swift-like error handling: HttpError becomes its
 * response; anything else is logged and becomes a bare 500 with no internals in the body.
 */
export async function listen(handler: Handler, opts: ListenOptions): Promise<RunningServer> {
  const server = createServer({ maxHeaderSize: 256 * 1024, keepAliveTimeout: 30_000, requestTimeout: 0 }, (req, res) => {
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (err instanceof HttpError) {
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
