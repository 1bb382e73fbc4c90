/**
 * TempAuth (swift.common.middleware.tempauth): token issuing at `<auth_prefix>`, token
 * validation on every request, and the authorize callback the proxy runs before (and, for
 * delayed denial, again after) the controller looks up the container ACL.
 *
 * Deliberate differences from Swift 2.30.1 (spec §6), each marked "sluice:" below:
 *  - an empty grantee ("") in a container or account ACL never matches anyone;
 *  - an account-ACL admin has exactly the owner's powers (no account PUT/DELETE);
 *  - deeply nested ACL JSON is a 400 syntax error, never a 500;
 *  - X-Account-Access-Control bytes are decoded as UTF-8 (proper code points, no mojibake
 *    in the 400 body);
 *  - an X-Account-Access-Control value over 8150 bytes gets one clear 400 naming the limit.
 */
import type { Logger } from 'pino';
import type { Authorize, AuthorizeRequest, ProxyContext } from '../../proxy/context';
import type { ProxyState } from '../../proxy/state';
import { ConfigError } from '../../proxy/config';
import { swiftResponse } from '../../proxy/response';
import { referrerAllowed } from '../../acl/referrer';
import { accountAclsCached, parseAclV1Cached } from '../../acl/cache';
import { accountAclGrant } from '../../acl/account-access';
import { asByteString, bytesOf, type ByteString } from '../../compat/bytes';
import { quote } from '../../compat/quote';
import { matchesSecret } from '../../common/constant-time';
import type { TempAuthConfig, TempAuthUser } from './config';
import { TokenStore } from './tokens';
import { accountPrefixOf } from '../reseller-options';
import { ACL_HEADER, ACL_SYSMETA_HEADER, cleanAclHeader, deniedResponse, errorResponse, headerText, validateAccountAcl } from '../auth-common';
import { headerSafe, trySplit } from './paths';
import { SwiftAuthz, type ExplainHooks, type ExplainedIdentity, requestTarget, tempauthRuleDefaults, withData, type SwiftCreds, type SwiftTarget } from '../authz';
import { tempauthAuthzModel, tempauthCreds } from './authz-model';
import type { StoredUser, UserStore } from './user-store';

/** swob's realm when no account can be named. */
const UNKNOWN_REALM = asByteString('unknown');

/** Each configured user's key as bytes, made once. */
const configuredKeys = new WeakMap<TempAuthUser, Buffer>();

/** The presented key against the configured one, in time that says nothing of the latter (Swift uses ==). */
function keyMatches(user: TempAuthUser, presented: string): boolean {
  let configured = configuredKeys.get(user);
  if (!configured) configuredKeys.set(user, (configured = Buffer.from(user.key, 'utf8')));
  return matchesSecret(presented, configured);
}

export class TempAuth {
  readonly tokens: TokenStore;
  /** The rules deciding each request (src/middleware/authz), with their policy file. */
  readonly authz: SwiftAuthz;

  constructor(
    readonly conf: TempAuthConfig,
    private readonly state: ProxyState,
    private readonly logger: Logger,
    /** sluice: the SQLite user store, for users the user_ lines do not define. */
    private readonly userStore?: UserStore,
  ) {
    this.authz = new SwiftAuthz(tempauthAuthzModel(conf), tempauthRuleDefaults(), conf.authz, logger);
    // Swift's TempAuth keeps tokens in memcache and fails every request without it; sluice
    // refuses such a pipeline at start-up instead.
    if (!state.cache) throw new ConfigError('tempauth needs the cache filter (egg:swift#memcache) before it in the pipeline: tokens live there');
    this.tokens = new TokenStore(state.cache, conf.resellerPrefix, conf.tokenLife);
  }

  // ---------------------------------------------------------------- prefixes

  /** _get_account_prefix: the matching non-empty prefix, else '' if '' is configured, else undefined. */
  accountPrefix(account: string | undefined): string | undefined {
    return account === undefined ? undefined : accountPrefixOf(this.conf.resellerPrefixes, account);
  }

  /** _is_definitive_auth: the path's account starts with one of our non-empty prefixes. */
  isDefinitive(path: ByteString): boolean {
    const segs = trySplit(path, 1, 3, true);
    const account = segs?.[1];
    if (!account) return false;
    return !!this.accountPrefix(headerText(account));
  }

