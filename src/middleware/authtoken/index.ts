/**
 * The `authtoken` pipeline filter: keystonemiddleware's auth_token
 * (`paste.filter_factory = keystonemiddleware.auth_token:filter_factory` or
 * `use = egg:keystonemiddleware#auth_token`), validating Keystone v3 tokens for keystoneauth
 * after it. It needs the cache filter before it (validated tokens live there) and registers
 * nothing in /info, as keystonemiddleware registers nothing in Swift's.
 */
import type { MiddlewareHandler } from 'hono';
import { ConfigError } from '../../proxy/config';
import type { ProxyEnv } from '../../proxy/context';
import { defineFilter, type FilterContext, type FilterInstance } from '../../proxy/filter';
import { AuthToken } from './auth-token';
import { parseAuthTokenConfig, type AuthTokenConfig } from './config';
import { IdentityClient } from './identity-client';

export { AuthToken, UNAUTHORIZED_BODY, UNAVAILABLE_BODY } from './auth-token';
export { parseAuthTokenConfig, identityV3UrlOf, type AuthTokenConfig } from './config';
export { IdentityClient, type Validation } from './identity-client';
export { AUTH_HEADERS, catalogHeader, removeAuthHeaders } from './headers';
export { tokenCacheKey, invalidTokenCacheKey, tokenHash } from './token-cache';

export function authtoken(config: AuthTokenConfig, ctx: FilterContext): FilterInstance {
  if (!ctx.state.cache) throw new ConfigError('authtoken needs the cache filter (egg:swift#memcache) before it in the pipeline: validated tokens live there');
  const logger = ctx.logger.child({ log_route: config.logName });
  for (const w of config.warnings) logger.warn(w);
  const client = new IdentityClient({
    v3Url: config.identityV3Url,
    credentials: config.credentials,
    timeout: config.httpTimeout,
    maxRetries: config.httpRequestMaxRetries,
    tls: config.tls,
  });
  const auth = new AuthToken({ config, cache: ctx.state.cache, client, logger });
  // keystoneauth, later in the pipeline, refuses to start without authtoken before it.
  ctx.state.keystoneAuthtoken = true;
  const handler: MiddlewareHandler<ProxyEnv> = (c, next) => auth.handle(c, next);
  return { handler, close: () => client.close() };
}

export const authtokenFilter = defineFilter<AuthTokenConfig>({
  name: 'authtoken',
  options: parseAuthTokenConfig,
  create: authtoken,
});
