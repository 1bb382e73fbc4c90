/**
 * SLO manifests: the JSON list a client PUTs with `?multipart-manifest=put`, checked as Swift's
 * parse_and_validate_input checks it (every problem reported, one line each, in Swift's words),
 * and the form stored in the manifest object (`name`, `bytes`, `hash`, `content_type`,
 * `last_modified`, optional `range` and `sub_slo`, or inline `data`), with what is computed
 * from it: each segment's length, the large object's ETag and size.
 */
import { createHash } from 'node:crypto';
import { parseRange, rangesForLength, type RangeSpec } from '../../../servers/object/ranges';
import { HttpException } from '../../compat/http-exception';
import { PyNumber, pyJsonDumps, pyJsonLoads, pyJsonString, type PyValue } from '../../compat/json';
import { quote } from '../../compat/quote';
import { configTrue } from '../../compat/truthy';

/** A segment as the client described it, after validation. */
export type InputSegment =
  | { kind: 'data'; data: string }
  | { kind: 'path'; path: string; etag: string | null | undefined; size: number | undefined; range: RangeSpec | undefined };

/** A segment as stored in the manifest object (Swift's keys and their order). */
export interface StoredSegment {
  name?: string;
  bytes?: number;
  hash?: string;
  content_type?: string;
  last_modified?: string;
  range?: string;
  sub_slo?: boolean;
  data?: string;
}

const b64Alphabet = /^[A-Za-z0-9+/]*$/;

/** strict_b64decode: only base64 characters, padding at the ends, Python's padding rules. */
export function strictB64Decode(value: unknown): Buffer | undefined {
  if (typeof value !== 'string') return undefined;
  const core = value.replace(/^=+|=+$/g, '');
  if (!b64Alphabet.test(core)) return undefined;
  const trailing = value.length - value.replace(/=+$/, '').length;
  const rest = core.length % 4;
  if (rest === 1 || (rest === 2 && trailing < 2) || (rest === 3 && trailing < 1)) return undefined;
  return Buffer.from(core, 'base64');
}

/** Python's int() of a JSON value, or undefined where it raises TypeError/ValueError. */
function pyInt(v: PyValue): number | undefined {
  if (v instanceof PyNumber) return Number.isFinite(v.value) ? Math.trunc(v.value) : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && /^\s*[+-]?\d+(_\d+)*\s*$/.test(v)) return Number(v.replace(/_/g, ''));
  return undefined;
}

/** Python's truth value of a JSON value (an absent key is None). */
function pyTruthy(v: PyValue | undefined): v is PyValue {
  if (v === undefined || v === null || v === false || v === '') return false;
  if (v instanceof PyNumber) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  return true;
}

/** '%s' % value for what a range may be given as. */
function pyStr(v: PyValue): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof PyNumber) return v.repr;
  return undefined;
}

/** Python's `'data' in x` for an entry that is not an object. */
function containsData(v: PyValue): boolean {
  if (v instanceof Map) return v.has('data');
  if (typeof v === 'string') return v.includes('data');
  if (Array.isArray(v)) return v.includes('data');
  return false;
}

const SLO_KEYS: [string, string[]][] = [
  ['data', []],
  ['path', ['range', 'etag', 'size_bytes']],
];

/**
 * parse_and_validate_input. `reqPath` is the request's path quoted as swob's req.path
 * (`/v1/AUTH_a/c/o`), to refuse a manifest that names itself. Throws HttpException(400).
 */
