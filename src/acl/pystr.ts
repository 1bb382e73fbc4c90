/**
 * Python string behaviour Swift's messages and names depend on: `repr()` quoting, UTF-8
 * decoding with `surrogateescape` (what wsgi_to_str does to header bytes), and
 * `urllib.parse.unquote`.
 */

/** Python's str.isprintable() per character: not Cc, Cf, Cs, Co, Cn, Zl, Zp, or Zs other than space. */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/**
 * repr(str): single quotes unless the text contains `'` and no `"`; backslash, the quote,
 * \t \n \r escaped; other non-printable characters as \xNN, \uNNNN or \UNNNNNNNN; printable
 * non-ASCII kept as is.
 */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x7f) out += ch;
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) {
      if (cp <= 0xff) out += '\\x' + cp.toString(16).padStart(2, '0');
      else if (cp <= 0xffff) out += '\\u' + cp.toString(16).padStart(4, '0');
      else out += '\\U' + cp.toString(16).padStart(8, '0');
    } else out += ch;
  }
  return out + quote;
}

/**
 * Decodes bytes as UTF-8 the way Python's `bytes.decode('utf-8', 'surrogateescape')` does:
 * each byte that is not part of a valid sequence becomes the lone surrogate U+DC80..U+DCFF.
 */
export function decodeUtf8SurrogateEscape(buf: Uint8Array): string {
  let out = '';
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i]!;
    if (b < 0x80) {
      // fast path for ASCII runs
      let j = i;
      while (j < n && buf[j]! < 0x80) j++;
      out += String.fromCharCode(...buf.subarray(i, j));
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

/** A header value as Node hands it over (one latin-1 char per byte) → text, as wsgi_to_str. */
export function headerToText(latin1: string): string {
  if (!/[^\x00-\x7f]/.test(latin1)) return latin1;
  return decodeUtf8SurrogateEscape(Buffer.from(latin1, 'latin1'));
}

/** Text → a header value Node can send (its UTF-8 bytes as latin-1 chars); lone surrogates become U+FFFD. */
export function textToHeader(text: string): string {
  if (!/[^\x00-\x7f]/.test(text)) return text;
  return Buffer.from(text, 'utf8').toString('latin1');
}

const utf8Replace = new TextDecoder('utf-8');

/**
 * urllib.parse.unquote(s): `%XX` runs are decoded as UTF-8 with U+FFFD for invalid bytes;
 * malformed escapes (`%zz`, a trailing `%`) stay literal; non-ASCII text passes through.
 */
export function pyUnquote(s: string): string {
  if (!s.includes('%')) return s;
  let out = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length) out += utf8Replace.decode(Uint8Array.from(bytes));
    bytes = [];
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      flush();
      const cp = s.codePointAt(i)!;
      out += String.fromCodePoint(cp);
      if (cp > 0xffff) i++;
    }
  }
  flush();
  return out;
}
