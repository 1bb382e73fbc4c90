/**
 * The fake's HTTP side: routes, request bodies and responses with Keystone's status codes,
 * headers (Vary: X-Auth-Token and x-openstack-request-id on every answer, WWW-Authenticate on
 * 401s) and bodies (Python's json.dumps for documents, Flask's jsonify for errors).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pyJsonDumps, pyJsonLoads, PyJsonError, type PyValue } from '../../compat/json';
import { configTrue } from '../../compat/truthy';
import type { Authenticator } from './auth';
import { forbiddenAction, KeystoneError, notFound, TITLES, unauthorized, unexpectedError, validationError } from './errors';
import { tokenActionAllowed, type TokenAction } from './policy';
import { renderToken, tokenRoles, type RenderContext } from './render';
import { TOKEN_PROBLEM_MESSAGES, type TokenStore } from './tokens';
import type { FakeKeystoneRoute } from './types';

interface Reply {
  status: number;
  /** Sent in this order, before Vary and x-openstack-request-id. */
  headers: Array<[string, string]>;
  body?: string;
}

/** oslo.middleware's sizelimit default ([oslo_middleware] max_request_body_size). */
const MAX_BODY_BYTES = 114688;
const TOKENS_ALLOW = 'POST, GET, HEAD, DELETE, OPTIONS';
const DISCOVERY_ALLOW = 'GET, HEAD, OPTIONS';

function jsonReply(status: number, body: string, extra: Array<[string, string]> = []): Reply {
  return { status, headers: [['Content-Type', 'application/json'], ['Content-Length', String(Buffer.byteLength(body))], ...extra], body };
}

function htmlReply(status: number, title: string, text: string, extra: Array<[string, string]> = []): Reply {
  // werkzeug's HTTPException page
  const body = `<!doctype html>\n<html lang=en>\n<title>${status} ${title}</title>\n<h1>${title}</h1>\n<p>${text}</p>\n`;
  return {
    status,
    headers: [['Content-Type', 'text/html; charset=utf-8'], ...extra, ['Content-Length', String(Buffer.byteLength(body))]],
    body,
  };
}

/** Flask's jsonify of Keystone's error: sorted keys, no spaces, a newline at the end. */
export function errorReply(error: KeystoneError, base: string): Reply {
  const inner: Record<string, unknown> = { code: error.status, message: error.message, title: TITLES[error.status] };
  if (error.identity !== undefined) inner.identity = error.identity;
  const body = pyJsonDumps({ error: inner }, { sortKeys: true, separators: [',', ':'] }) + '\n';
  return jsonReply(error.status, body, error.status === 401 ? [['WWW-Authenticate', `Keystone uri="${base}/v3"`]] : []);
}