export function parseAndValidateInput(body: Buffer, reqPath: string): InputSegment[] {
  const accountPrefix = reqPath.split('/', 3).join('/');
  let parsed: PyValue;
  try {
    parsed = pyJsonLoads(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw new HttpException(400, 'Manifest must be valid JSON.\n');
  }
  if (!Array.isArray(parsed)) throw new HttpException(400, 'Manifest must be a list.\n');
  const errors: string[] = [];
  const out: InputSegment[] = [];
  parsed.forEach((seg, i) => {
    if (!(seg instanceof Map)) return errors.push(`Index ${i}: not a JSON object`);
    const type = SLO_KEYS.find(([k]) => seg.has(k));
    // Swift 2.30 on Python 3 fails with a TypeError building this message (a 500).
    if (!type) return errors.push(`Index ${i}: expected keys to include one of ${SLO_KEYS.map(([k]) => `'${k}'`).join(' or ')}`);
    const allowed = new Set([type[0], ...type[1]]);
    const extraneous = [...seg.keys()].filter((k) => !allowed.has(k));
    if (extraneous.length) return errors.push(`Index ${i}: extraneous keys ${extraneous.sort().map(pyJsonString).join(', ')}`);
    if (type[0] === 'data') {
      const data = strictB64Decode(seg.get('data'));
      if (!data) return errors.push(`Index ${i}: data must be valid base64`);
      if (data.length < 1) return errors.push(`Index ${i}: too small; each segment must be at least 1 byte.`);
      return out.push({ kind: 'data', data: data.toString('base64') });
    }
    const path = seg.get('path');
    if (typeof path !== 'string') return errors.push(`Index ${i}: "path" must be a string`);
    const etag = seg.get('etag');
    if (!(etag === undefined || etag === null || typeof etag === 'string')) return errors.push(`Index ${i}: "etag" must be a string or null (if provided)`);
    if (!path.replace(/^\/+|\/+$/g, '').includes('/')) return errors.push(`Index ${i}: path does not refer to an object. Path must be of the form /container/object.`);
    let size: number | undefined;
    const rawSize = seg.get('size_bytes');
    if (rawSize !== undefined && rawSize !== null) {
      size = pyInt(rawSize);
      if (size === undefined) return errors.push(`Index ${i}: invalid size_bytes`);
      if (size < 1 && i !== parsed.length - 1) return errors.push(`Index ${i}: too small; each segment must be at least 1 byte.`);
    }
    if (`${accountPrefix}/${quote(path.replace(/^\/+/, ''))}` === reqPath) return errors.push(`Index ${i}: manifest must not include itself as a segment`);
    let range: RangeSpec | undefined;
    const rawRange = seg.get('range');
    if (pyTruthy(rawRange)) {
      const text = pyStr(rawRange);
      const specs = text === undefined ? null : parseRange(`bytes=${text}`);
      if (!specs) return errors.push(`Index ${i}: invalid range`);
      if (specs.length > 1) return errors.push(`Index ${i}: multiple ranges (only one allowed)`);
      if (size !== undefined && rangesForLength(specs, size)?.length !== 1) return errors.push(`Index ${i}: unsatisfiable range`);
      range = specs[0];
    }
    return out.push({ kind: 'path', path, etag: etag as string | null | undefined, size, range });
  });
  if (parsed.length && parsed.every(containsData)) errors.push('Inline data segments require at least one object-backed segment.');
  if (errors.length) throw new HttpException(400, errors.map((e) => `${e}\n`).join(''), {}, 'text/plain');
  return out;
}

/** The manifest object's body: json.dumps of the stored segments. */
export function manifestJson(segments: StoredSegment[]): string {
  return pyJsonDumps(segments);
}

/** Reads a stored manifest (an unreadable one is empty, as in Swift). */
export function readManifest(body: Buffer): StoredSegment[] {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    return Array.isArray(parsed) ? (parsed as StoredSegment[]) : [];
  } catch {
    return [];
  }
}

/** extract_swift_bytes on a sub-manifest's content type (override_bytes_from_content_type). */
export function overrideBytesFromContentType(seg: StoredSegment): void {
  if (!configTrue(String(seg.sub_slo ?? ''))) return;
  const m = /^(.*);\s*swift_bytes=(\d+)\s*$/.exec(seg.content_type ?? '');
  if (m) {
    seg.content_type = m[1];
    seg.bytes = Number(m[2]);
  }
}

/** _segment_length: the bytes a plain GET takes from a segment. */
export function segmentLength(seg: StoredSegment): number {
  if (seg.data !== undefined) return Buffer.from(seg.data, 'base64').length;
  if (seg.range) {
    const [start, end] = seg.range.split('-').map(Number) as [number, number];
    return end - start + 1;
  }
  return Number(seg.bytes);
}

/** The large object's ETag: MD5 over each segment's ETag (`hash:range;` for a range). */
export function sloEtag(segments: StoredSegment[]): string {
  const md5 = createHash('md5');
  for (const seg of segments) {
    if (seg.data !== undefined) md5.update(createHash('md5').update(Buffer.from(seg.data, 'base64')).digest('hex'));
    else if (seg.range) md5.update(`${seg.hash}:${seg.range};`);
    else md5.update(String(seg.hash));
  }
  return md5.digest('hex');
}

/** ?multipart-manifest=get&format=raw: the manifest in the form it was PUT. */
export function rawManifest(segments: StoredSegment[]): string {
  const converted = segments.map((seg) => {
    if (seg.data !== undefined) return seg;
    const out: Record<string, unknown> = { ...seg, path: seg.name ?? null, size_bytes: seg.bytes ?? null, etag: seg.hash ?? null };
    for (const k of ['content_type', 'last_modified', 'sub_slo', 'name', 'bytes', 'hash']) delete out[k];
    return out;
  });
  return pyJsonDumps(converted, { sortKeys: true });
}
