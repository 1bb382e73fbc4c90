/**
 * startFakeServer: a storage server that fails on purpose, to put in a ring beside real ones and
 * see what a proxy does when a replica answers 5xx, hangs, resets, sends a short body or is slow.
 *
 * It speaks Swift's backend protocol (`/<device>/<partition>/<account>[/<container>[/<object>]]`).
 * With `upstream` (a real storage server's base URL) every request is forwarded there and the
 * fault is applied on the way; without one it is an empty storage server that acknowledges
 * writes and stores nothing (see {@link FakeServerOptions.upstream}). Bodies stream in both
 * directions, never held whole.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { PassThrough, Readable, type Writable } from 'node:stream';
import { Pool } from 'undici';
import { isHopByHop } from '../compat/hop-by-hop';
import { BACKEND_MAX_HEADER_BYTES, headersFromRaw } from '../common/backend-client';

/** How the fake server treats a request. */
export type FakeBehaviour =
  /** Answers normally: forwarded to `upstream`, or the plain answer of an empty server. */
  | { kind: 'pass' }
  /** Answers with this status (e.g. 500, 503, 507) without forwarding; the request body is read and dropped. */
  | {
      kind: 'status';
      /** The HTTP status to answer. */
      status: number;
      /** Response body (default: empty). */
      body?: string;
      /** Extra response headers. */
      headers?: Record<string, string>;
    }
  /** Accepts the connection, reads the request and never answers (a wedged server). */
  | { kind: 'hang' }
  /**
   * Sends the answer's status line, headers and first `afterBytes` body bytes, then nothing
   * more, the connection left open (a disk that stops mid-read).
   */
  | {
      kind: 'hang-after-headers';
      /** Body bytes sent before the stall (default 0). */
      afterBytes?: number;
    }
  /**
   * Resets the connection (TCP RST) once `after` bytes of the request body were received
   * (`on: 'request'`) or of the response body sent (`on: 'response'`). A body shorter than
   * `after` is not interrupted.
   */
  | {
      kind: 'reset';
      /** Body bytes let through before the reset (0: reset as soon as the headers are in / out). */
      after: number;
      /** Which body to cut. */
      on: 'request' | 'response';
    }
  /**
   * Sends the answer's headers (with the full Content-Length) and only the first `bytes` bytes
   * of its body, then closes the connection cleanly (FIN): a short read for the client.
   */
  | {
      kind: 'short-body';
      /** Response body bytes sent before closing. */
      bytes: number;
    }
  /** Reads the request body and sends the response body at most `bytesPerSecond` each. */
  | {
      kind: 'slow';
      /** Throughput, in bytes per second, of each body. */
      bytesPerSecond: number;
    }
  /**
   * Nothing listening: set as the server's behaviour, the port is closed (connections refused)
   * until another behaviour is set. Chosen per request by a function, the connection is
   * destroyed at once, before any answer.
   */
  | { kind: 'refuse' };

/** What the fake server knows of a request when choosing a behaviour for it. */
export interface FakeRequestInfo {
  /** Request method (`GET`, `PUT`, ...). */
  method: string;
  /** Raw request target, query string included. */
  path: string;
  /** Request headers, names lower-cased, values as latin-1 byte strings. */
  headers: Record<string, string>;
}

/** One request the fake server received. */
export interface FakeRecordedRequest extends FakeRequestInfo {
  /** Request body bytes received so far (grows while the body streams in). */
  bytesReceived: number;
  /** The behaviour applied to it. */
  behaviour: FakeBehaviour['kind'];
}

/** A behaviour, or a function choosing one per request (e.g. fail only PUTs). */
export type FakeBehaviourChoice = FakeBehaviour | ((req: FakeRequestInfo) => FakeBehaviour);

export interface FakeServerOptions {
  /** What to do with requests; change it later with {@link FakeServer.setBehaviour}. */
  behaviour: FakeBehaviourChoice;
  /**
   * Base URL of a real storage server (e.g. `http://127.0.0.1:6200`) to forward every request
   * to, faults applied on the way. Without it the fake is an empty server that stores nothing:
   * PUT 201 (object PUTs with the ETag of the body received), POST 202 for objects and 204 for
   * accounts and containers, GET, HEAD and DELETE 404, other methods 405, and 400 for a path
   * that is not `/<device>/<partition>/<account>[/<container>[/<object>]]`.
   */
  upstream?: string;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on (default: an ephemeral port). */
  port?: number;
}

