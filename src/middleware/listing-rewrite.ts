/**
 * A JSON container listing rewritten entry by entry on its way out, as Swift's symlink and slo
 * middleware do (their handle_container_listing): a 2xx application/json answer is parsed and
 * each object entry handed to `edit`; anything else goes out as it came.
 */
import type { ProxyContext } from '../proxy/context';
import { replaceResponse } from '../proxy/response';
import { pyJsonDumps } from '../compat/json';

export async function rewriteJsonListing(c: ProxyContext, edit: (item: Record<string, unknown>) => void, opts: { maxLength?: number } = {}): Promise<void> {
  const res = c.res;
  if (res.status < 200 || res.status >= 300) return;
  if ((res.headers.get('content-type') ?? '').split(';')[0]!.trim() !== 'application/json') return;
  if (opts.maxLength !== undefined) {
    const length = res.headers.get('content-length');
    if (length === null || Number(length) > opts.maxLength) return;
  }
  const listing = await readJsonListing(c);
  if (!listing) return;
  for (const item of listing as unknown[]) if (item !== null && typeof item === 'object') edit(item as Record<string, unknown>);
  replaceListing(c, res, Buffer.from(pyJsonDumps(listing), 'utf8'));
}

/**
 * The JSON listing of the response, read whole; undefined when the body is not a JSON list,
 * in which case the response is put back as it came.
 */
export async function readJsonListing(c: ProxyContext): Promise<Record<string, unknown>[] | undefined> {
  const res = c.res;
  const body = Buffer.from(await res.arrayBuffer());
  let listing: unknown;
  try {
    listing = JSON.parse(body.toString('utf8'));
  } catch {
    listing = undefined;
  }
  if (Array.isArray(listing)) return listing as Record<string, unknown>[];
  replaceResponse(c, new Response(body.length ? body : null, { status: res.status, headers: res.headers }));
  return undefined;
}

/** `res` (its status and headers) with a new listing body, as the response. */
export function replaceListing(c: ProxyContext, res: Response, body: Buffer): void {
  const headers = new Headers(res.headers);
  headers.set('content-length', String(body.length));
  replaceResponse(c, new Response(body.length ? body : null, { status: res.status, headers }));
}
