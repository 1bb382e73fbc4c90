/**
 * dlo (swift/common/middleware/dlo.py): Dynamic Large Objects. An object stored with
 * `X-Object-Manifest: <container>/<prefix>` reads as the concatenation of every object of that
 * container whose name starts with the prefix, in listing order (listings read page by page as
 * the body streams). GET and HEAD say the total length and, when the whole listing fits in
 * one page, an ETag that is the quoted MD5 of the segments' ETags. A single byte range is
 * served across segment boundaries; several ranges, or one the first page cannot decide, get the
 * whole object, as in Swift. `?multipart-manifest=get` returns the manifest object itself.
 * A PUT's X-Object-Manifest must be `container/prefix`.
 *
 * The listing and every segment are read as the requesting user (subrequests through the rest of
 * the pipeline), so a manifest gives nobody access to segments they could not read.
 */
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { intOption, type Section } from '../proxy/config';
import type { ProxyContext, ProxyEnv } from '../proxy/context';
import { defineFilter, type FilterContext } from '../proxy/filter';
import { rawPathOf, rawQueryOf } from '../proxy/request-target';
import { replaceResponse, swiftResponse } from '../proxy/response';
import { captureIdentity, discard, type Identity } from '../proxy/subrequest';
import { parseRange, rangesForLength, type ByteRange } from '../../servers/object/ranges';
import { splitPath } from '../common/path';
import { asByteString, bytesOf, type ByteString } from '../compat/bytes';
import { swobParams } from '../compat/query';
import { quote, quoteBytes, unquoteBytes } from '../compat/quote';
import { largeObjectResponse } from './large-object/response';
import { ListingError, type Piece } from './large-object/segments';
import { appendCsvHeader, normalizeEtag, userAgent } from './large-object/util';

export interface DloOptions {
  maxGetTime: number;
  rateLimitAfterSegment: number;
  rateLimitSegmentsPerSec: number;
}

export function dloOptions(conf: Section): DloOptions {
  return {
    maxGetTime: intOption(conf, 'max_get_time', 86400),
    rateLimitAfterSegment: intOption(conf, 'rate_limit_after_segment', 10),
    rateLimitSegmentsPerSec: intOption(conf, 'rate_limit_segments_per_sec', 1),
  };
}

interface ListingEntry {
  name: string;
  bytes: number;
  hash: string;
}

/** _validate_x_object_manifest_header: `container/prefix`, no query characters. */
function invalidManifestHeader(value: string): boolean {
  const slash = value.indexOf('/');
  const container = slash < 0 ? '' : value.slice(0, slash);
  const prefix = slash < 0 ? '' : value.slice(slash + 1);
  return !container || !prefix || value.includes('?') || value.includes('&') || prefix.startsWith('/');
}

