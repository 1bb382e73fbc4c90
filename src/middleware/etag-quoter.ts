/**
 * etag_quoter (swift/common/middleware/etag_quoter.py, Swift 2.30): RFC 7232 quoted ETags on
 * object responses, per account or container.
 *
 *  - `X-Account-Rfc-Compliant-Etags` / `X-Container-Rfc-Compliant-Etags` on an account or
 *    container request are stored as sysmeta (`X-<Type>-Sysmeta-Rfc-Compliant-Etags`: `True`
 *    or `False` as Swift's str(config_true_value(v)), an empty value or `X-Remove-...` clears
 *    it); the sysmeta in the response comes back under the client's name.
 *  - On an object request (any method, any status: 304 and 412 included) the container's flag
 *    decides, else the account's, else `enable_by_default`; when true, an `ETag` that is not
 *    already `"..."` or `W/"..."` is quoted. A container or account whose info is not a success
 *    leaves the response alone, as Swift does.
 *
 * Swift's docs place it right after cache, so it sees (and gatekeeper hides) the sysmeta.
 */
import type { MiddlewareHandler } from 'hono';
import { boolOption } from '../proxy/config';
import type { ProxyEnv } from '../proxy/context';
import { defineFilter, type FilterContext } from '../proxy/filter';
import { rawPathOf } from '../proxy/request-target';
import { editResponseHeaders } from '../proxy/response';
import { splitPath } from '../common/path';
import type { ByteString } from '../compat/bytes';
import { unquoteUtf8 } from '../compat/quote';
import { configTrue } from '../compat/truthy';
import { fetchAccountInfo, fetchContainerInfo } from './account-info';

export interface EtagQuoterOptions {
  enableByDefault: boolean;
}

const SYSMETA_KEY = 'rfc-compliant-etags';

const isSuccess = (status: number) => status >= 200 && status < 300;

/** The ETag as RFC 7232 wants it: quoted, unless it already is (strong or weak). */
export function quoteEtag(value: string): string {
  return (value.startsWith('"') || value.startsWith('W/"')) && value.endsWith('"') ? value : `"${value}"`;
}

/** split_path(2, 4, rest_with_last=True) of a valid API version, or undefined (not a Swift request). */
function swiftPath(raw: ByteString, versions: readonly string[]): [string, string | undefined, string | undefined] | undefined {
  try {
    const [version, account, container, obj] = splitPath(unquoteUtf8(raw), 2, 4, true) as [string, string, string?, string?];
    return versions.includes(version) ? [account, container || undefined, obj || undefined] : undefined;
  } catch {
    return undefined;
  }
}

export function etagQuoter(options: EtagQuoterOptions, ctx: FilterContext): MiddlewareHandler<ProxyEnv> {
  const { state } = ctx;
  return async (c, next) => {
    const parsed = swiftPath(rawPathOf(c), state.constraints.valid_api_versions);
    if (!parsed) return next();
    const [account, container, obj] = parsed;

    if (obj === undefined) {
      const type = container === undefined ? 'account' : 'container';
      const clientHeader = `x-${type}-rfc-compliant-etags`;
      const sysmetaHeader = `x-${type}-sysmeta-rfc-compliant-etags`;
      const headers = c.get('headers');
      const given = headers.get(clientHeader);
      if (given !== undefined) headers.set(sysmetaHeader, given ? (configTrue(given) ? 'True' : 'False') : '');
      if (headers.get(`x-remove-${type}-rfc-compliant-etags`)) headers.set(sysmetaHeader, '');
      await next();
      if (c.res.headers.has(sysmetaHeader)) {
        editResponseHeaders(c, (h) => {
          const value = h.get(sysmetaHeader)!;
          h.delete(sysmetaHeader);
          h.set(clientHeader, value);
        });
      }
      return;
    }

    // `/v1/a//o`: the proxy refuses it (412 Bad URL).
    if (container === undefined) return next();
    const cont = await fetchContainerInfo(state, c, account, container);
    if (!isSuccess(cont.status)) return next();
    let flag = cont.sysmeta[SYSMETA_KEY];
    if (flag === undefined) {
      const acct = await fetchAccountInfo(state, c, account);
      if (!isSuccess(acct.status)) return next();
      flag = acct.sysmeta[SYSMETA_KEY];
    }
    const enabled = flag === undefined ? options.enableByDefault : configTrue(flag);
    if (!enabled) return next();
    await next();
    const etag = c.res.headers.get('etag');
    if (etag !== null && quoteEtag(etag) !== etag) editResponseHeaders(c, (h) => h.set('etag', quoteEtag(etag)));
  };
}

export const etagQuoterFilter = defineFilter<EtagQuoterOptions>({
  name: 'etag_quoter',
  options: (conf) => ({ enableByDefault: boolOption(conf, 'enable_by_default', false) }),
  // register_swift_info('etag_quoter', enable_by_default=...)
  info: (options) => ({ etag_quoter: { enable_by_default: options.enableByDefault } }),
  create: (options, ctx) => etagQuoter(options, ctx),
});
