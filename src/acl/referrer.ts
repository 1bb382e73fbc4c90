/**
 * Referrer ACLs (`.r:` items of a container read ACL), as swift.common.middleware.acl
 * referrer_allowed: entries are checked in order and the last matching entry wins.
 */

const SCHEME_CHARS = /^[A-Za-z0-9+\-.]*$/;

/**
 * `urllib.parse.urlparse(referrer).hostname` (Python 3.11): the host part of a `//netloc`,
 * lower-cased, without user info and port; undefined when there is none. Where Python would
 * raise (unbalanced IPv6 brackets), sluice treats the referrer as having no host.
 */
export function referrerHost(referrer: string | undefined | null): string | undefined {
  // eslint-disable-next-line no-control-regex
  let url = (referrer ?? '').replace(/^[\x00-\x20]+/, '').replace(/[\t\r\n]/g, '');
  const colon = url.indexOf(':');
  if (colon > 0 && /^[A-Za-z]/.test(url) && SCHEME_CHARS.test(url.slice(0, colon))) url = url.slice(colon + 1);
  if (!url.startsWith('//')) return undefined;
  let end = url.length;
  for (const d of ['/', '?', '#']) {
    const k = url.indexOf(d, 2);
    if (k >= 0) end = Math.min(end, k);
  }
  const netloc = url.slice(2, end);
  const hasOpen = netloc.includes('[');
  const hasClose = netloc.includes(']');
  if (hasOpen !== hasClose) return undefined; // Python: ValueError("Invalid IPv6 URL")
  const at = netloc.lastIndexOf('@');
  const hostinfo = at >= 0 ? netloc.slice(at + 1) : netloc;
  let hostname: string;
  const br = hostinfo.indexOf('[');
  if (br >= 0) {
    const bracketed = hostinfo.slice(br + 1);
    const close = bracketed.indexOf(']');
    hostname = close >= 0 ? bracketed.slice(0, close) : bracketed;
  } else {
    const c = hostinfo.indexOf(':');
    hostname = c >= 0 ? hostinfo.slice(0, c) : hostinfo;
  }
  if (!hostname) return undefined;
  const pct = hostname.indexOf('%');
  return pct >= 0 ? hostname.slice(0, pct).toLowerCase() + hostname.slice(pct) : hostname.toLowerCase();
}

/**
 * True if the Referer is allowed by the referrer list of a parsed v1 ACL. A missing or
 * host-less Referer counts as host `unknown`, so `*` still matches it. `-X` denies the host X
 * (or, for `.domain`, any host ending in it), `*`/`X`/`.domain` allow; the last match wins.
 * The ACL side is compared case-sensitively against the lower-cased host, as in Swift.
 */
export function referrerAllowed(referrer: string | undefined | null, referrerAcl: readonly string[] | undefined | null): boolean {
  let allow = false;
  if (referrerAcl && referrerAcl.length > 0) {
    const rhost = referrerHost(referrer) || 'unknown';
    for (let mhost of referrerAcl) {
      if (mhost.startsWith('-')) {
        mhost = mhost.slice(1);
        if (mhost === rhost || (mhost.startsWith('.') && rhost.endsWith(mhost))) allow = false;
      } else if (mhost === '*' || mhost === rhost || (mhost.startsWith('.') && rhost.endsWith(mhost))) {
        allow = true;
      }
    }
  }
  return allow;
}
