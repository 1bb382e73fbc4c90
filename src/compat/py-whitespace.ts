/**
 * Python's idea of whitespace: what `str.strip()`, `str.split()` and the `\s` of `re` (on str)
 * treat as space. It differs from JavaScript's `trim()` and `\s`: Python counts the separators
 * U+001C..U+001F and NEL (U+0085), and does not count the BOM (U+FEFF). `bytes.strip()` is
 * narrower: ASCII whitespace only.
 */
import type { ByteString } from './bytes';

const PY_WHITESPACE = '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

/** A regex character class of that set (every member is in the BMP, so no `u` flag is needed). */
export const PY_SPACE_CLASS = `[${PY_WHITESPACE.replace(/[\s\S]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}]`;

const SPACES = new Set(PY_WHITESPACE);
const BYTES_STRIP = /^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g;
const SPLIT = new RegExp(`${PY_SPACE_CLASS}+`);

export function isPySpace(ch: string): boolean {
  return SPACES.has(ch);
}

/** `s.lstrip()` */
export function pyLstrip(s: string): string {
  let i = 0;
  while (i < s.length && SPACES.has(s[i]!)) i++;
  return s.slice(i);
}

/** `s.rstrip()` */
export function pyRstrip(s: string): string {
  let j = s.length;
  while (j > 0 && SPACES.has(s[j - 1]!)) j--;
  return s.slice(0, j);
}

/** `s.strip()` */
export function pyStrip(s: string): string {
  return pyRstrip(pyLstrip(s));
}

/** `bytes.strip()` on a byte string: only the ASCII whitespace bytes count there. */
export function pyStripBytes(bytes: ByteString): ByteString {
  return bytes.replace(BYTES_STRIP, '') as ByteString;
}

/** `s.split()`: runs of whitespace separate, no empty fields. */
export function pySplit(s: string): string[] {
  const stripped = pyStrip(s);
  return stripped === '' ? [] : stripped.split(SPLIT);
}
