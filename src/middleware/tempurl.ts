/**
 * tempurl (swift/common/middleware/tempurl.py, Swift 2.30): temporary URLs to objects signed
 * with a key the owner stored as account or container metadata
 * (`X-Account-Meta-Temp-URL-Key(-2)`, `X-Container-Meta-Temp-URL-Key(-2)`).
 *
 * A request carrying `temp_url_sig` or `temp_url_expires` is checked here, before auth:
 *  - the signature is an HMAC (sha1, sha256 or sha512, as `allowed_digests` permits) of
 *    `METHOD\nEXPIRES\nPATH` (with a first line `ip=RANGE` when `temp_url_ip_range` is given,
 *    and `prefix:/v1/a/c/<prefix>` as PATH when `temp_url_prefix` is), as hex, or as
 *    `<digest>:<base64>`; `temp_url_expires` is a Unix time or `YYYY-MM-DDThh:mm:ssZ`;
 *  - only object paths and the configured `methods`; a HEAD passes with a HEAD, GET, POST or
 *    PUT signature; anything wrong (expired, bad signature, no keys, ...) is 401
 *    "401 Unauthorized: Temp URL invalid" (no body for HEAD), as Swift;
 *  - a valid one sets `authorizeOverride` (tempauth with allow_overrides lets it through) and
 *    installs an authorize callback that allows only the signing key's account (account key)
 *    or container (container key), so links and other subrequests cannot leave that scope;
 *    the request is never a swift owner.
 *  - writes with X-Object-Manifest, X-Symlink-Target or X-Copy-From are refused with 400 (they
 *    would point at data the URL does not grant); `incoming_remove_headers` are dropped from
 *    the request and `outgoing_remove_headers` from the response (with the `*_allow_headers`
 *    exceptions); the query string is reduced to the tempurl parameters (so e.g.
 *    `multipart-manifest` or `symlink=get` cannot be added to a signed URL), as Swift does;
 *  - a successful GET/HEAD gets Content-Disposition (`filename`, `inline`, the object's own,
 *    or the object's name) and Expires.
 * Signatures are compared in constant time and never logged (proxy-logging obscures them).
 *
 * sluice differences from Swift 2.30.1 (all fail closed):
 *  - the undocumented `path_prefix` option is not supported;
 *  - a client address given as an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) is matched as
 *    the IPv4 address;
 *  - a path that is not valid UTF-8 is refused with the 401 (Swift would fail later).
 */
import { createHmac } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import { defineFilter, type FilterContext } from '../proxy/filter';
import type { Section } from '../proxy/config';
import type { Authorize, ProxyContext, ProxyEnv } from '../proxy/context';
import { replaceResponse, swiftResponse } from '../proxy/response';
import { rawPathOf, rawQueryOf } from '../proxy/request-target';
import { splitPath } from '../common/path';
import { parseQs } from '../compat/query';
import { quote, quotePlus, unquoteUtf8 } from '../compat/quote';
import { allowedDigests, tempUrlKeys, type KeyScope } from './temp-url-keys';
import { constantTimeEqual } from '../common/constant-time';

export const DEFAULT_METHODS = 'GET HEAD PUT POST DELETE';
export const DEFAULT_INCOMING_REMOVE_HEADERS = 'x-timestamp';
export const DEFAULT_INCOMING_ALLOW_HEADERS = '';
export const DEFAULT_OUTGOING_REMOVE_HEADERS = 'x-object-meta-*';
export const DEFAULT_OUTGOING_ALLOW_HEADERS = 'x-object-meta-public-*';
const DISALLOWED_INCOMING_HEADERS = ['x-object-manifest', 'x-symlink-target', 'x-copy-from'];

const HEX_DIGEST_BY_LENGTH: Record<number, string> = { 40: 'sha1', 64: 'sha256', 128: 'sha512' };

const INVALID_BODY = '401 Unauthorized: Temp URL invalid\n';

type Scope = KeyScope;

