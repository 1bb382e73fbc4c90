/**
 * What auth_token does with each request (keystonemiddleware's AuthProtocol.process_request and
 * process_response):
 *
 * 1. Every identity header the client sent is removed, before anything else.
 * 2. X-Service-Token, when sent, is validated first; its roles are checked against
 *    service_token_roles, and service_token_roles_required decides whether failing that check
 *    makes it Invalid. A service token that passes the check lets the user token be validated
 *    with allow_expired.
 * 3. The user token (X-Auth-Token, else X-Storage-Token) is validated: from the cache, else by
 *    Keystone; expiry, bind and access rules are checked on every request.
 * 4. The result is set as the `keystone` context variable (keystoneauth reads only that) and as
 *    keystonemiddleware's headers. Unless delay_auth_decision is set, a request without a
 *    Confirmed user (and, with a service token, a Confirmed service) gets the 401 with
 *    keystonemiddleware's JSON body and its WWW-Authenticate challenge.
 * 5. A 401 coming back from downstream gets the challenge appended.
 *
 * Keystone unavailable while a token was presented is a 503 in both modes. keystonemiddleware
 * answers 503 only without delay_auth_decision; with it, it marks the token invalid and lets the
 * request go on anonymously. sluice takes the safe side: a presented token that cannot be checked
 * never turns into an anonymous request that ACLs or tempurl might then allow.
 */
import type { Logger } from 'pino';
import type { ProxyContext, KeystoneAuthResult } from '../../proxy/context';
import type { RequestHeaders } from '../../proxy/request-headers';
import type { SharedCache } from '../../proxy/info-cache';
import { editResponseHeaders, swiftResponse } from '../../proxy/response';
import { rawPathOf } from '../../proxy/request-target';
import type { AuthTokenConfig } from './config';
import { checkAccessRules } from './access-rules';
import { removeAuthHeaders } from './headers';
import type { IdentityClient, Validation } from './identity-client';
import { ParsedToken, TokenCache, tokenHash } from './token-cache';

/** keystonemiddleware's 401 body, as json.dumps writes it. */
export const UNAUTHORIZED_BODY = '{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}';
export const UNAVAILABLE_BODY = 'The Keystone service is temporarily unavailable.';
/** Keystone unavailable is logged at most once per this many ms (with how many went unlogged). */
export const UNAVAILABLE_LOG_INTERVAL_MS = 60_000;

/**
 * A token Keystone could have issued: printable ASCII (fernet and JWS tokens are base64url) of
 * a sane size. Anything else is invalid without asking Keystone, and never reaches an HTTP
 * header of ours.
 */
const PLAUSIBLE_TOKEN = /^[\x21-\x7e]{1,8192}$/;

type Fetched = { kind: 'valid'; parsed: ParsedToken } | { kind: 'invalid' } | { kind: 'unavailable'; reason: string };

/** What one token came to: valid with its contents, invalid, or not checkable. */
type Checked = { ok: true; parsed: ParsedToken; unavailable?: undefined } | { ok: false; unavailable?: string };

export interface AuthTokenDeps {
  config: AuthTokenConfig;
  cache: SharedCache;
  client: IdentityClient;
  logger: Logger;
  now?: () => number;
}

export class AuthToken {
  readonly tokens: TokenCache;
  private readonly config: AuthTokenConfig;
  private readonly client: IdentityClient;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly challenge: string;
  private readonly serviceRoles: ReadonlySet<string>;
  /** Validations in flight per token (and allow_expired), shared by concurrent requests. */
  private readonly inflight = new Map<string, Promise<Fetched>>();
  private lastUnavailableLog = -Infinity;
  private unloggedUnavailable = 0;
  private serviceWarningLogged = false;

  constructor(deps: AuthTokenDeps) {
    this.config = deps.config;
    this.client = deps.client;
    this.logger = deps.logger;
    this.now = deps.now ?? Date.now;
    this.tokens = new TokenCache(deps.cache, deps.config.tokenCacheTime, this.now);
    this.challenge = `Keystone uri="${deps.config.wwwAuthenticateUri}"`;
    this.serviceRoles = new Set(deps.config.serviceTokenRoles);
  }

