/**
 * Temporary URLs, signed as swiftclient.utils.generate_temp_url signs them: HMAC (sha1, sha256
 * or sha512) of `[ip=<range>\n]<METHOD>\n<expires>\n[prefix:]<path>` with the account's or the
 * container's Temp-URL-Key; sha512 signatures carry their `sha512:` prefix and unpadded
 * base64url, the others are hex. The output string is the same as Python's for the same input.
 */
import { createHmac } from 'node:crypto';
import { ObjectClientUsageError } from './errors';

export type TempUrlDigest = 'sha1' | 'sha256' | 'sha512';

export interface TempUrlOptions {
  /** GET, PUT, HEAD, POST or DELETE (others are signed too, as swiftclient does). */
  method: string;
  /** `/v1/<account>/<container>/<object>`, or `/v1/<account>/<container>/<prefix>` with `prefix`. */
  path: string;
  /** Valid for this long from now: seconds, or swiftclient's strings (`'90'`, `'10m'`, `'2h'`, `'1d'`). */
  seconds?: number | string;
  /** Valid until then: a Date, Unix seconds, or an ISO 8601 time (`2030-01-01T00:00:00Z`). */
  expiresAt?: Date | number | string;
  key: string;
  /** Default sha256, as swiftclient. */
  digest?: TempUrlDigest;
  /** Restricts the URL to clients from this address or CIDR range. */
  ipRange?: string;
  /** Signs every object under the path's last part (a prefix-based temp URL). */
  prefix?: boolean;
  /** Show the expiry as `YYYY-MM-DDTHH:MM:SSZ` instead of Unix seconds. */
  iso8601?: boolean;
}

const TIME_ERRMSG = 'time must either be a whole number or in specific ISO 8601 format.';
const FLOAT = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;
const SUFFIXES: [string, number][] = [
  ['s', 1],
  ['m', 60],
  ['min', 60],
  ['h', 3600],
  ['hr', 3600],
  ['d', 86400],
];

/** Python's str.split(sep, maxsplit): at most maxsplit cuts, the rest left whole. */
function pySplit(s: string, sep: string, maxsplit: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < maxsplit) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + sep.length);
  }
  out.push(rest);
  return out;
}

function isoTime(s: string): number | undefined {
  let m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(s);
  if (m) return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
  // Without the UTC designator swiftclient reads local time.
  m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2}))?$/.exec(s);
  if (m) return new Date(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)).getTime() / 1000;
  return undefined;
}

/** swiftclient's parse_timestamp: [value, absolute]. */
function parseTime(value: number | string, absolute: boolean): [number, boolean] {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new ObjectClientUsageError(TIME_ERRMSG);
    return [value, absolute];
  }
  if (FLOAT.test(value)) return parseTime(Number(value), absolute);
  const iso = isoTime(value);
  if (iso !== undefined) return [Math.trunc(iso), true];
  if (!absolute) {
    for (const [suffix, mult] of SUFFIXES) {
      if (value.endsWith(suffix) && FLOAT.test(value.slice(0, -suffix.length))) {
        const n = Math.trunc(mult * Number(value.slice(0, -suffix.length)));
        if (n < 0) break;
        return [n, false];
      }
    }
  }
  throw new ObjectClientUsageError(TIME_ERRMSG);
}

function iso8601(unix: number): string {
  return new Date(unix * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The path and query of a temp URL (no scheme or host), exactly as swiftclient prints it. */
export function generateTempUrl(opts: TempUrlOptions): string {
  if ((opts.seconds === undefined) === (opts.expiresAt === undefined)) throw new ObjectClientUsageError('give either seconds or expiresAt');
  const digest = opts.digest ?? 'sha256';
  if (!['sha1', 'sha256', 'sha512'].includes(digest)) throw new ObjectClientUsageError('digest must be one of sha1, sha256, or sha512');
  const parts = pySplit(opts.path, '/', 4);
  if (parts.length !== 5 || parts[0] !== '' || !parts.slice(1, opts.prefix ? 4 : 5).every((p) => p !== '')) {
    throw new ObjectClientUsageError(opts.prefix ? 'path must at least contain /v1/a/c/' : 'path must be full path to an object e.g. /v1/a/c/o');
  }
  let expires: number;
  if (opts.expiresAt !== undefined) {
    const at = opts.expiresAt instanceof Date ? Math.trunc(opts.expiresAt.getTime() / 1000) : opts.expiresAt;
    expires = parseTime(at, true)[0];
  } else {
    const [n, absolute] = parseTime(opts.seconds!, false);
    expires = absolute ? n : Math.trunc(Date.now() / 1000 + n);
  }
  const method = opts.method.toUpperCase();
  const hmacParts = [method, String(expires), (opts.prefix ? 'prefix:' : '') + opts.path];
  if (opts.ipRange) hmacParts.unshift(`ip=${opts.ipRange}`);
  const mac = createHmac(digest, Buffer.from(opts.key, 'utf8')).update(Buffer.from(hmacParts.join('\n'), 'utf8'));
  const sig = digest === 'sha512' ? `sha512:${mac.digest('base64url')}` : mac.digest('hex');
  let url = `${opts.path}?temp_url_sig=${sig}&temp_url_expires=${opts.iso8601 ? iso8601(expires) : expires}`;
  if (opts.ipRange) url += `&temp_url_ip_range=${opts.ipRange}`;
  if (opts.prefix) url += `&temp_url_prefix=${parts[4]}`;
  return url;
}
