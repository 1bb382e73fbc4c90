/**
 * crossdomain (swift/common/middleware/crossdomain.py, Swift 2.30): answers `GET
 * /crossdomain.xml` with an Adobe cross-domain policy document, so Flash, Java and Silverlight
 * clients on other sites may use the API. `cross_domain_policy` (continuation lines allowed)
 * is the document's inner lines; by default `<allow-access-from domain="*" secure="false" />`.
 * Any other method or path goes on down the pipeline (a HEAD included, as in Swift). It
 * belongs before auth: the document is public.
 */
import type { MiddlewareHandler } from 'hono';
import type { ProxyEnv } from '../proxy/context';
import { defineFilter } from '../proxy/filter';
import { rawPathOf } from '../proxy/request-target';
import { swiftResponse } from '../proxy/response';
import { unquoteBytes } from '../compat/quote';

export const DEFAULT_CROSS_DOMAIN_POLICY = '<allow-access-from domain="*" secure="false" />';

export interface CrossDomainOptions {
  policy: string;
}

/** The document CrossDomainMiddleware.GET builds around the policy. */
export function crossDomainDocument(policy: string): string {
  return (
    '<?xml version="1.0"?>\n' +
    '<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >\n' +
    `<cross-domain-policy>\n${policy}\n</cross-domain-policy>`
  );
}

export function crossdomain(options: CrossDomainOptions): MiddlewareHandler<ProxyEnv> {
  const body = Buffer.from(crossDomainDocument(options.policy), 'utf8');
  return async (c, next) => {
    // swob's req.path is PATH_INFO quoted again, so `/crossdomain%2Exml` matches too.
    if (c.req.method !== 'GET' || unquoteBytes(rawPathOf(c)) !== '/crossdomain.xml') return next();
    return swiftResponse(200, { body, contentType: 'application/xml' });
  };
}

export const crossdomainFilter = defineFilter<CrossDomainOptions>({
  name: 'crossdomain',
  options: (conf) => ({ policy: conf['cross_domain_policy'] ?? DEFAULT_CROSS_DOMAIN_POLICY }),
  // register_swift_info('crossdomain'): an empty section.
  info: () => ({ crossdomain: {} }),
  create: (options) => crossdomain(options),
});
