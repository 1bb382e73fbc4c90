/**
 * The `tempauth` pipeline filter (egg:swift#tempauth): the options of `[filter:tempauth]`, the
 * middleware made from them, its /info section, and the user store it closes on shutdown.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { ProxyEnv } from '../../proxy/context';
import { defineFilter, type FilterContext, type FilterInstance } from '../../proxy/filter';
import { rawPathOf } from '../../proxy/request-target';
import { parseTempAuthConfig, type TempAuthConfig } from './config';
import { TempAuth } from './tempauth';
import { wsgiPath } from './paths';
import { UserStore } from './user-store';
import { EXPLAIN_HEADER, explainRequest } from '../authz';

export { parseTempAuthConfig, DEVELOPMENT_USERS, type TempAuthConfig, type TempAuthUser } from './config';
export { TempAuth, hostUrl } from './tempauth';
export { cleanAclHeader, MAX_ACCOUNT_ACL_BYTES } from '../auth-common';
export { TokenStore } from './tokens';
export { UserStore, UserStoreError, type StoredUser } from './user-store';

export function tempauth(config: TempAuthConfig, ctx: FilterContext): FilterInstance {
  const logger = ctx.logger.child({ log_route: 'tempauth' });
  for (const w of config.warnings) logger.warn(w);
  const userStore = openUserStore(config.userStore, config.users, logger);
  const auth = new TempAuth(config, ctx.state, logger, userStore);
  const handler: MiddlewareHandler<ProxyEnv> = async (c, next) => {
    if (config.allowOverrides && c.get('authorizeOverride')) return next();
    const path = wsgiPath(rawPathOf(c));
    if (path.startsWith(config.authPrefix)) return auth.handleAuth(c, path);
    const denial = await auth.identify(c, path);
    if (denial) return denial;
    // sluice: an owner asking why a request would be allowed or denied (src/middleware/authz).
    if (c.get('authorize') === auth.authorize && c.get('headers').has(EXPLAIN_HEADER)) return explainRequest(ctx.state, c, auth.authz, auth.explainHooks);
    return next();
  };

  return { handler, close: () => userStore?.close() };
}

export const tempauthFilter = defineFilter<TempAuthConfig>({
  name: 'tempauth',
  options: parseTempAuthConfig,
  info: () => ({ tempauth: { account_acls: true } }),
  create: tempauth,
});


/**
 * The proxy's read-only view of the user store (one connection per worker). A missing file is
 * not an error: it holds no users until `sluice user add` creates it.
 */
function openUserStore(path: string | undefined, configUsers: ReadonlyMap<string, unknown>, logger: Logger): UserStore | undefined {
  if (!path) return undefined;
  const store = new UserStore(path, { readonly: true });
  const users = store.list();
  if (!store.isOpen) logger.warn(`tempauth: user store ${path} does not exist yet; "sluice user add --store ${path}" creates it`);
  else logger.info({ users_db: path, users: users.length }, 'tempauth: user store opened');
  // Config users win over store users of the same name: say which store entries are unused.
  const shadowed = users.map((u) => `${u.account}:${u.user}`).filter((id) => configUsers.has(id));
  if (shadowed.length) logger.warn(`tempauth: user_ lines override these user store entries, whose keys are ignored: ${shadowed.join(', ')}`);
  return store;
}
