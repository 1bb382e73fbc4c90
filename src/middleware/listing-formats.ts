/**
 * listing_formats (required filter): account and container GET/HEAD always ask the backend
 * for JSON; this middleware negotiates what the client wants (`format=` or `Accept`), and turns
 * a JSON listing into JSON, XML or plain text. An empty listing becomes 204, HEAD gets the
 * negotiated Content-Type, and `Vary: Accept` is added when the format came from Accept.
 */
import type { MiddlewareHandler } from 'hono';
import type { ProxyEnv } from '../proxy/context';
import { defineFilter } from '../proxy/filter';
import { splitPath } from '../common/path';
import { BadAcceptError, listingContentType, NotAcceptableError, renderListingBytes, type ListingEntry } from '../common/listing-format';
import { editResponseHeaders, exceptionResponse, replaceResponse, swiftResponse } from '../proxy/response';
import { rawPathOf, rawQueryOf } from '../proxy/request-target';
import { asByteString } from '../compat/bytes';
import { HttpException } from '../compat/http-exception';
import { getParam, swobParams } from '../compat/query';
import { unquoteUtf8 } from '../compat/quote';
import { parsedListingOf, readListingBody } from './listing-rewrite';

/**
 * A body that is a JSON list of objects as a storage server writes it: `[]`, or `[{` ... `}]`.
 * Anything else takes the parse (and, when it is no listing, goes out as it came).
 */
function isJsonArrayText(body: Buffer): boolean {
  const n = body.length;
  if (n === 2) return body[0] === 0x5b && body[1] === 0x5d;
  return n > 3 && body[0] === 0x5b && body[1] === 0x7b && body[n - 2] === 0x7d && body[n - 1] === 0x5d;
}

/**
 * Requests whose listing a later middleware answers in its own format (Swift's
 * env['swift.format_listing'] = False, set by object versioning's `?versions`).
 */
const unformatted = new WeakSet<Request>();
export function leaveListingUnformatted(c: { req: { raw: Request } }): void {
  unformatted.add(c.req.raw);
}

/** Swift: listings over this size are passed through unformatted. */
const MAX_LISTING_CONTENT_LENGTH = 1024 * 1024 * 10;

export function listingFormats(): MiddlewareHandler<ProxyEnv> {
  return async (c, next) => {
    const method = c.req.method;
    if (method !== 'GET' && method !== 'HEAD') return next();
    const rawPath = rawPathOf(c);
    // Object paths (a fourth segment) skip the parse: throwing splitPath's error on every object
    // request showed up in profiles.
    const parts = rawPath.split('/', 6);
    if (parts.length > 5 || (parts.length === 5 && parts[4] !== '')) return next();
    // Nor can a first segment that is not v1 or v1.0 quoted or not (/auth, /info, /healthcheck).
    const first = parts[1] ?? '';
    if (first !== 'v1' && first !== 'v1.0' && !first.includes('%')) return next();
    let segs: (string | undefined)[];
    try {
      segs = splitPath(unquoteUtf8(asByteString(rawPath)), 2, 3);
    } catch {
      return next();
    }
    const [version, account, container] = segs as [string, string, string | undefined];
    if (version !== 'v1' && version !== 'v1.0') return next();
    const params = swobParams(rawQueryOf(c));
    let outType;
    try {
      // get_listing_content_type: a format that is not UTF-8 is a 400.
      outType = listingContentType(getParam(params, 'format'), c.get('headers').get('accept'));
    } catch (err) {
      if (err instanceof HttpException) return exceptionResponse(err, method);
      if (err instanceof NotAcceptableError) return swiftResponse(406, { method });
      if (err instanceof BadAcceptError) return swiftResponse(400, { body: 'Invalid Accept header', method });
      throw err;
    }
    const canVary = !params.has('format');
    await next();
    if (unformatted.has(c.req.raw)) return;
    const res = c.res;
    if (res.status !== 200 && res.status !== 204) return;
    const addVary = (headers: Headers) => {
      if (!canVary) return;
      const vary = headers.get('vary');
      if (!vary) headers.set('vary', 'Accept');
      else if (!vary.toLowerCase().split(',').map((s) => s.trim()).includes('accept')) headers.set('vary', `${vary}, Accept`);
    };
    const ctype = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const length = Number(res.headers.get('content-length') ?? NaN);
    if (ctype !== 'application/json' || !Number.isFinite(length) || length > MAX_LISTING_CONTENT_LENGTH) {
      editResponseHeaders(c, addVary);
      return;
    }
    if (method === 'HEAD') {
      // Every account and container HEAD comes this way: edited in place, the answer (built
      // body-less by the controller) needs no new Response.
      editResponseHeaders(c, (headers) => {
        addVary(headers);
        headers.set('content-type', `${outType}; charset=utf-8`);
        // Swift drops the JSON length; its server then sends 0 for the body-less HEAD.
        headers.set('content-length', '0');
      });
      return;
    }
    const headers = new Headers(res.headers);
    addVary(headers);
    // slo and symlink may have parsed this very body already (listing-rewrite.ts).
    let listing: unknown = parsedListingOf(res);
    const body = listing === undefined ? (await readListingBody(c)).body : undefined;
    if (body && outType === 'application/json' && isJsonArrayText(body)) {
      // JSON out of JSON nobody changed: Swift's json.loads/json.dumps round trip gives back
      // the bytes a Python-compatible container or account server wrote, so they go as they are.
      headers.set('content-type', `${outType}; charset=utf-8`);
      headers.set('content-length', String(body.length));
      replaceResponse(c, new Response(body, { status: res.status, headers }));
      return;
    }
    try {
      listing ??= JSON.parse(body!.toString('utf8'));
      if (!Array.isArray(listing) || !listing.every((i) => i !== null && typeof i === 'object' && !Array.isArray(i))) throw new Error('not a listing');
    } catch {
      const raw = body ?? (await readListingBody(c)).body;
      replaceResponse(c, new Response(raw.length ? raw : null, { status: res.status, headers }));
      return;
    }
    const out = renderListingBytes(listing as ListingEntry[], outType, container ? 'container' : 'account', container ?? account);
    headers.set('content-type', `${outType}; charset=utf-8`);
    headers.set('content-length', String(out.length));
    replaceResponse(c, new Response(out.length ? out : null, { status: out.length ? res.status : 204, headers }));
  };
}

export const listingFormatsFilter = defineFilter<Record<string, never>>({
  name: 'listing_formats',
  options: () => ({}),
  create: () => listingFormats(),
});
