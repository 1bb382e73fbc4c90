/**
 * Version-2 ACLs (JSON), as swift.common.middleware.acl parse_acl_v2 / format_acl_v2, with
 * Python's json semantics (see src/compat/json.ts): duplicate keys keep the last value, NaN and
 * Infinity are accepted, whitespace anywhere between tokens is fine, and output is
 * `json.dumps(ensure_ascii=True, separators=(',', ':'), sort_keys=True)`.
 *
 * Deliberate difference from Swift (spec §6): deeply nested input is an ordinary parse
 * failure (undefined, which tempauth reports as a 400 syntax error), never an exception.
 */
import { LRUCache } from 'lru-cache';
import { pyJsonDumps, pyJsonLoads, PyJsonError, PyNumber, type PyDict, type PyValue } from '../compat/json';
import { textOf, type ByteString } from '../compat/bytes';

/** A parsed ACL object. Numbers stay PyNumber instances so that formatting is exact. */
export type AclV2 = Record<string, unknown>;

/** format_acl_v2's json.dumps: ensure_ascii, sort_keys, compact separators. */
const ACL_JSON = { sortKeys: true, separators: [',', ':'] } as const;

function toPlain(v: PyValue): unknown {
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    // defineProperty: a key named "__proto__" is data, not the prototype setter.
    for (const [k, x] of v) Object.defineProperty(out, k, { value: toPlain(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  if (Array.isArray(v)) return v.map(toPlain);
  return v;
}

/**
 * The object with its keys in document order (Map), or undefined for what parse_acl_v2
 * answers None to: invalid JSON or JSON that is not an object. `''` gives an empty map.
 */
export function parseAclV2Ordered(data: string | undefined | null): PyDict | undefined {
  if (data === undefined || data === null) return undefined;
  if (data === '') return new Map();
  let value: PyValue;
  try {
    value = pyJsonLoads(data);
  } catch (err) {
    if (err instanceof PyJsonError) return undefined;
    throw err;
  }
  return value instanceof Map ? value : undefined;
}

/**
 * `''` → `{}`; a JSON object → that object; anything else (invalid JSON, arrays, strings,
 * numbers, null, nesting too deep) → undefined.
 */
export function parseAclV2(data: string | undefined | null): AclV2 | undefined {
  const ordered = parseAclV2Ordered(data);
  return ordered === undefined ? undefined : (toPlain(ordered) as AclV2);
}

/**
 * Canonical JSON: sorted keys (by code point, as Python), no whitespace, every character
 * outside ' '..'~' as lower-case `\uXXXX` (astral characters as surrogate pairs).
 */
export function formatAclV2(acl: AclV2 | PyDict): string {
  return pyJsonDumps(acl, ACL_JSON);
}

export { PyNumber };

/**
 * The X-Account-Access-Control value an owner sees for a stored ACL given as the header's
 * bytes: they are decoded as UTF-8 first, so a name
 * stored as raw UTF-8 comes back as its code point (`"\u00e9"`), not one escape per byte as
 * in Swift (spec §6). Undefined for an empty object or unparseable data (no header).
 */
export function ownerAclHeader(rawStored: ByteString | undefined | null): string | undefined {
  if (rawStored === undefined || rawStored === null) return undefined;
  // Every owner account GET/HEAD shows the same stored string: parse and format it once.
  const hit = ownerViews.get(rawStored);
  if (hit !== undefined) return hit === NO_HEADER ? undefined : hit;
  const view = ownerAclHeaderOf(rawStored);
  ownerViews.set(rawStored, view ?? NO_HEADER);
  return view;
}

const NO_HEADER = Symbol('no header');
const ownerViews = new LRUCache<string, string | typeof NO_HEADER>({ max: 1024, maxSize: 8 * 1024 * 1024, sizeCalculation: (_v, k) => Math.max(1, k.length) });

function ownerAclHeaderOf(rawStored: ByteString): string | undefined {
  const text = textOf(rawStored, 'surrogateescape');
  const acl = parseAclV2Ordered(text);
  if (!acl || acl.size === 0) return undefined;
  return pyJsonDumps(acl, ACL_JSON);
}
