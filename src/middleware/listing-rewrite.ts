/**
 * A JSON container listing rewritten entry by entry on its way out, as Swift's symlink and slo
 * middleware do (their handle_container_listing): a 2xx application/json answer is parsed and
 * each object entry handed to `edit`; anything else goes out as it came.
 *
 * Swift parses and re-serialises the listing in each of symlink, slo and listing_formats. Here
 * the parse is kept with the response it was read from, so the next middleware that looks at the
 * same response reuses it, and a listing no entry of which changed is not serialised again:
 * listing_formats serialises what goes out, once.
 */
import type { ProxyContext } from '../proxy/context';
import { replaceResponse } from '../proxy/response';
import { pyJsonDumps } from '../compat/json';

/** The parsed JSON listing each response's body holds, for responses made here. */
const parsedListings = new WeakMap<Response, Record<string, unknown>[]>();

/** The listing `res`'s body was parsed into, when a middleware here already read it. */
export function parsedListingOf(res: Response): Record<string, unknown>[] | undefined {
  return parsedListings.get(res);
}

/**
 * Rewrites the listing's entries with `edit`, which says whether it changed the entry (an edit
 * that changes an entry must say so: the body is only serialised again then).
 */
export async function rewriteJsonListing(c: ProxyContext, edit: (item: Record<string, unknown>) => boolean, opts: { maxLength?: number } = {}): Promise<void> {
  const res = c.res;
  if (res.status < 200 || res.status >= 300) return;
  if ((res.headers.get('content-type') ?? '').split(';')[0]!.trim() !== 'application/json') return;
  if (opts.maxLength !== undefined) {
    const length = res.headers.get('content-length');
    if (length === null || Number(length) > opts.maxLength) return;
  }
  const listing = await readJsonListing(c);
  if (!listing) return;
  let changed = false;
  for (const item of listing as unknown[]) if (item !== null && typeof item === 'object' && edit(item as Record<string, unknown>)) changed = true;
  if (!changed) return;
  replaceListing(c, res, Buffer.from(pyJsonDumps(listing), 'utf8'));
  parsedListings.set(c.res, listing);
}

/**
 * The JSON listing of the response, read whole; undefined when the body is not a JSON list.
 * The response is put back with the same body (and its parse kept with it).
 */
export async function readJsonListing(c: ProxyContext): Promise<Record<string, unknown>[] | undefined> {
  const res = c.res;
  const known = parsedListings.get(res);
  if (known) return known;
  const body = Buffer.from(await res.arrayBuffer());
  let listing: unknown;
  try {
    listing = JSON.parse(body.toString('utf8'));
  } catch {
    listing = undefined;
  }
  replaceResponse(c, new Response(body.length ? body : null, { status: res.status, headers: res.headers }));
  if (!Array.isArray(listing)) return undefined;
  parsedListings.set(c.res, listing as Record<string, unknown>[]);
  return listing as Record<string, unknown>[];
}

/** `res` (its status and headers) with a new listing body, as the response. */
export function replaceListing(c: ProxyContext, res: Response, body: Buffer): void {
  const headers = new Headers(res.headers);
  headers.set('content-length', String(body.length));
  replaceResponse(c, new Response(body.length ? body : null, { status: res.status, headers }));
}
