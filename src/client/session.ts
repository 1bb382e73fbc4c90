/**
 * The Session (keystoneauth1.session.Session): one object shared by every service client that
 * holds the auth plugin, finds endpoints in the catalog, sends requests over a keep-alive pool
 * with retries and timeouts, and logs each request and answer with its secrets redacted.
 *
 * ```ts
 * const session = new Session({ auth: new V3Password({ authUrl, username, userDomainName, password, projectName, projectDomainName }) });
 * const res = await session.request('/my-container', { query: { format: 'json' } });
 * ```
 */
import type { Dispatcher } from 'undici';
import { BaseAuthPlugin, type AccessInfo } from './auth/base';
import { describeFilter } from './catalog';
import { ClientConfigError, ClientConnectionError, ClientTlsError, EndpointNotFoundError } from './errors';
import { requestLine, responseLine, type SessionLogger } from './log';
import { redactUrl } from './redact';
import {
  Backoff,
  createAgent,
  exchange,
  FIRST_RETRY_DELAY_MS,
  flatHeaders,
  isIdempotent,
  MAX_RETRY_DELAY_MS,
  prepareBody,
  retryAfterMs,
  sleep,
  type TlsOptions,
} from './transport';
import { ClientHttpError, type AuthPlugin, type AuthTransport, type AuthTransportResponse, type ClientRequestOptions, type ClientResponse, type EndpointFilter, type SessionLike } from './types';
import { userAgent, type UserAgentOption } from './user-agent';

/**
 * Statuses retried by default when statusCodeRetries > 0: the transient 5xx (keystoneauth retries
 * only 503 by default; swiftclient retries every 5xx, but 501 and 507 do not get better by waiting).
 */
export const DEFAULT_RETRIABLE_STATUS_CODES: readonly number[] = [500, 502, 503, 504];

/** At most this much of an error answer's body goes into a ClientHttpError. */
const ERROR_BODY_LIMIT = 64 * 1024;

export interface SessionOptions extends TlsOptions {
  /** The auth plugin; without one, requests are unauthenticated and need absolute URLs or an endpointOverride. */
  auth?: AuthPlugin;
  /** Every relative path goes to this URL instead of the catalog's (keystoneauth's endpoint_override). */
  endpointOverride?: string;
  /** ms without an answer (or without body bytes) before a request fails; also the connect timeout. Default: undici's (300 s, connect 10 s). */
  timeout?: number;
  /** Retries after a failure to connect or a connection lost before an answer; default 0. */
  connectRetries?: number;
  /** Retries of an idempotent request answered with a retriable status; default 0 (keystoneauth's). */
  statusCodeRetries?: number;
  retriableStatusCodes?: readonly number[];
  /** First retry delay in ms, doubled after each retry up to 60 s; default 500 (keystoneauth's). */
  retryDelay?: number;
  /** The application's part of the User-Agent, before `sluice-client/<version>`. */
  userAgent?: UserAgentOption;
  /** Gets one debug line per request and per answer, secrets redacted. */
  logger?: SessionLogger;
  /** An undici dispatcher to send through instead of the Session's own pool (TLS options are then the dispatcher's). */
  dispatcher?: Dispatcher;
}

function nonNegativeInt(value: number | undefined, what: string, dflt: number): number {
  const v = value ?? dflt;
  if (!Number.isInteger(v) || v < 0) throw new ClientConfigError(`${what} must be an integer >= 0`);
  return v;
}

