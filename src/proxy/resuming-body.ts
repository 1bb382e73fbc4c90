/**
 * An object GET body that survives the replica it streams from: when that replica fails
 * mid-body (connection reset, a body shorter than its Content-Length, no bytes for
 * node_timeout), the rest is asked of the next replica with a Range for the bytes still owed,
 * and the client gets the whole object. This is what Swift's GetOrHeadHandler does
 * (`_get_response_parts_iter`: fast_forward, then `_get_source_and_node` on the same node
 * iterator, with `used_source_etag` so that a replica holding another version is not spliced in).
 * When no replica can continue, the body fails, and the client's connection is cut, never a
 * silently short 200.
 *
 * Single-range and whole-object answers resume; a multipart/byteranges answer (several client
 * ranges) is relayed from its one replica as it is.
 */
import { Readable } from 'node:stream';
import type { BackendStreamResponse } from '../common/backend-client';

export interface ResumingBodyOptions {
  /** The good source being relayed (a 200 or a 206 to a GET). */
  first: BackendStreamResponse;
  /** The backend request headers that fetched `first` (a client Range among them, if any). */
  headers: Record<string, string>;
  /**
   * The next replica's answer to these headers (the same node iterator the first source came
   * from, so no replica is asked twice), or undefined once there is none left.
   */
  nextSource: (headers: Record<string, string>) => Promise<BackendStreamResponse | undefined>;
}

/** `bytes start-end/size` (a single range) as inclusive numbers, or undefined. */
function contentRange(value: string | undefined): { start: number; end: number } | undefined {
  const m = value && /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value);
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]) };
}

/** swob.normalize_etag: the ETag without one pair of surrounding quotes. */
function normalizeEtag(tag: string | undefined): string {
  if (!tag) return '';
  return tag.length > 1 && tag.startsWith('"') && tag.endsWith('"') ? tag.slice(1, -1) : tag;
}

/** The absolute, inclusive byte window a 200 or single-range 206 carries, if it is known. */
function windowOf(src: BackendStreamResponse): { start: number; end: number } | undefined {
  if (src.status === 206) {
    if (/^\s*multipart\/byteranges/i.test(src.headers['content-type'] ?? '')) return undefined;
    return contentRange(src.headers['content-range']);
  }
  const length = src.headers['content-length'];
  if (src.status !== 200 || length === undefined || !/^\d+$/.test(length)) return undefined;
  return { start: 0, end: Number(length) - 1 };
}

class ShortReadError extends Error {
  constructor(got: number, wanted: number) {
    super(`replica sent ${got} of ${wanted} bytes`);
  }
}

/**
 * The body to relay for `first`: its own stream when it cannot be resumed (multipart, no
 * length, empty), otherwise a stream that moves to another replica on failure.
 */
export function resumingBody(opts: ResumingBodyOptions): Readable {
  const { first } = opts;
  const window = windowOf(first);
  if (!window || window.end < window.start) return first.body;
  const etag = normalizeEtag(first.headers.etag);
  const end = window.end;

  /** The next replica that can send bytes `from`..end of the same object, or undefined. */
  const resumeFrom = async (from: number): Promise<BackendStreamResponse | undefined> => {
    // As fast_forward: the Range now starts at the first byte the client has not had yet.
    const headers = { ...opts.headers, range: `bytes=${from}-${end}` };
    for (;;) {
      const next = await opts.nextSource(headers);
      if (!next) return undefined;
      const got = next.status === 206 ? contentRange(next.headers['content-range']) : undefined;
      // Another version of the object (replication has not caught up), or an answer that does
      // not start where we stopped: not spliced in (Swift counts it as a 404 and moves on).
      if (got && got.start === from && got.end === end && (!etag || normalizeEtag(next.headers.etag) === etag)) return next;
      discard(next.body);
    }
  };

  let source = first;
  // Set when the client goes away: the body in flight is dropped and no other replica asked.
  let cancelled = false;
  async function* bytes(): AsyncGenerator<Buffer> {
    let pos = window!.start;
    try {
      for (;;) {
        try {
          for await (const chunk of source.body) {
            let buf = chunk as Buffer;
            // A replica never gives more than the window (ByteCountEnforcer).
            if (pos + buf.length > end + 1) buf = buf.subarray(0, end + 1 - pos);
            pos += buf.length;
            if (buf.length) yield buf;
            if (pos > end) return;
          }
          if (pos > end) return;
          throw new ShortReadError(pos - window!.start, end + 1 - window!.start);
        } catch (err) {
          discard(source.body);
          if (cancelled) throw err;
          const next = await resumeFrom(pos);
          if (!next) throw err;
          if (cancelled) {
            discard(next.body);
            throw err;
          }
          source = next;
        }
      }
    } finally {
      discard(source.body);
    }
  }
  const chunks = bytes();
  return new Readable({
    read() {
      chunks.next().then(
        (r) => this.push(r.done ? null : r.value),
        (err: Error) => this.destroy(err),
      );
    },
    destroy(err, callback) {
      // Unblocks a read waiting on a replica (the generator then ends without resuming).
      cancelled = true;
      discard(source.body);
      void chunks.return(undefined).catch(() => undefined);
      callback(err);
    },
  });
}

/** Drops a backend body nobody will read (its abort error included). */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}
