/**
 * The `tempauth` pipeline filter (listed in src/proxy/app.ts FILTERS).
 */
import type { MiddlewareHandler } from 'hono';
import type { ProxyEnv } from '../../proxy/context';
import type { FilterFactory } from '../../proxy/app';
import { rawPathOf } from '../../proxy/proxy-server';
import { parseTempAuthConfig } from './config';
import { TempAuth } from './tempauth';
import { wsgiPath } from './paths';

export { parseTempAuthConfig, DEVELOPMENT_USERS, type TempAuthConfig, type TempAuthUser } from './config';
export { TempAuth, cleanAclHeader, hostUrl, MAX_ACCOUNT_ACL_BYTES } from './tempauth';
export { TokenStore } from './tokens';

export const tempauthFilter: FilterFactory = (conf, ctx): MiddlewareHandler<ProxyEnv> => {
  const config = parseTempAuthConfig(conf);
  const logger = ctx.logger.child({ log_route: 'tempauth' });
  for (const w of config.warnings) logger.warn(w);
  const auth = new TempAuth(config, ctx.state, logger);
  ctx.state.info.tempauth = { account_acls: true };
  return async (c, next) => {
    if (config.allowOverrides && c.get('authorizeOverride')) return next();
    const path = wsgiPath(rawPathOf(c));
    if (path.startsWith(config.authPrefix)) return auth.handleAuth(c, path);
    const denial = await auth.identify(c, path);
    if (denial) return denial;
    return next();
  };
};

