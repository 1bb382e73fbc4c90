/**
 * Reproducible randomness for the hardening scripts: an AES-128-CTR keystream keyed by a label and
 * a seed. Numbers and bulk bytes come from the same stream, and bulk bytes are fast (megabytes of
 * object content per write).
 */
import { createCipheriv, createHash, type Cipher } from 'node:crypto';

const REFILL = 4096;

export class SeededRandom {
  private readonly cipher: Cipher;
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  /** The same label and seed give the same sequence. */
  constructor(label: string, seed: number) {
    const key = createHash('sha256').update(`${label}\0${seed}`).digest().subarray(0, 16);
    this.cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  }

  /** `n` bytes of the stream. */
  bytes(n: number): Buffer {
    return n === 0 ? Buffer.alloc(0) : this.cipher.update(Buffer.alloc(n));
  }

  /** A number in [0, 1). */
  next(): number {
    if (this.pos + 4 > this.buf.length) {
      this.buf = this.bytes(REFILL);
      this.pos = 0;
    }
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v / 2 ** 32;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One of `items`, each with its weight. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [item, w] of items) {
      if ((r -= w) < 0) return item;
    }
    return items[items.length - 1]![0];
  }
}
