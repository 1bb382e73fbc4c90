/**
 * healthcheck: `/healthcheck` answers 200 "OK", or 503 "DISABLED BY FILE" while the file named
 * by `disable_path` exists, so an operator can drain a proxy from its load balancer.
 */
import { existsSync } from 'node:fs';
import type { MiddlewareHandler } from 'hono';
import type { ProxyEnv } from '../proxy/context';
import { defineFilter } from '../proxy/filter';
import { swiftResponse } from '../proxy/response';
import { rawPathOf } from '../proxy/request-target';
import { isHealthcheckPath } from '../common/healthcheck-path';

export interface HealthcheckOptions {
  /** While this file exists, /healthcheck answers 503 (Swift's disable_path). */
  disablePath?: string;
}

export function healthcheck(options: HealthcheckOptions = {}): MiddlewareHandler<ProxyEnv> {
  const disablePath = options.disablePath ?? '';
  return async (c, next) => {
    if (!isHealthcheckPath(rawPathOf(c))) return next();
    const method = c.req.method;
    if (disablePath && existsSync(disablePath)) return swiftResponse(503, { body: 'DISABLED BY FILE', contentType: 'text/plain', method });
    return swiftResponse(200, { body: 'OK', contentType: 'text/plain', method });
  };
}

export const healthcheckFilter = defineFilter<HealthcheckOptions>({
  name: 'healthcheck',
  options: (conf) => ({ disablePath: conf.disable_path ?? '' }),
  create: (options) => healthcheck(options),
});
