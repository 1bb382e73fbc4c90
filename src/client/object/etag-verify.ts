/**
 * Checks a downloaded body against its ETag while it streams, as swiftclient's _SwiftReader:
 * MD5 on the fly and the byte count against Content-Length, checked at the end. A ranged answer
 * (Content-Range) and large-object manifests (X-Object-Manifest, X-Static-Large-Object), whose
 * ETag is not the MD5 of the body, are counted but not hashed.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { EtagMismatchError, LengthMismatchError } from './errors';
import { bareEtag } from './headers';

const NOT_BODY_MD5 = ['content-range', 'x-object-manifest', 'x-static-large-object'];

/** Whether the ETag of an answer with these headers is the MD5 of its body. */
export function etagIsBodyMd5(headers: Record<string, string>): boolean {
  return !NOT_BODY_MD5.some((h) => h in headers) && bareEtag(headers.etag) !== '';
}

export class VerifyingStream extends Transform {
  private readonly md5;
  private readonly expected: string;
  private readonly length: number | undefined;
  private read_ = 0;

  constructor(
    private readonly path: string,
    headers: Record<string, string>,
    verify: boolean,
  ) {
    super();
    this.expected = bareEtag(headers.etag);
    this.md5 = verify && etagIsBodyMd5(headers) ? createHash('md5') : undefined;
    const cl = headers['content-length'];
    this.length = cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : undefined;
  }

  /** Whether the body is being checked against its ETag. */
  get verifying(): boolean {
    return this.md5 !== undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.md5?.update(chunk);
    this.read_ += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.md5) {
      const actual = this.md5.digest('hex');
      if (actual !== this.expected) return cb(new EtagMismatchError(this.path, this.expected, actual));
    }
    if (this.length !== undefined && this.read_ !== this.length) return cb(new LengthMismatchError(this.path, this.length, this.read_));
    cb();
  }
}
