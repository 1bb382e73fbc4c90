/**
 * A streaming tar reader for bulk's extract-archive: reads entries one after the other from a
 * byte stream (Python's `tarfile.open(mode='r|')`), handing out each file's data as a stream of
 * exactly its size. Nothing is buffered beyond the current chunk: an entry's unread data is
 * skipped when the next entry is asked for.
 *
 * Formats: ustar/POSIX (with the name prefix), GNU long names (`L`/`K`) and pax headers (`x`
 * per entry, `g` global), octal and base-256 numbers. Errors follow tarfile: a broken first
 * header is an error ("empty file", "truncated header", "bad checksum"), a broken later one
 * ends the archive, data cut short is "unexpected end of data".
 */
import { createGunzip } from 'node:zlib';
import { pipeline, type Readable } from 'node:stream';
import { asByteString, byteStringOf, bytesOf, type ByteString } from '../compat/bytes';

const BLOCK = 512;

/** tarfile.TarError (and the zlib errors bulk reports the same way): the archive is bad. */
export class TarError extends Error {}

export interface TarEntry {
  /** The member's name as a byte string (its bytes, as Swift keeps it). */
  name: ByteString;
  /** tarfile's type flag ('0', '5', ...); regular files are '0', '\0' and '7'. */
  type: string;
  size: number;
  /** The entry's pax headers (global ones included), keys and values decoded as UTF-8. */
  pax: Record<string, string>;
  isFile: boolean;
  /** The entry's data; read it, or leave it (the reader skips what is unread). */
  body: ReadableStream<Uint8Array>;
}

/** Reads exact byte counts from an async chunk source. */
class ByteSource {
  private chunk: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(private readonly it: AsyncIterator<Buffer | Uint8Array | string>) {}

  private async fill(): Promise<boolean> {
    while (this.chunk.length === 0) {
      if (this.done) return false;
      let r: IteratorResult<Buffer | Uint8Array | string>;
      try {
        r = await this.it.next();
      } catch (err) {
        throw wrapZlib(err);
      }
      if (r.done) {
        this.done = true;
        return false;
      }
      this.chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    }
    return true;
  }

  /** Up to `max` bytes (fewer only at the end of the stream: then maybe an empty buffer). */
  async readSome(max: number): Promise<Buffer> {
    if (!(await this.fill())) return Buffer.alloc(0);
    const out = this.chunk.subarray(0, max);
    this.chunk = this.chunk.subarray(out.length);
    return out;
  }

  /** Exactly `n` bytes, or fewer when the stream ends first. */
  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const b = await this.readSome(n - got);
      if (b.length === 0) break;
      parts.push(b);
      got += b.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, got);
  }

  /** Skips `n` bytes; false when the stream ended first. */
  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      const b = await this.readSome(Math.min(n, 65536));
      if (b.length === 0) return false;
      n -= b.length;
    }
    return true;
  }
}

function wrapZlib(err: unknown): unknown {
  const code = (err as { code?: string } | null)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    // tarfile's messages for a gzip stream it cannot read.
    const msg = (err as Error).message === 'incorrect header check' ? 'not a gzip file' : 'invalid compressed data';
    return new TarError(msg);
  }
  return err;
}

/** tarfile's nti: octal (NUL/space terminated) or GNU base-256. */
function numberField(buf: Buffer): number {
  if (buf[0] === 0x80 || buf[0] === 0xff) {
    let n = 0;
    for (let i = 1; i < buf.length; i++) n = n * 256 + buf[i]!;
    return buf[0] === 0xff ? n - 256 ** (buf.length - 1) : n;
  }
  const end = buf.indexOf(0);
  const raw = buf.subarray(0, end < 0 ? buf.length : end).toString('latin1');
  // tarfile's nti: ASCII only, stripped of Python's whitespace, then int(s, 8) (sign, 0o, _).
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(raw)) throw new TarError('invalid header');
  const s = raw.replace(/^[\t\n\v\f\r\x1c-\x1f ]+|[\t\n\v\f\r\x1c-\x1f ]+$/g, '');
  if (!s) return 0;
  const m = /^([+-]?)(?:0[oO]_?)?([0-7](?:_?[0-7])*)$/.exec(s);
  if (!m) throw new TarError('invalid header');
  const n = parseInt(m[2]!.replace(/_/g, ''), 8);
  return m[1] === '-' ? -n : n;
}

/** A NUL-terminated string field as a byte string. */
function stringField(buf: Buffer): ByteString {
  const end = buf.indexOf(0);
  return byteStringOf(buf.subarray(0, end < 0 ? buf.length : end));
}

/** frombuf's check: a checksum field that is no number throws 'invalid header' (nti). */
function checksumOk(buf: Buffer): boolean {
  const stored = numberField(buf.subarray(148, 156));
  let unsigned = 256; // the checksum field counts as eight spaces
  let signed = 256;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    unsigned += buf[i]!;
    signed += buf[i]! > 127 ? buf[i]! - 256 : buf[i]!;
  }
  return stored === unsigned || stored === signed;
}

const blocks = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

/** pax records: `<len> <key>=<value>\n`. */
function parsePax(data: Buffer, into: Record<string, string>): void {
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = parseInt(data.subarray(pos, sp).toString('latin1'), 10);
    if (!(len > 0) || pos + len > data.length) throw new TarError('invalid header');
    const record = data.subarray(sp + 1, pos + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw new TarError('invalid header');
    into[record.subarray(0, eq).toString('utf8')] = record.subarray(eq + 1).toString('utf8');
    pos += len;
  }
}

