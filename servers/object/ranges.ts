/**
 * Byte ranges and conditional requests as Swift's swob applies them to object responses
 * (swob.Range, swob.Match, Response._get_conditional_response_status and the multi-range
 * multipart/byteranges framing). Pure functions, so the proxy can reuse them.
 */
import { randomBytes } from 'node:crypto';

/** A syntactically valid range spec: `start-end`, `start-` or `-suffix` (end inclusive). */
export interface RangeSpec {
  start: number | null;
  end: number | null;
}

/** Half-open byte interval [start, end) of the content. */
export type ByteRange = [start: number, end: number];

// swob's limits on "egregious" range sets (RFC 7233 §6.1).
const MAX_RANGES = 50;
const MAX_RANGE_OVERLAPS = 2;
const MAX_NONASCENDING_RANGES = 8;

/**
 * Parses a Range header like swob.Range. Returns null when the header is syntactically invalid,
 * in which case it must be ignored entirely (the response is a plain 200).
 */
export function parseRange(value: string | undefined): RangeSpec[] | null {
  if (!value) return null;
  const v = value.replace(/ /g, '');
  if (!v.toLowerCase().startsWith('bytes=')) return null;
  const specs: RangeSpec[] = [];
  for (const rng of v.slice(6).split(',')) {
    const dash = rng.indexOf('-');
    if (dash < 0) return null;
    const s = rng.slice(0, dash);
    const e = rng.slice(dash + 1);
    let start: number | null = null;
    let end: number | null = null;
    if (s) {
      // Python's int() accepts an optional sign; a negative start cannot occur as '-' splits first.
      if (!/^\+?\d+$/.test(s)) return null;
      start = Number(s);
    }
    if (e) {
      if (!/^\d+$/.test(e)) return null;
      end = Number(e);
      if (start !== null && end < start) return null;
    } else if (start === null) {
      return null;
    }
    specs.push({ start, end });
  }
  return specs;
}

/**
 * swob's Range.ranges_for_length: null means "ignore the header" (200), [] means
 * unsatisfiable (416), otherwise the half-open byte ranges to serve.
 */
export function rangesForLength(specs: RangeSpec[] | null, length: number): ByteRange[] | null {
  if (!specs || specs.length === 0) return null;
  const out: ByteRange[] = [];
  for (const { start, end } of specs) {
    if (start === null) {
      if (end === 0) continue; // bytes=-0
      out.push(end! > length ? [0, length] : [length - end!, length]);
      continue;
    }
    if (end === null) {
      if (start < length) out.push([start, length]);
      continue;
    }
    if (start < length) out.push([start, Math.min(end + 1, length)]);
  }
  if (out.length > MAX_RANGES) return [];
  let overlaps = 0;
  for (let i = 0; i < out.length; i++) {
    for (let j = i + 1; j < out.length; j++) {
      const [s1, e1] = out[i]!;
      const [s2, e2] = out[j]!;
      if ((s1 < s2 && s2 < e1) || (s1 < e2 && e2 < e1) || (s2 < s1 && s1 < e2) || (s2 < e1 && e1 < e2)) {
        if (++overlaps > MAX_RANGE_OVERLAPS) return [];
      }
    }
  }
  let ascending = true;
  for (let i = 1; i < out.length; i++) {
    const [a0, a1] = out[i - 1]!;
    const [b0, b1] = out[i]!;
    if (a0 > b0 || (a0 === b0 && a1 > b1)) {
      ascending = false;
      break;
    }
  }
  if (!ascending && out.length >= MAX_NONASCENDING_RANGES) return [];
  return out;
}

/** swob.normalize_etag: strips one pair of surrounding double quotes. */
export function normalizeEtag(tag: string): string {
  return tag.length > 1 && tag.startsWith('"') && tag.endsWith('"') ? tag.slice(1, -1) : tag;
}

/** The entity tags of an If-Match / If-None-Match header (swob.Match), or null when absent. */
export function parseMatch(value: string | undefined): Set<string> | null {
  if (value === undefined) return null;
  const tags = new Set<string>();
  for (const raw of value.split(',')) {
    const t = raw.trim();
    if (t) tags.add(normalizeEtag(t));
  }
  return tags;
}

export function matchContains(tags: Set<string>, etag: string): boolean {
  return tags.has('*') || tags.has(normalizeEtag(etag));
}

/**
 * An HTTP-date as whole seconds since the epoch, or null if unparseable (swob ignores such
 * headers). Python's parsedate ignores the zone, so the time is read as GMT.
 */
export function parseHttpDate(value: string | undefined): number | null {
  if (!value) return null;
  const trimmed = value.trim().replace(/\s+(GMT|UTC|UT|Z|[+-]\d{4})$/i, '');
  const ms = Date.parse(`${trimmed} GMT`);
  if (Number.isNaN(ms)) return null;
  return Math.floor(ms / 1000);
}

export interface ConditionalInput {
  /** The response status before conditionals (200 for an existing object, 404 otherwise). */
  status: number;
  /** Unquoted ETag of the object, if any. */
  etag?: string;
  /** Last-Modified in whole seconds, if any. */
  lastModified?: number;
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

/**
 * swob's Response._get_conditional_response_status: 304 or 412, or undefined when the
 * response goes ahead. Evaluated in swob's order: If-None-Match, If-Match, If-Match: * on 404,
 * If-Modified-Since, If-Unmodified-Since.
 */
export function conditionalStatus(c: ConditionalInput): 304 | 412 | undefined {
  const inm = parseMatch(c.ifNoneMatch);
  const im = parseMatch(c.ifMatch);
  if (c.etag && inm && matchContains(inm, c.etag)) return 304;
  if (c.etag && im && !matchContains(im, c.etag)) return 412;
  if (c.status === 404 && im && im.has('*')) return 412;
  if (c.lastModified !== undefined) {
    const ims = parseHttpDate(c.ifModifiedSince);
    if (ims !== null && c.lastModified <= ims) return 304;
    const ius = parseHttpDate(c.ifUnmodifiedSince);
    if (ius !== null && c.lastModified > ius) return 412;
  }
  return undefined;
}

export function contentRangeValue(start: number, end: number, size: number): string {
  return `bytes ${start}-${end - 1}/${size}`;
}

/** A 32-hex-digit multipart boundary, as swob generates. */
export function makeBoundary(): string {
  return randomBytes(16).toString('hex');
}

/** The bytes preceding one part of a multipart/byteranges body. */
export function partHeader(boundary: string, contentType: string, range: ByteRange, size: number): Buffer {
  return Buffer.from(
    `--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: ${contentRangeValue(range[0], range[1], size)}\r\n\r\n`,
    'latin1',
  );
}

export const PART_TRAILER = Buffer.from('\r\n');

export function closingBoundary(boundary: string): Buffer {
  return Buffer.from(`--${boundary}--`, 'latin1');
}

/** Exact Content-Length of the multipart/byteranges body, computed before streaming it. */
export function multipartLength(boundary: string, contentType: string, ranges: ByteRange[], size: number): number {
  let n = 0;
  for (const r of ranges) n += partHeader(boundary, contentType, r, size).length + (r[1] - r[0]) + PART_TRAILER.length;
  return n + closingBoundary(boundary).length;
}

export function multipartContentType(boundary: string): string {
  return `multipart/byteranges;boundary=${boundary}`;
}
