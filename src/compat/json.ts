/**
 * JSON as Python's `json` module reads and writes it, for what Swift serialises: ACLs, listings,
 * bulk results, ring headers.
 *
 * Why not JSON.parse/JSON.stringify: Python accepts `NaN`, `Infinity` and `-Infinity`, keeps
 * ints and floats apart (`1` vs `1.0`), keeps object keys in document order (JS moves
 * integer-like keys first, which changes which unknown key is reported first), and
 * `json.dumps(ensure_ascii=True)` escapes everything outside ` `..`~` as lower-case `\uXXXX`
 * and separates items with `, ` and `: ` unless told otherwise.
 * The parser below is iterative with a nesting limit, so no input can overflow the stack:
 * too-deep input is a syntax error (Swift answers 500 there, see spec §6).
 */

/** A JSON number with Python's int/float distinction and its `json.dumps` text. */
export class PyNumber {
  constructor(
    readonly value: number,
    /** `str(int)` for ints, `float.__repr__` (or NaN/Infinity/-Infinity) for floats. */
    readonly repr: string,
    readonly isInt: boolean,
  ) {}
}

/** A parsed JSON object: keys in document order, a repeated key keeps its first position and its last value. */
export type PyDict = Map<string, PyValue>;
export type PyValue = null | boolean | string | PyNumber | PyValue[] | PyDict;

export class PyJsonError extends Error {}

/** Nesting deeper than this is reported as a syntax error instead of exhausting the stack. */
export const MAX_JSON_DEPTH = 512;

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

/** float.__repr__: shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    return `${sign}${intPart}.${frac || '0'}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp).toString().padStart(2, '0');
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
}

function numberFromText(text: string, isFloat: boolean): PyNumber {
  if (!isFloat) {
    const big = BigInt(text);
    return new PyNumber(Number(big), big.toString(), true);
  }
  const v = Number(text);
  return new PyNumber(v, pyFloatRepr(v), false);
}

type Frame = { kind: 'list'; value: PyValue[] } | { kind: 'dict'; value: PyDict; key: string | undefined };

/**
 * json.loads(text) with Python's rules (strict mode: no raw control characters in strings).
 * Throws PyJsonError on any syntax error, trailing data or nesting beyond MAX_JSON_DEPTH.
 */
export function pyJsonLoads(text: string): PyValue {
  let i = 0;
  const n = text.length;
  function fail(what: string): never {
    throw new PyJsonError(`${what} at char ${i}`);
  }
  const skipWs = () => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };

  const parseString = (): string => {
    // text[i] is the opening quote
    i++;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('Unterminated string');
      const ch = text.charCodeAt(i);
      if (ch === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (ch < 0x20) fail('Invalid control character');
      if (ch !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const esc = text[i + 1];
      if (esc === undefined) fail('Unterminated string');
      if (esc === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('Invalid \\uXXXX escape');
        let cp = parseInt(hex, 16);
        i += 6;
        // A high surrogate followed by an escaped low surrogate is one astral character.
        if (cp >= 0xd800 && cp <= 0xdbff && text[i] === '\\' && text[i + 1] === 'u') {
          const hex2 = text.slice(i + 2, i + 6);
          if (/^[0-9a-fA-F]{4}$/.test(hex2)) {
            const lo = parseInt(hex2, 16);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
              cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
              i += 6;
            }
          }
        }
        out += cp > 0xffff ? String.fromCodePoint(cp) : String.fromCharCode(cp);
      } else {
        const map: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        const rep = map[esc];
        if (rep === undefined) fail('Invalid \\escape');
        out += rep;
        i += 2;
      }
      start = i;
    }
  };

  const parseScalar = (): PyValue => {
    const ch = text[i];
    if (ch === '"') return parseString();
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('NaN', i)) {
      i += 3;
      return new PyNumber(NaN, 'NaN', false);
    }
    if (text.startsWith('Infinity', i)) {
      i += 8;
      return new PyNumber(Infinity, 'Infinity', false);
    }
    if (text.startsWith('-Infinity', i)) {
      i += 9;
      return new PyNumber(-Infinity, '-Infinity', false);
    }
    NUMBER_RE.lastIndex = i;
    const m = NUMBER_RE.exec(text);
    if (!m) return fail('Expecting value');
    i += m[0].length;
    return numberFromText(m[0], m[1] !== undefined || m[2] !== undefined);
  };

  const stack: Frame[] = [];
  let result: PyValue | undefined;
  let have = false;

  // Each iteration either opens a container or produces one value, then attaches it.
  skipWs();
  for (;;) {
    let value: PyValue;
    let produced = false;
    if (i >= n) fail('Expecting value');
    const ch = text[i];
    if (ch === '[' || ch === '{') {
      if (stack.length >= MAX_JSON_DEPTH) fail('Nesting too deep');
      i++;
      skipWs();
      if (ch === '[') {
        if (text[i] === ']') {
          i++;
          value = [];
          produced = true;
        } else {
          stack.push({ kind: 'list', value: [] });
          continue;
        }
      } else {
        if (text[i] === '}') {
          i++;
          value = new Map();
          produced = true;
        } else {
          if (text[i] !== '"') fail('Expecting property name enclosed in double quotes');
          const key = parseString();
          skipWs();
          if (text[i] !== ':') fail("Expecting ':' delimiter");
          i++;
          skipWs();
          stack.push({ kind: 'dict', value: new Map(), key });
          continue;
        }
      }
    } else {
      value = parseScalar();
      produced = true;
    }
    if (!produced) continue;
    // Attach the value, closing containers as long as they end here.
    for (;;) {
      const top = stack[stack.length - 1];
      if (!top) {
        result = value!;
        have = true;
        break;
      }
      if (top.kind === 'list') top.value.push(value!);
      else top.value.set(top.key!, value!);
      skipWs();
      if (text[i] === ',') {
        i++;
        skipWs();
        if (top.kind === 'dict') {
          if (text[i] !== '"') fail('Expecting property name enclosed in double quotes');
          top.key = parseString();
          skipWs();
          if (text[i] !== ':') fail("Expecting ':' delimiter");
          i++;
          skipWs();
        }
        break;
      }
      const close = top.kind === 'list' ? ']' : '}';
      if (text[i] !== close) fail(top.kind === 'list' ? "Expecting ',' delimiter" : "Expecting ',' delimiter");
      i++;
      stack.pop();
      value = top.value;
    }
    if (have) break;
  }
  skipWs();
  if (i !== n) fail('Extra data');
  return result!;
}

