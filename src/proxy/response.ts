/**
 * Building client responses the way swob does: a response without an explicit body gets the
 * default HTML body for its status (`<html><h1>Not Found</h1>...`), HEAD keeps the headers
 * (Content-Length included) and drops the body, and 204/304 never carry one.
 */
import { defaultBody, HTML_CONTENT_TYPE } from '../common/http-status';
import { isHopByHop } from '../compat/hop-by-hop';
import { HttpException } from '../compat/http-exception';
import { registerDirectBody } from './direct-body';
import { responseHeaders } from './response-headers';
import type { ServerResponse } from 'node:http';

export type HeaderInit = Record<string, string>;

export interface SwiftResponseOptions {
  headers?: HeaderInit;
  /** Text is sent as UTF-8 with `text/plain` unless a Content-Type is given. */
  body?: string | Buffer | ReadableStream<Uint8Array> | null;
  contentType?: string;
  method?: string;
}

export function swiftResponse(status: number, opts: SwiftResponseOptions = {}): Response {
  const headers = responseHeaders();
  for (const name in opts.headers) if (Object.hasOwn(opts.headers, name)) headers.set(name, opts.headers[name]!);
  // swob's default Content-Type is text/html; charset=UTF-8, explicit bodies included.
  if (!headers.has('content-type')) headers.set('content-type', opts.contentType ?? HTML_CONTENT_TYPE);
  // swob never builds the default body for HEAD, so such a response says Content-Length: 0.
  let body: string | Buffer | ReadableStream<Uint8Array> | null = opts.body === undefined ? (opts.method === 'HEAD' ? null : defaultBody(status)) : opts.body;
  if (typeof body === 'string') body = Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body)) {
    if (!headers.has('content-length')) headers.set('content-length', String(body.length));
    if (body.length === 0) body = null;
  } else if (body === null && !headers.has('content-length')) {
    headers.set('content-length', '0');
  }
  if (opts.method === 'HEAD' || status === 204 || status === 304) body = null;
  return new Response(body as ConstructorParameters<typeof Response>[0], { status, headers });
}

/** Copies backend response headers for the client, dropping hop-by-hop ones. */
export function clientHeaders(backend: Record<string, string>): HeaderInit {
  const out: HeaderInit = {};
  for (const [k, v] of Object.entries(backend)) if (!isHopByHop(k)) out[k] = v;
  return out;
}

/**
 * An answer already made (an authorization denial, a subrequest's failure) raised as swob
 * raises a Response that is an HTTPException: it ends the request as it is.
 */
export class ResponseException extends HttpException {
  constructor(readonly response: Response) {
    super(response.status);
  }
}

/** The client response for an HttpException a middleware caught (HEAD answers carry no body). */
export function exceptionResponse(err: HttpException, method?: string): Response {
  if (err instanceof ResponseException) return err.response;
  return swiftResponse(err.status, { body: err.body, headers: err.headers, contentType: err.contentType, method });
}

/**
 * Replaces the response a middleware got back from next(). Hono's `c.res` setter merges the
 * old response's headers into the new one, which would resurrect headers we mean to drop
 * (gatekeeper) or stale ones (a listing's Content-Length), so clear it first.
 */
export function replaceResponse(c: { res: Response }, res: Response): void {
  (c as { res: Response | undefined }).res = undefined;
  c.res = res;
}

/**
 * Edits the response's headers where they are: rebuilding the response would turn a body the
 * proxy holds whole (a small object GET) into a web stream, and @hono/node-server writes a
 * response it built itself without one. Only when the headers are immutable (a fetch() answer)
 * is the edit made on a copy, in a new response with the same status and body.
 */
export function editResponseHeaders(c: { res: Response }, edit: (headers: Headers) => void): void {
  try {
    edit(c.res.headers);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    const headers = new Headers(c.res.headers);
    edit(headers);
    replaceResponse(c, new Response(c.res.body, { status: c.res.status, statusText: c.res.statusText, headers }));
  }
}

/**
 * Bodies up to this size whose length the backend announced are read whole before the client
 * response starts, and anything bigger streams. A complete small body goes out in one write
 * with the headers, with no web stream around it; a big one is never held in memory.
 */
export const SMALL_BODY_BYTES = 64 * 1024;

/**
 * The client response for a backend body (an object GET): a small body of known length is
 * read first (`SMALL_BODY_BYTES`), anything else streams through `webStreamFrom`. A backend
 * that fails while a small body is read gives the same as a failing stream: the status and
 * headers, then a body that errors, so the client sees a truncated response.
 */
export async function relayBody(status: number, headers: HeaderInit, body: import('node:stream').Readable, outgoing?: ServerResponse): Promise<Response> {
  const length = headers['content-length'];
  if (length === undefined || !/^\d+$/.test(length) || Number(length) > SMALL_BODY_BYTES) {
    const web = webStreamFrom(body);
    // Unless a middleware changes the body, the server pipes `body` itself (direct-body.ts).
    registerDirectBody(outgoing, web, body);
    return new Response(web, { status, headers: responseHeaders(headers) });
  }
  let whole: Buffer;
  try {
    whole = await readAll(body);
  } catch (err) {
    const failing = new ReadableStream<Uint8Array>({ start: (ctrl) => ctrl.error(err) });
    return new Response(failing, { status, headers: responseHeaders(headers) });
  }
  return new Response(whole, { status, headers: responseHeaders(headers) });
}

/** Reads a Node stream to its end. */
export function readAll(source: import('node:stream').Readable): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    source.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    source.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    source.once('error', reject);
    // A stream destroyed without an error (nobody reads it any more) must not hang its reader.
    source.once('close', () => {
      if (!source.readableEnded) reject(new Error('body closed before its end'));
    });
  });
}

/**
 * A web stream over a Node stream (a backend response body), pulled one chunk at a time.
 * Node 20's Readable.toWeb throws an uncaught "Controller is already closed" when the stream
 * is cancelled while a resume is pending (nodejs/node#54205), which a client hanging up mid-GET
 * does; cancelling here just destroys the source, and its backend connection with it.
 */
export function webStreamFrom(source: import('node:stream').Readable): ReadableStream<Uint8Array> {
  // Made on the first pull: a body sent directly (direct-body.ts) is never iterated.
  let chunks: AsyncIterator<Uint8Array> | undefined;
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        let next: IteratorResult<Uint8Array>;
        try {
          chunks ??= source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
          next = await chunks.next();
        } catch (err) {
          if (!cancelled) ctrl.error(err);
          return;
        }
        if (cancelled) return;
        if (next.done) ctrl.close();
        else ctrl.enqueue(next.value);
      },
      cancel() {
        cancelled = true;
        // undici reports its own abort as an 'error' event; nobody is reading any more.
        source.on('error', () => undefined);
        source.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}