// ------------------------------------------------------------------ parsing helpers

const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

const ISO8601 = /^(\d{4})-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\d|0[1-9]|[1-9])T(2[0-3]|[01]\d|\d):([0-5]\d|\d):(6[01]|[0-5]\d|\d)Z$/;

/**
 * temp_url_expires as Swift reads it: int(), else strptime('%Y-%m-%dT%H:%M:%SZ') in UTC, else 0;
 * a time in the past is 0 too (0 means invalid).
 */
export function parseExpires(value: string, now = Date.now() / 1000): number {
  let t: number;
  if (/^\s*[+-]?\d+\s*$/.test(value)) {
    t = Number(value.trim());
  } else {
    const m = ISO8601.exec(value);
    if (!m) return 0;
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    // strptime refuses a day the month does not have.
    const day = new Date(Date.UTC(y, mo - 1, d));
    if (day.getUTCMonth() !== mo - 1) return 0;
    t = Date.UTC(y, mo - 1, d, h, mi, 0) / 1000 + s;
  }
  if (!Number.isSafeInteger(t) || t < now) return 0;
  return t;
}

/** extract_digest_and_algorithm: `<hex>` (algorithm from its length) or `<algo>:<base64>`. */
export function extractDigest(value: string): [string, string] | undefined {
  const colon = value.indexOf(':');
  if (colon >= 0) {
    const algo = value.slice(0, colon);
    let b64 = value.slice(colon + 1);
    // Both standard and url-safe base64 are accepted.
    if ((b64.includes('-') || b64.includes('_')) && !(b64.includes('+') || b64.includes('/'))) b64 = b64.replace(/-/g, '+').replace(/_/g, '/');
    // strict_b64decode: nothing but the alphabet (padding only at the ends).
    if (!/^[A-Za-z0-9+/]*$/.test(b64.replace(/^=+|=+$/g, ''))) return undefined;
    return [algo, Buffer.from(b64, 'base64').toString('hex')];
  }
  if (value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value)) return undefined;
  const algo = HEX_DIGEST_BY_LENGTH[value.length];
  return algo ? [algo, value] : undefined;
}

/** get_hmac: hex HMAC of `[ip=RANGE\n]METHOD\nEXPIRES\nPATH` (UTF-8) with the key. */
export function tempUrlHmac(method: string, path: string, expires: number, key: string, digest: string, ipRange?: string): string {
  const lines = [method, String(expires), path];
  if (ipRange) lines.unshift(`ip=${ipRange}`);
  return createHmac(digest, Buffer.from(key, 'utf8')).update(Buffer.from(lines.join('\n'), 'utf8')).digest('hex');
}

// ------------------------------------------------------------------ IP ranges

