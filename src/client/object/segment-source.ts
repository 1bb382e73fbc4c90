/**
 * Where segment bytes come from without holding an upload in memory: a file is read by byte
 * ranges (a segment is streamed twice at most: once to compare its MD5 with a segment already
 * stored, once to send it); a stream is cut into segments, each copied once into one buffer of
 * at most segmentSize bytes (its MD5 must be known before deciding to send it).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

/** The bytes [start, start + length) of a file as a stream (length > 0). */
export function fileRange(path: string, start: number, length: number, signal?: AbortSignal): Readable {
  return createReadStream(path, { start, end: start + length - 1, highWaterMark: 256 * 1024, signal });
}

export async function md5OfFileRange(path: string, start: number, length: number, signal?: AbortSignal): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of fileRange(path, start, length, signal)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Consecutive segments of `size` bytes (the last one shorter; none for an empty source). */
export async function* streamSegments(source: AsyncIterable<Uint8Array | string>, size: number): AsyncGenerator<Buffer> {
  let buf = Buffer.allocUnsafe(size);
  let fill = 0;
  for await (const raw of source) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    while (chunk.length > 0) {
      const n = Math.min(size - fill, chunk.length);
      buf.set(chunk.subarray(0, n), fill);
      fill += n;
      chunk = chunk.subarray(n);
      if (fill === size) {
        yield buf;
        buf = Buffer.allocUnsafe(size);
        fill = 0;
      }
    }
  }
  if (fill > 0) yield buf.subarray(0, fill);
}
