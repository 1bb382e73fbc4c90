/**
 * cors: the actual-response half of Swift's CORS support (swift.proxy.controllers.base
 * cors_validation, the decorator on the container and object GET/HEAD/PUT/POST/DELETE
 * handlers). Preflight OPTIONS stays in the controllers (BaseController.options).
 *
 * For a request with `Origin` to a container or object, the container's info is read before
 * the handler runs (as the decorator does, so a container PUT sees the container as it was);
 * once the handler answered, and unless strict_cors_mode is on and neither the container's
 * X-Container-Meta-Access-Control-Allow-Origin nor the proxy's cors_allow_origin allows the
 * origin, the response gets Access-Control-Expose-Headers and Access-Control-Allow-Origin
 * (each only when the response does not carry it already).
 *
 * Swift runs this inside the controllers, so it must sit directly in front of the proxy
 * application: only then does it see exactly the controllers' answers (and those of internal
 * subrequests, which carry the client's Origin as in Swift). Answers Swift gives before a
 * handler runs are left alone: bad paths, 405, an invalid Content-Length, deny_host_headers,
 * and an authorization denial for a handler that does not delay denial (container PUT, POST,
 * DELETE).
 */
import type { MiddlewareHandler } from 'hono';
import type { Authorize, ProxyEnv } from '../proxy/context';
import { defineFilter } from '../proxy/filter';
import type { ProxyState } from '../proxy/state';
import type { ContainerInfo } from '../proxy/info-cache';
import { parseProxyPath, rawPathOf } from '../proxy/request-target';
import { ContainerController } from '../proxy/controllers/container';
import { replaceResponse } from '../proxy/response';

/** The handlers Swift decorates with cors_validation (container and object controllers alike). */
const DECORATED = new Set(['GET', 'HEAD', 'PUT', 'POST', 'DELETE']);

/** Swift's default exposed headers: CORS simple response headers plus etag, x-timestamp, x-trans-id, x-openstack-request-id. */
export const DEFAULT_EXPOSE_HEADERS = [
  'cache-control',
  'content-language',
  'content-type',
  'expires',
  'last-modified',
  'pragma',
  'etag',
  'x-timestamp',
  'x-trans-id',
  'x-openstack-request-id',
];

/** Swift's Controller.is_origin_allowed: the container's space-separated origins plus cors_allow_origin. */
export function isOriginAllowed(state: ProxyState, info: ContainerInfo, origin: string): boolean {
  const allowed = new Set((info.cors.allowOrigin ?? '').split(' ').map((s) => s.trim()).filter(Boolean));
  for (const o of state.options.corsAllowOrigin) allowed.add(o);
  return allowed.has(origin) || allowed.has('*');
}

/** The CORS headers cors_validation adds to `res` (a new Response; the body is passed on, not read). */
export function withCorsHeaders(state: ProxyState, info: ContainerInfo, origin: string, res: Response): Response {
  const headers = new Headers(res.headers);
  if (!headers.has('access-control-expose-headers')) {
    const expose = new Set(DEFAULT_EXPOSE_HEADERS);
    for (const h of state.options.corsExposeHeaders) expose.add(h);
    for (const [name] of headers) {
      if (name.startsWith('x-container-meta') || name.startsWith('x-object-meta')) expose.add(name);
    }
    for (const h of (info.cors.exposeHeaders ?? '').split(' ')) {
      if (h.trim()) expose.add(h.trim().toLowerCase());
    }
    headers.set('access-control-expose-headers', [...expose].join(', '));
  }
  // The user agent won't process the response without Access-Control-Allow-Origin.
  if (!headers.has('access-control-allow-origin')) {
    if ((info.cors.allowOrigin ?? '').trim() === '*') headers.set('access-control-allow-origin', '*');
    else {
      headers.set('access-control-allow-origin', origin);
      const vary = headers.get('vary');
      headers.set('vary', vary ? `${vary}, Origin` : 'Origin');
    }
  }
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

export function cors(state: ProxyState): MiddlewareHandler<ProxyEnv> {
  return async (c, next) => {
    const reqHeaders = c.get('headers');
    const origin = reqHeaders.get('origin');
    const method = c.req.method;
    if (!origin || !DECORATED.has(method)) return next();
    const raw = rawPathOf(c);
    if (raw === '/info') return next();
    const parsed = parseProxyPath(raw, state.constraints.valid_api_versions);
    if (parsed instanceof Response || parsed.container === undefined) return next();
    // Requests the proxy application refuses before any controller handler runs.
    const cl = reqHeaders.get('content-length');
    if (cl !== undefined && !/^\d+$/.test(cl.trim())) return next();
    if (state.options.denyHostHeaders.has((reqHeaders.get('host') ?? '').split(':')[0]!)) return next();

    // A denial from the proxy's first authorize call is returned before the handler unless the
    // handler delays denial (objects: always; containers: GET and HEAD), so Swift adds no CORS.
    const delaysDenial = parsed.object !== undefined || method === 'GET' || method === 'HEAD';
    let deniedBeforeHandler = false;
    const authorize = c.get('authorize');
    if (authorize && !c.get('preAuthenticated') && !delaysDenial) {
      let first = true;
      const watched: Authorize = async (ctx, req) => {
        const denial = await authorize(ctx, req);
        if (first) deniedBeforeHandler = denial !== undefined;
        first = false;
        return denial;
      };
      c.set('authorize', watched);
    }

    // Read before the handler, as Swift's decorator does (and cached for the handler to reuse).
    const info = await new ContainerController(state, parsed).containerInfo(c);
    await next();
    if (deniedBeforeHandler) return;
    if (state.options.strictCorsMode && !isOriginAllowed(state, info, origin)) return;
    replaceResponse(c, withCorsHeaders(state, info, origin, c.res));
  };
}

/** CORS settings are proxy-server options ([app:proxy-server] cors_*), not the filter's. */
export const corsFilter = defineFilter<Record<string, never>>({
  name: 'cors',
  options: () => ({}),
  create: (_options, ctx) => cors(ctx.state),
});
