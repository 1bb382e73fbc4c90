/**
 * A minimal ustar writer for the fuzzer's bulk extract-archive bodies: each entry's header can be
 * spoiled on purpose (wrong checksum, garbage size field) and the archive cut short, so the
 * proxy's tar reader sees both well-formed and broken archives.
 */
export interface TarEntry {
  name: string;
  data: Buffer;
  /** '0' file, '5' directory, '2' symlink, or anything else. */
  type?: string;
  badChecksum?: boolean;
  /** Replaces the octal size field's text. */
  sizeField?: string;
}

function field(buf: Buffer, offset: number, length: number, text: string): void {
  buf.write(text.slice(0, length), offset, length, 'latin1');
}

function header(e: TarEntry): Buffer {
  const h = Buffer.alloc(512, 0);
  field(h, 0, 100, e.name);
  field(h, 100, 8, '0000644\0');
  field(h, 108, 8, '0000000\0');
  field(h, 116, 8, '0000000\0');
  field(h, 124, 12, e.sizeField ?? `${e.data.length.toString(8).padStart(11, '0')}\0`);
  field(h, 136, 12, '14000000000\0');
  field(h, 156, 1, e.type ?? '0');
  field(h, 257, 8, 'ustar\x0000');
  h.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  let sum = 0;
  for (const b of h) sum += b;
  if (e.badChecksum) sum += 1;
  field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

export function tarArchive(entries: TarEntry[], truncateTo?: number): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e), e.data);
    const pad = (512 - (e.data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  const all = Buffer.concat(parts);
  return truncateTo === undefined ? all : all.subarray(0, Math.min(truncateTo, all.length));
}