  async handle(c: ProxyContext, next: () => Promise<void>): Promise<Response | void> {
    const headers = c.get('headers');
    removeAuthHeaders(headers);
    const method = c.req.method;
    const serviceToken = headers.get('x-service-token');
    // webob's headers.get('X-Auth-Token', headers.get('X-Storage-Token')): an empty
    // X-Auth-Token is still the one taken.
    const userToken = headers.get('x-auth-token') ?? headers.get('x-storage-token');

    let confirmedService: ParsedToken | undefined;
    let serviceStatus: 'Confirmed' | 'Invalid' | undefined;
    let allowExpired = false;
    if (serviceToken) {
      const checked = await this.check(serviceToken, false);
      if (checked.unavailable) return this.unavailable(c, checked.unavailable);
      const parsed = checked.ok ? this.confirm(checked.parsed, c, { allowExpired: false, bind: true, accessRules: false }) : undefined;
      if (parsed) {
        const rolePassed = parsed.identity.roles.some((r) => this.serviceRoles.has(r));
        if (!this.config.serviceTokenRolesRequired && !rolePassed && !this.serviceWarningLogged) {
          this.serviceWarningLogged = true;
          this.logger.warn('authtoken: a valid token without any of service_token_roles was accepted as a service token (service_token_roles_required = false); this backwards compatible behaviour is deprecated');
        }
        serviceStatus = rolePassed || !this.config.serviceTokenRolesRequired ? 'Confirmed' : 'Invalid';
        if (serviceStatus === 'Confirmed') confirmedService = parsed;
        allowExpired = rolePassed;
      } else {
        serviceStatus = 'Invalid';
      }
      headers.set('X-Service-Identity-Status', serviceStatus);
    }

    let user: ParsedToken | undefined;
    if (userToken) {
      const checked = await this.check(userToken, allowExpired);
      if (checked.unavailable) return this.unavailable(c, checked.unavailable);
      if (checked.ok) user = this.confirm(checked.parsed, c, { allowExpired, bind: !serviceToken, accessRules: true, hasServiceToken: !!serviceToken });
    }

    const result: KeystoneAuthResult = { userStatus: user ? 'Confirmed' : 'Invalid', user: user?.identity, serviceStatus, service: confirmedService?.identity };
    c.set('keystone', result);
    headers.set('X-Identity-Status', result.userStatus);
    if (!(user && (serviceStatus ?? 'Confirmed') === 'Confirmed') && !this.config.delayAuthDecision) {
      c.set('authzDenial', `deny authtoken: ${!userToken ? 'no X-Auth-Token' : !user ? 'the X-Auth-Token is not valid (unknown, expired or revoked)' : 'the X-Service-Token is not valid, or holds no service role'}`);
      return swiftResponse(401, {
        body: UNAUTHORIZED_BODY,
        contentType: 'application/json; charset=UTF-8',
        headers: { 'www-authenticate': this.challenge },
        method,
      });
    }
    if (user) {
      this.setHeaders(headers, user.userHeaders);
      if (this.config.includeServiceCatalog) {
        const catalog = user.catalogHeader;
        if (catalog !== undefined) headers.set('X-Service-Catalog', catalog);
      }
    }
    if (confirmedService) {
      // keystonemiddleware sets the service headers last, and OpenStack-System-Scope is one
      // header for both tokens: the service token's scope (none, usually) is the one left.
      headers.delete('OpenStack-System-Scope');
      this.setHeaders(headers, confirmedService.serviceHeaders);
    }
    await next();
    // process_response: tell whoever got a 401 downstream where to authenticate.
    if (c.res.status === 401) editResponseHeaders(c, (h) => h.append('www-authenticate', this.challenge));
  }

  private setHeaders(headers: RequestHeaders, pairs: readonly (readonly [string, string])[]): void {
    // removeAuthHeaders took out every name these can have (the service set replaces the
    // user's OpenStack-System-Scope, deleted just before), so appending is setting.
    for (const [name, value] of pairs) headers.append(name, value);
  }

