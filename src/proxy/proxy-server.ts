/**
 * The proxy application at the end of the pipeline (Swift's Application.handle_request):
 * validates the raw path, picks the account, container or object controller, enforces the
 * controller's allowed methods (405 with Allow, before auth), runs the authorize callback once
 * before the handler and returns its denial unless the handler delays denial until it knows
 * the container ACLs.
 */
import type { MiddlewareHandler } from 'hono';
import type { ProxyEnv } from './context';
import type { ProxyState } from './state';
import { swiftResponse } from './response';
import { AccountController } from './controllers/account';
import { ContainerController } from './controllers/container';
import { ObjectController } from './controllers/object';
import { handleInfo } from './controllers/info';
import { allowsReservedNames, parseProxyPath, rawPathOf } from './request-target';
import type { Controller } from './controllers/base';


export function proxyServer(state: ProxyState): MiddlewareHandler<ProxyEnv> {
  return async (c) => {
    const method = c.req.method;
    const cl = c.get('headers').get('content-length');
    if (cl !== undefined && (!/^\d+$/.test(cl.trim()))) {
      state.metrics.proxyError();
      return swiftResponse(400, { body: 'Invalid Content-Length', method });
    }
    if (rawPathOf(c) === '/info') return handleInfo(c, state);
    const parsed = parseProxyPath(rawPathOf(c), state.constraints.valid_api_versions, allowsReservedNames(c.get('headers')));
    if (parsed instanceof Response) {
      // Swift counts `errors` for a bad version, path or UTF-8 (Application.handle_request).
      state.metrics.proxyError();
      return parsed;
    }
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
    const res = await controller.handle(c, method);
    // Swift's object controller counts the PUTs it answers 408 and 499 (client_timeouts/disconnects).
    if (controller instanceof ObjectController) state.metrics.answered('object', res.status);
    return res;
  };
}