  // ---------------------------------------------------------------- groups

  /** _get_user_groups: account, account:user, configured groups; `.admin` becomes the account ids. */
  userGroups(user: Pick<TempAuthUser, 'id' | 'account' | 'groups'>, accountId: string): string {
    const groups = [user.account, user.id, ...user.groups];
    const admin = groups.indexOf('.admin');
    if (admin >= 0) {
      groups.splice(admin, 1);
      for (const p of this.conf.resellerPrefixes) if (p !== '') groups.push(`${p}${user.account}`);
      if (!groups.includes(accountId)) groups.push(accountId);
    }
    return groups.join(',');
  }

  // ---------------------------------------------------------------- responses

  /** denied_response: 403 for a known user, else 401 with the swob realm. */
  denied(c: ProxyContext, req: Pick<AuthorizeRequest, 'method' | 'account'>): Response {
    return deniedResponse(c, req);
  }

  readonly deniedResponse: Authorize = async (c, req) => {
    c.set('authzDenial', `deny tempauth: no valid token, and account ${req.account} is not one tempauth serves`);
    return this.denied(c, req);
  };

  // ---------------------------------------------------------------- authorize

  readonly authorize: Authorize = async (c, req) => {
    const { account, method } = req;
    if (this.accountPrefix(account) === undefined) {
      c.set('authzDenial', `deny tempauth: account ${account} has none of the reseller prefixes tempauth serves`);
      return this.denied(c, req);
    }

    // The ACL header is validated before any permission check, whoever asks.
    const rawAcl = req.headers.get(ACL_HEADER);
    if (rawAcl !== undefined) {
      const checked = validateAccountAcl(rawAcl, method);
      if (!checked.ok) return checked.response;
      req.headers.delete(ACL_HEADER);
      req.headers.set(ACL_SYSMETA_HEADER, rawAcl);
    }

    const creds = tempauthCreds(c.get('remoteUser'));
    const target = requestTarget(this.state, c, req);
    if (!(await this.authz.allows(c, target, creds))) return this.denied(c, req);
    if (!(await this.authz.allowsAclChange(c, req, target, creds, rawAcl === undefined ? undefined : headerText(rawAcl)))) return this.denied(c, req);
    if (await withData(() => this.swiftOwner(req, target, creds))) c.set('swiftOwner', true);
    return undefined;
  };

  /**
   * Whether an allowed request is the owner's (swift_owner): the branch of Swift's authorize
   * that would have allowed it first is the reseller admin, the account's own user, or an
   * account-ACL admin. Swift's order, not a policy rule: it decides who sees ACLs and keys.
   */
  private swiftOwner(req: AuthorizeRequest, target: SwiftTarget, creds: SwiftCreds): boolean {
    const { method, account, container, object } = req;
    const groups = creds.roles;
    const model = this.authz.model;
    const notReserved = !model.account('reserved', target, creds);
    const read = method === 'GET' || method === 'HEAD';
    if (creds.is_reseller_admin && notReserved) return true;
    if (creds.is_reseller_reader && notReserved && read) return false;
    if (groups.includes(account) && (!(method === 'DELETE' || method === 'PUT') || container) && model.account('operator', target, creds)) return true;
    if (method === 'OPTIONS' || target.container_sync === true) return false;
    const acl = parseAclV1Cached(req.acl);
    if ((object || acl.groupSet.has('.rlistings')) && referrerAllowed(target.referer, acl.referrers)) return false;
    if (groups.some((g) => acl.groupSet.has(g))) return false;
    const acls = accountAclsCached(target.account_acl);
    return !!acls && accountAclGrant(acls, (set) => groups.some((g) => set.has(g)), method, !!container) === 'admin';
  }

  // ---------------------------------------------------------------- explain