function isAbsolute(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** keystoneauth's `'%s/%s' % (base.rstrip('/'), path.lstrip('/'))`; an empty path is the endpoint itself. */
function joinUrl(base: string, path: string): string {
  const rest = path.replace(/^\/+/, '');
  return rest === '' ? base : `${base.replace(/\/+$/, '')}/${rest}`;
}

function withQuery(url: string, query: ClientRequestOptions['query']): string {
  if (!query) return url;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) if (v !== undefined) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  if (parts.length === 0) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${parts.join('&')}`;
}

function filterKey(f: EndpointFilter): string {
  const i = f.interface;
  return JSON.stringify([f.serviceType ?? null, i === undefined ? null : typeof i === 'string' ? [i] : [...i], f.regionName ?? null, f.version ?? null, f.minVersion ?? null, f.maxVersion ?? null]);
}

/** Reads at most `limit` bytes of a body as text, then drops the rest. */
async function readLimited(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      chunks.push(buf);
      size += buf.length;
      if (size >= limit) break;
    }
  } catch {
    // a body cut short still tells what it had
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

function drain(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.resume();
}

interface SendPlan {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Dispatcher.DispatchOptions['body'];
  replayable: boolean;
  /** Logged (redacted) in place of the body: an auth request's JSON. */
  json?: unknown;
  timeout?: number;
  signal?: AbortSignal;
}

export class Session implements SessionLike {
  readonly auth: AuthPlugin | undefined;
  readonly endpointOverride: string | undefined;
  readonly userAgent: string;
  private readonly timeout: number | undefined;
  private readonly connectRetries: number;
  private readonly statusCodeRetries: number;
  private readonly retriable: Set<number>;
  private readonly retryDelay: number;
  private readonly logger: SessionLogger | undefined;
  private readonly insecure: boolean;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  /** Endpoint URL per plugin and filter: discovery is done once per Session (keystoneauth caches it too). */
  private readonly endpoints = new WeakMap<AuthPlugin, Map<string, Promise<string>>>();
  /** What plugins send their own requests through. */
  private readonly transport: AuthTransport = { send: (url, req) => this.authSend(url, req) };

  constructor(options: SessionOptions = {}) {
    this.auth = options.auth;
    if (options.endpointOverride !== undefined && !isAbsolute(options.endpointOverride)) throw new ClientConfigError('endpointOverride must be an http or https URL');
    this.endpointOverride = options.endpointOverride?.replace(/\/+$/, '');
    if (options.timeout !== undefined && !(options.timeout > 0)) throw new ClientConfigError('timeout must be a number of ms > 0');
    this.timeout = options.timeout;
    this.connectRetries = nonNegativeInt(options.connectRetries, 'connectRetries', 0);
    this.statusCodeRetries = nonNegativeInt(options.statusCodeRetries, 'statusCodeRetries', 0);
    this.retriable = new Set(options.retriableStatusCodes ?? DEFAULT_RETRIABLE_STATUS_CODES);
    this.retryDelay = nonNegativeInt(options.retryDelay, 'retryDelay', FIRST_RETRY_DELAY_MS);
    this.userAgent = userAgent(options.userAgent);
    this.logger = options.logger;
    this.insecure = !!options.insecure;
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher = options.dispatcher ?? createAgent(options, options.timeout);
  }

  /** The token the auth plugin holds (authenticating first if needed). */
  async getToken(auth: AuthPlugin | undefined = this.auth): Promise<string | undefined> {
    if (!auth) return undefined;
    const headers = await auth.getHeaders(this.transport);
    return headers['X-Auth-Token'];
  }

  /** What the plugin's authentication returned (token, expiry, Keystone's token body); undefined for a StaticToken. */
  async getAccess(auth: AuthPlugin | undefined = this.auth): Promise<AccessInfo | undefined> {
    return auth instanceof BaseAuthPlugin ? auth.getAccess(this.transport) : undefined;
  }

  /** The endpoint URL the filter selects: endpointOverride if set, else the auth plugin's catalog (or storage URL). */
  async getEndpoint(filter: EndpointFilter = {}, auth: AuthPlugin | undefined = this.auth): Promise<string> {
    if (this.endpointOverride) return this.endpointOverride;
    if (!auth) throw new ClientConfigError('no endpointOverride and no auth plugin to find an endpoint with');
    let perAuth = this.endpoints.get(auth);
    if (!perAuth) this.endpoints.set(auth, (perAuth = new Map()));
    const key = filterKey(filter);
    let found = perAuth.get(key);
    if (!found) {
      found = auth.getEndpoint(this.transport, filter).then((url) => {
        if (!url) throw new EndpointNotFoundError(`no endpoint in the catalog for ${describeFilter(filter)}`);
        return url;
      });
      const cached = found;
      perAuth.set(key, cached);
      // A failed lookup is not cached: the next request tries again.
      cached.catch(() => perAuth.get(key) === cached && perAuth.delete(key));
    }
    return found;
  }

  /** Forgets the token and the endpoints found with it; the next request authenticates again. */
  invalidate(auth: AuthPlugin | undefined = this.auth): boolean {
    if (!auth) return false;
    this.endpoints.delete(auth);
    return auth.invalidate();
  }

  /** Closes the connection pool (a dispatcher passed in options is left open). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  async request(pathOrUrl: string, options: ClientRequestOptions = {}): Promise<ClientResponse> {
    const method = (options.method ?? 'GET').toUpperCase();
    const auth = options.auth ?? this.auth;
    const authenticated = options.authenticated ?? auth !== undefined;
    if (authenticated && !auth) throw new ClientConfigError('the request needs authentication and the Session has no auth plugin');
    let url = pathOrUrl;
    if (!isAbsolute(url)) {
      const base = options.endpointOverride ?? (this.endpointOverride || (await this.getEndpoint(options.endpointFilter, auth)));
      url = joinUrl(base, pathOrUrl);
    }
    url = withQuery(url, options.query);
    const { body, replayable } = prepareBody(options.body);
    const given = options.headers ?? {};
    const base: Record<string, string> = Object.keys(given).some((k) => k.toLowerCase() === 'user-agent') ? { ...given } : { 'User-Agent': this.userAgent, ...given };
    const timeout = options.timeout ?? this.timeout;

    let token: string | undefined;
    const attempt = async () => {
      const headers = { ...base };
      if (authenticated) {
        const h = await auth!.getHeaders(this.transport);
        token = h['X-Auth-Token'];
        // The plugin's headers win over the caller's of any spelling, as keystoneauth's update() does.
        const names = new Set(Object.keys(h).map((k) => k.toLowerCase()));
        for (const k of Object.keys(headers)) if (names.has(k.toLowerCase())) delete headers[k];
        Object.assign(headers, h);
      }
      return this.send({ method, url, headers, body, replayable, timeout, signal: options.signal });
    };

    let res = await attempt();
    // keystoneauth re-authenticates once on a 401 (Session.request's "invalidate and retry"),
    // which needs the body again: a stream already sent cannot be, so its 401 stands.
    if (res.statusCode === 401 && authenticated && replayable && auth!.invalidate(token)) {
      drain(res.data.body);
      res = await attempt();
    }
    const headers = res.headers;
    if (res.statusCode >= 400 && (options.raiseExc ?? true)) {
      const text = await readLimited(res.data.body, ERROR_BODY_LIMIT);
      throw new ClientHttpError(res.statusCode, method, redactUrl(url), headers, text);
    }
    const resBody = res.data.body;
    return {
      status: res.statusCode,
      headers,
      url,
      body: resBody,
      text: () => resBody.text(),
      json: <T>() => resBody.json() as Promise<T>,
      bytes: async () => Buffer.from(await resBody.arrayBuffer()),
    };
  }

  private async authSend(url: string, req: { method: string; headers: Record<string, string>; json?: unknown }): Promise<AuthTransportResponse> {
    const body = req.json === undefined ? undefined : Buffer.from(JSON.stringify(req.json), 'utf8');
    const res = await this.send({ method: req.method, url, headers: { 'User-Agent': this.userAgent, ...req.headers }, body, replayable: true, json: req.json, timeout: this.timeout });
    return { status: res.statusCode, headers: res.headers, url: redactUrl(url), text: await res.data.body.text() };
  }

  private log(line: string): void {
    this.logger?.debug(line);
  }

  /** One request with the connection and status retries. */
  private async send(plan: SendPlan): Promise<{ statusCode: number; headers: Record<string, string>; data: Dispatcher.ResponseData }> {
    const connectDelays = new Backoff(this.retryDelay);
    const statusDelays = new Backoff(this.retryDelay);
    let connectLeft = this.connectRetries;
    let statusLeft = this.statusCodeRetries;
    for (;;) {
      if (this.logger) this.log(requestLine(plan.method, plan.url, plan.headers, { insecure: this.insecure, json: plan.json }));
      let data: Dispatcher.ResponseData;
      try {
        data = await exchange({ dispatcher: this.dispatcher, ...plan });
      } catch (err) {
        if (!(err instanceof ClientConnectionError) || err instanceof ClientTlsError || !plan.replayable || connectLeft <= 0) throw err;
        connectLeft--;
        const delay = connectDelays.take();
        this.log(`Failure: ${err.message}. Retrying in ${(delay / 1000).toFixed(1)}s.`);
        await sleep(delay, plan.signal);
        continue;
      }
      const headers = flatHeaders(data.headers);
      if (this.logger) this.log(responseLine(plan.method, plan.url, data.statusCode, headers));
      if (statusLeft > 0 && plan.replayable && isIdempotent(plan.method) && this.retriable.has(data.statusCode)) {
        statusLeft--;
        // The server answered: connection failures start over from the first delay (as keystoneauth).
        connectDelays.reset();
        const delay = Math.min(Math.max(statusDelays.take(), retryAfterMs(headers['retry-after']) ?? 0), MAX_RETRY_DELAY_MS);
        this.log(`Retriable status code ${data.statusCode}. Retrying in ${(delay / 1000).toFixed(1)}s.`);
        drain(data.body);
        await sleep(delay, plan.signal);
        continue;
      }
      return { statusCode: data.statusCode, headers, data };
    }
  }
}