export function dlo(options: DloOptions, ctx: FilterContext): MiddlewareHandler<ProxyEnv> {
  const listingLimit = () => ctx.state.constraints.container_listing_limit;
  const logger = ctx.logger.child({ log_route: 'dlo' });

  /** One page of the segment container's listing, or the failed answer. */
  async function listing(c: ProxyContext, id: Identity, version: string, account: ByteString, container: ByteString, prefix: ByteString, marker?: string): Promise<Response | ListingEntry[]> {
    const token = c.get('headers').get('x-auth-token');
    let query = `prefix=${quoteBytes(prefix)}`;
    if (marker) query += `&marker=${quote(marker)}`;
    const res = await ctx.app(id, {
      method: 'GET',
      path: `${quoteBytes(asByteString(`/${version}/${account}/${container}`))}?${query}`,
      headers: token !== undefined ? { 'x-auth-token': token } : {},
      agent: userAgent(c, 'DLO MultipartGET'),
    });
    if (res.status < 200 || res.status >= 300) return res;
    if (res.status === 204) return [];
    try {
      return JSON.parse(await res.text()) as ListingEntry[];
    } catch {
      throw new ListingError(`Bad listing of /${account}/${container}`);
    }
  }

  async function serve(c: ProxyContext, id: Identity, manifest: Response, value: ByteString): Promise<Response> {
    const method = c.req.method;
    const headers = c.get('headers');
    const slash = value.indexOf('/');
    const container = asByteString(value.slice(0, slash));
    const prefix = asByteString(value.slice(slash + 1));
    const [version, account] = splitPath(unquoteBytes(rawPathOf(c)), 2, 3, true) as [ByteString, ByteString];
    const first = await listing(c, id, version, account, container, prefix);
    if (first instanceof Response) {
      if (method === 'HEAD') {
        // Swift empties the listing's error body for a HEAD.
        discard(first.body);
        const h = new Headers(first.headers);
        h.set('content-length', '0');
        return new Response(null, { status: first.status, headers: h });
      }
      return first;
    }
    const firstPage: ListingEntry[] = first;
    const complete = first.length < listingLimit();
    const firstPageBytes = first.reduce((n, s) => n + s.bytes, 0);
    const out = new Headers(manifest.headers);
    out.delete('content-range');
    let length: number | undefined;
    let rangeHeader: string | undefined;
    const specs = parseRange(headers.get('range'));
    if (specs && specs.length === 1) {
      // A suffix range can only be decided with the whole listing; a range ending within the
      // first page always can. Otherwise Swift ignores the Range header.
      const end = rangesForLength(specs, Number.MAX_SAFE_INTEGER)?.[0]?.[1] ?? Number.MAX_SAFE_INTEGER;
      if (complete || end < firstPageBytes) {
        if (rangesForLength(specs, firstPageBytes)?.length === 0) {
          const h: Record<string, string> = { 'accept-ranges': 'bytes' };
          if (complete) h['content-range'] = `bytes */${firstPageBytes}`;
          return swiftResponse(416, { headers: h, method });
        }
        // swob's Content-Range then names the first page's total, as in Swift.
        rangeHeader = headers.get('range');
        length = firstPageBytes;
      }
    }
    if (length === undefined && complete) length = firstPageBytes;
    let etag = normalizeEtag(manifest.headers.get('etag') ?? undefined);
    if (complete) {
      const md5 = createHash('md5');
      for (const s of first) md5.update(normalizeEtag(s.hash) ?? '', 'utf8');
      etag = md5.digest('hex');
      out.set('etag', `"${etag}"`);
    }

    // _segment_listing_iterator: the pages after the first are read as the body streams.
    async function* pieces(want: ByteRange | null): AsyncGenerator<Piece> {
      let firstByte = want ? want[0] : 0;
      let lastByte = want ? want[1] - 1 : Infinity;
      let page = firstPage;
      for (;;) {
        for (const s of page) {
          const size = Number(s.bytes);
          if (firstByte >= size) {
            firstByte = Math.max(firstByte - size, -1);
            lastByte = Math.max(lastByte - size, -1);
            continue;
          }
          if (lastByte < 0) break;
          yield {
            path: quoteBytes(asByteString(`/${version}/${account}/${container}/${bytesOf(s.name)}`)),
            first: firstByte <= 0 ? undefined : firstByte,
            last: lastByte >= size - 1 ? undefined : lastByte,
          };
          firstByte = Math.max(firstByte - size, -1);
          lastByte = Math.max(lastByte - size, -1);
        }
        if (page.length < listingLimit() || lastByte < 0) return;
        const next = await listing(c, id, version, account, container, prefix, page[page.length - 1]!.name);
        if (next instanceof Response) {
          discard(next.body);
          throw new ListingError(`Got status ${next.status} listing container /${account}/${container}`);
        }
        page = next;
      }
    }

    return largeObjectResponse({
      method,
      request: headers,
      headers: out,
      length,
      etag,
      range: rangeHeader,
      multiRange: false,
      pieces,
      segmented: {
        app: ctx.app,
        identity: id,
        token: headers.get('x-auth-token'),
        agent: userAgent(c, 'DLO MultipartGET'),
        name: rawPathOf(c),
        maxGetTime: options.maxGetTime,
        rateLimit: { after: options.rateLimitAfterSegment, perSecond: options.rateLimitSegmentsPerSec },
        logger,
      },
    });
  }

  return async (c, next) => {
    const method = c.req.method;
    const path = rawPathOf(c);
    if (path.split('/', 5).length < 5) return next();
    try {
      splitPath(unquoteBytes(path), 4, 4, true);
    } catch {
      return next();
    }
    const headers = c.get('headers');
    if ((method === 'GET' || method === 'HEAD') && swobParams(rawQueryOf(c)).get('multipart-manifest') !== 'get') {
      const id = captureIdentity(c);
      appendCsvHeader(headers, 'x-backend-ignore-range-if-metadata-present', 'X-Object-Manifest');
      await next();
      const manifest = c.res;
      const value = manifest.headers.get('x-object-manifest');
      if (value === null) return;
      discard(manifest.body);
      replaceResponse(c, await serve(c, id, manifest, unquoteBytes(asByteString(value))));
      return;
    }
    if (method === 'PUT') {
      const value = headers.get('x-object-manifest');
      if (value !== undefined && invalidManifestHeader(value)) {
        return swiftResponse(400, { body: 'X-Object-Manifest must be in the format container/prefix' });
      }
    }
    return next();
  };
}

export const dloFilter = defineFilter<DloOptions>({
  name: 'dlo',
  options: dloOptions,
  // Swift 2.30's dlo registers no /info section.
  create: (options, ctx) => dlo(options, ctx),
});
