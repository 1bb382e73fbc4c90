/**
 * The request path as Swift's WSGI PATH_INFO: percent-decoded to a byte string (never rejected
 * here; the proxy answers bad UTF-8 with 412 later), plus helpers to put names into header
 * values safely.
 */
import { splitPath } from '../../common/path';
import { asByteString, type ByteString } from '../../compat/bytes';
import { unquoteBytes } from '../../compat/quote';

/** PATH_INFO of a raw request path: its percent escapes decoded to bytes (Swift's wsgi_unquote). */
export function wsgiPath(raw: string): ByteString {
  return unquoteBytes(asByteString(raw));
}

/** split_path that answers undefined instead of throwing. */
export function trySplit<S extends string>(path: S, min: number, max: number, rest: boolean): (S | undefined)[] | undefined {
  try {
    return splitPath(path, min, max, rest);
  } catch {
    return undefined;
  }
}

/**
 * A byte string as a header value: bytes stay bytes, control characters (which no header may
 * carry) are percent-encoded instead of making the response fail.
 */
export function headerSafe(bytes: ByteString): ByteString {
  // eslint-disable-next-line no-control-regex
  return asByteString(bytes.replace(/[\x00-\x1f\x7f]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')));
}
