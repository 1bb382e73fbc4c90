/**
 * Requests from the proxy to storage servers: `/<device>/<partition>/<quoted path>` over
 * keep-alive undici pools (Swift opens a new connection per request with `Connection: close`;
 * sluice keeps them), with Swift's connection and node timeouts, and the quorum rules of
 * swift.proxy.controllers.base (quorum_size, best_response).
 */
import { Pool, errors as undiciErrors } from 'undici';
import type { Readable } from 'node:stream';
import type { RingDevice as RingNode } from '../common/ring';
import { pyQuote } from '../common/path';

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
  ) {
    super(message);
  }
}

/** Swift: a write needs a simple majority of replicas, n//2 + 1. */
export function quorumSize(n: number): number {
  return Math.floor(n / 2) + 1;
}

export function nodeOrigin(node: Pick<RingNode, 'ip' | 'port'>): string {
  return `http://${node.ip.includes(':') ? `[${node.ip}]` : node.ip}:${node.port}`;
}

/** `/<device>/<part>/<quoted path>` as Swift's bufferedhttp.http_connect builds it. */
export function backendPath(node: Pick<RingNode, 'device'>, partition: number, path: string, query?: string): string {
  return `/${pyQuote(node.device)}/${partition}${pyQuote(path)}${query ? `?${query}` : ''}`;
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export class BackendClient {
  private readonly pools = new Map<string, Pool>();

  constructor(readonly timeouts: BackendTimeouts) {}

  private pool(node: RingNode): Pool {
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
      });
      this.pools.set(origin, p);
    }
    return p;
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
    return new BackendError(node, 'io', e?.message ?? String(err));
  }

  /** Sends a request and returns the response with its body streaming. */
  async stream(node: RingNode, req: BackendRequest): Promise<BackendStreamResponse> {
    try {
      const res = await this.pool(node).request({
        method: req.method,
        path: backendPath(node, req.partition, req.path, req.query),
        headers: req.headers,
        body: req.body ?? null,
      });
      return { node, status: res.statusCode, headers: flattenHeaders(res.headers), body: res.body as unknown as Readable };
    } catch (err) {
      throw this.classify(node, err);
    }
  }

  /** Sends a request and reads the whole (small) response body: account, container and control requests. */
  async send(node: RingNode, req: BackendRequest): Promise<BackendResponse> {
    const res = await this.stream(node, req);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of res.body) chunks.push(chunk as Buffer);
    } catch (err) {
      throw this.classify(node, err);
    }
    return { node, status: res.status, headers: res.headers, body: Buffer.concat(chunks) };
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
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
