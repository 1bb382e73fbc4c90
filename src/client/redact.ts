/**
 * What the Session's log lines must not show, and what they show instead.
 *
 * Bearer tokens (X-Auth-Token, X-Storage-Token, X-Service-Token, X-Subject-Token, Authorization,
 * a v3 `token.id` in an auth body) become `{SHA256}<hex>` of the value, as keystoneauth's
 * Session._process_header prints them: lines stay correlatable without being replayable.
 * Temp-URL signatures (`temp_url_sig`) are bearer credentials too and get the same treatment.
 * Secrets a person chose (X-Auth-Key, X-Storage-Pass, passwords, application-credential
 * secrets, temp-URL keys) become `***` (oslo's mask_password): a hash of a guessable secret
 * could be brute-forced offline.
 */
import { createHash } from 'node:crypto';

export const MASK = '***';

const HASHED_HEADERS = new Set(['x-auth-token', 'x-storage-token', 'x-service-token', 'x-subject-token', 'authorization']);
const MASKED_HEADERS = new Set([
  'x-auth-key',
  'x-storage-pass',
  'x-account-meta-temp-url-key',
  'x-account-meta-temp-url-key-2',
  'x-container-meta-temp-url-key',
  'x-container-meta-temp-url-key-2',
  // container sync's shared secret (its header, and the key a container shows its owner)
  'x-container-sync-key',
]);
/** Keys of a Keystone auth body whose string values are secrets. */
const MASKED_JSON_KEYS = new Set(['password', 'secret']);

export function hashed(value: string): string {
  return `{SHA256}${createHash('sha256').update(value, 'utf8').digest('hex')}`;
}

/** A header value as it may be logged. */
export function redactHeader(name: string, value: string): string {
  const n = name.toLowerCase();
  if (HASHED_HEADERS.has(n)) return hashed(value);
  if (MASKED_HEADERS.has(n)) return MASK;
  return value;
}

/** A URL with its temp_url_sig query values hashed (anything else is left as it was). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const end = hash < 0 ? url.length : hash;
  const params = url
    .slice(q + 1, end)
    .split('&')
    .map((p) => {
      const eq = p.indexOf('=');
      const key = eq < 0 ? p : p.slice(0, eq);
      if (eq < 0 || safeDecode(key) !== 'temp_url_sig') return p;
      return `${key}=${hashed(safeDecode(p.slice(eq + 1)))}`;
    });
  return `${url.slice(0, q + 1)}${params.join('&')}${url.slice(end)}`;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** A copy of a JSON auth body with passwords and secrets masked and token ids hashed. */
export function redactJson(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => redactJson(v));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (key === 'token' && k === 'id' && typeof v === 'string') out[k] = hashed(v);
      else out[k] = redactJson(v, k);
    }
    return out;
  }
  if (MASKED_JSON_KEYS.has(key) && typeof value === 'string') return MASK;
  return value;
}
