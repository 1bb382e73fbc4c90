/**
 * A JSON container listing rewritten entry by entry on its way out, as Swift's symlink and slo
 * middleware do (their handle_container_listing): a 2xx application/json answer is parsed and
 * each object entry handed to `edit`; anything else goes out as it came.
 *
 * Swift parses and re-serialises the listing in each of symlink, slo and listing_formats. Here
 * the parse is kept with the response it was read from, so the next middleware that looks at the
 * same response reuses it, and a listing no entry of which changed is not serialised again:
 * listing_formats serialises what goes out, once. A listing whose entries are all plain objects
 * (hasHashWithParams finds none to rewrite) is not even parsed, and goes out as JSON byte for
 * byte as the container server wrote it, which is what Swift's json.loads/json.dumps round trip
 * gives for a body Python's json.dumps wrote.
 */
import type { ProxyContext } from '../proxy/context';
import { replaceResponse } from '../proxy/response';
import { pyJsonDumps } from '../compat/json';

/** The parsed JSON listing each response's body holds, for responses made here. */
const parsedListings = new WeakMap<Response, Record<string, unknown>[]>();

/** The body bytes of each listing response made here, with what was learnt of them. */
const rawListings = new WeakMap<Response, RawListing>();

interface RawListing {
  body: Buffer;
  /** hasHashWithParams(body), once asked. */
  hashParams?: boolean;
}

/** The listing `res`'s body was parsed into, when a middleware here already read it. */
export function parsedListingOf(res: Response): Record<string, unknown>[] | undefined {
  return parsedListings.get(res);
}

const HASH_KEY = Buffer.from('"hash":', 'latin1');
const isLowerHex = (b: number) => (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66);

/**
 * Whether a JSON listing body has an entry whose `hash` is anything but a plain MD5 hex digest:
 * only such entries can carry the `; slo_etag=` or `; symlink_target=` parameters (or the
 * stray whitespace) that slo and symlink rewrite. Inside a JSON string a `"` is always escaped,
 * so `"hash":` is only ever a key. (A regular expression with a look-ahead took 0.5 ms on a
 * 1,000-entry listing; this takes a tenth of that.)
 */
export function hasHashWithParams(body: Buffer): boolean {
  for (let at = body.indexOf(HASH_KEY); at >= 0; at = body.indexOf(HASH_KEY, at + HASH_KEY.length)) {
    let i = at + HASH_KEY.length;
    while (body[i] === 0x20) i++;
    if (body[i] !== 0x22) return true;
    for (let k = 1; k <= 32; k++) if (!isLowerHex(body[i + k]!)) return true;
    if (body[i + 33] !== 0x22) return true;
  }
  return false;
}

/**
 * Rewrites the listing's entries with `edit`, which says whether it changed the entry (an edit
 * that changes an entry must say so: the body is only serialised again then). With
 * `onlyHashParams` (the edit changes only entries hasHashWithParams finds), a body without
 * such entries is not parsed at all.
 */
export async function rewriteJsonListing(
  c: ProxyContext,
  edit: (item: Record<string, unknown>) => boolean,
  opts: { maxLength?: number; onlyHashParams?: boolean } = {},
): Promise<void> {
  const res = c.res;
  if (res.status < 200 || res.status >= 300) return;
  if ((res.headers.get('content-type') ?? '').split(';')[0]!.trim() !== 'application/json') return;
  if (opts.maxLength !== undefined) {
    const length = res.headers.get('content-length');
    if (length === null || Number(length) > opts.maxLength) return;
  }
  if (opts.onlyHashParams && !parsedListings.has(res)) {
    const raw = await readListingBody(c);
    raw.hashParams ??= hasHashWithParams(raw.body);
    if (!raw.hashParams) return;
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
 * The response's body, read whole; the response is put back with the same body, and the bytes
 * kept with it for the next middleware.
 */
export async function readListingBody(c: ProxyContext): Promise<RawListing> {
  const res = c.res;
  const known = rawListings.get(res);
  if (known) return known;
  const raw: RawListing = { body: Buffer.from(await res.arrayBuffer()) };
  replaceResponse(c, new Response(raw.body.length ? raw.body : null, { status: res.status, headers: res.headers }));
  rawListings.set(c.res, raw);
  return raw;
}

/**
 * The JSON listing of the response, read whole; undefined when the body is not a JSON list.
 * The response is put back with the same body (and its parse kept with it).
 */
export async function readJsonListing(c: ProxyContext): Promise<Record<string, unknown>[] | undefined> {
  const known = parsedListings.get(c.res);
  if (known) return known;
  const { body } = await readListingBody(c);
  let listing: unknown;
  try {
    listing = JSON.parse(body.toString('utf8'));
  } catch {
    listing = undefined;
  }
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