  /**
   * The credentials of `account:user` for an owner's X-Sluice-Explain: a configured or stored
   * user's groups as its token would carry them; an unknown user with only its own two groups.
   */
  explainedIdentity(name: string): ExplainedIdentity {
    if (name === 'anonymous') return { creds: tempauthCreds(undefined) };
    const colon = name.indexOf(':');
    if (colon <= 0 || colon === name.length - 1) return { error: `${JSON.stringify(name)} is not a TempAuth user (account:user) or "anonymous"` };
    const account = name.slice(0, colon);
    const user = name.slice(colon + 1);
    let entry: Pick<TempAuthUser, 'id' | 'account' | 'url' | 'groups'> | undefined = this.conf.users.get(name);
    if (!entry && this.userStore) {
      const stored = this.userStore.get(account, user);
      if (stored) entry = this.storedUserEntry(stored);
    }
    if (!entry) return { creds: tempauthCreds(`${account},${name}`), assumed: `${name} is not a configured user: explained with the groups ${account} and ${name} only` };
    const accountId = entry.url.slice(entry.url.lastIndexOf('/') + 1);
    return { creds: tempauthCreds(this.userGroups(entry, accountId)) };
  }

  readonly explainHooks: ExplainHooks = {
    identity: (name) => this.explainedIdentity(name),
    target: (c, req) => requestTarget(this.state, c, req),
  };

  // ---------------------------------------------------------------- token validation

  /**
   * __call__ for a non-auth path: validates the token and installs authorize (or a plain
   * denial) for the proxy. Returns a Response only for an invalid token with our prefix.
   */
  async identify(c: ProxyContext, path: ByteString): Promise<Response | undefined> {
    const headers = c.get('headers');
    const token = headers.get('x-auth-token') ?? headers.get('x-storage-token');
    const serviceToken = headers.get('x-service-token');
    if (token && token.startsWith(this.conf.resellerPrefix)) {
      let groups = await this.tokens.groups(token);
      if (serviceToken && groups) {
        const serviceGroups = await this.tokens.groups(serviceToken);
        if (serviceGroups) groups += ',' + serviceGroups;
      }
      if (groups) {
        c.set('remoteUser', groups);
        if (groups.split(',').includes('.reseller_admin')) c.set('resellerRequest', true);
        c.set('authorize', this.authorize);
        c.set('cleanAcl', cleanAclHeader);
        return undefined;
      }
      if (this.conf.resellerPrefix) {
        c.set('authzDenial', 'deny tempauth: the X-Auth-Token is not valid (unknown or expired)');
        const segs = trySplit(path, 2, 3, true);
        const realm = segs?.[1] ?? UNKNOWN_REALM;
        return errorResponse(401, c.req.method, { 'www-authenticate': `Swift realm="${headerSafe(realm)}"` });
      }
      if (!c.get('authorize')) c.set('authorize', this.deniedResponse);
      return undefined;
    }
    if (this.isDefinitive(path)) {
      c.set('authorize', this.authorize);
      c.set('cleanAcl', cleanAclHeader);
    } else if (this.conf.resellerPrefix === '') {
      if (!c.get('authorize')) {
        c.set('authorize', this.authorize);
        c.set('cleanAcl', cleanAclHeader);
      }
    } else if (!c.get('authorize')) {
      c.set('authorize', this.deniedResponse);
    }
    return undefined;
  }

  // ---------------------------------------------------------------- /auth

  /** A store user as a config user would be: the same default storage URL and groups. */
  private storedUserEntry(u: StoredUser): Pick<TempAuthUser, 'id' | 'account' | 'url' | 'groups'> {
    return {
      id: `${u.account}:${u.user}`,
      account: u.account,
      url: u.storageUrl ?? `$HOST/v1/${this.conf.resellerPrefix}${quote(u.account)}`,
      groups: u.groups,
    };
  }

