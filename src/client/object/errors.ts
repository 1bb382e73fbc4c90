/** Errors the object-storage client raises itself (HTTP errors are the Session's ClientHttpError). */

/** A downloaded body whose MD5 is not the ETag the server sent (swiftclient's "md5sum != etag"). */
export class EtagMismatchError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`Error downloading ${path}: md5sum != etag, ${actual} != ${expected}`);
    this.name = 'EtagMismatchError';
  }
}

/** A body shorter or longer than its Content-Length (swiftclient's "read_length != content_length"). */
export class LengthMismatchError extends Error {
  constructor(
    readonly path: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`Error downloading ${path}: read_length != content_length, ${actual} != ${expected}`);
    this.name = 'LengthMismatchError';
  }
}

/** An upload the server stored with another ETag than the MD5 of what was sent. */
export class UploadVerificationError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`Upload verification failed for ${path}: md5 mismatch, local ${expected} != remote ${actual}`);
    this.name = 'UploadVerificationError';
  }
}

/** Arguments refused before any request was sent. */
export class ObjectClientUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ObjectClientUsageError';
  }
}
