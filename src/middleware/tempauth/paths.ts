/**
 * The request path as Swift's WSGI PATH_INFO: percent-decoded, one latin-1 character per
 * byte (never rejected here; the proxy answers bad UTF-8 with 412 later), plus helpers to
 * put names into header values safely.
 */
import { splitPath } from '../../common/path';
import { headerToText } from '../../acl/pystr';

/** Percent-decodes a raw request path into WSGI form (bytes as latin-1 characters). */
export function wsgiPath(raw: string): string {
  if (!raw.includes('%')) return raw;
  return raw.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** split_path that answers undefined instead of throwing. */
export function trySplit(path: string, min: number, max: number, rest: boolean): (string | undefined)[] | undefined {
  try {
    return splitPath(path, min, max, rest);
  } catch {
    return undefined;
  }
}

/** The account segment of a WSGI path (`/v1/<account>/...`), decoded to text, if any. */
export function pathAccount(path: string): string | undefined {
  const segs = trySplit(path, 1, 3, true);
  const acct = segs?.[1];
  return acct ? headerToText(acct) : undefined;
}

/**
 * A WSGI string as a header value: bytes stay bytes (latin-1 characters), control characters
 * (which no header may carry) are percent-encoded instead of making the response fail.
 */
export function headerSafe(wsgi: string): string {
  // eslint-disable-next-line no-control-regex
  return wsgi.replace(/[\x00-\x1f\x7f]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}
