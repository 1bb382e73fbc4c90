/**
 * Percent-encoding as Python's urllib.parse does it for Swift: `quote`/`quote_plus` on text
 * (its UTF-8 bytes) and on byte strings (Swift's wsgi_quote), `unquote`/`unquote_plus` to text
 * (UTF-8, invalid bytes replaced) and to byte strings (Swift's wsgi_unquote), and the strict
 * decoding of a request path that Swift answers with 412 when it fails.
 */
import { asByteString, checkUtf8, textOf, type ByteString } from './bytes';

/** urllib's always-safe characters: letters, digits and `_.-~`. */
const ALWAYS_SAFE = /[A-Za-z0-9_.\-~]/;
const ESCAPE = /%[0-9a-fA-F]{2}/g;
/** unquote decodes runs of ASCII; anything else passes through as it is. */
const ASCII_RUN = /[\x00-\x7f]+/g;

function quoteByteValues(bytes: Iterable<number>, safe: string): string {
  let out = '';
  for (const byte of bytes) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && (ALWAYS_SAFE.test(ch) || safe.includes(ch))) out += ch;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function* byteValues(bytes: ByteString): Iterable<number> {
  for (let i = 0; i < bytes.length; i++) yield bytes.charCodeAt(i) & 0xff;
}

/** urllib.parse.quote(text, safe): the UTF-8 bytes of text, `%XX` (upper case) unless always safe or in `safe`. */
export function quote(text: string, safe = '/'): string {
  return quoteByteValues(Buffer.from(text, 'utf8'), safe);
}

/** urllib.parse.quote over a byte string's bytes (Swift's wsgi_quote). */
export function quoteBytes(bytes: ByteString, safe = '/'): string {
  return quoteByteValues(byteValues(bytes), safe);
}

/** urllib.parse.quote_plus(text, safe): quote with spaces as `+`. */
export function quotePlus(text: string, safe = ''): string {
  return quote(text, safe + ' ').replace(/ /g, '+');
}

/** urllib.parse.quote_plus over a byte string's bytes (Swift's wsgi_quote_plus, swob's urlencode). */
export function quotePlusBytes(bytes: ByteString, safe = ''): string {
  return quoteBytes(bytes, safe + ' ').replace(/ /g, '+');
}

/** unquote_to_bytes of an ASCII run, as latin-1 characters; a malformed escape (`%zz`, a trailing `%`) stays. */
function unescapeToBytes(ascii: string): string {
  return ascii.replace(ESCAPE, (esc) => String.fromCharCode(parseInt(esc.slice(1), 16)));
}

/**
 * urllib.parse.unquote(s): each ASCII run's `%XX` escapes become bytes decoded as UTF-8 with
 * U+FFFD for invalid sequences; malformed escapes stay literal; non-ASCII text passes through.
 */
export function unquote(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(ASCII_RUN, (run) => (run.includes('%') ? textOf(asByteString(unescapeToBytes(run)), 'replace') : run));
}

/** urllib.parse.unquote_plus(s): `+` is a space, then unquote. */
export function unquotePlus(s: string): string {
  return unquote(s.replace(/\+/g, ' '));
}

/** urllib.parse.unquote(s, encoding='latin-1') on a byte string (Swift's wsgi_unquote): escapes become the bytes they name. */
export function unquoteBytes(bytes: ByteString): ByteString {
  return bytes.includes('%') ? asByteString(unescapeToBytes(bytes)) : bytes;
}

/** urllib.parse.unquote_plus(s, encoding='latin-1') (Swift's wsgi_unquote_plus). */
export function unquotePlusBytes(bytes: ByteString): ByteString {
  return unquoteBytes(asByteString(bytes.replace(/\+/g, ' ')));
}

/** A request path whose bytes Swift's check_utf8 refuses: Swift answers 412. */
export class InvalidUtf8Error extends Error {
  constructor() {
    super('Invalid UTF8 or contains NULL');
  }
}

/**
 * A raw (still percent-encoded) request path as text, as Swift's servers check it: the bytes
 * after unquoting must pass check_utf8 (UTF-8, not empty, no NUL unless `internal`), else
 * InvalidUtf8Error.
 */
export function unquoteUtf8(raw: ByteString, internal = false): string {
  const bytes = unquoteBytes(raw);
  if (!checkUtf8(bytes, internal)) throw new InvalidUtf8Error();
  return textOf(bytes, 'strict');
}
