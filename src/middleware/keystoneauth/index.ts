/**
 * The `keystoneauth` pipeline filter (egg:swift#keystoneauth): authorization for the
 * identities authtoken (before it in the pipeline) confirmed, as Swift's KeystoneAuth.
 */
import type { MiddlewareHandler } from 'hono';
import type { KeystoneAuthResult, ProxyEnv } from '../../proxy/context';
import { ConfigError } from '../../proxy/config';
import { defineFilter, type FilterContext } from '../../proxy/filter';
import { editResponseHeaders } from '../../proxy/response';
import { cleanAclHeader } from '../auth-common';
import { EXPLAIN_HEADER, explainRequest } from '../authz';
import { parseKeystoneAuthConfig, type KeystoneAuthConfig } from './config';
import { KeystoneAuth, PROJECT_DOMAIN_ID_HEADER, PROJECT_DOMAIN_ID_SYSMETA_HEADER, type KeystoneAuthIdentity } from './keystoneauth';

export { parseKeystoneAuthConfig, type KeystoneAuthConfig, type AccountRules } from './config';
export { KeystoneAuth, PROJECT_DOMAIN_ID_HEADER, PROJECT_DOMAIN_ID_SYSMETA_HEADER, UNKNOWN_DOMAIN_ID, type KeystoneAuthIdentity } from './keystoneauth';

/**
 * _keystone_identity: a user token authtoken confirmed, with no service token or a confirmed
 * one; anything else is anonymous.
 */
export function keystoneIdentity(result: KeystoneAuthResult | undefined): KeystoneAuthIdentity | undefined {
  if (!result || result.userStatus !== 'Confirmed' || !result.user) return undefined;
  if (result.serviceStatus !== undefined && result.serviceStatus !== 'Confirmed') return undefined;
  return { user: result.user, serviceRoles: (result.service?.roles ?? []).map((r) => r.toLowerCase()) };
}

export function keystoneauth(config: KeystoneAuthConfig, ctx: FilterContext): MiddlewareHandler<ProxyEnv> {
  // Swift's keystoneauth trusts X-Identity-Status and friends from the environ, so a pipeline
  // without auth_token before it would trust the client's; sluice refuses to start instead.
  if (!ctx.state.keystoneAuthtoken) {
    throw new ConfigError('keystoneauth needs the authtoken filter (keystonemiddleware.auth_token) before it in the pipeline');
  }
  const logger = ctx.logger.child({ log_route: 'keystoneauth' });
  for (const w of config.warnings) logger.warn(w);
  const auth = new KeystoneAuth(config, ctx.state, logger);

  return async (c, next) => {
    if (config.allowOverrides && c.get('authorizeOverride')) return next();
    const identity = keystoneIdentity(c.get('keystone'));
    if (identity) {
      const { user } = identity;
      // REMOTE_USER: the project, then project:user (what proxy-logging prints).
      c.set('remoteUser', `${user.projectId ?? ''},${user.projectId ?? ''}:${user.userId}`);
      c.set('authorize', auth.authorizeIdentity(identity));
      if (user.roles.some((r) => r.toLowerCase() === config.resellerAdminRole)) c.set('resellerRequest', true);
    } else {
      c.set('authorize', auth.authorizeAnonymous);
    }
    c.set('cleanAcl', cleanAclHeader);
    // sluice: an owner asking why a request would be allowed or denied (src/middleware/authz).
    if (c.get('headers').has(EXPLAIN_HEADER)) return explainRequest(ctx.state, c, auth.authz, auth.explainHooks);
    await next();
    // keystone_start_response: the account's project domain, shown to whoever may see the account.
    const domainId = c.res.headers.get(PROJECT_DOMAIN_ID_SYSMETA_HEADER);
    if (domainId) editResponseHeaders(c, (h) => h.set(PROJECT_DOMAIN_ID_HEADER, domainId));
  };
}

export const keystoneauthFilter = defineFilter<KeystoneAuthConfig>({
  name: 'keystoneauth',
  options: parseKeystoneAuthConfig,
  // sluice: says account ACLs work under keystoneauth too (Swift registers no section).
  info: () => ({ keystoneauth: { account_acls: true } }),
  create: keystoneauth,
});
