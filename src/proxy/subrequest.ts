/**
 * Internal subrequests (Swift's make_subrequest sent to `self.app`): a middleware runs a request
 * through the part of the pipeline below it (the filters after it, then the proxy application)
 * as if a client had sent it. The subrequest carries the caller's identity (remote user, the
 * authorize callback, ...), so the proxy authorizes it exactly like a client request: once
 * before the controller, and again with the container ACL for delayed denial. With
 * `preAuthenticated` it is Swift's make_pre_authed_request instead (no authorization at all),
 * for work the middleware has authorized itself.
 *
 * The child gets its own context: it shares the caller's per-request info cache and
 * transaction id (as Swift's make_env copies swift.infocache and swift.trans_id) but not its
 * swift_owner flag, which the child's own authorization decides.
 */
import { Readable } from 'node:stream';
import { webStreamFrom } from './response';
import { Hono, type MiddlewareHandler } from 'hono';
import type { Authorize, CleanAcl, ProxyContext, ProxyEnv } from './context';
import type { Info } from './info-cache';
import { RequestHeaders } from './request-headers';

/** Client headers a subrequest inherits unless given (the HTTP_* keys Swift's make_env copies). */
const INHERITED_HEADERS = ['host', 'referer', 'origin', 'access-control-request-method', 'x-user-id', 'x-project-id'];

/** Who makes a subrequest: what the auth layer established for the caller's request. */
export interface Identity {
  remoteUser: string | undefined;
  authorize: Authorize | undefined;
  cleanAcl: CleanAcl | undefined;
  authorizeOverride: boolean;
  preAuthenticated: boolean;
  resellerRequest: boolean;
  infoCache: Map<string, Info>;
  transId: string;
  /** The caller's Host, Referer, Origin, ... (Swift copies them into the subrequest environ). */
  inherited: [string, string][];
}

/**
 * Snapshot of the caller's identity. The proxy application clears `authorize` from a context
 * once the request is allowed, so a middleware that makes subrequests after calling next()
 * (versioning, ...) must capture the identity before it.
 */
export function captureIdentity(c: ProxyContext): Identity {
  const headers = c.get('headers');
  const inherited: [string, string][] = [];
  for (const name of INHERITED_HEADERS) {
    const v = headers.get(name);
    if (v !== undefined) inherited.push([name, v]);
  }
  return {
    remoteUser: c.get('remoteUser'),
    authorize: c.get('authorize'),
    cleanAcl: c.get('cleanAcl'),
    authorizeOverride: c.get('authorizeOverride') ?? false,
    preAuthenticated: c.get('preAuthenticated') ?? false,
    resellerRequest: c.get('resellerRequest') ?? false,
    infoCache: c.get('infoCache') ?? new Map(),
    transId: c.get('transId'),
    inherited,
  };
}

export interface SubrequestOptions {
  method: string;
  /**
   * The request target as a client would send it: the percent-encoded path (build it with
   * compat's quoteBytes) and, optionally, `?query`. It reaches the proxy verbatim, never normalised.
   */
  path: string;
  /** Request headers; they replace inherited ones of the same name. Never modified. */
  headers?: RequestHeaders | Record<string, string>;
  /** Request body, streamed (never for GET or HEAD). */
  body?: ReadableStream<Uint8Array> | Readable | null;
  /** Swift's make_pre_authed_request: the proxy skips authorization for this request. */
  preAuthenticated?: boolean;
  /** User-Agent (Swift's `agent`, default "Swift"); a User-Agent in `headers` wins. */
  agent?: string;
}

/** Runs one subrequest below the calling filter; `from` is the caller's context or a captured identity. */
export type Subrequest = (from: ProxyContext | Identity, opts: SubrequestOptions) => Promise<Response>;

interface ChildInit {
  identity: Identity;
  headers: RequestHeaders;
  target: string;
  preAuthenticated: boolean;
}

/** Pending subrequests by their Request object, read by the child pipeline's first middleware. */
const pending = new WeakMap<Request, ChildInit>();

/** Installs the child's context variables: fresh per-request state, the caller's identity. */
const seed: MiddlewareHandler<ProxyEnv> = async (c, next) => {
  const init = pending.get(c.req.raw);
  if (!init) throw new Error('subrequest context missing');
  pending.delete(c.req.raw);
  const id = init.identity;
  c.set('headers', init.headers);
  c.set('rawTarget', init.target);
  c.set('transId', id.transId);
  c.set('swiftOwner', false);
  c.set('resellerRequest', id.resellerRequest);
  c.set('remoteUser', id.remoteUser);
  c.set('authorize', id.authorize);
  c.set('cleanAcl', id.cleanAcl);
  c.set('infoCache', id.infoCache);
  c.set('authorizeOverride', id.authorizeOverride);
  c.set('preAuthenticated', id.preAuthenticated || init.preAuthenticated);
  await next();
};

