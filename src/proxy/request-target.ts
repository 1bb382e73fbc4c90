/**
 * The request target as the client sent it. Swift's proxy works on the WSGI PATH_INFO and
 * QUERY_STRING, never on a URL normalised by a parser; internal subrequests and tempurl replace
 * it through the `rawTarget` context variable.
 */
import type { ParsedPath, ProxyContext } from './context';
import { InvalidPathError, splitPath } from '../common/path';
import { asByteString, type ByteString } from '../compat/bytes';
import { InvalidUtf8Error, unquoteUtf8 } from '../compat/quote';
import { swiftResponse } from './response';
import type { RequestHeaders } from './request-headers';
import { configTrue } from '../compat/truthy';

/** swob's req.allow_reserved_names: only middleware sets it (the gatekeeper strips x-backend-*). */
export function allowsReservedNames(headers: RequestHeaders): boolean {
  return configTrue(headers.get('x-backend-allow-reserved-names'));
}

function targetOf(c: ProxyContext): string {
  const target = c.get('rawTarget') ?? c.env?.incoming?.url;
  if (target !== undefined) return target;
  // Requests made without node:http (app.request in tests) only have the parsed URL.
  const url = new URL(c.req.url);
  return url.pathname + url.search;
}

/** Raw path of the request (still percent-encoded), as the bytes Node hands over. */
export function rawPathOf(c: ProxyContext): ByteString {
  const url = targetOf(c);
  const q = url.indexOf('?');
  return asByteString(q < 0 ? url : url.slice(0, q));
}

/** Raw query string of the request, without the `?`, as the bytes Node hands over. */
export function rawQueryOf(c: ProxyContext): ByteString {
  const url = targetOf(c);
  const q = url.indexOf('?');
  return asByteString(q < 0 ? '' : url.slice(q + 1));
}

/**
 * Splits `/v1/<account>[/<container>[/<object>]]`. Returns a Response for the errors Swift
 * answers here: 412 for bad UTF-8 or NUL, 404 for an unsplittable path, 400 for an unknown
 * API version, 412 "Bad URL" when no controller matches. Names in the reserved namespace
 * (leading NUL) pass only with `allowReservedNames` (X-Backend-Allow-Reserved-Names).
 */
export function parseProxyPath(rawPath: string, validVersions: readonly string[], allowReservedNames = false): ParsedPath | Response {
  let path: string;
  try {
    // Swift's check_utf8(internal=req.allow_reserved_names): NUL-led names only when allowed.
    path = unquoteUtf8(asByteString(rawPath), allowReservedNames);
  } catch (err) {
    if (err instanceof InvalidUtf8Error) return swiftResponse(412, { body: 'Invalid UTF8 or contains NULL' });
    throw err;
  }
  let segs: (string | undefined)[];
  try {
    segs = splitPath(path, 1, 4, true);
  } catch (err) {
    if (err instanceof InvalidPathError) return swiftResponse(404);
    throw err;
  }
  const [version, account, container, object] = segs as [string, string | undefined, string | undefined, string | undefined];
  if (account && !validVersions.includes(version)) return swiftResponse(400);
  if (!account || (object && !container)) return swiftResponse(412, { body: 'Bad URL' });
  if (container === '' && object !== undefined) return swiftResponse(412, { body: 'Bad URL' });
  return { version, account, container: container || undefined, object: object || undefined };
}
