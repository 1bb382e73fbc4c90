/**
 * The client's answer for a large object GET or HEAD, as swob's conditional Response builds it
 * around a SegmentedIterable: If-Match / If-None-Match / If-(Un)Modified-Since against the
 * large object's own ETag (304/412 with the headers and no body), HEAD with the headers only,
 * then the Range header against the object's length: 416 with Swift's default body,
 * 206 with Content-Range for one range, multipart/byteranges for several (only where the
 * middleware allows it: SLO does, DLO serves the whole object), 200 otherwise. The first
 * segment is read before the status goes out, so a missing one is 409 (503 when it answers 5xx).
 */
import type { ByteRange } from '../../../servers/object/ranges';
import {
  closingBoundary,
  conditionalStatus,
  contentRangeValue,
  makeBoundary,
  multipartContentType,
  multipartLength,
  parseHttpDate,
  parseRange,
  PART_TRAILER,
  partHeader,
  rangesForLength,
} from '../../../servers/object/ranges';
import type { RequestHeaders } from '../../proxy/request-headers';
import { swiftResponse } from '../../proxy/response';
import { ListingError, SegmentedBody, SegmentError, SegmentServerError, type Piece, type SegmentedOptions } from './segments';

export interface LargeObjectAnswer {
  method: string;
  request: RequestHeaders;
  /** Response headers (the manifest's, edited); Content-Length is set here when known. */
  headers: Headers;
  /** The whole object's length, or undefined when it is not known (a DLO's long listing). */
  length: number | undefined;
  /** The ETag conditionals compare with (unquoted). */
  etag: string | undefined;
  /** The Range header to honour (undefined: serve the whole object). */
  range: string | undefined;
  /** Whether several ranges give multipart/byteranges (else the request's Range is ignored). */
  multiRange: boolean;
  /** The pieces covering the half-open byte ranges (all of the object when null). */
  pieces(range: ByteRange | null): AsyncIterable<Piece> | Iterable<Piece>;
  segmented: Omit<SegmentedOptions, 'bodyLength'>;
}

async function* framed(answer: LargeObjectAnswer, ranges: ByteRange[], boundary: string, contentType: string, size: number): AsyncGenerator<Piece> {
  for (const range of ranges) {
    yield partHeader(boundary, contentType, range, size);
    yield* answer.pieces(range);
    yield PART_TRAILER;
  }
  yield closingBoundary(boundary);
}

/** The response with the body started (or the 409/503 Swift answers when it cannot start). */
export async function largeObjectResponse(a: LargeObjectAnswer): Promise<Response> {
  const headers = a.headers;
  if (a.length !== undefined) headers.set('content-length', String(a.length));
  else headers.delete('content-length');
  const lastModified = parseHttpDate(headers.get('last-modified') ?? undefined);
  const cond = conditionalStatus({
    status: 200,
    etag: a.etag,
    lastModified: lastModified ?? undefined,
    ifMatch: a.request.get('if-match'),
    ifNoneMatch: a.request.get('if-none-match'),
    ifModifiedSince: a.request.get('if-modified-since'),
    ifUnmodifiedSince: a.request.get('if-unmodified-since'),
  });
  if (cond !== undefined) {
    headers.set('content-length', '0');
    return new Response(null, { status: cond, headers });
  }
  if (a.method === 'HEAD') return new Response(null, { status: 200, headers });

  let status = 200;
  let bodyLength = a.length;
  let pieces: AsyncIterable<Piece> | Iterable<Piece> | undefined;
  const ranges = a.length === undefined ? null : rangesForLength(parseRange(a.range), a.length);
  if (ranges && a.length !== undefined && (ranges.length <= 1 || a.multiRange)) {
    if (ranges.length === 0) {
      headers.set('content-range', `bytes */${a.length}`);
      headers.delete('content-length');
      const out: Record<string, string> = {};
      headers.forEach((v, k) => (out[k] = v));
      return swiftResponse(416, { headers: out });
    }
    // A suffix range of an empty object: the whole (empty) object, as swob does.
    if (a.length > 0) {
      status = 206;
      if (ranges.length === 1) {
        const [start, end] = ranges[0]!;
        headers.set('content-range', contentRangeValue(start, end, a.length));
        bodyLength = end - start;
        pieces = a.pieces([start, end]);
      } else {
        const boundary = makeBoundary();
        const contentType = headers.get('content-type') ?? 'application/octet-stream';
        bodyLength = multipartLength(boundary, contentType, ranges, a.length);
        headers.set('content-type', multipartContentType(boundary));
        pieces = framed(a, ranges, boundary, contentType, a.length);
      }
      headers.set('content-length', String(bodyLength));
    }
  }
  const body = new SegmentedBody(pieces ?? a.pieces(null), { ...a.segmented, bodyLength });
  try {
    await body.validateFirst();
  } catch (err) {
    body.close();
    if (err instanceof SegmentServerError) return swiftResponse(503, { contentType: 'text/plain' });
    if (err instanceof SegmentError || err instanceof ListingError) {
      a.segmented.logger.error({ log_route: 'large-object' }, err.message);
      return swiftResponse(409);
    }
    throw err;
  }
  return new Response(body.stream(), { status, headers });
}
