/**
 * healthcheck: `/healthcheck` answers 200 "OK", or 503 "DISABLED BY FILE" while the file named
 * by `disable_path` exists, so an operator can drain a proxy from its load balancer.
 */
import { existsSync } from 'node:fs';
import type { MiddlewareHandler } from 'hono';
import type { ProxyEnv } from '../proxy/context';
import type { Section } from '../proxy/config';
import { swiftResponse } from '../proxy/response';
import { rawPathOf } from '../proxy/proxy-server';

export function healthcheck(conf: Section = {}): MiddlewareHandler<ProxyEnv> {
  const disablePath = conf.disable_path ?? '';
  return async (c, next) => {
    if (rawPathOf(c) !== '/healthcheck') return next();
    const method = c.req.method;
    if (disablePath && existsSync(disablePath)) return swiftResponse(503, { body: 'DISABLED BY FILE', contentType: 'text/plain', method });
    return swiftResponse(200, { body: 'OK', contentType: 'text/plain', method });
  };
}