function ipv4ToBigInt(s: string): bigint {
  return s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function ipv6ToBigInt(s: string): bigint {
  let text = s;
  // A trailing dotted quad (::ffff:1.2.3.4) is the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = ipv4ToBigInt(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const groups = halves.length > 1 ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

interface Address {
  version: 4 | 6;
  value: bigint;
}

/** ip_address(), with an IPv4-mapped IPv6 address (Node's dual-stack form) as IPv4. */
function parseAddress(s: string): Address | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  if (mapped) s = mapped[1]!;
  if (isIPv4(s)) return { version: 4, value: ipv4ToBigInt(s) };
  if (isIPv6(s)) return { version: 6, value: ipv6ToBigInt(s) };
  return undefined;
}

/** ip_network(range) (strict: no host bits set; a prefix length, netmask or hostmask). */
export function parseNetwork(range: string): { version: 4 | 6; base: bigint; mask: bigint } | undefined {
  const slash = range.indexOf('/');
  const addr = slash < 0 ? range : range.slice(0, slash);
  if (!isIPv4(addr) && !isIPv6(addr)) return undefined;
  const version = isIPv4(addr) ? 4 : 6;
  const bits = version === 4 ? 32 : 128;
  const full = (1n << BigInt(bits)) - 1n;
  let prefix = bits;
  if (slash >= 0) {
    const m = range.slice(slash + 1);
    if (/^\d+$/.test(m)) prefix = Number(m);
    else if (version === 4 && isIPv4(m)) {
      const v = ipv4ToBigInt(m);
      const ones = (x: bigint) => x.toString(2).replace(/0/g, '').length;
      const n = ones(v);
      const asNetmask = v === 0n ? 0 : (full ^ ((1n << BigInt(32 - n)) - 1n)) === v ? n : -1;
      const asHostmask = (1n << BigInt(n)) - 1n === v ? 32 - n : -1;
      prefix = asNetmask >= 0 ? asNetmask : asHostmask;
    } else return undefined;
    if (prefix < 0 || prefix > bits) return undefined;
  }
  const mask = full ^ ((1n << BigInt(bits - prefix)) - 1n);
  const base = version === 4 ? ipv4ToBigInt(addr) : ipv6ToBigInt(addr);
  if ((base & mask) !== base) return undefined;
  return { version, base, mask };
}

function inRange(client: string | undefined, range: string): boolean {
  if (!client) return false;
  const net = parseNetwork(range);
  const addr = parseAddress(client);
  if (!net || !addr) return false;
  return addr.version === net.version && (addr.value & net.mask) === net.base;
}

// ------------------------------------------------------------------ headers

/** header_to_environ_key: the WSGI name a header has (`-` and `_` are the same there). */
function environKey(header: string): string {
  const k = header.toUpperCase().replace(/-/g, '_');
  return k === 'CONTENT_TYPE' || k === 'CONTENT_LENGTH' ? k : `HTTP_${k}`;
}

/** A remove list with its exceptions; names ending in `*` match as prefixes. */
class HeaderFilter {
  private readonly remove: string[];
  private readonly removePrefixes: string[];
  private readonly allow: string[];
  private readonly allowPrefixes: string[];

  constructor(remove: string[], allow: string[], private readonly key: (h: string) => string) {
    const keys = (l: string[]) => l.map(key);
    this.remove = keys(remove).filter((h) => !h.endsWith('*'));
    this.removePrefixes = keys(remove).filter((h) => h.endsWith('*')).map((h) => h.slice(0, -1));
    this.allow = keys(allow).filter((h) => !h.endsWith('*'));
    this.allowPrefixes = keys(allow).filter((h) => h.endsWith('*')).map((h) => h.slice(0, -1));
  }

  removes(header: string): boolean {
    const h = this.key(header);
    if (this.allow.includes(h) || this.allowPrefixes.some((p) => h.startsWith(p))) return false;
    return this.remove.includes(h) || this.removePrefixes.some((p) => h.startsWith(p));
  }
}

/** disposition_format: RFC 6266 with the RFC 5987 `filename*` form. */
function dispositionFormat(type: string, filename: string): string {
  return `${type}; filename="${quote(filename, ' /')}"; filename*=UTF-8''${quote(filename)}`;
}

// ------------------------------------------------------------------ the filter

function invalid(method: string): Response {
  // swob's HTTPUnauthorized built without a request: realm "unknown".
  const headers = { 'www-authenticate': 'Swift realm="unknown"' };
  if (method === 'HEAD') return swiftResponse(401, { headers, method });
  return swiftResponse(401, { headers, body: INVALID_BODY, method });
}

/** authorize_same_account / authorize_same_container: the signing key's scope only. */
function authorizeScope(account: string, container: string | undefined): Authorize {
  return async (_c, req) => {
    if (req.account === account && (container === undefined || req.container === container)) return undefined;
    const headers = { 'www-authenticate': `Swift realm="${quote(req.account)}"` };
    return swiftResponse(401, { headers, method: req.method });
  };
}

export interface TempUrlConfig {
  methods: string[];
  incomingRemove: string[];
  incomingAllow: string[];
  outgoingRemove: string[];
  outgoingAllow: string[];
  allowedDigests: string[];
  deprecatedDigests: string[];
  /** Configured digests sluice does not support (warned about at start-up, as Swift does). */
  unsupportedDigests: string[];
}

/** filter_factory's options, with get_allowed_digests' rules. */
export function parseTempUrlConfig(conf: Section): TempUrlConfig {
  const digests = allowedDigests(conf, 'tempurl');
  return {
    methods: words(conf['methods'] ?? DEFAULT_METHODS),
    incomingRemove: words(conf['incoming_remove_headers'] ?? DEFAULT_INCOMING_REMOVE_HEADERS),
    incomingAllow: words(conf['incoming_allow_headers'] ?? DEFAULT_INCOMING_ALLOW_HEADERS),
    outgoingRemove: words(conf['outgoing_remove_headers'] ?? DEFAULT_OUTGOING_REMOVE_HEADERS),
    outgoingAllow: words(conf['outgoing_allow_headers'] ?? DEFAULT_OUTGOING_ALLOW_HEADERS),
    allowedDigests: digests.allowed,
    deprecatedDigests: digests.deprecated,
    unsupportedDigests: digests.unsupported,
  };
}

export function tempurl(cfg: TempUrlConfig, ctx: FilterContext): MiddlewareHandler<ProxyEnv> {
  const logger = ctx.logger.child({ log_route: 'tempurl' });
  if (cfg.unsupportedDigests.length) logger.warn(`The following digest algorithms are configured but not supported: ${cfg.unsupportedDigests.join(', ')}`);
  if (cfg.deprecatedDigests.length) logger.warn(`The following digest algorithms are allowed but deprecated: ${cfg.deprecatedDigests.join(', ')}`);
  const incoming = new HeaderFilter(cfg.incomingRemove, cfg.incomingAllow, environKey);
  const outgoing = new HeaderFilter(cfg.outgoingRemove, cfg.outgoingAllow, (h) => h.toLowerCase());
  const disallowed = new Set(DISALLOWED_INCOMING_HEADERS.map(environKey));

  /** _get_path_parts: (account, container, object) of an object request with a configured method. */
  function pathParts(c: ProxyContext, method: string): [string, string, string, string] | undefined {
    if (!cfg.methods.includes(method)) return undefined;
    let path: string;
    try {
      path = unquoteUtf8(rawPathOf(c));
      const [ver, acc, cont, obj] = splitPath(path, 4, 4, true) as [string, string, string, string];
      if (ver !== 'v1' || !obj.replace(/^\/+|\/+$/g, '')) return undefined;
      return [acc, cont, obj, path];
    } catch {
      return undefined;
    }
  }

  return async (c, next) => {
    const method = c.req.method;
    if (method === 'OPTIONS') return next();
    // parse_qs(QUERY_STRING, keep_blank_values=True); tempurl reads the first value of each.
    const qs = new Map([...parseQs(rawQueryOf(c), true)].map(([k, v]) => [k, v[0]!]));
    const sigParam = qs.get('temp_url_sig');
    const expiresParam = qs.get('temp_url_expires');
    if (sigParam === undefined && expiresParam === undefined) return next();
    const expires = expiresParam === undefined ? 0 : parseExpires(expiresParam);
    if (!sigParam || !expires) return invalid(method);
    const extracted = extractDigest(sigParam);
    if (!extracted) return invalid(method);
    const [algorithm, sig] = extracted;
    if (!cfg.allowedDigests.includes(algorithm)) return invalid(method);
    const parts = pathParts(c, method);
    if (!parts) return invalid(method);
    const [account, container, object, fullPath] = parts;

    const ipRange = qs.get('temp_url_ip_range');
    if (ipRange && !inRange(c.env?.incoming?.socket?.remoteAddress, ipRange)) return invalid(method);

    const scopedKeys = await tempUrlKeys(ctx.state, c, account, container);
    if (!scopedKeys.length) return invalid(method);

    const prefix = qs.get('temp_url_prefix');
    let hmacPath: string;
    if (prefix === undefined) hmacPath = `/v1/${account}/${container}/${object}`;
    else {
      if (!object.startsWith(prefix)) return invalid(method);
      hmacPath = `prefix:/v1/${account}/${container}/${prefix}`;
    }
    // A HEAD may use a URL signed for GET, POST or PUT as well.
    const methods = method === 'HEAD' ? ['HEAD', 'GET', 'POST', 'PUT'] : [method];
    let scope: Scope | undefined;
    for (const m of methods) {
      for (const [key, keyScope] of scopedKeys) {
        if (constantTimeEqual(sig, tempUrlHmac(m, hmacPath, expires, key, algorithm, ipRange || undefined))) {
          scope = keyScope;
          break;
        }
      }
      if (scope) break;
    }
    if (!scope) return invalid(method);

    const headers = c.get('headers');
    // A write must not create a pointer (manifest, link, copy) to data the URL does not grant.
    if (method !== 'GET' && method !== 'HEAD') {
      for (const [name] of headers.entries()) {
        const key = environKey(name);
        if (disallowed.has(key)) {
          const title = key.slice('HTTP_'.length).toLowerCase().split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-');
          return swiftResponse(400, { body: `The header '${title}' is not allowed in this tempurl` });
        }
      }
    }
    headers.deleteWhere((name) => incoming.removes(name));

    c.set('authorize', authorizeScope(account, scope === 'account' ? undefined : container));
    c.set('authorizeOverride', true);
    c.set('remoteUser', '.wsgi.tempurl');
    // The request goes on with the tempurl parameters only (Swift rewrites QUERY_STRING).
    const query = [`temp_url_sig=${quotePlus(sig)}`, `temp_url_expires=${expires}`];
    if (prefix !== undefined) query.push(`temp_url_prefix=${quotePlus(prefix)}`);
    const filename = qs.get('filename');
    if (filename) query.push(`filename=${quotePlus(filename)}`);
    c.set('rawTarget', `${rawPathOf(c)}?${query.join('&')}`);

    await next();

    const res = c.res;
    const out = new Headers();
    res.headers.forEach((value, name) => {
      if (!outgoing.removes(name)) out.append(name, value);
    });
    if ((method === 'GET' || method === 'HEAD') && res.status >= 200 && res.status < 300) {
      // Query string first, then the object's own Content-Disposition, then its name.
      const existing = out.get('content-disposition');
      let disposition: string;
      if (qs.has('inline')) disposition = filename ? dispositionFormat('inline', filename) : 'inline';
      else if (filename) disposition = dispositionFormat('attachment', filename);
      else if (existing !== null) disposition = existing;
      else disposition = dispositionFormat('attachment', fullPath.replace(/\/+$/, '').split('/').pop()!);
      out.delete('content-disposition');
      out.set('content-disposition', disposition.replace(/\n/g, '%0A'));
      out.set('expires', new Date(expires * 1000).toUTCString());
    }
    replaceResponse(c, new Response(res.body, { status: res.status, statusText: res.statusText, headers: out }));
  };
}

export const tempurlFilter = defineFilter<TempUrlConfig>({
  name: 'tempurl',
  options: parseTempUrlConfig,
  // register_swift_info('tempurl', ...), in Swift's key order.
  info: (cfg) => ({
    tempurl: {
      methods: cfg.methods,
      incoming_remove_headers: cfg.incomingRemove,
      incoming_allow_headers: cfg.incomingAllow,
      outgoing_remove_headers: cfg.outgoingRemove,
      outgoing_allow_headers: cfg.outgoingAllow,
      allowed_digests: cfg.allowedDigests,
      ...(cfg.deprecatedDigests.length ? { deprecated_digests: cfg.deprecatedDigests } : {}),
    },
  }),
  create: (cfg, ctx) => tempurl(cfg, ctx),
});
