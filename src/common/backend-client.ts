/**
 * Requests from the proxy to storage servers: `/<device>/<partition>/<quoted path>` over
 * keep-alive undici pools (Swift opens a new connection per request with `Connection: close`;
 * sluice keeps them), with Swift's connection and node timeouts, and the quorum rules of
 * swift.proxy.controllers.base (quorum_size, best_response).
 */
import { Pool, errors as undiciErrors } from 'undici';
import { Readable } from 'node:stream';
import type { RingDevice as RingNode } from './ring';
import { quote } from '../compat/quote';
import { byteStringOf } from '../compat/bytes';

export interface BackendTimeouts {
  /** Seconds to establish a connection (Swift conn_timeout, default 0.5). */
  connTimeout: number;
  /** Seconds to wait for response headers or the next body chunk (Swift node_timeout, default 10). */
  nodeTimeout: number;
}

export interface BackendRequest {
  method: string;
  /** Partition on the node. */
  partition: number;
  /** Unquoted `/account[/container[/object]]`. */
  path: string;
  /** Raw query string without `?`, already encoded. */
  query?: string;
  headers: Record<string, string>;
  body?: Buffer | string | Readable | null;
}

export interface BackendResponse {
  node: RingNode;
  status: number;
  headers: Record<string, string>;
  /** Whole body for buffered requests. */
  body: Buffer;
}

export interface BackendStreamResponse {
  node: RingNode;
  status: number;
  headers: Record<string, string>;
  body: Readable;
}

export class BackendError extends Error {
  constructor(
    readonly node: RingNode,
    readonly kind: 'connect' | 'timeout' | 'io',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Swift: a write needs a simple majority of replicas, n//2 + 1. */
export function quorumSize(n: number): number {
  return Math.floor(n / 2) + 1;
}

export function nodeOrigin(node: Pick<RingNode, 'ip' | 'port'>): string {
  return `http://${node.ip.includes(':') ? `[${node.ip}]` : node.ip}:${node.port}`;
}

/** Characters urllib's quote(s, safe='/') leaves alone. */
const QUOTE_SAFE = /^[A-Za-z0-9_.\-~/]*$/;

function quotePath(s: string): string {
  return QUOTE_SAFE.test(s) ? s : quote(s);
}

/** `/<device>/<part>/<quoted path>` as Swift's bufferedhttp.http_connect builds it. */
export function backendPath(node: Pick<RingNode, 'device'>, partition: number, path: string, query?: string): string {
  return `/${quotePath(node.device)}/${partition}${quotePath(path)}${query ? `?${query}` : ''}`;
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  // undici hands header names over lower-cased already.
  for (const k in h) {
    const v = h[k];
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** Raw response headers (name, value, ... as bytes) as one lower-cased record, repeats joined with ", ". */
export function headersFromRaw(raw: readonly (Buffer | string)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const k = (typeof name === 'string' ? name : byteStringOf(name)).toLowerCase();
    const v = typeof value === 'string' ? value : byteStringOf(value);
    if (Object.hasOwn(out, k)) out[k] = `${out[k]}, ${v}`;
    else if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true });
    else out[k] = v;
  }
  return out;
}

/**
 * An undici dispatch handler that keeps the whole response in memory: no response stream, no
 * async-hooks resource and no header parsing beyond the one record, which is what undici's
 * request() costs on top for the many small backend answers (account and container HEADs and
 * GETs, PUT and DELETE acknowledgements).
 */
class WholeResponseHandler {
  private status = 0;
  private headers: Record<string, string> = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly body: BackendRequest['body'],
    private readonly done: (err: Error | null, res?: { status: number; headers: Record<string, string>; body: Buffer }) => void,
  ) {}

  onConnect(): void {}

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    // 1xx (100 Continue) come before the real answer.
    if (statusCode < 200) return true;
    this.status = statusCode;
    this.headers = headersFromRaw(rawHeaders);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  onComplete(): void {
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    this.done(null, { status: this.status, headers: this.headers, body });
  }

  onError(err: Error): void {
    // As undici's request(): a request body still flowing is torn down with the request.
    const body = this.body;
    if (body && typeof body === 'object' && 'destroy' in body && typeof body.destroy === 'function') {
      body.on('error', () => undefined);
      body.destroy(err);
    }
    this.done(err);
  }
}

/** A body stream with nothing in it. */
function emptyBody(): Readable {
  return new Readable({
    read() {
      this.push(null);
    },
  });
}

/**
 * Told of each backend request and failure: the proxy's metrics (src/proxy/metrics.ts) and its
 * log of failed requests (src/proxy/backend-error-log.ts).
 */
export interface BackendObserver {
  backendRequest?(node: RingNode, req: BackendRequest): void;
  backendError?(err: BackendError, req: BackendRequest): void;
}

/** The most header bytes read from a storage server's answer (as the proxy and servers accept). */
export const BACKEND_MAX_HEADER_BYTES = 256 * 1024;