function isIdentity(from: ProxyContext | Identity): from is Identity {
  return typeof (from as Partial<ProxyContext>).get !== 'function';
}

/** The URL only feeds c.req.url (the backend Referer); the proxy reads the path from rawTarget. */
function requestUrl(host: string | undefined, path: string): string {
  if (!path.startsWith('/')) throw new Error(`subrequest path must start with "/": ${path}`);
  try {
    return new URL(`http://${host ?? 'localhost'}${path}`).href;
  } catch {
    return new URL(`http://localhost${path}`).href;
  }
}

function childHeaders(id: Identity, given: SubrequestOptions['headers'], agent: string): RequestHeaders {
  const pairs: [string, string][] = given instanceof RequestHeaders ? [...given.entries()] : Object.entries(given ?? {}).map(([k, v]) => [k.toLowerCase(), v]);
  const names = new Set(pairs.map(([k]) => k));
  const base: [string, string][] = id.inherited.filter(([k]) => !names.has(k));
  if (!names.has('user-agent') && agent) base.push(['user-agent', agent]);
  return new RequestHeaders([...base, ...pairs]);
}

/**
 * A subrequest runner for the pipeline part `chain()` returns (filters, then the proxy
 * application as the last handler). The chain is resolved on first use, so a filter can get
 * its runner while the pipeline is still being built.
 */
export function pipelineSubrequest(chain: () => MiddlewareHandler<ProxyEnv>[]): Subrequest {
  let app: Hono<ProxyEnv> | undefined;
  const build = (): Hono<ProxyEnv> => {
    const handlers = chain();
    const sub = new Hono<ProxyEnv>();
    sub.use('*', seed);
    for (const h of handlers.slice(0, -1)) sub.use('*', h);
    // Errors propagate to the caller (and so to catch_errors), as in the main application.
    sub.onError((err) => {
      throw err;
    });
    sub.all('*', handlers[handlers.length - 1]!);
    return sub;
  };
  return async (from, opts) => {
    app ??= build();
    const identity = isIdentity(from) ? from : captureIdentity(from);
    const headers = childHeaders(identity, opts.headers, opts.agent ?? 'Swift');
    const body = opts.body instanceof Readable ? webStreamFrom(opts.body) : (opts.body ?? null);
    const request = new Request(requestUrl(headers.get('host'), opts.path), {
      method: opts.method,
      body,
      ...(body ? { duplex: 'half' } : {}),
    } as RequestInit);
    pending.set(request, { identity, headers, target: opts.path, preAuthenticated: opts.preAuthenticated ?? false });
    return app.fetch(request, {} as ProxyEnv['Bindings']);
  };
}

/**
 * Lets go of a body nobody will read (and of the backend connection behind it). Node 20's
 * Readable.toWeb (the object GET's body) throws an uncaught "Controller is already closed"
 * when cancelled while its stream has a resume pending on the nextTick queue; at the start
 * of a macrotask that queue is empty, so cancel there.
 */
function cancelLater(reader: ReadableStreamDefaultReader<Uint8Array>, reason?: unknown): void {
  setImmediate(() => {
    reader.cancel(reason).catch(() => undefined);
  });
}

export function discard(body: ReadableStream<Uint8Array> | null): void {
  if (body && !body.locked) cancelLater(body.getReader());
}

/**
 * A body to hand to a subrequest PUT, with a handle to let go of the source (and its backend
 * connection) when the PUT did not read it all, e.g. because it was denied.
 */
export function relay(source: ReadableStream<Uint8Array> | null): { body: ReadableStream<Uint8Array> | null; release(): void } {
  if (!source) return { body: null, release: () => undefined };
  const reader = source.getReader();
  let finished = false;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        const chunk = await reader.read();
        if (chunk.done) {
          finished = true;
          ctrl.close();
        } else ctrl.enqueue(chunk.value);
      },
      cancel(reason) {
        finished = true;
        cancelLater(reader, reason);
      },
    },
    { highWaterMark: 0 },
  );
  return {
    body,
    release() {
      if (finished) return;
      finished = true;
      cancelLater(reader);
    },
  };
}
