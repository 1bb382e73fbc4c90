/**
 * SLO GET and HEAD (Swift's SloGetContext): a manifest object (X-Static-Large-Object: True)
 * reads as its segments, nested manifests expanded (at most `MAX_RECURSION_DEPTH` deep, which is
 * also what stops a loop of manifests), with the large object's quoted ETag and length, byte
 * ranges across segments (several give multipart/byteranges) and conditionals on that ETag.
 * The object servers are asked for the whole manifest whatever the Range (X-Backend-Ignore-
 * Range-If-Metadata-Present) and to evaluate If-Match/If-None-Match on the stored SLO ETag
 * (X-Backend-Etag-Is-At), so a HEAD or a failed conditional answers from the manifest's sysmeta
 * without reading it. `?multipart-manifest=get` returns the manifest (`&format=raw`: as it was
 * PUT).
 */
import { createHash } from 'node:crypto';
import type { ByteRange } from '../../../servers/object/ranges';
import type { ProxyContext } from '../../proxy/context';
import { rawPathOf, rawQueryOf } from '../../proxy/request-target';
import { replaceResponse } from '../../proxy/response';
import { captureIdentity, discard, type Identity } from '../../proxy/subrequest';
import { splitPath } from '../../common/path';
import { quote, unquoteBytes } from '../../compat/quote';
import { swobParams } from '../../compat/query';
import { configTrue } from '../../compat/truthy';
import { textOf } from '../../compat/bytes';
import { largeObjectResponse } from '../large-object/response';
import { ListingError, type Piece } from '../large-object/segments';
import { appendCsvHeader, userAgent } from '../large-object/util';
import { overrideBytesFromContentType, rawManifest, readManifest, segmentLength, sloEtag, type StoredSegment } from './manifest';
import { SYSMETA_SLO_ETAG, SYSMETA_SLO_SIZE, type SloContext } from './context';

/** Swift's SloGetContext.max_slo_recursion_depth. */
export const MAX_RECURSION_DEPTH = 10;

/** clean_content_type: a manifest's `;swift_bytes=N` is not for clients. */
export function cleanContentType(value: string): string {
  const semi = value.lastIndexOf(';');
  return semi >= 0 && value.slice(semi + 1).trimStart().startsWith('swift_bytes=') ? value.slice(0, semi) : value;
}

/** A response's body, read whole (manifests are at most max_manifest_size). */
export async function bodyOf(res: Response): Promise<Buffer> {
  return res.body ? Buffer.from(await res.arrayBuffer()) : Buffer.alloc(0);
}

function withHeaders(res: Response, body: ConstructorParameters<typeof Response>[0], edit: (h: Headers) => void): Response {
  const h = new Headers(res.headers);
  edit(h);
  return new Response(body, { status: res.status, headers: h });
}

export class SloGet {
  constructor(private readonly slo: SloContext) {}

  async handle(c: ProxyContext, next: () => Promise<void>): Promise<void> {
    const params = swobParams(rawQueryOf(c));
    const manifestGet = params.get('multipart-manifest') === 'get';
    const headers = c.get('headers');
    const id = captureIdentity(c);
    if (!manifestGet) {
      appendCsvHeader(headers, 'x-backend-etag-is-at', SYSMETA_SLO_ETAG);
      appendCsvHeader(headers, 'x-backend-ignore-range-if-metadata-present', 'X-Static-Large-Object');
    }
    await next();
    let res = c.res;
    if (!configTrue(res.headers.get('x-static-large-object') ?? '')) return;
    const contentType = res.headers.get('content-type');
    if (contentType !== null) res = withHeaders(res, res.body, (h) => h.set('content-type', cleanContentType(contentType)));
    if (manifestGet) {
      replaceResponse(c, await this.manifestItself(res, params.get('format') === 'raw'));
      return;
    }
    const method = c.req.method;
    const storedEtag = res.headers.get(SYSMETA_SLO_ETAG);
    const storedSize = res.headers.get(SYSMETA_SLO_SIZE);
    const conditional = headers.has('if-match') || headers.has('if-none-match');
    if (storedEtag && storedSize && (method === 'HEAD' || ([304, 412].includes(res.status) && conditional))) {
      // The object servers already compared with the SLO ETag; length and ETag are stored.
      const manifestEtag = res.headers.get('etag');
      discard(res.body);
      replaceResponse(
        c,
        withHeaders(res, null, (h) => {
          h.set('etag', `"${storedEtag}"`);
          if (manifestEtag !== null) h.set('x-manifest-etag', manifestEtag);
          // swob's conditional answer (304/412) carries no body: Content-Length 0.
          h.set('content-length', res.status === 304 || res.status === 412 ? '0' : storedSize);
        }),
      );
      return;
    }
    if (this.needsRefetch(method, res, conditional)) {
      discard(res.body);
      const query = rawQueryOf(c);
      const token = headers.get('x-auth-token');
      res = await this.slo.app(id, {
        method: 'GET',
        path: rawPathOf(c) + (query ? `?${query}` : ''),
        headers: token !== undefined ? { 'x-auth-token': token } : {},
        agent: userAgent(c, 'SLO MultipartGET'),
      });
      // No longer a manifest (replaced meanwhile, or an error): that answer is the answer.
      if (!configTrue(res.headers.get('x-static-large-object') ?? '')) {
        replaceResponse(c, res);
        return;
      }
    }
    replaceResponse(c, await this.largeObject(c, id, res));
  }

