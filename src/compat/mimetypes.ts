/**
 * Python's mimetypes.guess_type (3.11, strict), over the tables Debian's python3 builds from
 * /etc/mime.types (src/compat/python-mimetypes.ts, generated). Swift guesses an object's
 * Content-Type with it from the request's path_info (a WSGI string: each byte one character),
 * which is what callers pass, so case folding never turns a non-ASCII character into ASCII.
 */
import { ENCODINGS_MAP, SUFFIX_MAP, TYPES_MAP } from './python-mimetypes';

const has = (table: Readonly<Record<string, string>>, key: string) => Object.prototype.hasOwnProperty.call(table, key);

/** posixpath.splitext: the extension is from the last dot of the last segment, leading dots excluded. */
export function splitext(p: string): [string, string] {
  const sep = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  if (dot > sep) {
    for (let i = sep + 1; i < dot; i++) if (p[i] !== '.') return [p.slice(0, dot), p.slice(dot)];
  }
  return [p, ''];
}

/** mimetypes.guess_type(url, strict=True): [type, encoding], each undefined when unknown. */
export function guessType(url: string): [string | undefined, string | undefined] {
  // urllib.parse._splittype: a scheme is what precedes the first ':' with no '/' before it.
  const scheme = /^([^/:]+):/.exec(url);
  if (scheme) {
    url = url.slice(scheme[0].length);
    if (scheme[1]!.toLowerCase() === 'data') {
      const comma = url.indexOf(',');
      if (comma < 0) return [undefined, undefined];
      const semi = url.slice(0, comma).indexOf(';');
      let type = semi >= 0 ? url.slice(0, semi) : url.slice(0, comma);
      if (type.includes('=') || !type.includes('/')) type = 'text/plain';
      return [type, undefined];
    }
  }
  let [base, ext] = splitext(url);
  while (has(SUFFIX_MAP, ext.toLowerCase())) [base, ext] = splitext(base + SUFFIX_MAP[ext.toLowerCase()]!);
  let encoding: string | undefined;
  // Encoding suffixes are case-sensitive; type suffixes are not.
  if (has(ENCODINGS_MAP, ext)) {
    encoding = ENCODINGS_MAP[ext];
    [base, ext] = splitext(base);
  }
  ext = ext.toLowerCase();
  return [has(TYPES_MAP, ext) ? TYPES_MAP[ext] : undefined, encoding];
}
