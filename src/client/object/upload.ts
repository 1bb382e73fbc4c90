/**
 * Uploads of any size, as swiftclient's SwiftService.upload: a file or stream larger than
 * `segmentSize` goes as segments to `<container>_segments` named
 * `<object>/slo/<mtime>/<size>/<segmentSize>/<index:08d>` (without `slo/` for a DLO, without
 * `<size>/` for a stream of unknown size), then a manifest: an SLO (`?multipart-manifest=put`)
 * by default, a DLO (X-Object-Manifest) with `useDlo`. Segments go up `concurrency` at a time.
 *
 * Resuming (beyond swiftclient): segment names depend only on the object name, mtime, size and
 * segment size, so a re-run of an interrupted upload finds the segments already stored (one
 * listing of the segment prefix) and skips each whose size and MD5 match the local bytes.
 * The mtime of a stream is the upload's time unless `mtime` is given: pass the same one to
 * resume a stream.
 *
 * Unless `leaveSegments`, the segments of the object being replaced are deleted after the new
 * manifest is in place, those the new manifest reuses excepted.
 */
import { createHash } from 'node:crypto';
import { stat as fsStat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { quote } from '../../compat/quote';
import { checkContainerName, checkObjectName, displayPath, type StoreCore } from './core';
import { ObjectClientUsageError } from './errors';
import { metaHeaders, objectStat } from './headers';
import { objectEntries } from './listing';
import { ObjectClient } from './object';
import { abortError, TaskPool } from './pool';
import { deletePaths, dloSegments } from './segment-cleanup';
import { fileRange, md5OfFileRange, streamSegments } from './segment-source';

export interface UploadProgress {
  /** Bytes of the source sent or found already stored. */
  bytesDone: number;
  /** The source's size when known. */
  bytesTotal?: number;
  segmentsDone: number;
  /** Segments found already stored (a resumed upload). */
  segmentsSkipped: number;
  /** Known up front for files (and streams of given size). */
  segmentsTotal?: number;
}

export interface UploadOptions {
  /** Bytes per segment; a larger source is uploaded in segments. 0 or unset: one PUT. */
  segmentSize?: number;
  /** A DLO manifest instead of an SLO. */
  useDlo?: boolean;
  /** Default `<container>_segments`. */
  segmentContainer?: string;
  /** Segment PUTs in parallel (default 4). */
  concurrency?: number;
  /** Keep the segments of the object being replaced. */
  leaveSegments?: boolean;
  onProgress?: (p: UploadProgress) => void;
  contentType?: string;
  meta?: Record<string, string>;
  headers?: Record<string, string>;
  /** A stream's total size, when known: checked, and part of the segment names as for files. */
  size?: number;
  /** Seconds since the epoch for X-Object-Meta-Mtime and segment names (default: the file's mtime, or now). */
  mtime?: number;
  signal?: AbortSignal;
}

export interface UploadedSegment {
  path: string;
  etag: string;
  size: number;
  /** Found already stored with this MD5: not sent again. */
  skipped: boolean;
}

export interface UploadResult {
  container: string;
  object: string;
  /** The object's ETag as the server answered the (manifest) PUT. */
  etag: string;
  largeObject?: 'slo' | 'dlo';
  bytes: number;
  segments: UploadedSegment[];
  segmentsUploaded: number;
  segmentsSkipped: number;
  /** Segments of the replaced object that were deleted. */
  oldSegmentsDeleted: number;
}

export type UploadSource = string | Readable | AsyncIterable<Uint8Array>;

const SEGMENT_CONTENT_TYPE = 'application/swiftclient-segment';

/** `"%f" % seconds`, swiftclient's format for X-Object-Meta-Mtime and segment names. */
function mtimeText(seconds: number): string {
  return seconds.toFixed(6);
}

type ObjectPath = { container: string; object: string };

function key(t: ObjectPath): string {
  return `${t.container}/${t.object}`;
}

/** The segments the object now at `target` uses, to delete after it is replaced. */
async function currentSegments(core: StoreCore, target: ObjectPath, signal?: AbortSignal): Promise<ObjectPath[]> {
  const head = await core.call(target, { method: 'HEAD', raiseExc: false, signal });
  await head.text();
  if (head.status === 404) return [];
  if (head.status >= 300) throw new ObjectClientUsageError(`cannot check ${displayPath(target)} before replacing it: HTTP ${head.status}`);
  if (head.headers['content-location']) return []; // a symlink: its target is not ours to clean
  const stat = objectStat(head.headers);
  if (stat.largeObject === 'dlo' && stat.headers['x-object-manifest']) return dloSegments(core, stat.headers['x-object-manifest'], signal);
  if (stat.largeObject !== 'slo') return [];
  const res = await core.call(target, { method: 'GET', query: { 'multipart-manifest': 'get' }, signal });
  const manifest = await res.json<{ name?: string; sub_slo?: boolean }[]>();
  const out: ObjectPath[] = [];
  for (const seg of Array.isArray(manifest) ? manifest : []) {
    if (typeof seg.name !== 'string' || seg.sub_slo) continue;
    const p = seg.name.replace(/^\/+/, '');
    const slash = p.indexOf('/');
    if (slash > 0) out.push({ container: p.slice(0, slash), object: p.slice(slash + 1) });
  }
  return out;
}

/** Segments already stored under the prefix: name → { hash, bytes }. */
async function storedSegments(core: StoreCore, container: string, prefix: string, signal?: AbortSignal): Promise<Map<string, { hash: string; bytes: number }>> {
  const out = new Map<string, { hash: string; bytes: number }>();
  const listing = objectEntries((query, s) => core.call({ container }, { method: 'GET', query, signal: s }), { prefix, signal });
  for await (const e of listing) if (e.kind === 'object') out.set(e.name, { hash: e.hash, bytes: e.bytes });
  return out;
}

class Uploader {
  private readonly progress: UploadProgress;
  readonly segments: UploadedSegment[] = [];

  constructor(
    private readonly core: StoreCore,
    private readonly opts: UploadOptions,
    bytesTotal: number | undefined,
    segmentsTotal: number | undefined,
  ) {
    this.progress = { bytesDone: 0, bytesTotal, segmentsDone: 0, segmentsSkipped: 0, segmentsTotal };
  }

  private report(): void {
    this.opts.onProgress?.({ ...this.progress });
  }

  /** Counts bytes as the transport reads them. */
  counted(body: Readable): Readable {
    body.on('data', (c: Buffer) => {
      this.progress.bytesDone += c.length;
      this.report();
    });
    return body;
  }

  segmentDone(index: number, seg: UploadedSegment): void {
    this.segments[index] = seg;
    this.progress.segmentsDone++;
    if (seg.skipped) {
      this.progress.segmentsSkipped++;
      this.progress.bytesDone += seg.size;
    }
    this.report();
  }

  get bytesDone(): number {
    return this.progress.bytesDone;
  }

  countBytes(n: number): void {
    this.progress.bytesDone += n;
    this.report();
  }
}

export async function upload(core: StoreCore, container: string, name: string, source: UploadSource, opts: UploadOptions = {}): Promise<UploadResult> {
  checkContainerName(container);
  checkObjectName(name);
  const obj = name.replace(/^\.\//, '').replace(/^\/+/, '');
  checkObjectName(obj);
  const segmentSize = opts.segmentSize ?? 0;
  if (!Number.isInteger(segmentSize) || segmentSize < 0) throw new ObjectClientUsageError('segmentSize must be a non-negative integer');
  const concurrency = opts.concurrency ?? 4;
  const signal = opts.signal;
  const segContainer = opts.segmentContainer ?? `${container}_segments`;
  checkContainerName(segContainer);

  const path = typeof source === 'string' ? source : undefined;
  let size = opts.size;
  let mtime = opts.mtime;
  if (path !== undefined) {
    const st = await fsStat(path, { bigint: true });
    if (!st.isFile()) throw new ObjectClientUsageError(`${path} is not a file`);
    size = Number(st.size);
    // CPython's st_mtime: seconds + nanoseconds * 1e-9 as doubles (what swiftclient formats).
    mtime ??= Number(st.mtimeNs / 1_000_000_000n) + Number(st.mtimeNs % 1_000_000_000n) * 1e-9;
  }
  mtime ??= Math.round(Date.now() / 1000);
  const mt = mtimeText(mtime);
  const target = { container, object: obj };
  const headers: Record<string, string> = { 'X-Object-Meta-Mtime': mt, ...metaHeaders('object', opts.meta), ...opts.headers };
  if (opts.contentType !== undefined) headers['Content-Type'] = opts.contentType;
  const old = opts.leaveSegments ? [] : await currentSegments(core, target, signal);

  const segmented = segmentSize > 0 && (path === undefined || size! > segmentSize);
  const segmentsTotal = segmented && size !== undefined ? Math.max(1, Math.ceil(size / segmentSize)) : undefined;
  const up = new Uploader(core, opts, size, segmentsTotal);
  const finish = async (etag: string, largeObject: UploadResult['largeObject'], keep: Set<string>): Promise<UploadResult> => {
    const stale = old.filter((t) => !keep.has(key(t)));
    await deletePaths(core, stale, signal);
    const segs = up.segments;
    return {
      container,
      object: obj,
      etag,
      largeObject,
      bytes: segs.length ? segs.reduce((n, s) => n + s.size, 0) : up.bytesDone,
      segments: segs,
      segmentsUploaded: segs.filter((s) => !s.skipped).length,
      segmentsSkipped: segs.filter((s) => s.skipped).length,
      oldSegmentsDeleted: stale.length,
    };
  };

  if (!segmented) {
    const body = path !== undefined ? (size! > 0 ? fileRange(path, 0, size!, signal) : Readable.from([])) : source instanceof Readable ? source : Readable.from(source as AsyncIterable<Uint8Array>);
    const put = await new ObjectClient(core, container, obj).put(up.counted(body), { headers, contentLength: size, signal });
    return finish(put.etag, undefined, new Set());
  }

  const maxSegments = Number((await core.info()).slo?.max_manifest_segments ?? 0);
  if (!opts.useDlo && maxSegments > 0 && segmentsTotal !== undefined && segmentsTotal > maxSegments) {
    throw new ObjectClientUsageError(`${segmentsTotal} segments exceed the cluster's max_manifest_segments (${maxSegments}); use a larger segmentSize`);
  }
  // swiftclient creates the segment container in the main container's storage policy.
  const main = await core.call({ container }, { method: 'HEAD', raiseExc: false, signal });
  await main.text();
  const policy = main.status < 300 ? main.headers['x-storage-policy'] : undefined;
  const created = await core.call({ container: segContainer }, { method: 'PUT', headers: policy ? { 'X-Storage-Policy': policy } : {}, signal });
  await created.text();

  const prefix = opts.useDlo
    ? `${obj}/${mt}/${size !== undefined ? `${size}/` : ''}${segmentSize}/`
    : `${obj}/slo/${mt}/${size !== undefined ? `${size}/` : ''}${segmentSize}/`;
  const stored = await storedSegments(core, segContainer, prefix, signal);
  const segName = (i: number) => `${prefix}${String(i).padStart(8, '0')}`;
  const segPath = (i: number) => displayPath({ container: segContainer, object: segName(i) });
  const pool = new TaskPool(concurrency, signal);

  /** Sends one segment unless an identical one is stored; `md5` known for buffered segments. */
  const sendSegment = async (i: number, length: number, body: () => Readable | Buffer, md5: () => Promise<string>) => {
    const have = stored.get(segName(i));
    if (have && have.bytes === length) {
      const local = await md5();
      if (local === have.hash) {
        up.segmentDone(i, { path: segPath(i), etag: local, size: length, skipped: true });
        return;
      }
    }
    const b = body();
    const put = await new ObjectClient(core, segContainer, segName(i)).put(Buffer.isBuffer(b) ? b : up.counted(b), {
      contentType: SEGMENT_CONTENT_TYPE,
      contentLength: length,
      etag: Buffer.isBuffer(b) ? await md5() : undefined,
      signal,
    });
    if (Buffer.isBuffer(b)) up.countBytes(length);
    up.segmentDone(i, { path: segPath(i), etag: put.etag, size: length, skipped: false });
  };

  let count = 0;
  let total = 0;
  try {
    if (path !== undefined) {
      for (let i = 0; i * segmentSize < size!; i++) {
        const start = i * segmentSize;
        const length = Math.min(segmentSize, size! - start);
        await pool.add(() => sendSegment(i, length, () => fileRange(path, start, length, signal), () => md5OfFileRange(path, start, length, signal)));
        count++;
        total += length;
      }
    } else {
      const input = source instanceof Readable ? source : Readable.from(source as AsyncIterable<Uint8Array>);
      for await (const buf of streamSegments(input, segmentSize)) {
        if (signal?.aborted) throw abortError(signal);
        if (count === 0 && buf.length < segmentSize) {
          // Smaller than one segment: a plain object, as swiftclient uploads a short stream.
          const put = await new ObjectClient(core, container, obj).put(buf, { headers, etag: createHash('md5').update(buf).digest('hex'), signal });
          up.countBytes(buf.length);
          return finish(put.etag, undefined, new Set());
        }
        const i = count;
        const digest = createHash('md5').update(buf).digest('hex');
        await pool.add(() => sendSegment(i, buf.length, () => buf, async () => digest));
        count++;
        total += buf.length;
      }
    }
    await pool.drain();
  } catch (err) {
    await pool.settle();
    throw err;
  }
  if (count === 0) {
    const put = await new ObjectClient(core, container, obj).put('', { headers, signal });
    return finish(put.etag, undefined, new Set());
  }
  if (size !== undefined && total !== size) throw new ObjectClientUsageError(`the source had ${total} bytes, not the ${size} announced`);
  if (!opts.useDlo && maxSegments > 0 && count > maxSegments) {
    throw new ObjectClientUsageError(`${count} segments exceed the cluster's max_manifest_segments (${maxSegments}); the segments are stored, the manifest was not written`);
  }

  const keep = new Set(up.segments.map((s) => key({ container: segContainer, object: s.path.slice(segContainer.length + 2) })));
  const manifestObject = new ObjectClient(core, container, obj);
  if (opts.useDlo) {
    const put = await manifestObject.put('', {
      headers: { ...headers, 'X-Object-Manifest': `${quote(segContainer)}/${quote(prefix)}` },
      signal,
    });
    return finish(put.etag, 'dlo', keep);
  }
  const manifest = JSON.stringify(up.segments.map((s) => ({ path: s.path, etag: s.etag, size_bytes: s.size })));
  const put = await manifestObject.put(manifest, { headers, query: { 'multipart-manifest': 'put' }, signal });
  return finish(put.etag, 'slo', keep);
}
