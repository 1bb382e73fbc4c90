/**
 * One HTTP exchange over undici, with keystoneauth's retry rules around it
 * (Session._send_request): connection failures are retried `connectRetries` times and
 * retriable statuses `statusCodeRetries` times, waiting 0.5 s, then twice as long each time up
 * to 60 s (its _Retries), or what Retry-After asks if that is longer (same cap). A body that is
 * a stream can be sent only once, so such a request is never retried.
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import { ClientConfigError, ClientConnectionError, ClientTimeoutError, ClientTlsError } from './errors';
import { redactUrl } from './redact';
import type { RequestBody } from './types';

/** keystoneauth1.session._EXPONENTIAL_DELAY_START and _MAX_RETRY_INTERVAL, in ms. */
export const FIRST_RETRY_DELAY_MS = 500;
export const MAX_RETRY_DELAY_MS = 60_000;

/** Methods a retry cannot apply twice (RFC 9110 §9.2.2); COPY and POST are not among them. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export interface TlsOptions {
  /** PEM text, or the path of a PEM file (keystoneauth's `verify=<cafile>`). */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Accept any server certificate (keystoneauth's `verify=False`). */
  insecure?: boolean;
}

function pem(value: string | Buffer | undefined, what: string): string | Buffer | undefined {
  if (value === undefined || Buffer.isBuffer(value) || value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value);
  } catch (e) {
    throw new ClientConfigError(`${what}: cannot read ${value}: ${(e as Error).message}`);
  }
}

/** A keep-alive connection pool per origin, with the TLS options and the connect timeout. */
export function createAgent(tls: TlsOptions, connectTimeoutMs: number | undefined): Agent {
  return new Agent({
    keepAliveTimeout: 30_000,
    connect: {
      ca: pem(tls.ca, 'ca'),
      cert: pem(tls.cert, 'cert'),
      key: pem(tls.key, 'key'),
      rejectUnauthorized: !tls.insecure,
      ...(connectTimeoutMs !== undefined ? { timeout: connectTimeoutMs } : {}),
    },
  });
}

/** A body as undici takes it, and whether it can be sent again. */
export function prepareBody(body: RequestBody): { body: Dispatcher.DispatchOptions['body']; replayable: boolean } {
  if (body === null || body === undefined) return { body: undefined, replayable: true };
  if (typeof body === 'string') return { body: Buffer.from(body, 'utf8'), replayable: true };
  if (body instanceof Uint8Array) return { body, replayable: true };
  if (body instanceof Readable) return { body, replayable: false };
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') return { body: Readable.from(body), replayable: false };
  throw new TypeError('body must be a string, bytes, a Readable or an async iterable of bytes');
}

/** `https://host:port` and the request target, the path kept byte for byte (no URL normalisation of `..` or escapes). */
export function splitUrl(url: string): { origin: string; path: string } {
  const m = /^(https?:\/\/[^/?#]+)([^#]*)/i.exec(url);
  if (!m) throw new ClientConfigError(`not an http(s) URL: ${redactUrl(url)}`);
  const rest = m[2] ?? '';
  return { origin: m[1]!, path: rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest };
}

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method.toUpperCase());
}

/** Response headers as a record: names lower case, repeated ones joined with ', '. */
export function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export interface Exchange {
  dispatcher: Dispatcher;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Dispatcher.DispatchOptions['body'];
  /** ms without an answer (headers), or without body bytes, before giving up. */
  timeout?: number;
  signal?: AbortSignal;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
/** OpenSSL's verification codes and Node's ERR_TLS_* / ERR_SSL_*. */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|^ERR_TLS_|^ERR_SSL_|^ERR_OSSL_/;

/** Sends one request; failures to connect or to get an answer become ClientConnectionError / ClientTimeoutError. */
export async function exchange(x: Exchange): Promise<Dispatcher.ResponseData> {
  const { origin, path } = splitUrl(x.url);
  try {
    return await x.dispatcher.request({
      origin,
      path,
      method: x.method as Dispatcher.HttpMethod,
      headers: x.headers,
      body: x.body,
      signal: x.signal,
      ...(x.timeout !== undefined ? { headersTimeout: x.timeout, bodyTimeout: x.timeout } : {}),
    });
  } catch (err) {
    if (x.signal?.aborted) throw err;
    const code = (err as { code?: string }).code;
    const safe = redactUrl(x.url);
    if (code && TIMEOUT_CODES.has(code)) throw new ClientTimeoutError(x.method, safe, { cause: err });
    if (code && TLS_CODE.test(code)) throw new ClientTlsError(x.method, safe, { cause: err });
    if (err instanceof undiciErrors.UndiciError || (err as NodeJS.ErrnoException).syscall !== undefined || code?.startsWith('E')) {
      throw new ClientConnectionError(x.method, safe, { cause: err });
    }
    throw err;
  }
}

/** keystoneauth's _Retries: 0.5 s, doubling, at most 60 s. */
export class Backoff {
  private next: number;

  constructor(private readonly first: number = FIRST_RETRY_DELAY_MS) {
    this.next = first;
  }

  take(): number {
    const d = this.next;
    this.next = Math.min(d * 2, MAX_RETRY_DELAY_MS);
    return d;
  }

  reset(): void {
    this.next = this.first;
  }
}

/** Retry-After in ms (delta seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
