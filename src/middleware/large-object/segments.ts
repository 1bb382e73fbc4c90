/**
 * The body of a large object (Swift's SegmentedIterable, swift/common/request_helpers.py),
 * shared by slo and dlo: a sequence of pieces, each either bytes already in hand (an SLO data
 * segment, multipart framing) or a segment object (path, optional byte range, the etag and size
 * it must have), streamed one after the other. Each segment is one GET subrequest with
 * `?multipart-manifest=get`, made as the requesting user (so the proxy authorizes every
 * segment as a read), and relayed chunk by chunk: no segment is ever held whole.
 *
 * As in Swift, the first chunk is fetched before the response starts (`validateFirst`): a
 * missing segment or one whose ETag/size changed is then the caller's 409, a segment answering
 * 5xx is 503. Once bytes went out, any such failure (a later segment missing, an MD5 or length
 * that does not match what the segment announced, too many or too few bytes, `max_get_time`
 * exceeded) is logged and the body errors, so the client's connection is cut after what was
 * sent.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { discard, type Identity, type Subrequest } from '../../proxy/subrequest';
import { normalizeEtag } from './util';

/** A segment that is missing, changed or failed mid-way (Swift's SegmentError). */
export class SegmentError extends Error {}
/** The list of segments could not be read (Swift's ListingIterError). */
export class ListingError extends Error {}
/** A segment answered 5xx (Swift raises HTTPServiceUnavailable). */
export class SegmentServerError extends Error {}

/** One segment object to read. */
export interface SegmentRef {
  /** The segment's path, percent-encoded (`/v1/AUTH_a/c/o`), without query. */
  path: string;
  /** The ETag it must have (SLO's stored hash); unchecked when undefined (DLO). */
  etag?: string;
  /** Its whole size in bytes; unchecked when undefined. */
  size?: number;
  /** First byte wanted (default 0). */
  first?: number;
  /** Last byte wanted, inclusive (default: to the end). */
  last?: number;
}

/** Bytes in hand (a data segment, framing) or a segment object to fetch. */
export type Piece = Uint8Array | SegmentRef;

export function isSegment(piece: Piece): piece is SegmentRef {
  return !(piece instanceof Uint8Array);
}

/** Swift's RateLimitedIterator over the segments: `after` free ones, then `perSecond`. */
export interface SegmentRateLimit {
  after: number;
  perSecond: number;
  /** Only pieces for which this is true are counted and slowed (SLO: small segments). */
  applies?: (piece: Piece) => boolean;
}

export interface SegmentedOptions {
  app: Subrequest;
  identity: Identity;
  /** The client's X-Auth-Token, passed on as Swift's subrequests do. */
  token: string | undefined;
  /** User-Agent of the segment GETs (`<client's> SLO MultipartGET`). */
  agent: string;
  /** The manifest's path, for log messages. */
  name: string;
  /** Seconds a whole GET may take (max_get_time). */
  maxGetTime: number;
  /** Exact number of bytes the client was promised, when known. */
  bodyLength?: number;
  rateLimit?: SegmentRateLimit;
  logger: Logger;
}


