/**
 * On-disk object storage, mirroring swift/obj/diskfile.py (replication policy) without xattrs.
 *
 * Layout (as Swift):
 *   <devices>/<device>/objects[-N]/<partition>/<hash[-3:]>/<hash>/<timestamp>.data|.ts|.meta
 *   <devices>/<device>/tmp[-N]/            temp files, renamed into place (same filesystem)
 *   <devices>/<device>/quarantined/objects[-N]/<hash>[-<uuid>]   corrupt object dirs
 * where hash = hashPath(a, c, o) and N is the storage policy index (no suffix for policy 0).
 * `.meta` names carry the content-type timestamp as Swift's encode_timestamps does:
 * `<t_meta>+<hex delta of t_ctype>.meta` (or `-<hex>`), plain `<t_meta>.meta` when none.
 *
 * File format. Swift keeps metadata in xattrs; we append it as a trailer so a body can be
 * streamed straight to disk and the metadata (ETag, length) written once known:
 *
 *   [body bytes][metadata JSON, UTF-8][md5 of the JSON, 16 bytes][JSON length, uint32 BE][magic "SLUICE01"]
 *
 * The JSON is an object of string keys to string values: Title-Case header names as Swift
 * stores them (X-Timestamp, Content-Type, ETag, Content-Length, X-Object-Meta-*, ...) plus
 * `name` = `/<a>/<c>/<o>`. Values are Unicode (decoded from the wire's UTF-8).
 * `.ts` and `.meta` files are a trailer with an empty body. A file whose trailer is missing,
 * fails its checksum, or whose body length disagrees with Content-Length is quarantined.
 *
 * Durability: a write goes to a temp file in tmp[-N], is fsynced, renamed to its final name,
 * and the object directory is fsynced; a crash at any point leaves either the old state or
 * the complete new file, never a partial `.data`. Obsolete files are removed afterwards as
 * Swift's cleanup_ondisk_files does.
 *
 * I/O. Listing, opening, metadata reads, body reads (disk_chunk_size at a time), renames,
 * unlinks and writes are synchronous system calls, as in Swift's object server (plain os calls
 * in the eventlet worker): on this machine one through libuv's thread pool costs 40-90 µs of
 * CPU against 3-16 µs in line, and an object GET or PUT makes 8 to 18 of them. Only fsync,
 * which waits for the disk, goes to the thread pool.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  fsync,
  mkdirSync,
  openSync,
  promises as fsp,
  readdirSync,
  readSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { promisify } from 'node:util';
import { basename, dirname, join } from 'node:path';
import type { Hash } from 'node:crypto';
import { hashPath, type HashPathConfig } from '../../src/common/hash-path';
import { isSysMeta } from '../../src/common/headers';
import { Timestamp } from '../../src/common/timestamp';
import { fileIdentity } from './verified-reads';

export type Metadata = Record<string, string>;

const MAGIC = Buffer.from('SLUICE01', 'latin1');
const TRAILER_FIXED = 16 + 4 + MAGIC.length;
/** Swift's DEFAULT_RECLAIM_AGE: tombstones older than a week are removed. */
export const DEFAULT_RECLAIM_AGE = 7 * 24 * 3600;

/** Datafile keys a POST cannot replace (RESERVED_DATAFILE_META | DATAFILE_SYSTEM_META). */
const DATAFILE_KEPT = new Set(['content-length', 'deleted', 'etag', 'x-static-large-object']);

export class DiskFileError extends Error {}
/** No object; `timestamp` is set when a tombstone (or expired object) explains why. */
export class DiskFileNotExist extends DiskFileError {
  timestamp?: Timestamp;
}
export class DiskFileDeleted extends DiskFileNotExist {
  constructor(readonly metadata: Metadata) {
    super('deleted');
    this.timestamp = Timestamp.tryParse(metadata['X-Timestamp']) ?? new Timestamp(0);
  }
}
export class DiskFileExpired extends DiskFileDeleted {}
export class DiskFileQuarantined extends DiskFileError {}
/** The stored name differs from the requested one (an md5 collision): Swift answers 403. */
export class DiskFileCollision extends DiskFileError {}

export function policySuffix(policy: number): string {
  return policy === 0 ? '' : `-${policy}`;
}
export const dataDirName = (policy: number) => `objects${policySuffix(policy)}`;
export const asyncDirName = (policy: number) => `async_pending${policySuffix(policy)}`;
export const tmpDirName = (policy: number) => `tmp${policySuffix(policy)}`;