/** Python's sort order for str: by code point (JS compares UTF-16 units, which differs above U+FFFF). */
export function pyStrCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) return ca - cb;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  if (i < a.length) return 1;
  if (j < b.length) return -1;
  return 0;
}

/** Printable ASCII other than `"` and `\\`: written as it is. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** json.dumps(s) with ensure_ascii=True: `"`, `\`, \n \r \t \b \f short escapes, the rest outside ' '..'~' as \uXXXX. */
export function pyJsonString(s: string): string {
  // Most strings (listing names, hashes, dates) need no escape at all.
  if (PLAIN_ASCII.test(s)) return `"${s}"`;
  let out = '"';
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0x20 && c <= 0x7e) {
      if (c === 0x22) out += '\\"';
      else if (c === 0x5c) out += '\\\\';
      else out += s[k];
      continue;
    }
    switch (c) {
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x0c:
        out += '\\f';
        break;
      default:
        out += '\\u' + c.toString(16).padStart(4, '0');
    }
  }
  return out + '"';
}

/**
 * Object keys as pyJsonString writes them, kept: a listing repeats the same five keys on every
 * row, and escaping them again took about a quarter of a 1,000-row listing's rendering (1,201
 * against 892 µs). Bounded, so data-made keys (metadata names, bulk results) cannot grow it.
 */
const jsonKeys = new Map<string, string>();
const JSON_KEYS_MAX = 1024;

function jsonKey(k: string): string {
  let text = jsonKeys.get(k);
  if (text === undefined) {
    text = pyJsonString(k);
    if (k.length <= 64 && jsonKeys.size < JSON_KEYS_MAX) jsonKeys.set(k, text);
  }
  return text;
}

export interface PyJsonDumpsOptions {
  /** sort_keys (default false: insertion order, as Python's dicts keep it). */
  sortKeys?: boolean;
  /** separators (default Python's `(', ', ': ')`). */
  separators?: readonly [item: string, key: string];
}

/**
 * json.dumps(value, ensure_ascii=True, ...options). Accepts the parser's values and plain JS
 * data (objects, Maps, arrays, strings, numbers, bigints, booleans, null); an object property
 * whose value is undefined is left out, as an absent key. Throws TypeError for what Python could
 * not serialise either (functions, undefined in a list, ...).
 */
export function pyJsonDumps(value: unknown, options: PyJsonDumpsOptions = {}): string {
  const sortKeys = options.sortKeys ?? false;
  const [itemSep, keySep] = options.separators ?? [', ', ': '];
  const orderKeys = (keys: string[]) => (sortKeys ? keys.sort(pyStrCompare) : keys);
  const dumps = (v: unknown, depth: number): string => {
    if (depth > MAX_JSON_DEPTH) throw new TypeError('value nested too deeply');
    // Strings and integers first: they are most of what a listing holds.
    if (typeof v === 'string') return pyJsonString(v);
    if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : Number.isInteger(v) && Math.abs(v) < 1e21 ? BigInt(v).toString() : pyFloatRepr(v);
    if (v === null) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (v instanceof PyNumber) return v.repr;
    if (typeof v === 'bigint') return v.toString();
    if (Array.isArray(v)) {
      // Loops rather than map/join: a 10,000-row listing is re-rendered on every GET.
      let out = '[';
      for (let k = 0; k < v.length; k++) out += (k ? itemSep : '') + dumps(v[k], depth + 1);
      return out + ']';
    }
    if (v instanceof Map) {
      const keys = orderKeys([...v.keys()].map(String));
      return '{' + keys.map((k) => jsonKey(k) + keySep + dumps(v.get(k), depth + 1)).join(itemSep) + '}';
    }
    if (typeof v === 'object') {
      const obj = v as Record<string, unknown>;
      const keys = orderKeys(Object.keys(obj));
      let out = '{';
      let first = true;
      for (const k of keys) {
        const x = obj[k];
        if (x === undefined) continue;
        out += (first ? '' : itemSep) + jsonKey(k) + keySep + dumps(x, depth + 1);
        first = false;
      }
      return out + '}';
    }
    throw new TypeError(`Object of type ${typeof v} is not JSON serializable`);
  };
  return dumps(value, 0);
}
