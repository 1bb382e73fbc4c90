/**
 * container_quotas (swift/common/middleware/container_quotas.py, Swift 2.30): limits a
 * container's size and object count through its metadata `X-Container-Meta-Quota-Bytes` and
 * `X-Container-Meta-Quota-Count`, which anyone allowed to set container metadata may set.
 *
 *  - Container PUT/POST: a non-empty quota value that is not all digits is refused with 400
 *    "Invalid bytes quota." / "Invalid count quota." (an empty value removes the quota).
 *  - Object PUT: with the container's cached info (object count and bytes, as the container
 *    servers last reported them), an upload that would exceed a quota gets 413 "Upload exceeds
 *    quota.", unless the caller could not have written there anyway: then the authorizer's own
 *    denial (401/403) is returned, so an outsider learns nothing about the container.
 *    The size is the request's Content-Length; a chunked upload counts as 0 bytes (as in Swift,
 *    it is refused only once the container is already over its quota).
 *  - A COPY or PUT with X-Copy-From reaches this filter as the copy middleware's PUT
 *    subrequest (copy sits before the quota filters), whose Content-Length is the source's.
 *
 * sluice difference from Swift 2.30.1: a quota value with non-ASCII digits (e.g. "²", which
 * Python's str.isdigit accepts and int() then fails on with a 500) is refused with the 400.
 */
import type { MiddlewareHandler } from 'hono';
import { defineFilter, type FilterContext } from '../proxy/filter';
import type { ProxyContext, ProxyEnv } from '../proxy/context';
import type { ContainerInfo } from '../proxy/info-cache';
import { swiftResponse } from '../proxy/response';
import { fetchContainerInfo } from './account-info';
import { requestPath } from './symlink';

const DIGITS = /^[0-9]+$/;

/** Python's `val and not val.isdigit()` for an ASCII header value. */
function invalidQuota(value: string | undefined): boolean {
  return value !== undefined && value !== '' && !DIGITS.test(value);
}

/** The request's Content-Length (swob's req.content_length or 0); undefined when malformed. */
export function requestLength(c: ProxyContext): number | undefined {
  const cl = c.get('headers').get('content-length');
  if (cl === undefined) return 0;
  const t = cl.trim();
  return DIGITS.test(t) ? Number(t) : undefined;
}

/**
 * bad_response: the authorizer's denial for a write with the container's write ACL, if it
 * denies (so the quota does not reveal the container), else 413.
 */
async function quotaExceeded(c: ProxyContext, path: { account: string; container: string; object: string }, info: ContainerInfo): Promise<Response> {
  const authorize = c.get('authorize');
  if (authorize && !c.get('preAuthenticated')) {
    const headers = c.get('headers');
    const denial = await authorize(c, {
      method: c.req.method,
      account: path.account,
      container: path.container,
      object: path.object,
      acl: info.writeAcl,
      referer: headers.get('referer'),
      headers,
    });
    if (denial) return denial;
  }
  return swiftResponse(413, { body: 'Upload exceeds quota.' });
}

export function containerQuotas(ctx: FilterContext): MiddlewareHandler<ProxyEnv> {
  return async (c, next) => {
    const path = requestPath(c, ctx.state);
    // Swift's req.split_path(3, 4, True): account-level and unparseable requests pass through.
    if (!path || path.container === undefined) return next();
    const method = c.req.method;
    const headers = c.get('headers');
    if (path.object === undefined) {
      if (method === 'PUT' || method === 'POST') {
        if (invalidQuota(headers.get('x-container-meta-quota-bytes'))) return swiftResponse(400, { body: 'Invalid bytes quota.' });
        if (invalidQuota(headers.get('x-container-meta-quota-count'))) return swiftResponse(400, { body: 'Invalid count quota.' });
      }
      return next();
    }
    if (method !== 'PUT') return next();
    const length = requestLength(c);
    // A malformed Content-Length is the proxy's 400.
    if (length === undefined) return next();
    const info = await fetchContainerInfo(ctx.state, c, path.account, path.container);
    // A missing container will 404 later, in the object controller.
    if (!(info.status >= 200 && info.status < 300)) return next();
    const target = { account: path.account, container: path.container, object: path.object };
    const quotaBytes = info.meta['quota-bytes'];
    if (quotaBytes !== undefined && DIGITS.test(quotaBytes) && BigInt(quotaBytes) < BigInt(Math.trunc(info.bytes)) + BigInt(length)) {
      return quotaExceeded(c, target, info);
    }
    const quotaCount = info.meta['quota-count'];
    if (quotaCount !== undefined && DIGITS.test(quotaCount) && BigInt(quotaCount) < BigInt(Math.trunc(info.objectCount)) + 1n) {
      return quotaExceeded(c, target, info);
    }
    return next();
  };
}

export const containerQuotasFilter = defineFilter<Record<string, never>>({
  name: 'container_quotas',
  options: () => ({}),
  info: () => ({ container_quotas: {} }),
  create: (_options, ctx) => containerQuotas(ctx),
});