export class BackendClient {
  private readonly pools = new Map<string, Pool>();
  /** The pool for a node object: rings hand out the same (frozen) node objects every time. */
  private poolByNode = new WeakMap<RingNode, Pool>();

  private readonly observers = new Set<BackendObserver>();

  constructor(readonly timeouts: BackendTimeouts) {}

  /** Subscribes an observer; returns the unsubscribe. */
  observe(observer: BackendObserver): () => void {
    this.observers.add(observer);
    return () => void this.observers.delete(observer);
  }

  /** Each pool's undici counters (connected, free, pending, queued, running, size), by origin. */
  poolStats(): Map<string, Pool['stats']> {
    return new Map([...this.pools].map(([origin, pool]) => [origin, pool.stats]));
  }

  private pool(node: RingNode): Pool {
    const known = this.poolByNode.get(node);
    if (known) return known;
    const origin = nodeOrigin(node);
    let p = this.pools.get(origin);
    if (!p) {
      p = new Pool(origin, {
        connections: 64,
        pipelining: 1,
        keepAliveTimeout: 20_000,
        connect: { timeout: this.timeouts.connTimeout * 1000 },
        headersTimeout: this.timeouts.nodeTimeout * 1000,
        bodyTimeout: this.timeouts.nodeTimeout * 1000,
        // What a client may send the proxy (src/proxy/server.ts) a server may store and send
        // back: a container with 8 KB read and write ACLs and versions location answers with
        // ~17 KB of headers, past undici's 16 KiB default (every request on it was then a 503).
        maxHeaderSize: BACKEND_MAX_HEADER_BYTES,
      });
      this.pools.set(origin, p);
    }
    this.poolByNode.set(node, p);
    return p;
  }

  private failed(node: RingNode, req: BackendRequest, err: unknown): BackendError {
    const classified = this.classify(node, err);
    for (const o of this.observers) o.backendError?.(classified, req);
    return classified;
  }

  private classify(node: RingNode, err: unknown): BackendError {
    const e = err as Error & { code?: string };
    if (e instanceof undiciErrors.ConnectTimeoutError) return new BackendError(node, 'connect', 'connect timeout');
    if (e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError) {
      return new BackendError(node, 'timeout', 'node timeout');
    }
    if (e?.code === 'ECONNREFUSED' || e?.code === 'EHOSTUNREACH' || e?.code === 'ENETUNREACH') {
      return new BackendError(node, 'connect', e.code);
    }
    // The cause is kept: a request body the proxy itself destroyed (its client went away) fails too.
    return new BackendError(node, 'io', e?.message ?? String(err), { cause: err });
  }

  /** Sends a request and returns the response with its body streaming. */
  async stream(node: RingNode, req: BackendRequest): Promise<BackendStreamResponse> {
    // A HEAD answer has no body: no response stream to set up (the object HEAD path).
    if (req.method === 'HEAD') {
      const res = await this.send(node, req);
      return { node, status: res.status, headers: res.headers, body: emptyBody() };
    }
    for (const o of this.observers) o.backendRequest?.(node, req);
    try {
      const res = await this.pool(node).request({
        method: req.method,
        path: backendPath(node, req.partition, req.path, req.query),
        headers: req.headers,
        body: req.body ?? null,
        // undici closes the connection after every HEAD (nodejs/undici#258, for servers that
        // wrongly send a body); storage servers don't, and a new TCP connection per account,
        // container or object HEAD costs more than the request itself.
        reset: false,
      });
      return { node, status: res.statusCode, headers: flattenHeaders(res.headers), body: res.body as unknown as Readable };
    } catch (err) {
      throw this.failed(node, req, err);
    }
  }

  /** Sends a request and reads the whole (small) response body: account, container and control requests. */
  send(node: RingNode, req: BackendRequest): Promise<BackendResponse> {
    for (const o of this.observers) o.backendRequest?.(node, req);
    return new Promise<BackendResponse>((resolve, reject) => {
      const handler = new WholeResponseHandler(req.body, (err, res) => {
        if (err) reject(this.failed(node, req, err));
        else resolve({ node, status: res!.status, headers: res!.headers, body: res!.body });
      });
      this.pool(node).dispatch(
        {
          method: req.method,
          path: backendPath(node, req.partition, req.path, req.query),
          headers: req.headers,
          body: req.body ?? null,
          reset: false,
        },
        handler,
      );
    });
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    this.poolByNode = new WeakMap();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }
}

/**
 * swift.proxy.controllers.base.best_response: responses are grouped by hundreds (2xx, 3xx, 4xx);
 * the first group holding a quorum wins and within it the highest status. With no quorum, the
 * caller answers 503. Node errors count as responses that belong to no group.
 */
export function bestResponse<T extends { status: number }>(responses: (T | BackendError)[], quorum = quorumSize(responses.length)): T | undefined {
  for (const hundred of [200, 300, 400]) {
    const group = responses.filter((r): r is T => !(r instanceof BackendError) && r.status >= hundred && r.status < hundred + 100);
    if (group.length >= quorum) return group.reduce((a, b) => (b.status > a.status ? b : a));
  }
  return undefined;
}
