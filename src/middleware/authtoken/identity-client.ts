/**
 * The Keystone v3 client authtoken validates tokens with (keystonemiddleware's IdentityServer
 * over a keystoneauth1 session and auth plugin):
 *
 * - The service's own token comes from POST /v3/auth/tokens?nocatalog with its credentials and
 *   is reused until it has less than two minutes left (keystoneauth1's MIN_TOKEN_LIFE_SECONDS);
 *   concurrent requests share one authentication in flight, as keystoneauth's lock makes them.
 * - A token is validated with GET /v3/auth/tokens (X-Auth-Token: the service's token,
 *   X-Subject-Token: the user's): 200 is the token, 404 is invalid, 401 drops the service's
 *   token and retries once with a new one, and anything else (403, 5xx, a connection failure
 *   or timeout) means Keystone is unavailable.
 * - Connection failures and timeouts of a validation are retried http_request_max_retries times
 *   after 0.5 s, 1 s, 2 s... (keystoneauth's connect_retries); its own authentication is not
 *   retried, as keystoneauth's auth plugins do not.
 *
 * Nothing here logs: failures come back as a reason (never holding a token or secret) for the
 * filter to log at its own pace.
 */
import { Agent, request } from 'undici';
import { SERVICE_TOKEN_MIN_LIFE_SECONDS, type ServiceCredentials, type TlsOptions } from './config';
import { parseIsoTime } from './token-info';

export type Validation =
  | { kind: 'valid'; token: Record<string, unknown> }
  | { kind: 'invalid' }
  | { kind: 'unavailable'; reason: string };

export interface IdentityClientOptions {
  /** The v3 root, e.g. http://h:5000/v3 */
  v3Url: string;
  credentials: ServiceCredentials;
  /** Seconds to connect and to hear each part of an answer. */
  timeout: number;
  maxRetries: number;
  tls: TlsOptions;
  /** Milliseconds before the first connection retry (doubling, at most 60 s). */
  retryDelayMs?: number;
  now?: () => number;
}

interface ServiceToken {
  token: string;
  /** epoch ms */
  expiresAt: number;
}

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

/** Keystone's answers are small; anything bigger is not Keystone. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

class Unavailable extends Error {}

/** A TLS failure is not retried (keystoneauth raises SSLError, which is not retriable). */
function isTlsError(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? '');
  return /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/.test(code);
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const code = e?.code ?? e?.cause?.code;
  const message = e?.message ?? e?.cause?.message ?? String(err);
  return code ? `${String(code)}: ${String(message)}` : String(message);
}

export class IdentityClient {
  private readonly agent: Agent;
  private readonly now: () => number;
  private current: ServiceToken | undefined;
  private pending: Promise<ServiceToken> | undefined;
  /** Requests made, for tests and diagnostics. */
  readonly stats = { authentications: 0, validations: 0 };