/** An error body as Swift quotes it in its messages (at most 60 characters). */
async function shortBody(res: Response): Promise<string> {
  const text = res.body ? await res.text().catch(() => '') : '';
  return text.length <= 60 ? text : `${text.slice(0, 57)}...`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class SegmentedBody {
  private readonly iter: AsyncGenerator<Uint8Array>;
  private peeked: Uint8Array | undefined;
  private current: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private cancelled = false;

  constructor(
    private readonly pieces: AsyncIterable<Piece> | Iterable<Piece>,
    private readonly opts: SegmentedOptions,
  ) {
    this.iter = this.timeLimited();
  }

  /**
   * Reads up to the first byte (Swift's validate_first_segment). Throws SegmentError,
   * ListingError or SegmentServerError when the object cannot start; an empty object is fine.
   */
  async validateFirst(): Promise<void> {
    const first = await this.iter.next();
    if (!first.done) this.peeked = first.value;
  }

  /** The body for the client; call validateFirst first. */
  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        pull: async (ctrl) => {
          if (this.peeked) {
            const chunk = this.peeked;
            this.peeked = undefined;
            ctrl.enqueue(chunk);
            return;
          }
          let next: IteratorResult<Uint8Array>;
          try {
            next = await this.iter.next();
          } catch (err) {
            // After the first byte Swift logs and ends the body short; the server then cuts
            // the connection, since fewer bytes than promised went out.
            this.opts.logger.error({ err, log_route: 'large-object' }, err instanceof Error ? err.message : String(err));
            if (!this.cancelled) ctrl.error(err);
            return;
          }
          if (this.cancelled) return;
          if (next.done) ctrl.close();
          else ctrl.enqueue(next.value);
        },
        cancel: () => this.close(),
      },
      { highWaterMark: 0 },
    );
  }

  /** Lets go of the segment being read (the client went away, or the body is not wanted). */
  close(): void {
    this.cancelled = true;
    const reader = this.current;
    this.current = undefined;
    // As src/proxy/subrequest.ts does: cancel at the start of a macrotask (Node 20's toWeb).
    if (reader) setImmediate(() => reader.cancel().catch(() => undefined));
    void this.iter.return(undefined).catch(() => undefined);
  }

  /** _time_limited_iter: max_get_time over the whole GET. */
  private async *timeLimited(): AsyncGenerator<Uint8Array> {
    const start = Date.now();
    for await (const chunk of this.byteCounting()) {
      const now = Date.now();
      yield chunk;
      if (now - start > this.opts.maxGetTime * 1000) {
        throw new SegmentError(`While processing manifest ${this.opts.name}, max LO GET time of ${this.opts.maxGetTime}s exceeded`);
      }
    }
  }

  /** _byte_counting_iter: the client gets exactly what it was promised, or the body fails. */
  private async *byteCounting(): AsyncGenerator<Uint8Array> {
    let left = this.opts.bodyLength;
    for await (const [segName, chunk] of this.bytes()) {
      if (left === undefined) {
        yield chunk;
      } else if (left >= chunk.length) {
        left -= chunk.length;
        yield chunk;
      } else {
        if (left > 0) yield chunk.subarray(0, left);
        throw new SegmentError(`Too many bytes for ${this.opts.name}; truncating in ${segName} with ${chunk.length - left} bytes left`);
      }
    }
    if (left) throw new SegmentError(`Expected another ${left} bytes for ${this.opts.name}; closing connection`);
  }

  /** _requests_to_bytes_iter: each piece's bytes, tagged with where they came from. */
  private async *bytes(): AsyncGenerator<[string, Uint8Array]> {
    const limit = this.opts.rateLimit;
    let free = limit?.after ?? 0;
    let nextAllowed = 0;
    for await (const piece of this.pieces) {
      if (this.cancelled) return;
      if (limit && limit.perSecond > 0 && (limit.applies?.(piece) ?? true)) {
        if (free > 0) free -= 1;
        else {
          const now = Date.now();
          if (nextAllowed > now) await sleep(nextAllowed - now);
          nextAllowed = Math.max(now, nextAllowed) + 1000 / limit.perSecond;
        }
      }
      if (!isSegment(piece)) {
        if (piece.length) yield ['data segment', piece];
        continue;
      }
      yield* this.segment(piece);
    }
  }

  /** One segment GET, checked as Swift checks it (status, ETag, size, then MD5 and length). */
  private async *segment(seg: SegmentRef): AsyncGenerator<[string, Uint8Array]> {
    const first = seg.first ?? 0;
    const toEnd = seg.last === undefined || (seg.size !== undefined && seg.last === seg.size - 1);
    const headers: Record<string, string> = {};
    if (this.opts.token !== undefined) headers['x-auth-token'] = this.opts.token;
    const ranged = first !== 0 || !toEnd;
    if (ranged) headers.range = `bytes=${first}-${toEnd ? '' : seg.last}`;
    const res = await this.opts.app(this.opts.identity, { method: 'GET', path: `${seg.path}?multipart-manifest=get`, headers, agent: this.opts.agent });
    if (res.status < 200 || res.status >= 300) {
      const msg = `While processing manifest ${this.opts.name}, got ${res.status} (${await shortBody(res)}) while retrieving ${seg.path}`;
      if (res.status >= 500) {
        this.opts.logger.error({ log_route: 'large-object' }, msg);
        throw new SegmentServerError(msg);
      }
      throw new SegmentError(msg);
    }
    const etag = normalizeEtag(res.headers.get('etag') ?? undefined);
    const lengthHeader = res.headers.get('content-length');
    const length = lengthHeader === null ? null : Number(lengthHeader);
    // The size check guards against a small object swapped in under a big one's ETag; a
    // ranged answer's length differs anyway.
    if ((seg.etag && etag !== seg.etag) || (seg.size && length !== seg.size && !ranged)) {
      discard(res.body);
      throw new SegmentError(`Object segment no longer valid: ${seg.path} etag: ${etag} != ${seg.etag} or ${length} != ${seg.size}.`);
    }
    if (!res.body) return;
    // Only a whole segment can be checked against its MD5.
    const hash = etag && !ranged ? createHash('md5') : undefined;
    let got = 0;
    const reader = res.body.getReader();
    this.current = reader;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (hash) {
          hash.update(value);
          got += value.length;
        }
        yield [seg.path, value];
      }
    } finally {
      if (this.current === reader) this.current = undefined;
    }
    if (hash) {
      if (got !== length) throw new SegmentError(`Bad response length for ${seg.path} as part of ${this.opts.name}: headers had ${length}, but response length was actually ${got}`);
      const actual = hash.digest('hex');
      if (actual !== etag) throw new SegmentError(`Bad MD5 checksum for ${seg.path} as part of ${this.opts.name}: headers had ${etag}, but object MD5 was actually ${actual}`);
    }
  }
}
