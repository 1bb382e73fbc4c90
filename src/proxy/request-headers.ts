/**
 * The client's request headers as the pipeline sees them: ordered (Swift's checks report the
 * first offending header in the order sent), names lower-case, values as latin-1 strings of
 * the raw bytes. Middleware edits this object (the gatekeeper removes headers, auth renames
 * the ACL header) and controllers read only from it, never from the raw request.
 */
export class RequestHeaders {
  private pairs: [string, string][];

  constructor(pairs: [string, string][]) {
    this.pairs = pairs.map(([k, v]) => [k.toLowerCase(), v]);
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
  get(name: string): string | undefined {
    const n = name.toLowerCase();
    let out: string | undefined;
    for (const [k, v] of this.pairs) if (k === n) out = out === undefined ? v : `${out}, ${v}`;
    return out;
  }

  has(name: string): boolean {
    const n = name.toLowerCase();
    return this.pairs.some(([k]) => k === n);
  }

  set(name: string, value: string): void {
    this.delete(name);
    this.pairs.push([name.toLowerCase(), value]);
  }

  delete(name: string): void {
    const n = name.toLowerCase();
    this.pairs = this.pairs.filter(([k]) => k !== n);
  }

  /** Removes every header whose lower-case name matches. */
  deleteWhere(match: (name: string) => boolean): void {
    this.pairs = this.pairs.filter(([k]) => !match(k));
  }

  entries(): readonly [string, string][] {
    return this.pairs;
  }
}
