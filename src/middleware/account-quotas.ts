/**
 * account_quotas (swift/common/middleware/account_quotas.py, Swift 2.30): limits an account's
 * size through its metadata `X-Account-Meta-Quota-Bytes`, which only a reseller admin
 * (`resellerRequest`, set by the auth layer) may set or remove.
 *
 *  - Account PUT/POST with `X-Account-Meta-Quota-Bytes` or `X-Remove-Account-Meta-Quota-Bytes`:
 *    a reseller admin passes (400 when a non-empty new quota is not all digits); anyone else
 *    gets 403. The headers mean nothing on container and object requests.
 *  - Object PUT: when the account's cached bytes-used plus the request's Content-Length (0 when
 *    chunked) exceed the quota, the request gets 413 "Upload exceeds quota." — through the
 *    authorize callback, as Swift does, so a caller who may not write there anyway still gets
 *    the authorizer's 401/403 first. Account bytes come from the container updaters, so the
 *    quota is enforced a little late (and by the account info cache's timeliness), as in Swift.
 *    POST and DELETE are never limited.
 *
 * Swift 2.30 has no per-policy account quotas (X-Account-Quota-Bytes-Policy-* came later).
 *
 * sluice differences from Swift 2.30.1 (both refuse more, never less):
 *  - `X-Remove-Account-Meta-Quota-Bytes` counts as a quota change whatever its value: Swift
 *    ignores it when its value is empty, yet the proxy still removes the quota, so a
 *    non-reseller could drop it;
 *  - a quota value with non-ASCII digits (Python's isdigit accepts "²") is refused with 400.
 */
import type { MiddlewareHandler } from 'hono';
import { defineFilter, type FilterContext } from '../proxy/filter';
import type { Authorize, ProxyEnv } from '../proxy/context';
import { swiftResponse } from '../proxy/response';
import { fetchAccountInfo } from './account-info';
import { requestPath } from './symlink';
import { requestLength } from './container-quotas';

/** Python's int() on a stored quota: surrounding blanks, a sign and digits; else undefined. */
function pyInt(value: string): bigint | undefined {
  const t = value.trim();
  return /^[+-]?[0-9]+$/.test(t) ? BigInt(t) : undefined;
}

export function accountQuotas(ctx: FilterContext): MiddlewareHandler<ProxyEnv> {
  return async (c, next) => {
    const method = c.req.method;
    if (method !== 'POST' && method !== 'PUT') return next();
    const path = requestPath(c, ctx.state);
    if (!path) return next();
    const headers = c.get('headers');

    let quotaChange = false;
    let newQuota: string | undefined;
    if (path.container === undefined) {
      // Only account requests set quotas; X-Remove-... dominates when both are present.
      newQuota = headers.get('x-account-meta-quota-bytes');
      if (headers.has('x-remove-account-meta-quota-bytes')) newQuota = '';
      quotaChange = newQuota !== undefined;
    }

    if (c.get('resellerRequest') === true) {
      if (newQuota && !/^[0-9]+$/.test(newQuota)) return swiftResponse(400, { method });
      return next();
    }
    if (quotaChange) return swiftResponse(403, { method });
    if (method === 'POST' || path.object === undefined) return next();

    const length = requestLength(c);
    // A malformed Content-Length is the proxy's 400.
    if (length === undefined) return next();
    const info = await fetchAccountInfo(ctx.state, c, path.account);
    const stored = info.meta['quota-bytes'];
    const quota = stored === undefined ? -1n : pyInt(stored);
    if (quota === undefined || quota < 0n) return next();
    if (quota >= BigInt(Math.trunc(info.bytes)) + BigInt(length)) return next();

    const tooLarge = () => swiftResponse(413, { body: 'Upload exceeds quota.' });
    const authorize = c.get('authorize');
    // Without an authorizer (or for a pre-authenticated subrequest, which the proxy never
    // authorizes) the upload is refused at once.
    if (!authorize || c.get('preAuthenticated')) return tooLarge();
    // Otherwise the refusal waits for authorization, so a denied caller sees the denial instead
    // (the proxy calls this again with the container ACL for delayed denial).
    const rejecting: Authorize = async (cc, req) => (await authorize(cc, req)) ?? tooLarge();
    c.set('authorize', rejecting);
    return next();
  };
}

export const accountQuotasFilter = defineFilter<Record<string, never>>({
  name: 'account_quotas',
  options: () => ({}),
  info: () => ({ account_quotas: {} }),
  create: (_options, ctx) => accountQuotas(ctx),
});
