// A small HTTP client for Keystone's API in tests (the fake's and the real one's): status,
// headers, raw text and parsed JSON of each answer.
import { Agent, request } from 'undici';

export interface KsAnswer {
  status: number;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

export interface KsCallOptions {
  /** A JSON value to send (Content-Type: application/json unless `contentType` says otherwise). */
  body?: unknown;
  /** Raw body text instead of `body`. */
  raw?: string;
  /** Content-Type to send; null sends none. */
  contentType?: string | null;
  headers?: Record<string, string>;
  /** Fail when no answer (headers, then body) comes within this many ms (undici's default: 300 s). */
  timeoutMs?: number;
}

const agent = new Agent({ keepAliveTimeout: 10_000 });

export async function ksCall(base: string, method: string, path: string, options: KsCallOptions = {}): Promise<KsAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const contentType = options.contentType === undefined ? (payload === undefined ? null : 'application/json') : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  const timeouts = options.timeoutMs === undefined ? {} : { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs };
  const res = await request(base + path, { method: method as 'GET', headers, body: payload, dispatcher: agent, ...timeouts });
  const text = await res.body.text();
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: flat, text, json };
}

/** POST /v3/auth/tokens; the answer plus its X-Subject-Token. */
export async function ksPostToken(base: string, body: unknown, query = '', options: Pick<KsCallOptions, 'timeoutMs'> = {}): Promise<KsAnswer & { token: string }> {
  const answer = await ksCall(base, 'POST', `/v3/auth/tokens${query}`, { body, ...options });
  return { ...answer, token: answer.headers['x-subject-token'] ?? '' };
}

/** A token for a password, or a failed assertion with the answer. */
export async function ksToken(base: string, body: unknown): Promise<string> {
  const answer = await ksPostToken(base, body, '?nocatalog');
  if (answer.status !== 201) throw new Error(`POST ${base}/v3/auth/tokens answered ${answer.status}: ${answer.text}`);
  return answer.token;
}

export function passwordById(userId: string, password: string, scope?: unknown): unknown {
  const auth: Record<string, unknown> = { identity: { methods: ['password'], password: { user: { id: userId, password } } } };
  if (scope !== undefined) auth.scope = scope;
  return { auth };
}

export function passwordByName(name: string, domain: { id?: string; name?: string }, password: string, scope?: unknown): unknown {
  const auth: Record<string, unknown> = { identity: { methods: ['password'], password: { user: { name, domain, password } } } };
  if (scope !== undefined) auth.scope = scope;
  return { auth };
}
