/**
 * The client's request headers as the pipeline sees them: ordered (Swift's checks report the
 * first offending header in the order sent), names lower-case, values as byte strings (Node's
 * latin-1 view of the raw bytes). Middleware edits this object (the gatekeeper removes headers,
 * auth renames the ACL header) and controllers read only from it, never from the raw request.
 */
import { asByteString, type ByteString } from '../compat/bytes';

export class RequestHeaders {
  private pairs: [string, ByteString][];

  /** Values as Node hands them over (latin-1), or byte strings made by bytesOf. */
  constructor(pairs: [string, string][]) {
    this.pairs = pairs.map(([k, v]) => [k.toLowerCase(), asByteString(v)]);
  }

  static fromRaw(rawHeaders: readonly string[]): RequestHeaders {
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
    return new RequestHeaders(pairs);
  }

  static fromHeaders(h: Headers): RequestHeaders {
    return new RequestHeaders([...h.entries()]);
  }

  /** The value of a header; repeated headers are joined with ", " as WSGI does. */
  get(name: string): ByteString | undefined {
    const n = name.toLowerCase();
    let out: ByteString | undefined;
    for (const [k, v] of this.pairs) if (k === n) out = out === undefined ? v : asByteString(`${out}, ${v}`);
    return out;
  }

  has(name: string): boolean {
    const n = name.toLowerCase();
    return this.pairs.some(([k]) => k === n);
  }

  /** Sets a value: a byte string, or ASCII text (which is its own bytes). */
  set(name: string, value: string): void {
    this.delete(name);
    this.pairs.push([name.toLowerCase(), asByteString(value)]);
  }

  /** Adds a header without looking for one of the same name (the caller removed them). */
  append(name: string, value: string): void {
    this.pairs.push([name.toLowerCase(), asByteString(value)]);
  }

  delete(name: string): void {
    const n = name.toLowerCase();
    this.pairs = this.pairs.filter(([k]) => k !== n);
  }

  /** Removes every header whose lower-case name matches. */
  deleteWhere(match: (name: string) => boolean): void {
    this.pairs = this.pairs.filter(([k]) => !match(k));
  }

  entries(): readonly [string, ByteString][] {
    return this.pairs;
  }
}
