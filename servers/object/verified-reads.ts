/**
 * Which .data files a whole-object GET has recently hashed and found to match their ETag.
 *
 * Swift's DiskFileReader hashes every whole read and quarantines the object when the MD5 is
 * not its ETag. MD5 runs at about 650 MB/s on a current core, so for large objects it is most
 * of the object server's CPU, and a hot object is hashed again on every read although its
 * bytes come from the page cache that the first check already read. The object server
 * therefore skips the hash for a file whose identity (device, inode, size, mtime and ctime,
 * in nanoseconds) is unchanged since a check passed less than `intervalSeconds` ago. Any
 * write through the filesystem, even one that restores the mtime, moves the ctime; a new PUT
 * is a new inode. What the interval defers is only the quarantine of media corruption that
 * the filesystem does not see, which Swift also finds only on a later read or audit.
 */
import { fstatSync } from 'node:fs';
import { LRUCache } from 'lru-cache';

/** ObjectServerOptions.verifiedReadSeconds' default. */
export const DEFAULT_VERIFIED_READ_SECONDS = 60;
const MAX_FILES = 16_384;

/** A .data file's identity: any change to its content through the filesystem changes it. */
export function fileIdentity(fd: number): string {
  const st = fstatSync(fd, { bigint: true });
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

export class VerifiedReads {
  private readonly checked: LRUCache<string, string>;

  constructor(intervalSeconds: number) {
    this.checked = new LRUCache({ max: MAX_FILES, ttl: intervalSeconds * 1000 });
  }

  /** True when the file with this identity was found to hash to `etag` within the interval. */
  has(identity: string, etag: string): boolean {
    return this.checked.get(identity) === etag;
  }

  /** Records a whole read of the file whose MD5 was `etag`. */
  add(identity: string, etag: string): void {
    this.checked.set(identity, etag);
  }
}
