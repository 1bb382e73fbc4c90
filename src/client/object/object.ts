/** Object operations: HEAD, PUT (MD5-checked), GET as a verified stream, POST, COPY, DELETE. */
import { createHash } from 'node:crypto';
import { Readable, Transform, pipeline } from 'node:stream';
import type { RequestBody } from '../types';
import { quote } from '../../compat/quote';
import { displayPath, type StoreCore } from './core';
import { ObjectClientUsageError, UploadVerificationError } from './errors';
import { bareEtag, metaHeaders, objectStat, type ObjectStat } from './headers';
import { VerifyingStream } from './etag-verify';
import { deleteObjectWithSegments } from './segment-cleanup';

export interface PutOptions {
  contentType?: string;
  /** X-Object-Meta-* values. */
  meta?: Record<string, string>;
  headers?: Record<string, string>;
  /** The body's MD5 (hex): sent as ETag so the server refuses (422) a body that differs. */
  etag?: string;
  /** Needed for a stream body when the server must know the length up front. */
  contentLength?: number;
  query?: Record<string, string>;
  signal?: AbortSignal;
}

export interface PutResult {
  status: number;
  etag: string;
}

/** `{ start, end }` (inclusive, either may be left out) or `{ suffix }` (the last N bytes), or a raw Range value. */
export type ByteRange = { start?: number; end?: number } | { suffix: number } | string;

export interface GetOptions {
  range?: ByteRange;
  /** Check the body's MD5 against the ETag as it streams (default true; skipped for ranges and manifests). */
  verifyEtag?: boolean;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  signal?: AbortSignal;
}

export interface GetResult {
  status: number;
  stat: ObjectStat;
  headers: Record<string, string>;
  /** The body; with verification on, it errors with EtagMismatchError / LengthMismatchError at the end. */
  body: Readable;
  /** Whether `body` is checked against the ETag. */
  verifying: boolean;
}

export interface CopyOptions {
  /** X-Fresh-Metadata: the copy gets only the metadata given here, none of the source's. */
  freshMetadata?: boolean;
  meta?: Record<string, string>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function rangeHeader(range: ByteRange): string {
  if (typeof range === 'string') return range;
  const n = (v: number | undefined, what: string) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new ObjectClientUsageError(`range ${what} must be a non-negative integer`);
    return v;
  };
  if ('suffix' in range) return `bytes=-${n(range.suffix, 'suffix')}`;
  const start = n(range.start, 'start');
  const end = n(range.end, 'end');
  if (start === undefined && end === undefined) throw new ObjectClientUsageError('range needs a start, an end or a suffix');
  if (start !== undefined && end !== undefined && end < start) throw new ObjectClientUsageError('range end is before its start');
  return `bytes=${start ?? 0}-${end ?? ''}`;
}

/** The body to send and a way to learn the MD5 of what was actually sent. */
function hashedBody(body: RequestBody): { body: RequestBody; md5: () => string } {
  const h = createHash('md5');
  if (body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array) {
    const digest = h.update(body ?? '').digest('hex');
    return { body, md5: () => digest };
  }
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
  });
  pipeline(body instanceof Readable ? body : Readable.from(body), hashing, () => undefined);
  let digest: string | undefined;
  return { body: hashing, md5: () => (digest ??= h.digest('hex')) };
}

export class ObjectClient {
  constructor(
    private readonly core: StoreCore,
    readonly container: string,
    readonly name: string,
  ) {}

  private get target() {
    return { container: this.container, object: this.name };
  }

  get path(): string {
    return displayPath(this.target);
  }

  async stat(opts: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<ObjectStat> {
    const res = await this.core.call(this.target, { method: 'HEAD', headers: opts.headers, signal: opts.signal });
    await res.text();
    return objectStat(res.headers);
  }

  /** PUT; the returned ETag is checked against the MD5 of the bytes sent (swiftclient's checksum). */
  async put(body: RequestBody, opts: PutOptions = {}): Promise<PutResult> {
    const headers: Record<string, string> = { ...metaHeaders('object', opts.meta), ...opts.headers };
    if (opts.contentType !== undefined) headers['Content-Type'] = opts.contentType;
    if (opts.etag !== undefined) headers.ETag = opts.etag;
    if (opts.contentLength !== undefined) headers['Content-Length'] = String(opts.contentLength);
    const sent = hashedBody(body ?? '');
    const res = await this.core.call(this.target, { method: 'PUT', headers, body: sent.body, query: opts.query, signal: opts.signal });
    await res.text();
    const etag = bareEtag(res.headers.etag);
    // A manifest PUT's ETag is not the MD5 of the manifest body.
    const isManifest = opts.query?.['multipart-manifest'] === 'put' || Object.keys(headers).some((k) => k.toLowerCase() === 'x-object-manifest');
    if (!isManifest && etag && etag !== sent.md5()) throw new UploadVerificationError(this.path, sent.md5(), etag);
    return { status: res.status, etag };
  }

  async get(opts: GetOptions = {}): Promise<GetResult> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.range !== undefined) headers.Range = rangeHeader(opts.range);
    const res = await this.core.call(this.target, { method: 'GET', headers, query: opts.query, signal: opts.signal });
    const verifier = new VerifyingStream(this.path, res.headers, opts.verifyEtag ?? true);
    res.body.on('error', (err) => verifier.destroy(err));
    res.body.pipe(verifier);
    return { status: res.status, stat: objectStat(res.headers), headers: res.headers, body: verifier, verifying: verifier.verifying };
  }

  async post(meta: Record<string, string> = {}, opts: { contentType?: string; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<void> {
    const headers: Record<string, string> = { ...metaHeaders('object', meta), ...opts.headers };
    if (opts.contentType !== undefined) headers['Content-Type'] = opts.contentType;
    const res = await this.core.call(this.target, { method: 'POST', headers, signal: opts.signal });
    await res.text();
  }

  /** Server-side COPY to `container/object` (or `{ container, object }`). */
  async copy(dest: string | { container: string; object: string }, opts: CopyOptions = {}): Promise<PutResult> {
    const d = typeof dest === 'string' ? dest.replace(/^\/+/, '') : `${dest.container}/${dest.object}`;
    const slash = d.indexOf('/');
    if (slash <= 0 || slash === d.length - 1) throw new ObjectClientUsageError(`copy destination ${JSON.stringify(d)} must be <container>/<object>`);
    const headers: Record<string, string> = { ...metaHeaders('object', opts.meta), ...opts.headers, Destination: quote(`/${d}`, '/') };
    if (opts.freshMetadata) headers['X-Fresh-Metadata'] = 'true';
    const res = await this.core.call(this.target, { method: 'COPY', headers, signal: opts.signal });
    await res.text();
    return { status: res.status, etag: bareEtag(res.headers.etag) };
  }

  /**
   * DELETE. Unless `leaveSegments`, a large object's segments go too, as swiftclient does: an
   * SLO with `?multipart-manifest=delete`, a DLO's segments listed under its manifest prefix.
   */
  async delete(opts: { leaveSegments?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    if (!opts.leaveSegments) return deleteObjectWithSegments(this.core, this.container, this.name, opts.signal);
    const res = await this.core.call(this.target, { method: 'DELETE', signal: opts.signal });
    await res.text();
  }
}