const REGULAR = new Set(['0', '\0', '7']);
/** Types whose size field says nothing about data following the header. */
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6']);
/** Largest extension header (long name, pax) read into memory. */
const MAX_META = 1 << 20;

export class TarReader {
  private readonly src: ByteSource;
  private offset = 0;
  private pending = 0;
  private current: { closed: boolean } | undefined;
  private readonly globalPax: Record<string, string> = {};
  private failure: unknown;
  /** The data read in progress, if any: the next header waits for it. */
  private inflight: Promise<unknown> = Promise.resolve();

  constructor(source: AsyncIterable<Buffer | Uint8Array | string>) {
    this.src = new ByteSource(source[Symbol.asyncIterator]());
  }

  /** An error met while streaming an entry's data (e.g. the archive ended early). */
  get error(): unknown {
    return this.failure;
  }

  /** The next entry, or null at the end of the archive. Throws TarError for a bad archive. */
  async next(): Promise<TarEntry | null> {
    if (this.failure) throw this.failure;
    if (this.current) this.current.closed = true;
    await this.inflight.catch(() => undefined);
    if (this.pending > 0) {
      if (!(await this.src.skip(this.pending))) throw new TarError('unexpected end of data');
      this.offset += this.pending;
      this.pending = 0;
    }
    const pax: Record<string, string> = { ...this.globalPax };
    let longName: ByteString | undefined;
    let first = true;
    for (;;) {
      const atStart = this.offset === 0;
      const buf = await this.src.read(BLOCK);
      // Headers after an extension header must be good (tarfile's SubsequentHeaderError).
      const subsequent = !first;
      first = false;
      if (buf.length === 0) {
        if (subsequent) throw new TarError('missing or bad subsequent header');
        if (atStart) throw new TarError('empty file');
        return null;
      }
      if (buf.length < BLOCK) {
        if (subsequent) throw new TarError('missing or bad subsequent header');
        if (atStart) throw new TarError('truncated header');
        return null;
      }
      if (buf.every((b) => b === 0)) {
        if (subsequent) throw new TarError('missing or bad subsequent header');
        return null;
      }
      let ok: boolean;
      let why = 'bad checksum';
      try {
        ok = checksumOk(buf);
      } catch (err) {
        if (!(err instanceof TarError)) throw err;
        ok = false;
        why = err.message;
      }
      if (!ok) {
        if (subsequent) throw new TarError('missing or bad subsequent header');
        if (atStart) throw new TarError(why);
        return null;
      }
      this.offset += BLOCK;
      let type = String.fromCharCode(buf[156]!);
      let size = numberField(buf.subarray(124, 136));
      if (type === 'L' || type === 'K' || type === 'x' || type === 'g') {
        if (size > MAX_META) throw new TarError('invalid header');
        const data = await this.src.read(blocks(size));
        if (data.length < blocks(size)) throw new TarError('unexpected end of data');
        this.offset += data.length;
        const content = data.subarray(0, size);
        if (type === 'L') longName = stringField(content);
        else if (type === 'x') parsePax(content, pax);
        else if (type === 'g') {
          parsePax(content, this.globalPax);
          Object.assign(pax, this.globalPax);
        }
        continue;
      }
      let name = stringField(buf.subarray(0, 100));
      if (buf.subarray(257, 263).toString('latin1') === 'ustar\0') {
        const prefix = stringField(buf.subarray(345, 500));
        if (prefix) name = asByteString(`${prefix}/${name}`);
      }
      if (longName !== undefined) name = longName;
      // pax values are UTF-8 text; Swift works on their bytes.
      if (pax.path !== undefined) name = bytesOf(pax.path);
      if (pax.size !== undefined && /^\d+$/.test(pax.size)) size = Number(pax.size);
      if (type === '\0' && name.endsWith('/')) type = '5';
      const dataSize = NO_DATA.has(type) ? 0 : size;
      this.pending = blocks(dataSize);
      return { name, type, size, pax, isFile: REGULAR.has(type), body: this.dataStream(dataSize) };
    }
  }

  /** The entry's data: exactly `size` bytes, pulled on demand from the archive. */
  private dataStream(size: number): ReadableStream<Uint8Array> {
    const state = { closed: false };
    this.current = state;
    let left = size;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (ctrl) => {
          if (state.closed) {
            ctrl.error(new TarError('entry data read after the next entry'));
            return;
          }
          if (left === 0) {
            ctrl.close();
            return;
          }
          let b: Buffer;
          try {
            const read = this.src.readSome(Math.min(left, 65536));
            this.inflight = read;
            b = await read;
          } catch (err) {
            this.failure = err;
            ctrl.error(err);
            return;
          }
          if (b.length === 0) {
            this.failure = new TarError('unexpected end of data');
            ctrl.error(this.failure);
            return;
          }
          left -= b.length;
          this.pending -= b.length;
          this.offset += b.length;
          ctrl.enqueue(new Uint8Array(b.buffer, b.byteOffset, b.length));
          if (left === 0) ctrl.close();
        },
      },
      { highWaterMark: 0 },
    );
  }
}

/** The archive's bytes, gunzipped for `gz`. */
export function archiveBytes(body: Readable, compression: '' | 'gz'): AsyncIterable<Buffer> {
  if (compression === '') return body;
  const gunzip = createGunzip();
  pipeline(body, gunzip, () => undefined);
  return gunzip;
}