export interface FakeServer {
  /** `http://host:port`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Every request received, in order of arrival. */
  readonly requests: FakeRecordedRequest[];
  /** Replaces the behaviour for requests arriving from now on (`refuse` closes the port). */
  setBehaviour(behaviour: FakeBehaviourChoice): Promise<void>;
  /** Stops listening and destroys every open connection (and the upstream pool). */
  close(): Promise<void>;
}

/** A fault-free answer: status, raw header pairs and a body stream. */
interface Answer {
  status: number;
  headers: [string, string][];
  body: Readable;
}

const PATH_SHAPE = /^\/[^/]+\/\d+\/[^/]+(\/[^/]+(\/.+)?)?$/;

/** The acknowledgement an empty storage server gives (documented on `upstream`). */
async function plainAnswer(req: IncomingMessage, body: Readable): Promise<Answer> {
  const path = (req.url ?? '/').split('?')[0]!;
  const md5 = createHash('md5');
  for await (const chunk of body) md5.update(chunk as Buffer);
  const answer = (status: number, extra: [string, string][] = []): Answer => ({
    status,
    headers: [['Content-Length', '0'], ...extra],
    body: Readable.from([]),
  });
  const shape = PATH_SHAPE.exec(path);
  if (!shape) return answer(400);
  const isObject = shape[2] !== undefined;
  switch (req.method) {
    case 'PUT':
      return answer(201, isObject ? [['Etag', md5.digest('hex')]] : []);
    case 'POST':
      return answer(isObject ? 202 : 204);
    case 'GET':
    case 'HEAD':
    case 'DELETE':
      return answer(404);
    default:
      return answer(405);
  }
}

/** Sends `chunk` and resolves once it was handed to the socket (or the response is gone). */
function writeFlushed(res: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    res.write(chunk, () => resolve());
  });
}

/** Drops a body stream we will not read (its abort error included). */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Pipes a request body through at `bytesPerSecond`, in slices sent ten times a second. */
function throttled(source: Readable, bytesPerSecond: number): Readable {
  const slice = Math.max(1, Math.floor(bytesPerSecond / 10));
  return Readable.from(
    (async function* () {
      for await (const chunk of source) {
        const buf = chunk as Buffer;
        for (let i = 0; i < buf.length; i += slice) {
          yield buf.subarray(i, i + slice);
          await sleep((Math.min(slice, buf.length - i) / bytesPerSecond) * 1000);
        }
      }
    })(),
    { objectMode: false },
  );
}

/**
 * Starts a fake storage server.
 *
 * ```ts
 * const fake = await startFakeServer({ behaviour: { kind: 'status', status: 507 } });
 * // put fake.port in a ring; later: await fake.setBehaviour({ kind: 'hang' })
 * await fake.close();
 * ```
 */
