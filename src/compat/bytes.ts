/**
 * Byte strings: bytes held in a JS string, one character U+0000..U+00FF per byte. This is what
 * WSGI hands Swift's Python code as a request's path, query string and header values (a
 * "WSGI string": the bytes decoded as latin-1), and what Node hands sluice the same way (the
 * request target and header values are latin-1 strings of the raw bytes). Text is what those
 * bytes mean once decoded as UTF-8.
 *
 * `ByteString` is branded so that passing text where bytes are expected (or the reverse) is a
 * type error; the conversions below are the only ways between the two.
 */
export type ByteString = string & { readonly __brand: 'ByteString' };

const NON_ASCII = /[^\x00-\x7f]/;
const ESCAPED_BYTE = /[\udc80-\udcff]/;

/** What Node hands over as latin-1 (header values, the request target): already one character per byte. */
export function asByteString(raw: string): ByteString {
  return raw as ByteString;
}

/** Raw bytes as a byte string. */
export function byteStringOf(buf: Uint8Array): ByteString {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return b.toString('latin1') as ByteString;
}

/** The bytes a byte string holds. */
export function bufferOf(bytes: ByteString): Buffer {
  return Buffer.from(bytes, 'latin1');
}

/**
 * `text.encode('utf-8', 'surrogateescape')` as a byte string (Swift's str_to_wsgi): the lone
 * surrogates U+DC80..U+DCFF that a surrogateescape decode made of undecodable bytes become
 * those bytes again, so `bytesOf(textOf(b, 'surrogateescape'))` is `b`. Other lone surrogates,
 * which Python refuses to encode, become U+FFFD's bytes.
 */
export function bytesOf(text: string): ByteString {
  if (!NON_ASCII.test(text)) return text as ByteString;
  if (!ESCAPED_BYTE.test(text)) return Buffer.from(text, 'utf8').toString('latin1') as ByteString;
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    out += cp >= 0xdc80 && cp <= 0xdcff ? String.fromCharCode(cp - 0xdc00) : Buffer.from(ch, 'utf8').toString('latin1');
  }
  return out as ByteString;
}

/** Python's error handlers for `bytes.decode('utf-8', errors)`. */
export type DecodeErrors = 'strict' | 'replace' | 'surrogateescape';

/** Bytes that are not UTF-8, decoded with errors='strict'. */
export class UnicodeDecodeError extends Error {
  constructor() {
    super("'utf-8' codec can't decode bytes");
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
// The WHATWG decoder replaces each maximal invalid subpart with one U+FFFD, as CPython does.
const replacingUtf8 = new TextDecoder('utf-8');

/**
 * `bytes.decode('utf-8', errors)`: 'strict' throws UnicodeDecodeError on invalid UTF-8;
 * 'replace' puts U+FFFD for each invalid sequence; 'surrogateescape' (Swift's wsgi_to_str)
 * turns each undecodable byte 0xNN into the lone surrogate U+DCNN, so no byte is lost.
 */
export function textOf(bytes: ByteString, errors: DecodeErrors): string {
  if (!NON_ASCII.test(bytes)) return bytes;
  const buf = bufferOf(bytes);
  switch (errors) {
    case 'strict':
      try {
        return strictUtf8.decode(buf);
      } catch {
        throw new UnicodeDecodeError();
      }
    case 'replace':
      return replacingUtf8.decode(buf);
    case 'surrogateescape':
      return decodeSurrogateEscape(buf);
  }
}

/** The text the bytes spell when they are UTF-8; otherwise the byte string itself, kept as received. */
export function textIfUtf8(bytes: ByteString): string {
  return isUtf8(bytes) ? textOf(bytes, 'strict') : bytes;
}

/** True if the bytes are valid UTF-8. */
export function isUtf8(bytes: ByteString): boolean {
  if (!NON_ASCII.test(bytes)) return true;
  try {
    strictUtf8.decode(bufferOf(bytes));
    return true;
  } catch {
    return false;
  }
}

/**
 * Swift's check_utf8 on a WSGI string: non-empty, valid UTF-8 (surrogate code points
 * included in "invalid") and, unless `internal` (reserved names may start with one), no NUL.
 */
export function checkUtf8(bytes: ByteString, internal = false): boolean {
  if (!bytes) return false;
  if (!internal && bytes.includes('\0')) return false;
  return isUtf8(bytes);
}

/** UTF-8 decoding with Python's surrogateescape: each byte outside a valid sequence becomes U+DC80..U+DCFF. */
function decodeSurrogateEscape(buf: Buffer): string {
  let out = '';
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i]!;
    if (b < 0x80) {
      let j = i;
      while (j < n && buf[j]! < 0x80) j++;
      out += buf.toString('latin1', i, j);
      i = j;
      continue;
    }
    let need = 0;
    let cp = 0;
    let min = 0;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      cp = b & 0x1f;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      cp = b & 0x0f;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      cp = b & 0x07;
      min = 0x10000;
    }
    let ok = need > 0 && i + need < n;
    if (ok) {
      for (let k = 1; k <= need; k++) {
        const c = buf[i + k]!;
        if ((c & 0xc0) !== 0x80) {
          ok = false;
          break;
        }
        cp = (cp << 6) | (c & 0x3f);
      }
    }
    if (ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
      out += String.fromCodePoint(cp);
      i += need + 1;
    } else {
      out += String.fromCharCode(0xdc00 + b);
      i += 1;
    }
  }
  return out;
}
