/**
 * The proxy application at the end of the pipeline (Swift's Application.handle_request):
 * validates the raw path, picks the account, container or object controller, enforces the
 * controller's allowed methods (405 with Allow, before auth), runs the authorize callback once
 * before the handler and returns its denial unless the handler delays denial until it knows
 * the container ACLs.
 */
import type { MiddlewareHandler } from 'hono';
import { decodePathStrict, InvalidPathError, InvalidUtf8Error, splitPath } from '../common/path';
import type { ProxyContext, ProxyEnv, ParsedPath } from './context';
import type { ProxyState } from './state';
import { swiftResponse } from './response';
import { AccountController } from './controllers/account';
import { ContainerController } from './controllers/container';
import { ObjectController } from './controllers/object';
import { handleInfo } from './controllers/info';

export interface Controller {
  readonly allowedMethods: readonly string[];
  /** Handlers that re-run authorize once the container ACL is known (Swift's @delay_denial). */
  delaysDenial(method: string): boolean;
  handle(c: ProxyContext, method: string): Promise<Response>;
}

/** Raw path of the request as the client sent it (never normalised by a URL parser). */
export function rawPathOf(c: ProxyContext): string {
  const url = c.get('rawTarget') ?? c.env?.incoming?.url ?? new URL(c.req.url).pathname;
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

export function rawQueryOf(c: ProxyContext): string {
  const url = c.get('rawTarget') ?? c.env?.incoming?.url ?? c.req.url;
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

/**
 * Splits `/v1/<account>[/<container>[/<object>]]`. Returns a Response for the errors Swift
 * answers here: 412 for bad UTF-8 or NUL, 404 for an unsplittable path, 400 for an unknown
 * API version, 412 "Bad URL" when no controller matches.
 */
export function parseProxyPath(rawPath: string, validVersions: readonly string[]): ParsedPath | Response {
  let path: string;
  try {
    path = decodePathStrict(rawPath);
  } catch (err) {
    if (err instanceof InvalidUtf8Error) return swiftResponse(412, { body: 'Invalid UTF8 or contains NULL' });
    throw err;
  }
  let segs: (string | undefined)[];
  try {
    segs = splitPath(path, 1, 4, true);
  } catch (err) {
    if (err instanceof InvalidPathError) return swiftResponse(404);
    throw err;
  }
  const [version, account, container, object] = segs as [string, string | undefined, string | undefined, string | undefined];
  if (account && !validVersions.includes(version)) return swiftResponse(400);
  if (!account || (object && !container)) return swiftResponse(412, { body: 'Bad URL' });
  if (container === '' && object !== undefined) return swiftResponse(412, { body: 'Bad URL' });
  return { version, account, container: container || undefined, object: object || undefined };
}

export function proxyServer(state: ProxyState): MiddlewareHandler<ProxyEnv> {
  return async (c) => {
    const method = c.req.method;
    const cl = c.get('headers').get('content-length');
    if (cl !== undefined && (!/^\d+$/.test(cl.trim()))) {
      return swiftResponse(400, { body: 'Invalid Content-Length', method });
    }
    if (rawPathOf(c) === '/info') return handleInfo(c, state);
    const parsed = parseProxyPath(rawPathOf(c), state.constraints.valid_api_versions);
    if (parsed instanceof Response) return parsed;
    if (state.options.denyHostHeaders.size > 0) {
      const host = (c.get('headers').get('host') ?? '').split(':')[0]!;
      if (state.options.denyHostHeaders.has(host)) return swiftResponse(403, { body: 'Invalid host header', method });
    }
    const controller: Controller = parsed.object
      ? new ObjectController(state, parsed)
      : parsed.container
        ? new ContainerController(state, parsed)
        : new AccountController(state, parsed);
    if (!controller.allowedMethods.includes(method)) {
      return swiftResponse(405, { headers: { Allow: controller.allowedMethods.join(', ') }, method });
    }
    const authorize = c.get('authorize');
    if (authorize && !c.get('preAuthenticated')) {
      const denial = await authorize(c, {
        method,
        account: parsed.account,
        container: parsed.container,
        object: parsed.object,
        acl: undefined,
        referer: c.get('headers').get('referer'),
        headers: c.get('headers'),
      });
      if (!denial) c.set('authorize', undefined);
      else if (!controller.delaysDenial(method)) return denial;
    }
    return controller.handle(c, method);
  };
}