  /** _need_to_refetch_manifest: when the answer does not hold the whole manifest. */
  private needsRefetch(method: string, res: Response, conditional: boolean): boolean {
    if (method === 'HEAD') return true;
    if (conditional && (res.status < 200 || res.status >= 300)) return true;
    if (res.status === 206 || res.status === 416) {
      const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
      return !m || !(Number(m[1]) === 0 && Number(m[2]) === Number(m[3]) - 1);
    }
    return false;
  }

  private async manifestItself(res: Response, raw: boolean): Promise<Response> {
    if (!raw) return withHeaders(res, res.body, (h) => h.set('content-type', 'application/json; charset=utf-8'));
    const json = Buffer.from(rawManifest(readManifest(await bodyOf(res))), 'utf8');
    return withHeaders(res, json, (h) => {
      h.set('content-length', String(json.length));
      h.set('etag', createHash('md5').update(json).digest('hex'));
    });
  }

  /** get_or_head_response + _manifest_get_response. */
  private async largeObject(c: ProxyContext, id: Identity, res: Response): Promise<Response> {
    const segments = readManifest(await bodyOf(res));
    const out = new Headers();
    let etag: string | undefined;
    let length: number | undefined;
    res.headers.forEach((v, k) => {
      if (k === 'etag') out.set('x-manifest-etag', v);
      else if (k !== 'content-length' && k !== 'content-range') out.set(k, v);
      if (k === SYSMETA_SLO_ETAG) etag = v;
      else if (k === SYSMETA_SLO_SIZE) length = Number(v);
    });
    etag ??= sloEtag(segments);
    for (const seg of segments) overrideBytesFromContentType(seg);
    length ??= segments.reduce((n, seg) => n + segmentLength(seg), 0);
    out.set('etag', `"${etag}"`);
    const method = c.req.method;
    const [version, account] = splitPath(textOf(unquoteBytes(rawPathOf(c)), 'surrogateescape'), 3, 3, true) as [string, string];
    const listing = new SegmentListing(this.slo, c, id, version, account, segments, length);
    const underSize = this.slo.options.rateLimitUnderSize;
    return largeObjectResponse({
      method,
      request: c.get('headers'),
      headers: out,
      length,
      etag,
      range: c.get('headers').get('range'),
      multiRange: true,
      pieces: (range) => listing.pieces(range),
      segmented: {
        app: this.slo.app,
        identity: id,
        token: c.get('headers').get('x-auth-token'),
        agent: userAgent(c, 'SLO MultipartGET'),
        name: rawPathOf(c),
        maxGetTime: this.slo.options.maxGetTime,
        rateLimit: {
          after: this.slo.options.rateLimitAfterSegment,
          perSecond: this.slo.options.rateLimitSegmentsPerSec,
          // Swift's predicate: small segments only (their whole size), never inline data.
          applies: (p: Piece) => !(p instanceof Uint8Array) && (p.size ?? 0) < underSize,
        },
        logger: this.slo.logger,
      },
    });
  }
}