  /** A token's contents, from the cache or Keystone. `raw` is the header value as sent. */
  private async check(raw: string, allowExpired: boolean): Promise<Checked> {
    const token = raw.trim();
    if (!PLAUSIBLE_TOKEN.test(token)) return { ok: false };
    const hash = tokenHash(token);
    const hit = this.tokens.get(hash);
    const cached = hit instanceof Promise ? await hit : hit;
    if (cached) return { ok: true, parsed: cached };
    // Only a plain validation was refused: allow_expired may still accept an expired token.
    if (!allowExpired) {
      const known = this.tokens.isInvalid(hash);
      if (known instanceof Promise ? await known : known) return { ok: false };
    }
    const key = `${hash}:${allowExpired ? 1 : 0}`;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetch(token, hash, allowExpired).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const fetched = await pending;
    if (fetched.kind === 'valid') return { ok: true, parsed: fetched.parsed };
    if (fetched.kind === 'unavailable') return { ok: false, unavailable: fetched.reason };
    return { ok: false };
  }

  private async fetch(token: string, hash: string, allowExpired: boolean): Promise<Fetched> {
    const answer: Validation = await this.client.validate(token, { allowExpired, includeCatalog: this.config.includeServiceCatalog });
    if (answer.kind === 'unavailable') return answer;
    if (answer.kind === 'valid') {
      const parsed = this.tokens.parse(answer.token);
      if (parsed) {
        this.tokens.set(hash, answer.token, parsed);
        return { kind: 'valid', parsed };
      }
      this.logger.warn('authtoken: Keystone returned a token without a user id or expiry (invalid token contents); treated as invalid');
    }
    if (!allowExpired) this.tokens.setInvalid(hash);
    return { kind: 'invalid' };
  }

  /**
   * _validate_token, _confirm_token_bind and validate_allowed_request on a token's contents,
   * cached or not: its expiry (unless allow_expired), its bind and its access rules.
   */
  private confirm(
    parsed: ParsedToken,
    c: ProxyContext,
    opts: { allowExpired: boolean; bind: boolean; accessRules: boolean; hasServiceToken?: boolean },
  ): ParsedToken | undefined {
    if (!opts.allowExpired && parsed.identity.expiresAt < this.now()) return undefined;
    if (opts.bind && !this.bindAccepted(parsed)) return undefined;
    if (opts.accessRules && parsed.info.accessRules) {
      const verdict = checkAccessRules(parsed.info, { method: c.req.method, rawPath: rawPathOf(c), hasServiceToken: !!opts.hasServiceToken }, this.config.serviceType);
      if (!verdict.allowed) {
        this.logger.warn(`authtoken: token refused: ${verdict.why}`);
        return undefined;
      }
    }
    return parsed;
  }

  /**
   * enforce_token_bind = permissive: an unbound token, or one bound to something sluice does
   * not know, passes; a kerberos bind needs a Negotiate-authenticated request, which sluice never
   * has, so it fails.
   */
  private bindAccepted(parsed: ParsedToken): boolean {
    if (this.config.enforceTokenBind === 'disabled') return true;
    const bind = parsed.info.bind;
    return !bind || !('kerberos' in bind);
  }

  private unavailable(c: ProxyContext, reason: string): Response {
    c.set('keystone', { userStatus: 'Invalid', user: undefined, serviceStatus: undefined, service: undefined });
    const now = this.now();
    if (now - this.lastUnavailableLog >= UNAVAILABLE_LOG_INTERVAL_MS) {
      const unlogged = this.unloggedUnavailable;
      this.lastUnavailableLog = now;
      this.unloggedUnavailable = 0;
      this.logger.error(`authtoken: Keystone is unavailable: ${reason}; answering 503${unlogged ? ` (${unlogged} more since the last report)` : ''}`);
    } else {
      this.unloggedUnavailable++;
    }
    return swiftResponse(503, { body: UNAVAILABLE_BODY, contentType: 'text/plain; charset=UTF-8', method: c.req.method });
  }
}
