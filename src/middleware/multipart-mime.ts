/**
 * A multipart MIME body read as it arrives, part by part, as Swift reads one
 * (swift/common/utils.py iter_multipart_mime_documents, _MultipartMimeFileLikeObject and
 * parse_mime_headers): formpost uses it for browser form uploads.
 *
 * Only a bounded window of the body is held: each read returns at most the bytes asked for,
 * keeping back just enough to see a boundary that starts within them. The first line that is
 * not blank must be `--<boundary>` (MimeInvalid otherwise); each part then ends at
 * `\r\n--<boundary>`, and the last one at `\r\n--<boundary>--`. A body that ends without its
 * closing boundary ends its last part there, as in Swift. A part's header block longer than
 * MAX_HEADER_BYTES is refused (Swift would buffer it whole).
 */

/** The starting boundary is missing (Swift's MimeInvalid). */
export class MimeInvalid extends Error {}

/** A part's headers go on for more than MAX_HEADER_BYTES. */
export class MimeHeadersTooLong extends Error {}

export const MAX_HEADER_BYTES = 64 * 1024;

const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

export class MultipartReader {
  /** Bytes read from the source and not yet handed out. */
  buffer: Buffer = EMPTY;
  private readonly source: AsyncIterator<Uint8Array>;
  private sourceDone = false;
  private readonly delimiter: Buffer;
  private current: MimePart | undefined;
  private started = false;

  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly boundary: Buffer,
    readonly chunkSize = 4096,
  ) {
    this.source = source[Symbol.asyncIterator]();
    this.delimiter = Buffer.concat([CRLF, Buffer.from('--'), boundary]);
  }

  /** One more chunk of the source into the buffer; false at its end. */
  async fill(): Promise<boolean> {
    if (this.sourceDone) return false;
    const next = await this.source.next();
    if (next.done) {
      this.sourceDone = true;
      return false;
    }
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, next.value]) : Buffer.from(next.value);
    return true;
  }

  /** Up to `limit` bytes of the source, through the first `\n` (a file's readline(limit)). */
  private async rawLine(limit: number): Promise<Buffer> {
    for (;;) {
      const nl = this.buffer.indexOf(0x0a);
      if ((nl >= 0 && nl < limit) || this.buffer.length >= limit || !(await this.fill())) {
        const end = nl >= 0 && nl < limit ? nl + 1 : Math.min(limit, this.buffer.length);
        const line = this.buffer.subarray(0, end);
        this.buffer = this.buffer.subarray(end);
        return line;
      }
    }
  }

  /** The next part (the rest of the previous one skipped), or undefined after the last. */
  async next(): Promise<MimePart | undefined> {
    if (!this.started) {
      this.started = true;
      const opening = Buffer.concat([Buffer.from('--'), this.boundary]);
      const limit = opening.length + 2;
      let got = await this.rawLine(limit);
      while (got.equals(CRLF)) got = await this.rawLine(limit);
      if (!pyStrip(got).equals(opening)) throw new MimeInvalid('invalid starting boundary');
    } else {
      const prev = this.current!;
      while ((await prev.read()).length) {
        // skipped: the caller did not want the rest of this part
      }
      if (prev.noMoreParts) return undefined;
    }
    this.current = new MimePart(this, this.delimiter);
    return this.current;
  }
}

/** bytes.strip(): ASCII whitespace off both ends. */
function pyStrip(b: Buffer): Buffer {
  const ws = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
  let s = 0;
  let e = b.length;
  while (s < e && ws(b[s]!)) s++;
  while (e > s && ws(b[e - 1]!)) e--;
  return b.subarray(s, e);
}

/** One part: its header lines, then its body, up to the next boundary. */
export class MimePart {
  /** Set once this part's boundary was found (or the source ended). */
  private ended = false;
  /** No part follows this one (Swift's no_more_files). */
  noMoreParts = false;

  constructor(
    private readonly reader: MultipartReader,
    private readonly delimiter: Buffer,
  ) {}

  /** Up to `length` bytes of the part; empty at its end. */
  async read(length = this.reader.chunkSize): Promise<Buffer> {
    if (this.ended) return EMPTY;
    const r = this.reader;
    // Enough to see a boundary starting anywhere within the bytes returned.
    while (r.buffer.length < length + this.delimiter.length + 2) {
      if (!(await r.fill())) {
        this.noMoreParts = true;
        break;
      }
    }
    // Only a boundary starting within the bytes asked for matters (no need to scan further).
    const at = r.buffer.subarray(0, length + this.delimiter.length).indexOf(this.delimiter);
    if (at < 0 || at > length) {
      const out = r.buffer.subarray(0, length);
      r.buffer = r.buffer.subarray(out.length);
      if (out.length === 0) this.ended = true;
      return out;
    }
    const out = r.buffer.subarray(0, at);
    const rest = r.buffer.subarray(at + this.delimiter.length);
    this.noMoreParts = rest.subarray(0, 2).equals(Buffer.from('--'));
    this.ended = true;
    r.buffer = rest.subarray(2);
    return out;
  }

  /** The next line of the part (with its `\r\n`), or what is left before the boundary. */
  async readline(): Promise<Buffer> {
    if (this.ended) return EMPTY;
    const r = this.reader;
    let nl = r.buffer.indexOf(CRLF);
    let at = r.buffer.indexOf(this.delimiter);
    while (nl < 0 && at < 0) {
      if (r.buffer.length > MAX_HEADER_BYTES) throw new MimeHeadersTooLong('MIME headers too long');
      if (!(await r.fill())) {
        this.noMoreParts = true;
        break;
      }
      nl = r.buffer.indexOf(CRLF);
      at = r.buffer.indexOf(this.delimiter);
    }
    if (nl >= 0 && (at < 0 || nl < at)) {
      const parts: Buffer[] = [];
      let want = nl + 2;
      while (want > 0) {
        const got = await this.read(want);
        if (!got.length) break;
        want -= got.length;
        parts.push(got);
      }
      return Buffer.concat(parts);
    }
    return this.read(r.buffer.length);
  }

  /**
   * parse_mime_headers: header lines up to the first blank one (each UTF-8, else latin-1),
   * read as Python's email parser reads them; names lower-case, the first of a repeated name
   * wins (HeaderKeyDict over an email Message).
   */
  async headers(): Promise<Map<string, string>> {
    const lines: string[] = [];
    let size = 0;
    for (;;) {
      const line = await this.readline();
      size += line.length;
      if (size > MAX_HEADER_BYTES) throw new MimeHeadersTooLong('MIME headers too long');
      const text = line.toString('utf8');
      lines.push(Buffer.from(text, 'utf8').equals(line) ? text : line.toString('latin1'));
      if (line.length === 0 || line.equals(CRLF) || (line.length === 1 && line[0] === 0x0a)) break;
    }
    return parseHeaderLines(lines);
  }
}

/** The email parser's header block: `name: value`, folded lines, stopping at a line that is neither. */
export function parseHeaderLines(lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | undefined;
  let value = '';
  const flush = () => {
    if (name !== undefined && !out.has(name)) out.set(name, value.replace(/[\r\n]+$/, ''));
    name = undefined;
  };
  for (const line of lines) {
    if (line === '' || line === '\r\n' || line === '\n') break;
    if ((line.startsWith(' ') || line.startsWith('\t')) && name !== undefined) {
      value += line;
      continue;
    }
    const m = /^([\x21-\x39\x3b-\x7e]*):/.exec(line);
    if (!m) break;
    flush();
    name = m[1]!.toLowerCase();
    value = line.slice(m[0].length).replace(/^[ \t]+/, '');
  }
  flush();
  return out;
}