// ---------------------------------------------------------------------------------------------
// Trailer encoding

export function encodeTrailer(metadata: Metadata): Buffer {
  const json = Buffer.from(JSON.stringify(metadata), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  return Buffer.concat([json, createHash('md5').update(json).digest(), len, MAGIC]);
}

class CorruptFile extends Error {}

/** Reads the metadata trailer of an open file; returns it with the body length. */
function readTrailer(fd: number): { metadata: Metadata; bodyLength: number } {
  const { size } = fstatSync(fd);
  if (size < TRAILER_FIXED) throw new CorruptFile('file too short for metadata');
  const fixed = Buffer.alloc(TRAILER_FIXED);
  readFully(fd, fixed, size - TRAILER_FIXED);
  if (!fixed.subarray(20).equals(MAGIC)) throw new CorruptFile('bad metadata magic');
  const jsonLen = fixed.readUInt32BE(16);
  if (jsonLen > size - TRAILER_FIXED) throw new CorruptFile('bad metadata length');
  const json = Buffer.alloc(jsonLen);
  readFully(fd, json, size - TRAILER_FIXED - jsonLen);
  if (!createHash('md5').update(json).digest().equals(fixed.subarray(0, 16))) throw new CorruptFile('metadata checksum mismatch');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch {
    throw new CorruptFile('metadata is not JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CorruptFile('metadata is not an object');
  for (const v of Object.values(parsed)) if (typeof v !== 'string') throw new CorruptFile('metadata value is not a string');
  return { metadata: parsed as Metadata, bodyLength: size - TRAILER_FIXED - jsonLen };
}

function readFully(fd: number, buf: Buffer, position: number): void {
  let off = 0;
  while (off < buf.length) {
    const bytesRead = readSync(fd, buf, off, buf.length - off, position + off);
    if (bytesRead === 0) throw new CorruptFile('unexpected end of file');
    off += bytesRead;
  }
}

// ---------------------------------------------------------------------------------------------
// File names and the on-disk file selection rules (get_ondisk_files / cleanup_ondisk_files)

export interface FileInfo {
  filename: string;
  ext: '.data' | '.ts' | '.meta';
  timestamp: Timestamp;
  /** Only for .meta files named with an explicit content-type delta. */
  ctypeTimestamp?: Timestamp;
}

/** `<ts>.meta` name, with the content-type timestamp as a signed hex delta when given. */
export function metaFilename(tMeta: Timestamp, tCtype?: Timestamp): string {
  if (!tCtype) return `${tMeta.internal}.meta`;
  const delta = tCtype.ticks - tMeta.ticks;
  return `${tMeta.internal}${delta < 0 ? '-' : '+'}${Math.abs(delta).toString(16)}.meta`;
}

export function parseFilename(filename: string): FileInfo | undefined {
  const m = /^(.*)(\.data|\.ts|\.meta)$/.exec(filename);
  if (!m) return undefined;
  const stem = m[1]!;
  const ext = m[2] as FileInfo['ext'];
  if (ext !== '.meta') {
    if (!/^\d+\.\d+(_[0-9a-f]{16})?$/.test(stem)) return undefined;
    const timestamp = Timestamp.tryParse(stem);
    return timestamp ? { filename, ext, timestamp } : undefined;
  }
  const mm = /^(\d+\.\d+(?:_[0-9a-f]{16})?)(?:([+-])([0-9a-f]+))?$/.exec(stem);
  if (!mm) return undefined;
  const timestamp = Timestamp.tryParse(mm[1]);
  if (!timestamp) return undefined;
  let ctypeTimestamp: Timestamp | undefined;
  if (mm[2]) {
    const delta = parseInt(mm[3]!, 16) * (mm[2] === '-' ? -1 : 1);
    try {
      ctypeTimestamp = delta === 0 ? timestamp : new Timestamp(timestamp.ticks + delta);
    } catch {
      return undefined;
    }
  }
  return { filename, ext, timestamp, ctypeTimestamp };
}

export interface OnDiskFiles {
  data?: FileInfo;
  meta?: FileInfo;
  /** A second .meta holding a newer content-type than `meta`. */
  ctype?: FileInfo;
  ts?: FileInfo;
  obsolete: FileInfo[];
  /** .meta files with no .data: removable once older than the reclaim age. */
  possibleReclaim: FileInfo[];
}

const byTimeDesc = (a: FileInfo, b: FileInfo) => b.timestamp.compare(a.timestamp);
const ctypeOf = (f: FileInfo) => f.ctypeTimestamp ?? new Timestamp(0);

/** Swift's get_ondisk_files for a replicated policy: which files make up the object's state. */
export function selectFiles(filenames: string[]): OnDiskFiles {
  const exts: Record<FileInfo['ext'], FileInfo[]> = { '.data': [], '.ts': [], '.meta': [] };
  for (const name of filenames) {
    const info = parseFilename(name);
    if (info) exts[info.ext].push(info);
  }
  for (const list of Object.values(exts)) list.sort(byTimeDesc);
  const res: OnDiskFiles = { obsolete: [], possibleReclaim: [] };
  // Everything at or before the newest tombstone is obsolete, as are older tombstones.
  const newestTs = exts['.ts'][0];
  if (newestTs) {
    for (const ext of ['.data', '.meta'] as const) {
      const keep = exts[ext].filter((f) => f.timestamp.compare(newestTs.timestamp) > 0);
      res.obsolete.push(...exts[ext].filter((f) => f.timestamp.compare(newestTs.timestamp) <= 0));
      exts[ext] = keep;
    }
    res.obsolete.push(...exts['.ts'].slice(1));
    exts['.ts'] = [newestTs];
  }
  // Keep the newest .meta, plus an older one if it carries a newer content-type.
  if (exts['.meta'].length) {
    const metas = exts['.meta'];
    const rest = metas.slice(1).sort((a, b) => ctypeOf(b).compare(ctypeOf(a)));
    let ordered = [metas[0]!, ...rest];
    let retain = 1;
    if (rest.length && ctypeOf(rest[0]!).compare(ctypeOf(metas[0]!)) > 0) {
      if (rest[0]!.timestamp.compare(metas[0]!.timestamp) === 0) ordered = [rest[0]!, metas[0]!, ...rest.slice(1)];
      else retain = 2;
    }
    res.obsolete.push(...ordered.slice(retain));
    exts['.meta'] = ordered.slice(0, retain);
  }
  const newestData = exts['.data'][0];
  if (newestData) {
    res.obsolete.push(...exts['.data'].filter((f) => f.timestamp.compare(newestData.timestamp) < 0));
    for (const ext of ['.ts', '.meta'] as const) {
      res.obsolete.push(...exts[ext].filter((f) => f.timestamp.compare(newestData.timestamp) <= 0));
      exts[ext] = exts[ext].filter((f) => f.timestamp.compare(newestData.timestamp) > 0);
    }
    res.data = newestData;
    if (exts['.meta'].length) {
      res.meta = exts['.meta'][0];
      const last = exts['.meta'][exts['.meta'].length - 1]!;
      if (last.ctypeTimestamp && last.ctypeTimestamp.compare(newestData.timestamp) > 0) res.ctype = last;
    }
  } else {
    res.possibleReclaim.push(...exts['.meta']);
    if (exts['.ts'].length) res.ts = exts['.ts'][0];
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
// Filesystem helpers

/** fsync waits for the disk: the one call kept off the event loop (see the file comment). */
const fsyncAsync = promisify(fsync);

/** Swift's disk_chunk_size: the most one in-line body read asks for. */
export const DISK_CHUNK_SIZE = 65536;

function closeQuiet(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed, or the disk went away: nothing left to release.
  }
}

async function fsyncDir(path: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
    await fsyncAsync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeQuiet(fd);
  }
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already (a concurrent cleanup) or never made.
  }
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/** Writes `data` to `dest` atomically: temp file in `tmpDir`, fsync, rename, fsync the directory. */
export async function writeFileAtomic(dest: string, data: Buffer | string, tmpDir: string): Promise<void> {
  mkdirSync(tmpDir, { recursive: true });
  const tmp = join(tmpDir, `${randomBytes(12).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    await fsyncAsync(fd);
  } catch (err) {
    closeQuiet(fd);
    unlinkQuiet(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    mkdirSync(dirname(dest), { recursive: true });
    renameSync(tmp, dest);
  } catch (err) {
    unlinkQuiet(tmp);
    throw err;
  }
  await fsyncDir(dirname(dest));
}

// ---------------------------------------------------------------------------------------------
// DiskFile

export interface DiskFileManagerOptions {
  hash: HashPathConfig;
  reclaimAge?: number;
}

export class DiskFileManager {
  readonly reclaimAge: number;
  constructor(readonly opts: DiskFileManagerOptions) {
    this.reclaimAge = opts.reclaimAge ?? DEFAULT_RECLAIM_AGE;
  }

  diskFile(devicePath: string, partition: string, account: string, container: string, obj: string, policy: number): DiskFile {
    return new DiskFile(this, devicePath, partition, account, container, obj, policy);
  }

  objectHash(account: string, container: string, obj: string): string {
    return hashPath(this.opts.hash, account, container, obj);
  }

  /** Removes obsolete files (and a reclaimable tombstone); returns what remains selected. */
  async cleanup(dir: string): Promise<OnDiskFiles> {
    const files = listDir(dir);
    const sel = selectFiles(files);
    const now = Date.now() / 1000;
    const reclaimable = (t: Timestamp) => now - t.seconds > this.reclaimAge;
    const remove: FileInfo[] = [...sel.obsolete];
    if (sel.ts && reclaimable(sel.ts.timestamp)) {
      remove.push(sel.ts);
      sel.ts = undefined;
    }
    for (const f of sel.possibleReclaim) if (reclaimable(f.timestamp)) remove.push(f);
    for (const f of remove) unlinkQuiet(join(dir, f.filename));
    if (remove.length && remove.length >= files.length) {
      // Everything went: drop the empty hash directory as Swift does (ignore races).
      try {
        rmdirSync(dir);
      } catch {
        // A writer put a file there meanwhile, or another cleanup removed it.
      }
    }
    return sel;
  }
}

/** An opened object: its merged metadata and an open handle on the .data file. */
export interface OpenedObject {
  metadata: Metadata;
  datafileMetadata: Metadata;
  /** Metadata from the .meta file (POST), without `name`; empty without one. */
  metafileMetadata: Metadata;
  dataTimestamp: Timestamp;
  contentLength: number;
  contentType: string | undefined;
  contentTypeTimestamp: Timestamp;
  /**
   * Reads body bytes at `position` into `buf` at `offset`, in line and at most Swift's
   * disk_chunk_size of them, as Swift's DiskFileReader reads in its greenthread; 0 bytes read
   * means end of file.
   */
  read(buf: Buffer, offset: number, length: number, position: number): number;
  /** The open .data file's identity (see verified-reads.ts). */
  identity(): string;
  close(): Promise<void>;
}

export class DiskFile {
  readonly name: string;
  readonly hash: string;
  readonly datadir: string;
  readonly tmpdir: string;

  constructor(
    readonly manager: DiskFileManager,
    readonly devicePath: string,
    readonly partition: string,
    readonly account: string,
    readonly container: string,
    readonly obj: string,
    readonly policy: number,
  ) {
    this.name = `/${account}/${container}/${obj}`;
    this.hash = manager.objectHash(account, container, obj);
    this.datadir = join(devicePath, dataDirName(policy), partition, this.hash.slice(-3), this.hash);
    this.tmpdir = join(devicePath, tmpDirName(policy));
  }

  /**
   * Opens the object as Swift's DiskFile.open: throws DiskFileNotExist / DiskFileDeleted
   * (tombstone) / DiskFileExpired (X-Delete-At <= currentTime unless openExpired) /
   * DiskFileCollision. Corrupt files are quarantined and reported as not existing.
   * The caller must close() the result.
   */
  async open(currentTime: number, openExpired = false): Promise<OpenedObject> {
    // A concurrent writer may unlink the file we picked between listing and opening: retry.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.openOnce(currentTime, openExpired);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 3) continue;
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DiskFileNotExist('vanished');
        throw err;
      }
    }
  }

  private async openOnce(currentTime: number, openExpired: boolean): Promise<OpenedObject> {
    const sel = await this.manager.cleanup(this.datadir);
    if (!sel.data) {
      if (sel.ts) {
        let meta: Metadata;
        try {
          meta = await this.readMetadataFile(sel.ts.filename);
        } catch (err) {
          if (err instanceof DiskFileQuarantined) throw new DiskFileNotExist('quarantined tombstone');
          throw err;
        }
        throw new DiskFileDeleted(meta);
      }
      throw new DiskFileNotExist('no data');
    }
    const dataPath = join(this.datadir, sel.data.filename);
    const fd = openSync(dataPath, 'r');
    let closed = false;
    try {
      let datafileMetadata: Metadata;
      let bodyLength: number;
      try {
        ({ metadata: datafileMetadata, bodyLength } = readTrailer(fd));
      } catch (err) {
        if (err instanceof CorruptFile) throw await this.quarantine(`${sel.data.filename}: ${err.message}`);
        throw err;
      }
      const dataTimestamp = Timestamp.tryParse(datafileMetadata['X-Timestamp']) ?? sel.data.timestamp;
      let metadata: Metadata = {};
      let metafileMetadata: Metadata = {};
      if (sel.meta) {
        metafileMetadata = await this.readMetadataFile(sel.meta.filename);
        if (sel.ctype && sel.ctype.filename !== sel.meta.filename) {
          const ctypeMeta = await this.readMetadataFile(sel.ctype.filename);
          const newT = Timestamp.tryParse(ctypeMeta['Content-Type-Timestamp']);
          const curT = Timestamp.tryParse(metafileMetadata['Content-Type-Timestamp']);
          if ('Content-Type' in ctypeMeta && newT && newT.newerThan(curT) && newT.compare(dataTimestamp) > 0) {
            metafileMetadata['Content-Type'] = ctypeMeta['Content-Type']!;
            metafileMetadata['Content-Type-Timestamp'] = ctypeMeta['Content-Type-Timestamp']!;
          }
        }
        const sys: Metadata = {};
        for (const [k, v] of Object.entries(datafileMetadata)) {
          if (DATAFILE_KEPT.has(k.toLowerCase()) || isSysMeta('object', k)) sys[k] = v;
        }
        metadata = { ...metafileMetadata, ...sys };
        delete metafileMetadata.name;
        const metaCtypeT = Timestamp.tryParse(metafileMetadata['Content-Type-Timestamp']);
        if ('Content-Type' in datafileMetadata && dataTimestamp.newerThan(metaCtypeT)) {
          metadata['Content-Type'] = datafileMetadata['Content-Type']!;
          delete metadata['Content-Type-Timestamp'];
        }
      } else {
        metadata = { ...datafileMetadata };
      }
      if (metadata.name === undefined) throw await this.quarantine('missing name metadata');
      if (metadata.name !== this.name) throw new DiskFileCollision('Client path does not match path stored in object metadata');
      const deleteAtRaw = metadata['X-Delete-At'];
      if (deleteAtRaw !== undefined) {
        if (!/^\s*[+-]?\d+\s*$/.test(deleteAtRaw)) throw await this.quarantine(`bad metadata x-delete-at value ${deleteAtRaw}`);
        if (Number(deleteAtRaw) <= currentTime && !openExpired) throw new DiskFileExpired(metadata);
      }
      const cl = metadata['Content-Length'];
      if (cl === undefined || !/^\d+$/.test(cl)) throw await this.quarantine('missing or bad content-length in metadata');
      if (Number(cl) !== bodyLength) throw await this.quarantine(`metadata content-length ${cl} does not match actual object size ${bodyLength}`);
      const ctt = Timestamp.tryParse(metadata['Content-Type-Timestamp']);
      return {
        metadata,
        datafileMetadata,
        metafileMetadata,
        dataTimestamp,
        contentLength: bodyLength,
        contentType: metadata['Content-Type'],
        contentTypeTimestamp: ctt ?? dataTimestamp,
        read: (buf, offset, length, position) => readSync(fd, buf, offset, Math.min(length, DISK_CHUNK_SIZE), position),
        identity: () => fileIdentity(fd),
        close: async () => {
          // Once only: a closed fd's number may be another file's by a second call.
          if (closed) return;
          closed = true;
          closeQuiet(fd);
        },
      };
    } catch (err) {
      closeQuiet(fd);
      throw err;
    }
  }

  /** Opens, returns the merged metadata and closes again (Swift's read_metadata). */
  async readMetadata(currentTime: number, openExpired = false): Promise<{ metadata: Metadata; opened: Omit<OpenedObject, 'read' | 'identity' | 'close'> }> {
    const opened = await this.open(currentTime, openExpired);
    await opened.close();
    const { read: _read, identity: _identity, close: _close, ...rest } = opened;
    return { metadata: opened.metadata, opened: rest };
  }

  private async readMetadataFile(filename: string): Promise<Metadata> {
    const fd = openSync(join(this.datadir, filename), 'r');
    try {
      // An empty tombstone (see delete()): its timestamp is its name. Older tombstones have a trailer.
      if (filename.endsWith('.ts') && fstatSync(fd).size === 0) {
        return { 'X-Timestamp': parseFilename(filename)!.timestamp.internal, name: this.name };
      }
      return readTrailer(fd).metadata;
    } catch (err) {
      if (err instanceof CorruptFile) throw await this.quarantine(`${filename}: ${err.message}`);
      throw err;
    } finally {
      closeQuiet(fd);
    }
  }

  /** Moves the whole object directory aside as Swift's quarantine_renamer does. */
  async quarantine(reason: string): Promise<DiskFileQuarantined> {
    const base = join(this.devicePath, 'quarantined', dataDirName(this.policy));
    await fsp.mkdir(base, { recursive: true });
    let dest = join(base, basename(this.datadir));
    try {
      await fsp.rename(this.datadir, dest);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTEMPTY') {
        dest = `${dest}-${randomBytes(16).toString('hex')}`;
        await fsp.rename(this.datadir, dest).catch(() => undefined);
      }
    }
    process.stderr.write(`object-server: quarantined ${this.datadir} to ${dest}: ${reason}\n`);
    return new DiskFileQuarantined(reason);
  }

  /** A writer for a new .data file (body streamed in, then committed with its metadata). */
  async createWriter(): Promise<DiskFileWriter> {
    mkdirSync(this.tmpdir, { recursive: true });
    const tmpPath = join(this.tmpdir, `${this.hash}-${randomBytes(8).toString('hex')}.tmp`);
    const fd = openSync(tmpPath, 'wx', 0o644);
    return new DiskFileWriter(this, fd, tmpPath);
  }

  /** Writes a .meta file (fast-POST metadata), named with its content-type timestamp if any. */
  async writeMetadata(metadata: Metadata): Promise<void> {
    const w = await this.createWriter();
    const ts = Timestamp.parse(metadata['X-Timestamp']);
    const ctype = Timestamp.tryParse(metadata['Content-Type-Timestamp']);
    await w.commit(metadata, metaFilename(ts, ctype));
  }

  /**
   * Writes a tombstone; older files are then cleaned up. The tombstone is an empty file (its
   * only metadata, X-Timestamp, is its name), as Swift's is zero bytes with xattrs: it needs an
   * inode but no data block, so a DELETE still frees space on a disk that is full.
   */
  async delete(timestamp: Timestamp): Promise<void> {
    const w = await this.createWriter();
    await w.commit({ 'X-Timestamp': timestamp.internal }, `${timestamp.internal}.ts`, { trailer: false });
  }
}

export class DiskFileWriter {
  private md5: Hash = createHash('md5');
  private size = 0;
  private done = false;
  /** The fd is closed (once only: a number closed twice could be another file's by then). */
  private closed = false;

  constructor(
    private readonly df: DiskFile,
    private readonly fd: number,
    private readonly tmpPath: string,
  ) {}

  get uploadSize(): number {
    return this.size;
  }

  /** Writes in line (Swift's DiskFileWriter.write is a plain os.write); ENOSPC throws here. */
  async write(chunk: Buffer): Promise<void> {
    this.md5.update(chunk);
    writeAll(this.fd, chunk);
    this.size += chunk.length;
  }

  /** Hex MD5 of the bytes written so far (call once, after the last write). */
  etag(): string {
    return this.md5.digest('hex');
  }

  /**
   * Appends the metadata trailer, fsyncs, renames into the object directory as `filename`
   * (default `<X-Timestamp>.data`), fsyncs the directory and cleans up obsolete files.
   */
  async commit(metadata: Metadata, filename?: string, opts: { trailer?: boolean } = {}): Promise<void> {
    const md: Metadata = { ...metadata, name: this.df.name };
    const target = join(this.df.datadir, filename ?? `${Timestamp.parse(md['X-Timestamp']).internal}.data`);
    try {
      if (opts.trailer !== false) writeAll(this.fd, encodeTrailer(md));
      await fsyncAsync(this.fd);
      this.closed = true;
      closeSync(this.fd);
      mkdirSync(this.df.datadir, { recursive: true });
      renameSync(this.tmpPath, target);
      this.done = true;
    } catch (err) {
      await this.abort();
      throw err;
    }
    await fsyncDir(this.df.datadir);
    await this.df.manager.cleanup(this.df.datadir).catch((err: unknown) => {
      process.stderr.write(`object-server: problem cleaning up ${this.df.datadir}: ${String(err)}\n`);
    });
  }

  /** Discards the temp file (client disconnect, bad ETag, ...). Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (!this.closed) closeQuiet(this.fd);
    this.closed = true;
    unlinkQuiet(this.tmpPath);
  }
}
