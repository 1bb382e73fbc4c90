/**
 * Header names as Swift writes them. swob keeps response headers in a HeaderKeyDict, which
 * stores each name as Python's `bytes.title()` of its latin-1 bytes (`etag` → `Etag`,
 * `x-object-meta-snake_case` → `X-Object-Meta-Snake_Case`); Swift turns eventlet's own
 * capitalisation off, so those spellings reach the client unchanged.
 */

/**
 * Python's `bytes.title()` on a byte string (one character per byte): an ASCII letter is upper
 * case when the character before it is not an ASCII letter, lower case otherwise. Digits,
 * punctuation and bytes >= 0x80 are left alone and start a new word.
 */
export function pythonTitle(name: string): string {
  let out = '';
  let prevLetter = false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const upper = c >= 0x41 && c <= 0x5a;
    const lower = c >= 0x61 && c <= 0x7a;
    if (upper && prevLetter) out += String.fromCharCode(c + 0x20);
    else if (lower && !prevLetter) out += String.fromCharCode(c - 0x20);
    else out += name[i];
    prevLetter = upper || lower;
  }
  return out;
}

const cache = new Map<string, string>();
/** Bound on the cache: metadata names are client-chosen, so the set of names is open. */
const CACHE_LIMIT = 4096;

/** pythonTitle, remembered per name (response header names repeat across requests). */
export function swiftHeaderName(name: string): string {
  let titled = cache.get(name);
  if (titled === undefined) {
    titled = pythonTitle(name);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(name, titled);
  }
  return titled;
}
