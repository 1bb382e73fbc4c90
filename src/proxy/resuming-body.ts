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
  let pos = window.start;
  // Set when the client goes away: the body in flight is dropped and no other replica asked.
  let cancelled = false;
  let finished = false;

  // Chunks pass straight from the replica's stream to this one ('data' events, pause/resume
  // for backpressure): a 1 MiB GET is sixteen 64 KiB chunks, and a promise per chunk per layer
  // was most of the proxy's CPU. Only a failure goes through the asynchronous resume.
  const out = new Readable({
    read() {
      if (!finished) source.body.resume();
    },
    destroy(err, callback) {
      // Unblocks a read waiting on a replica (the resume then ends without asking another).
      cancelled = true;
      // Once every byte is relayed (this stream's own end destroys it) the replica's body is
      // left to reach its end, which keeps the backend connection alive; destroying it would
      // also build an abort error and format its stack for each GET.
      if (finished) return void callback(err);
      detach(source.body);
      discard(source.body);
      callback(err);
    },
  });

  const onData = (chunk: Buffer) => {
    if (finished) return;
    // A replica never gives more than the window (ByteCountEnforcer).
    const buf = pos + chunk.length > end + 1 ? chunk.subarray(0, end + 1 - pos) : chunk;
    pos += buf.length;
    const more = buf.length === 0 || out.push(buf);
    if (pos > end) finish();
    else if (!more) source.body.pause();
  };
  const onEnd = () => {
    if (pos > end) finish();
    else failed(new ShortReadError(pos - window.start, end + 1 - window.start));
  };
  const onError = (err: Error) => failed(err);
  // A body closed with neither its end nor an error (destroyed under us) is a failure too.
  const onClose = () => {
    if (!finished && !source.body.readableEnded) failed(new ShortReadError(pos - window.start, end + 1 - window.start));
  };
  function attach(body: Readable): void {
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
  }
  function detach(body: Readable): void {
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('error', onError);
    body.off('close', onClose);
  }
  function finish(): void {
    finished = true;
    detach(source.body);
    out.push(null);
    // The last byte usually comes just before the body's end: let it end, so that the
    // backend connection stays alive for the next request.
    if (!source.body.readableEnded) {
      source.body.on('error', () => undefined);
      source.body.resume();
    }
  }
  function failed(err: Error): void {
    if (finished) return;
    detach(source.body);
    discard(source.body);
    if (cancelled) return;
    resumeFrom(pos).then(
      (next) => {
        if (!next) return void out.destroy(err);
        if (cancelled) return discard(next.body);
        source = next;
        attach(next.body);
      },
      (e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))),
    );
  }
  attach(first.body);
  return out;
}

/** Drops a backend body nobody will read (its abort error included). */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}