function versionDocument(base: string) {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${base}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

export interface AppOptions extends RenderContext {
  tokens: TokenStore;
  authenticator: Authenticator;
  allowExpiredWindowMs: number;
  /** The fake's own URL, for a request without a Host header. */
  url: string;
  requests: Record<FakeKeystoneRoute, number>;
}

export class FakeKeystoneApp {
  constructor(private readonly o: AppOptions) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = `req-${randomUUID()}`;
    let reply: Reply;
    const base = this.baseUrl(req);
    try {
      reply = await this.route(req, base);
    } catch (e) {
      reply = errorReply(e instanceof KeystoneError ? e : unexpectedError(), base);
    }
    res.statusCode = reply.status;
    for (const [k, v] of reply.headers) res.setHeader(k, v);
    res.setHeader('Vary', 'X-Auth-Token');
    res.setHeader('x-openstack-request-id', requestId);
    // Node sends no body for HEAD, and keeps the Content-Length GET would have had, as Keystone does
    res.end(reply.body);
  }

  /** Keystone's base_url(): the URL the client used (its Host header), without a default port. */
  private baseUrl(req: IncomingMessage): string {
    const host = req.headers.host;
    if (!host || /[\s/\\@]/.test(host)) return this.o.url;
    return `http://${host.replace(/:80$/, '')}`;
  }

  private count(method: string, path: string): void {
    const key = `${method} ${path}` as FakeKeystoneRoute;
    if (Object.hasOwn(this.o.requests, key) && key !== 'other') this.o.requests[key]++;
    else this.o.requests.other++;
  }

  private async route(req: IncomingMessage, base: string): Promise<Reply> {
    const method = req.method ?? 'GET';
    const target = new URL(req.url ?? '/', 'http://fake');
    // Keystone's routes match with or without a trailing slash
    const path = target.pathname === '/' ? '/' : target.pathname.replace(/\/+$/, '');
    this.count(method, path);

    const raw = await readBody(req);
    if (raw === null) return { status: 413, headers: [['Content-Type', 'text/plain; charset=UTF-8']], body: 'Request is too large.' };
    const body = parseJsonBody(raw, req.headers['content-type']);

    if (path === '/' || path === '/v3') {
      if (method === 'OPTIONS') return { status: 200, headers: [['Content-Type', 'text/html; charset=utf-8'], ['Allow', DISCOVERY_ALLOW], ['Content-Length', '0']], body: '' };
      if (method !== 'GET' && method !== 'HEAD') {
        return htmlReply(405, 'Method Not Allowed', 'The method is not allowed for the requested URL.', [['Allow', DISCOVERY_ALLOW]]);
      }
      if (path === '/') {
        return jsonReply(300, pyJsonDumps({ versions: { values: [versionDocument(base)] } }), [['Location', `${base}/v3/`]]);
      }
      return jsonReply(200, pyJsonDumps({ version: versionDocument(base) }));
    }
    if (path !== '/v3/auth/tokens') {
      return htmlReply(404, 'Not Found', 'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.');
    }
    switch (method) {
      case 'POST':
        return this.issue(body, target.searchParams, base);
      case 'GET':
        return this.validate('identity:validate_token', req, target.searchParams, base);
      case 'HEAD':
        return this.validate('identity:check_token', req, target.searchParams, base);
      case 'DELETE':
        return this.validate('identity:revoke_token', req, target.searchParams, base);
      case 'OPTIONS':
        return { status: 200, headers: [['Content-Type', 'text/html; charset=utf-8'], ['Allow', TOKENS_ALLOW], ['Content-Length', '0']], body: '' };
      default: {
        // flask-restful's 405
        const text = pyJsonDumps({ message: 'The method is not allowed for the requested URL.' }) + '\n';
        return jsonReply(405, text, [['Allow', TOKENS_ALLOW]]);
      }
    }
  }

  private issue(body: PyValue | undefined, query: URLSearchParams, base: string): Reply {
    try {
      const auth = body instanceof Map ? body.get('auth') : undefined;
      const token = this.o.authenticator.authenticate(auth);
      const rendered = renderToken(this.o, token, !query.has('nocatalog'));
      return jsonReply(201, pyJsonDumps(rendered), [['X-Subject-Token', token.id]]);
    } catch (e) {
      if (e instanceof KeystoneError) return errorReply(e, base);
      throw e;
    }
  }

  /**
   * GET/HEAD/DELETE /v3/auth/tokens, in Keystone's order: the caller's X-Auth-Token (401), the
   * subject token when one is given (404), the policy (403), then a subject token at all (404).
   */
  private validate(action: TokenAction, req: IncomingMessage, query: URLSearchParams, base: string): Reply {
    const { tokens, directory } = this.o;
    const caller = tokens.check(header(req, 'x-auth-token') || undefined, 0);
    if (typeof caller === 'string') return errorReply(unauthorized(), base);
    const callerUser = directory.userById(caller.userId)!;

    const subjectId = header(req, 'x-subject-token');
    const windowMs = configTrue(query.get('allow_expired') ?? undefined) ? this.o.allowExpiredWindowMs : 0;
    let subjectUserId: string | undefined;
    if (subjectId !== undefined) {
      const subject = tokens.check(subjectId, windowMs);
      if (typeof subject === 'string') return errorReply(notFound(TOKEN_PROBLEM_MESSAGES[subject]), base);
      subjectUserId = subject.userId;
    }
    const roles = tokenRoles(this.o, caller, callerUser).map((r) => r.name);
    if (!tokenActionAllowed(action, { userId: caller.userId, roles, scope: caller.scope }, subjectUserId)) {
      return errorReply(forbiddenAction(action), base);
    }
    // revoke_token validates again, without the allow_expired window
    const subject = tokens.check(subjectId, action === 'identity:revoke_token' ? 0 : windowMs);
    if (typeof subject === 'string') return errorReply(notFound(TOKEN_PROBLEM_MESSAGES[subject]), base);
    if (action === 'identity:revoke_token') {
      tokens.revoke(subject.id);
      return { status: 204, headers: [] };
    }
    const rendered = renderToken(this.o, subject, !query.has('nocatalog'));
    return jsonReply(200, pyJsonDumps(rendered), [['X-Subject-Token', subject.id]]);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The request body, or null past the size limit. */
async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true; // keep reading so the connection stays usable
    else chunks.push(chunk);
  }
  return tooLarge ? null : Buffer.concat(chunks);
}

/**
 * Keystone's json_body_before_request: a non-empty body must be JSON (by Content-Type, or with
 * none) and decode to an object; `undefined` for an empty body.
 */
function parseJsonBody(raw: Buffer, contentType: string | undefined): PyValue | undefined {
  if (raw.length === 0) return undefined;
  const mimetype = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const isJson = mimetype === 'application/json' || (mimetype.startsWith('application/') && mimetype.endsWith('+json'));
  if (!isJson && (contentType ?? '') !== '') throw validationError('application/json', 'Content-Type header');
  let parsed: PyValue;
  try {
    parsed = pyJsonLoads(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (e) {
    if (e instanceof PyJsonError || e instanceof TypeError) throw validationError('valid JSON', 'request body');
    throw e;
  }
  if (!(parsed instanceof Map)) throw validationError('valid JSON', 'request body');
  return parsed;
}
