/**
 * Streamed object bodies go from the backend's Node stream straight into the client's
 * ServerResponse. A Hono handler must answer with a web Response, so an object GET's body is a
 * web stream over the backend stream, and @hono/node-server copies that stream to the socket
 * with a reader loop: two more promise hops per chunk, most of a 1 MiB GET's proxy CPU. The
 * controller therefore registers the Node stream behind the web stream it answers with, for
 * the client connection it answers on; when the pipeline's final response still carries that
 * very web stream, untouched (no middleware replaced or read the body), the server writes the
 * head itself and pipes the Node stream, as Swift's proxy hands its app_iter to eventlet.
 * Anything else (a middleware's own body, subrequests, which have no client connection) goes
 * the usual way.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { Response as UndiciResponse } from 'undici';

interface Registered {
  web: ReadableStream<Uint8Array>;
  node: Readable;
}

const registered = new WeakMap<ServerResponse, Registered>();

/** Records that `web` (a body about to be answered on `outgoing`) only wraps `node`. */
export function registerDirectBody(outgoing: ServerResponse | undefined, web: ReadableStream<Uint8Array>, node: Readable): void {
  if (outgoing) registered.set(outgoing, { web, node });
}

/**
 * What the fetch handler returns once it has sent the response itself: @hono/node-server then
 * writes nothing (its `x-hono-already-sent`). An undici Response, not the global one, which
 * @hono/node-server replaces with a light class of its own that it would write again.
 */
export const ALREADY_SENT = new UndiciResponse(null, { headers: { 'x-hono-already-sent': 'true' } }) as unknown as Response;

/** @hono/node-server's default Content-Type for a body without one. */
const DEFAULT_CONTENT_TYPE = 'text/plain; charset=UTF-8';

/**
 * Sends `res` on `outgoing` by piping the registered Node stream, when `res`'s body is the
 * registered web stream and nothing has read it. True when sent (the caller must not write
 * again), false when the response should go the usual way.
 */
export function sendDirectBody(res: Response, outgoing: ServerResponse | undefined): boolean {
  if (!outgoing) return false;
  const entry = registered.get(outgoing);
  if (!entry) return false;
  registered.delete(outgoing);
  if (outgoing.headersSent || outgoing.destroyed || res.body !== entry.web || entry.web.locked) return false;
  const head: Record<string, string | string[]> = {};
  for (const [k, v] of res.headers) head[k] = v;
  const cookies = res.headers.getSetCookie();
  if (cookies.length > 1) head['set-cookie'] = cookies;
  head['content-type'] ??= DEFAULT_CONTENT_TYPE;
  outgoing.writeHead(res.status, head);
  // Headers go out now, as the usual path does when no body bytes are ready yet.
  if (entry.node.readableLength === 0) outgoing.flushHeaders();
  // A backend failing mid-body destroys the client response: the client sees a truncated
  // body and a cut connection, never a short complete one. A client that goes away destroys
  // the backend stream, and with it the backend connection. (Listeners rather than
  // stream.pipeline, whose per-call AbortController builds a DOMException per response.)
  const source = entry.node;
  source.on('error', (err) => outgoing.destroy(err));
  outgoing.once('close', () => {
    if (source.readableEnded) return;
    source.on('error', () => undefined);
    source.destroy();
  });
  relayInTurns(source, outgoing);
  return true;
}

/** The most bytes relayed in one turn of the event loop before backpressure is heeded. */
const TURN_BYTES = 512 * 1024;

/**
 * pipe(), but the chunks that arrive in one turn of the event loop (libuv reads a socket up to
 * 64 KiB at a time, several times a turn) go out in one writev: the client socket is corked at
 * the first and uncorked once the turn's I/O callbacks have run. On loopback each write system
 * call also does the receiver's TCP work and wakes it up, so fewer, larger writes cost less
 * than one per 64 KiB. Backpressure is heeded at the end of the turn, or within it past
 * TURN_BYTES.
 *
 * The response is ended only once every chunk has been handed to the kernel: Node counts a
 * connection whose response has ended as idle, and a graceful stop's closeIdleConnections()
 * would destroy it with the tail of the body still queued in the process.
 */
function relayInTurns(source: Readable, outgoing: ServerResponse): void {
  let corked = false;
  let turnBytes = 0;
  let unwritten = 0;
  let ended = false;
  const uncork = () => {
    if (!corked) return;
    corked = false;
    outgoing.uncork();
    if (outgoing.writableNeedDrain && !source.isPaused()) source.pause();
  };
  const written = () => {
    if (--unwritten === 0 && ended) outgoing.end();
  };
  source.on('data', (chunk: Buffer) => {
    if (!corked) {
      corked = true;
      turnBytes = 0;
      outgoing.cork();
      setImmediate(uncork);
    }
    turnBytes += chunk.length;
    unwritten++;
    if (!outgoing.write(chunk, written) && turnBytes >= TURN_BYTES) source.pause();
  });
  outgoing.on('drain', () => {
    if (source.isPaused()) source.resume();
  });
  source.once('end', () => {
    ended = true;
    uncork();
    if (unwritten === 0) outgoing.end();
  });
}