  /** handle + handle_request + handle_get_token for a path under auth_prefix. */
  async handleAuth(c: ProxyContext, path: ByteString): Promise<Response> {
    const method = c.req.method;
    // path_info_pop: Swift drops exactly one leading segment, whatever the prefix's length.
    const slash = path.indexOf('/', 1);
    const pathInfo = asByteString(slash < 0 ? '' : path.slice(slash));
    if (method !== 'GET') return errorResponse(405, method);
    const outer = trySplit(pathInfo, 1, 4, true);
    if (!outer) return errorResponse(404, method);
    if (!['v1', 'v1.0', 'auth'].includes(outer[0]!)) return errorResponse(400, method);
    const segs = trySplit(pathInfo, 1, 3, true);
    if (!segs) return errorResponse(404, method);
    const headers = c.get('headers');
    const unauthorized = (realm: ByteString) => errorResponse(401, method, { 'www-authenticate': `Swift realm="${headerSafe(realm)}"` });
    // Names are byte strings in realms, decoded text for lookups.
    let account: ByteString;
    let user: ByteString | undefined;
    let key: ByteString | undefined;
    if (segs[0] === 'v1' && segs[2] === 'auth') {
      account = segs[1]!;
      user = headers.get('x-storage-user');
      if (!user) {
        const authUser = headers.get('x-auth-user');
        if (!authUser || !authUser.includes(':')) return unauthorized(account);
        const colon = authUser.indexOf(':');
        if (headerText(account) !== headerText(asByteString(authUser.slice(0, colon)))) return unauthorized(account);
        user = asByteString(authUser.slice(colon + 1));
      }
      key = headers.get('x-storage-pass') || headers.get('x-auth-key');
    } else if (segs[0] === 'auth' || segs[0] === 'v1.0') {
      const authUser = headers.get('x-auth-user') || headers.get('x-storage-user');
      if (!authUser || !authUser.includes(':')) return unauthorized(UNKNOWN_REALM);
      const colon = authUser.indexOf(':');
      account = asByteString(authUser.slice(0, colon));
      user = asByteString(authUser.slice(colon + 1));
      key = headers.get('x-auth-key') || headers.get('x-storage-pass');
    } else {
      return errorResponse(400, method);
    }
    if (!account || !user || !key) return unauthorized(account || UNKNOWN_REALM);
    const accountUser = `${headerText(account)}:${headerText(user)}`;
    const configUser = this.conf.users.get(accountUser);
    let entry: Pick<TempAuthUser, 'id' | 'account' | 'url' | 'groups'>;
    if (configUser) {
      if (!keyMatches(configUser, headerText(key))) return unauthorized(UNKNOWN_REALM);
      entry = configUser;
    } else if (this.userStore) {
      // sluice: config users win; the store is read on every /auth, so add/remove need no restart.
      let result;
      try {
        result = await this.userStore.verify(headerText(account), headerText(user), headerText(key));
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'tempauth: cannot read the user store');
        return errorResponse(503, method);
      }
      if (!result.ok) return unauthorized(result.reason === 'unknown-user' ? account : UNKNOWN_REALM);
      entry = this.storedUserEntry(result.user);
    } else {
      return unauthorized(account);
    }
    const accountId = entry.url.slice(entry.url.lastIndexOf('/') + 1);
    let issued: { token: string; expires: number };
    try {
      issued = await this.tokens.issue(accountUser, this.userGroups(entry, accountId));
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'tempauth: cannot store token');
      return errorResponse(503, method);
    }
    let url = entry.url.replace(/\$HOST/g, hostUrl(c));
    if (this.conf.storageUrlScheme !== 'default') {
      const colon = url.indexOf(':');
      url = `${this.conf.storageUrlScheme}:${colon < 0 ? url : url.slice(colon + 1)}`;
    }
    return swiftResponse(200, {
      headers: {
        'x-auth-token': issued.token,
        'x-storage-token': issued.token,
        'x-auth-token-expires': String(Math.trunc(issued.expires - Date.now() / 1000)),
        'x-storage-url': bytesOf(url),
      },
      body: '',
      method,
    });
  }
}

/** swob's host_url: scheme://Host (default ports dropped), else the local address. */
export function hostUrl(c: ProxyContext): string {
  const incoming = c.env?.incoming as { socket?: { encrypted?: boolean; localAddress?: string; localPort?: number } } | undefined;
  const scheme = incoming?.socket?.encrypted ? 'https' : 'http';
  let host: string | undefined = c.get('headers').get('host');
  if (!host) {
    const addr = incoming?.socket?.localAddress ?? '127.0.0.1';
    host = `${addr.includes(':') ? `[${addr}]` : addr}:${incoming?.socket?.localPort ?? 80}`;
  }
  if ((scheme === 'https' && host.endsWith(':443')) || (scheme === 'http' && host.endsWith(':80'))) host = host.slice(0, host.lastIndexOf(':'));
  return `${scheme}://${host}`;
}
