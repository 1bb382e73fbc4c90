/**
 * The headers of a response the proxy builds, with the Fetch `Headers` behaviour the pipeline
 * relies on (names case-insensitive, values normalised and checked as byte strings, appends
 * joined with ", ", Set-Cookie kept apart, iteration sorted by name) on a plain Map. undici's
 * `Headers` did the same work at several microseconds a request, through WebIDL conversions on
 * every call; every answer the proxy makes goes through five filters that read or edit its
 * headers. It passes `instanceof Headers` (as @hono/node-server's request headers do), so
 * @hono/node-server writes it as it is and a `new Response(body, { headers })` copies it.
 */

/** RFC 9110 token characters: a header name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What a normalised value may not hold: NUL, CR, LF, or a character past one byte. */
const INVALID_VALUE = /[\0\r\n\u0100-\uffff]/;
const HTTP_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

function headerName(name: string): string {
  const text = String(name);
  if (!TOKEN.test(text)) throw new TypeError(`Headers: invalid header name ${JSON.stringify(text)}`);
  return text.toLowerCase();
}

function headerValue(value: unknown): string {
  let text = String(value);
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  if (first <= 0x20 || last <= 0x20) text = text.replace(HTTP_WHITESPACE, '');
  if (INVALID_VALUE.test(text)) throw new TypeError(`Headers: invalid header value for a header`);
  return text;
}

type Init = Record<string, string | number> | Iterable<readonly [string, string]> | Headers | undefined;

export class ResponseHeaders {
  private readonly byName = new Map<string, string>();
  /** The names held, kept sorted as they come and go (iteration is in name order). */
  private readonly names: string[] = [];
  private cookies: string[] | undefined;
  private sorted: [string, string][] | undefined;

  constructor(init?: Init) {
    if (init === undefined || init === null) return;
    if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const [name, value] of init as Iterable<readonly [string, string]>) this.append(name, value);
    } else {
      const record = init as Record<string, string | number>;
      for (const name in record) if (Object.hasOwn(record, name)) this.append(name, String(record[name]));
    }
  }

  private addName(key: string): void {
    const names = this.names;
    let lo = 0;
    let hi = names.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (names[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    if (names[lo] !== key) names.splice(lo, 0, key);
  }

  private dropName(key: string): void {
    const at = this.names.indexOf(key);
    if (at >= 0) this.names.splice(at, 1);
  }

  append(name: string, value: string): void {
    const key = headerName(name);
    const text = headerValue(value);
    this.sorted = undefined;
    if (key === 'set-cookie') {
      (this.cookies ??= []).push(text);
      this.addName(key);
      return;
    }
    const had = this.byName.get(key);
    if (had === undefined) this.addName(key);
    this.byName.set(key, had === undefined ? text : `${had}, ${text}`);
  }

  set(name: string, value: string): void {
    const key = headerName(name);
    const text = headerValue(value);
    this.sorted = undefined;
    if (key === 'set-cookie') this.cookies = [text];
    else this.byName.set(key, text);
    this.addName(key);
  }

  get(name: string): string | null {
    const key = headerName(name);
    if (key === 'set-cookie') return this.cookies?.length ? this.cookies.join(', ') : null;
    return this.byName.get(key) ?? null;
  }

  has(name: string): boolean {
    const key = headerName(name);
    return key === 'set-cookie' ? !!this.cookies?.length : this.byName.has(key);
  }

  delete(name: string): void {
    const key = headerName(name);
    this.sorted = undefined;
    if (key === 'set-cookie') this.cookies = undefined;
    else this.byName.delete(key);
    this.dropName(key);
  }

  getSetCookie(): string[] {
    return [...(this.cookies ?? [])];
  }

  /** Name and value pairs sorted by name, each Set-Cookie on its own (the Fetch order), until a change. */
  private pairs(): [string, string][] {
    if (this.sorted) return this.sorted;
    const out: [string, string][] = [];
    for (const name of this.names) {
      if (name === 'set-cookie') for (const cookie of this.cookies ?? []) out.push([name, cookie]);
      else out.push([name, this.byName.get(name)!]);
    }
    return (this.sorted = out);
  }

  *entries(): IterableIterator<[string, string]> {
    for (const [name, value] of this.pairs()) yield [name, value];
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.pairs()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.pairs()) yield value;
  }

  forEach(callback: (value: string, name: string, headers: Headers) => void, thisArg?: unknown): void {
    for (const [name, value] of [...this.pairs()]) callback.call(thisArg, value, name, this as unknown as Headers);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'Headers';
  }
}

// Methods it lacks would be undici's, which refuse an object that is not theirs: it has them all.
Object.setPrototypeOf(ResponseHeaders.prototype, Headers.prototype);

/** Response headers for a proxy-built answer, typed as the Fetch `Headers` they stand in for. */
export function responseHeaders(init?: Init): Headers {
  return new ResponseHeaders(init) as unknown as Headers;
}
