/**
 * Downloads to a file or a writable stream: the body is checked against its ETag as it streams
 * (see etag-verify.ts) and, for a file, written to `<dest>.part` first and renamed into place
 * only once complete and verified, so a failed download never leaves a truncated file under
 * the real name.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StoreCore } from './core';
import { ObjectClient, type ByteRange } from './object';

export interface DownloadProgress {
  bytesDone: number;
  /** Content-Length of the answer (the range's length for a ranged download). */
  bytesTotal?: number;
}

export interface DownloadOptions {
  range?: ByteRange;
  /** Default true (not possible for ranges and large objects). */
  verifyEtag?: boolean;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface DownloadResult {
  bytes: number;
  etag: string;
  /** Whether the body's MD5 was checked against the ETag. */
  verified: boolean;
  status: number;
}

export async function download(core: StoreCore, container: string, name: string, dest: string | Writable, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const got = await new ObjectClient(core, container, name).get({ range: opts.range, verifyEtag: opts.verifyEtag, signal: opts.signal });
  const cl = got.headers['content-length'];
  const progress: DownloadProgress = { bytesDone: 0, bytesTotal: cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : undefined };
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      progress.bytesDone += chunk.length;
      opts.onProgress?.({ ...progress });
      cb(null, chunk);
    },
  });
  const result = (): DownloadResult => ({ bytes: progress.bytesDone, etag: got.stat.etag, verified: got.verifying, status: got.status });
  if (typeof dest !== 'string') {
    await pipeline(got.body, counter, dest, { signal: opts.signal });
    return result();
  }
  const part = `${dest}.part`;
  try {
    await pipeline(got.body, counter, createWriteStream(part), { signal: opts.signal });
    await rename(part, dest);
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
  return result();
}
