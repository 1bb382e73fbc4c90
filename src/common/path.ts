/**
 * Path helpers shared by the proxy and the storage servers: Python-compatible quoting,
 * strict percent-decoding to UTF-8, and Swift's split_path.
 */

const UNRESERVED = /[A-Za-z0-9_.\-~]/;

/** urllib.parse.quote(s, safe) on the UTF-8 bytes of s. */
export function pyQuote(s: string, safe = '/'): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && (UNRESERVED.test(ch) || safe.includes(ch))) out += ch;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export class InvalidUtf8Error extends Error {
  constructor() {
    super('Invalid UTF8 or contains NULL');
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Percent-decodes a raw request path into a string, rejecting invalid UTF-8 and NUL bytes
 * (Swift answers both with 412 "Invalid UTF8 or contains NULL"). Malformed escapes such as
 * `%zz` are kept literally, as Python's unquote does.
 */
export function decodePathStrict(raw: string): string {
  if (!raw.includes('%')) {
    if (raw.includes('\0')) throw new InvalidUtf8Error();
    // Node hands us latin-1 for raw non-ASCII bytes in the request line.
    if (/[^\x00-\x7f]/.test(raw)) return decodeBytesStrict(Buffer.from(raw, 'latin1'));
    return raw;
  }
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 && i + 2 < raw.length + 0 && /^[0-9a-fA-F]{2}$/.test(raw.slice(i + 1, i + 3))) {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(c & 0xff);
    }
  }
  return decodeBytesStrict(Buffer.from(bytes));
}

function decodeBytesStrict(buf: Buffer): string {
  if (buf.includes(0)) throw new InvalidUtf8Error();
  try {
    return strictUtf8.decode(buf);
  } catch {
    throw new InvalidUtf8Error();
  }
}

/** True if s is non-empty and holds no NUL (Swift's check_utf8 for already-decoded strings). */
export function isValidName(s: string | undefined): boolean {
  return !!s && !s.includes('\0');
}

export class InvalidPathError extends Error {}

/**
 * swift.common.utils.split_path: splits `/a/b/c` into exactly `maxSegs` segments (missing ones
 * undefined), requiring at least `minSegs`. With restWithLast, the last segment keeps any
 * further slashes. Throws InvalidPathError with Swift's message `Invalid path: <quoted>`.
 */
export function splitPath(path: string, minSegs: number, maxSegs = minSegs, restWithLast = false): (string | undefined)[] {
  const fail = (): never => {
    throw new InvalidPathError(`Invalid path: ${pyQuote(path)}`);
  };
  const parts = path.split('/');
  let segs: string[];
  if (restWithLast) {
    segs = parts.length > maxSegs + 1 ? [...parts.slice(0, maxSegs), parts.slice(maxSegs).join('/')] : parts;
    const count = segs.length;
    if (segs[0] || count < minSegs + 1 || count > maxSegs + 1 || segs.slice(1, minSegs + 1).includes('')) fail();
  } else {
    segs = parts.length > maxSegs + 2 ? [...parts.slice(0, maxSegs + 1), parts.slice(maxSegs + 1).join('/')] : parts;
    const count = segs.length;
    if (
      segs[0] ||
      count < minSegs + 1 ||
      count > maxSegs + 2 ||
      segs.slice(1, minSegs + 1).includes('') ||
      (count === maxSegs + 2 && segs[maxSegs + 1])
    )
      fail();
  }
  const out: (string | undefined)[] = segs.slice(1, maxSegs + 1);
  while (out.length < maxSegs) out.push(undefined);
  return out;
}