export async function startFakeServer(options: FakeServerOptions): Promise<FakeServer> {
  const host = options.host ?? '127.0.0.1';
  let choice = options.behaviour;
  const requests: FakeRecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const upstream = options.upstream
    ? new Pool(options.upstream, { connections: 32, headersTimeout: 0, bodyTimeout: 0, maxHeaderSize: BACKEND_MAX_HEADER_BYTES })
    : undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const info: FakeRequestInfo = { method: req.method ?? 'GET', path: req.url ?? '/', headers: headersFromRaw(req.rawHeaders) };
    const b = typeof choice === 'function' ? choice(info) : choice;
    const record: FakeRecordedRequest = { ...info, bytesReceived: 0, behaviour: b.kind };
    requests.push(record);
    const socket = req.socket;
    const reset = () => {
      if (!socket.destroyed) socket.resetAndDestroy();
    };
    if (b.kind === 'refuse') return reset();

    // The request body, counted, and cut or slowed as the behaviour says.
    const counted = new PassThrough();
    req.on('data', (chunk: Buffer) => {
      record.bytesReceived += chunk.length;
      if (b.kind === 'reset' && b.on === 'request' && record.bytesReceived >= b.after) reset();
    });
    req.on('error', () => undefined);
    // A body cut short (by our own reset or by the client) fails the forwarded request too.
    req.on('close', () => {
      if (!req.complete) counted.destroy(new Error('request body cut'));
    });
    counted.on('error', () => undefined);
    if (b.kind === 'reset' && b.on === 'request' && b.after === 0) return reset();
    req.pipe(counted);
    const body = b.kind === 'slow' ? throttled(counted, b.bytesPerSecond) : counted;

    if (b.kind === 'hang') {
      body.resume();
      return;
    }
    if (b.kind === 'status') {
      for await (const _ of body) void _;
      const payload = Buffer.from(b.body ?? '', 'latin1');
      res.writeHead(b.status, { ...b.headers, 'Content-Length': String(payload.length) });
      res.end(payload);
      return;
    }

    let answer: Answer;
    try {
      answer = upstream ? await forward(upstream, req, body) : await plainAnswer(req, body);
    } catch {
      // The upstream could not be reached, or the request was cut on the way (our own reset).
      if (socket.destroyed) return;
      res.writeHead(503, { 'Content-Length': '0' });
      res.end();
      return;
    }
    if (socket.destroyed) return discard(answer.body);
    res.writeHead(answer.status, answer.headers.flat());
    await sendBody(res, answer.body, b);
  };

  const server: Server = createServer({ maxHeaderSize: BACKEND_MAX_HEADER_BYTES }, (req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, s) => s.destroy());

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const unlisten = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  const port = await listen(options.port ?? 0);
  const refusing = (c: FakeBehaviourChoice) => typeof c !== 'function' && c.kind === 'refuse';
  if (refusing(choice)) await unlisten();

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    requests,
    async setBehaviour(next) {
      choice = next;
      if (refusing(next)) await unlisten();
      else if (!server.listening) await listen(port);
    },
    async close() {
      await unlisten();
      await upstream?.destroy();
    },
  };
}

/** Forwards the request to the upstream server; resolves once its headers are in. */
async function forward(upstream: Pool, req: IncomingMessage, body: Readable): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(headersFromRaw(req.rawHeaders))) if (!isHopByHop(k) && k !== 'host') headers[k] = v;
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) body.resume();
  const res = await upstream.request({
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    headers,
    body: hasBody ? body : null,
  });
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(res.headers)) {
    if (isHopByHop(k) || v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push([k, one]);
  }
  return { status: res.statusCode, headers: out, body: res.body as unknown as Readable };
}

/** Streams the answer body with the behaviour's fault: reset or close after N bytes, or slowly. */
async function sendBody(res: ServerResponse, body: Readable, b: FakeBehaviour): Promise<void> {
  const socket = res.socket;
  const cutAt =
    b.kind === 'reset' && b.on === 'response' ? b.after : b.kind === 'short-body' ? b.bytes : b.kind === 'hang-after-headers' ? (b.afterBytes ?? 0) : Infinity;
  const cut = async () => {
    discard(body);
    if (b.kind === 'hang-after-headers') return;
    // Let what was written reach the peer before the connection goes.
    await sleep(20);
    if (!socket || socket.destroyed) return;
    if (b.kind === 'reset') socket.resetAndDestroy();
    else socket.end();
  };
  if (cutAt === 0) {
    res.flushHeaders();
    return cut();
  }
  const slice = b.kind === 'slow' ? Math.max(1, Math.floor(b.bytesPerSecond / 10)) : Infinity;
  let sent = 0;
  try {
    for await (const chunk of body) {
      let buf = chunk as Buffer;
      if (sent + buf.length >= cutAt) buf = buf.subarray(0, cutAt - sent);
      for (let i = 0; i < buf.length; i += slice) {
        const part = buf.subarray(i, i + slice);
        await writeFlushed(res, part);
        sent += part.length;
        if (b.kind === 'slow') await sleep((part.length / b.bytesPerSecond) * 1000);
      }
      if (res.destroyed) return discard(body);
      if (sent >= cutAt) return cut();
    }
  } catch {
    // The upstream body failed: pass the failure on as a cut connection.
    return void socket?.destroy();
  }
  res.end();
}
