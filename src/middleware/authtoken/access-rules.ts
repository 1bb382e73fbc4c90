/**
 * Application credentials' access rules (keystonemiddleware's validate_allowed_request): a
 * token made from an application credential with access rules is good only for requests one of
 * its rules names, by method, path pattern and this service's type (service_type).
 */
import { unquoteBytes, quoteBytes } from '../../compat/quote';
import type { ByteString } from '../../compat/bytes';
import type { TokenInfo } from './token-info';

/** webob's PATH_SAFE: what request.path leaves unescaped. */
const PATH_SAFE = "/~!$&'()*+,;=:@";

/** A rule's path pattern as a regex: `{name}` and `*` match one segment, `**` any run. */
export function pathPatternRegex(pattern: string): RegExp {
  let source = '';
  for (const m of pattern.matchAll(/(\{[^}]*\})|(\*(?=$|[^*]))|(\*\*)|([^{}*])/g)) {
    if (m[1] !== undefined || m[2] !== undefined) source += '[^/]+';
    else if (m[3] !== undefined) source += '.*';
    // keystonemiddleware pastes literals into the regex as they are; sluice escapes them, so a
    // `.` in a rule matches a dot only (never more than the rule says).
    else source += m[4]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

export function pathMatches(path: string, pattern: string): boolean {
  return pathPatternRegex(pattern).test(path);
}

/** webob's request.path for a raw request path: decoded, then quoted again with PATH_SAFE. */
export function requestPathOf(rawPath: ByteString): string {
  return quoteBytes(unquoteBytes(rawPath), PATH_SAFE);
}

export type AccessRuleVerdict = { allowed: true } | { allowed: false; why: string };

export function checkAccessRules(
  info: TokenInfo,
  req: { method: string; rawPath: ByteString; hasServiceToken: boolean },
  serviceType: string | undefined,
): AccessRuleVerdict {
  const rules = info.accessRules;
  if (rules === undefined) return { allowed: true };
  if (!serviceType) return { allowed: false, why: 'Cannot validate request with restricted access rules: set service_type in [filter:authtoken]' };
  const path = requestPathOf(req.rawPath);
  if (serviceType === 'identity' && req.method === 'GET' && path.endsWith('/v3/auth/tokens')) return { allowed: true };
  // keystonemiddleware requires this service's type in the token's catalog; a token validated
  // without a catalog (include_service_catalog = false) makes it fail with an error there, so
  // sluice skips this check then and still enforces the rules.
  if (info.catalogTypes && !info.catalogTypes.has(serviceType)) {
    return { allowed: false, why: `Cannot validate request with restricted access rules: service_type ${serviceType} is not in the token's catalog` };
  }
  if (req.hasServiceToken) return { allowed: true };
  for (const rule of rules) {
    if (req.method === rule.method && rule.service === serviceType && pathMatches(path, rule.path)) return { allowed: true };
  }
  return { allowed: false, why: 'no access rule of the application credential allows this request' };
}