/** The segments covering byte ranges of a manifest, sub-manifests fetched as they are reached. */
class SegmentListing {
  /** Sub-manifests already read (Swift keeps 20 in an LRU for multi-range GETs). */
  private readonly cache = new Map<string, StoredSegment[]>();

  constructor(
    private readonly slo: SloContext,
    private readonly c: ProxyContext,
    private readonly id: Identity,
    private readonly version: string,
    private readonly account: string,
    private readonly segments: StoredSegment[],
    private readonly total: number,
  ) {}

  pieces(range: ByteRange | null): AsyncGenerator<Piece> {
    const [first, last] = range ? [range[0], range[1] - 1] : [0, this.total - 1];
    return this.byteRange(this.segments, first, last, 1);
  }

  /** _byterange_listing_iterator: first/last are relative to this (sub-)manifest. */
  private async *byteRange(segments: StoredSegment[], firstIn: number, lastIn: number, depth: number): AsyncGenerator<Piece> {
    let first = firstIn;
    let last = lastIn;
    for (const seg of segments) {
      const len = segmentLength(seg);
      if (first >= len) {
        first -= len;
        last -= len;
        continue;
      }
      if (last < 0) return;
      if (seg.data !== undefined) {
        const raw = Buffer.from(seg.data, 'base64');
        yield raw.subarray(Math.max(0, first), Math.min(len - 1, last) + 1);
        first -= len;
        last -= len;
        continue;
      }
      const [rangeStart, rangeEnd] = seg.range ? (seg.range.split('-').map(Number) as [number, number]) : [0, len - 1];
      if (configTrue(String(seg.sub_slo ?? ''))) {
        if (depth >= MAX_RECURSION_DEPTH) throw new ListingError(`While processing manifest ${JSON.stringify(rawPathOf(this.c))}, max recursion depth was exceeded`);
        const sub = await this.subManifest(String(seg.name));
        yield* this.byteRange(sub, rangeStart + Math.max(0, first), Math.min(rangeEnd, rangeStart + last), depth + 1);
      } else {
        yield {
          path: quote(`/${this.version}/${this.account}/${String(seg.name).replace(/^\/+/, '')}`),
          etag: seg.hash,
          size: seg.bytes === undefined ? undefined : Number(seg.bytes),
          first: Math.max(0, first) + rangeStart,
          last: Math.min(rangeEnd, rangeStart + last),
        };
      }
      first -= len;
      last -= len;
    }
  }

  /** _fetch_sub_slo_segments: GET the sub-manifest (as the user) and parse it. */
  private async subManifest(name: string): Promise<StoredSegment[]> {
    const cached = this.cache.get(name);
    if (cached) return cached;
    let container: string, obj: string;
    try {
      [container, obj] = splitPath(name, 2, 2, true) as [string, string];
    } catch {
      throw new ListingError(`while fetching ${rawPathOf(this.c)}, invalid submanifest name ${name}`);
    }
    const path = quote(`/${this.version}/${this.account}/${container}/${obj}`);
    const token = this.c.get('headers').get('x-auth-token');
    const res = await this.slo.app(this.id, { method: 'GET', path, headers: token !== undefined ? { 'x-auth-token': token } : {}, agent: userAgent(this.c, 'SLO MultipartGET') });
    const body = await bodyOf(res);
    if (res.status < 200 || res.status >= 300) {
      const text = body.toString('utf8');
      throw new ListingError(`while fetching ${rawPathOf(this.c)}, GET of submanifest ${path} failed with status ${res.status} (${text.length <= 60 ? text : `${text.slice(0, 57)}...`})`);
    }
    let segments: StoredSegment[];
    try {
      const parsed = JSON.parse(body.toString('utf8')) as unknown;
      if (!Array.isArray(parsed)) throw new Error('not a list');
      segments = parsed as StoredSegment[];
    } catch (err) {
      throw new ListingError(`while fetching ${rawPathOf(this.c)}, JSON-decoding of submanifest ${path} failed with ${String(err)}`);
    }
    for (const seg of segments) overrideBytesFromContentType(seg);
    if (this.cache.size >= 20) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(name, segments);
    return segments;
  }
}