  constructor(private readonly opts: IdentityClientOptions) {
    this.now = opts.now ?? Date.now;
    const ms = Math.ceil(opts.timeout * 1000);
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      headersTimeout: ms,
      bodyTimeout: ms,
      connect: {
        timeout: ms,
        ca: opts.tls.ca,
        cert: opts.tls.cert,
        key: opts.tls.key,
        rejectUnauthorized: opts.tls.rejectUnauthorized,
      },
    });
  }

  /** Validates `subject` (already checked to be a plausible token) with the service's token. */
  async validate(subject: string, opts: { allowExpired: boolean; includeCatalog: boolean }): Promise<Validation> {
    const params: string[] = [];
    if (!opts.includeCatalog) params.push('nocatalog');
    if (opts.allowExpired) params.push('allow_expired=1');
    const url = `${this.opts.v3Url}/auth/tokens${params.length ? `?${params.join('&')}` : ''}`;
    try {
      let service = await this.serviceToken();
      let answer = await this.validateWith(url, service.token, subject);
      if (answer.status === 401) {
        // keystoneauth invalidates its token on a 401 and authenticates again, once.
        this.drop(service);
        service = await this.serviceToken();
        answer = await this.validateWith(url, service.token, subject);
        if (answer.status === 401) return { kind: 'unavailable', reason: 'Keystone rejected the service token (401) twice when validating a token' };
      }
      if (answer.status === 404) return { kind: 'invalid' };
      if (answer.status !== 200) return { kind: 'unavailable', reason: `Keystone answered ${answer.status} when validating a token` };
      const token = tokenOf(answer.body);
      if (!token) return { kind: 'unavailable', reason: 'Keystone answered 200 without a token object when validating a token' };
      return { kind: 'valid', token };
    } catch (err) {
      if (err instanceof Unavailable) return { kind: 'unavailable', reason: err.message };
      return { kind: 'unavailable', reason: `validating a token: ${describe(err)}` };
    }
  }

  private async validateWith(url: string, serviceToken: string, subject: string): Promise<Answer> {
    const headers = {
      'x-auth-token': serviceToken,
      'x-subject-token': subject,
      // keystonemiddleware says it enforces application credentials' access rules.
      'openstack-identity-access-rules': '1',
      accept: 'application/json',
      'user-agent': 'sluice-authtoken',
    };
    let delay = this.opts.retryDelayMs ?? 500;
    for (let attempt = 0; ; attempt++) {
      try {
        this.stats.validations++;
        return await this.send('GET', url, headers);
      } catch (err) {
        if (attempt >= this.opts.maxRetries || isTlsError(err)) throw new Unavailable(`validating a token at ${url.split('?')[0]}: ${describe(err)}`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 60_000);
      }
    }
  }

  /** The service's token: the current one while it has over two minutes left, else a new one. */
  private serviceToken(): Promise<ServiceToken> {
    const current = this.current;
    if (current && current.expiresAt - this.now() > SERVICE_TOKEN_MIN_LIFE_SECONDS * 1000) return Promise.resolve(current);
    if (!this.pending) {
      this.pending = this.authenticate().finally(() => {
        this.pending = undefined;
      });
    }
    return this.pending;
  }

  /** Forgets the service's token Keystone refused (unless another request already replaced it). */
  private drop(refused: ServiceToken): void {
    if (this.current === refused) this.current = undefined;
  }

  private async authenticate(): Promise<ServiceToken> {
    const url = `${this.opts.v3Url}/auth/tokens?nocatalog`;
    const who = `${this.opts.credentials.authType} ${this.opts.credentials.principal}`;
    let answer: Answer;
    try {
      this.stats.authentications++;
      answer = await this.send('POST', url, { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'sluice-authtoken' }, JSON.stringify(this.opts.credentials.body));
    } catch (err) {
      throw new Unavailable(`authenticating the service (${who}) at ${url.split('?')[0]}: ${describe(err)}`);
    }
    if (answer.status !== 201 && answer.status !== 200) throw new Unavailable(`Keystone answered ${answer.status} to the service's authentication (${who}); check its credentials`);
    const subject = answer.headers['x-subject-token'];
    const token = typeof subject === 'string' ? subject : undefined;
    const body = tokenOf(answer.body);
    const expiresAt = typeof body?.expires_at === 'string' ? parseIsoTime(body.expires_at) : undefined;
    if (!token || expiresAt === undefined) throw new Unavailable(`Keystone's answer to the service's authentication (${who}) has no token or expiry`);
    const issued = { token, expiresAt };
    this.current = issued;
    return issued;
  }

  private async send(method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: string): Promise<Answer> {
    const res = await request(url, { method, headers, body, dispatcher: this.agent });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.body.destroy();
        throw new Error(`answer larger than ${MAX_BODY_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
    return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** The `token` object of a Keystone token answer, or undefined when there is none. */
function tokenOf(text: string): Record<string, unknown> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const token = (json as { token?: unknown } | null)?.token;
  return token && typeof token === 'object' && !Array.isArray(token) ? (token as Record<string, unknown>) : undefined;
}
