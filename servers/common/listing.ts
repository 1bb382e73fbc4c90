/**
 * Listing parameters and the prefix/delimiter walk shared by account and container listings,
 * as swift.{account,container}.backend list_*_iter do it: each round is one index range scan
 * (name > marker AND name < end, ORDER BY name LIMIT n), and a delimiter hit skips the whole
 * "directory" by moving the marker past it, so a listing of 1,000 rows never scans the table.
 */
import { HTML_CONTENT_TYPE } from '../../src/common/http-status';
import type { ByteString } from '../../src/compat/bytes';
import { HttpException } from '../../src/compat/http-exception';
import { getParam, swobParams } from '../../src/compat/query';
import { configTrue } from '../../src/compat/truthy';
import { listingContentType, BadAcceptError, NotAcceptableError, type ListingContentType, type SubdirEntry } from '../../src/common/listing-format';

export interface ListingParams {
  limit: number;
  marker: string;
  endMarker: string;
  prefix: string | undefined;
  delimiter: string | undefined;
  /** Container listings only: `path=` (implies prefix `path/` and delimiter `/`). */
  path: string | undefined;
  reverse: boolean;
  contentType: ListingContentType;
}

/** A name range for one index scan; bounds are exclusive except `gte`. */
export interface RangeQuery {
  gt?: string;
  gte?: string;
  lt?: string;
  reverse: boolean;
  limit: number;
}

/**
 * Parses and validates listing parameters from the raw query string (the part after `?`).
 * Swift 2.30's servers: a limit above the maximum is 412 "Maximum limit is N" (a non-numeric
 * limit means the default); bad UTF-8 in a parameter is 400. NUL is allowed (reserved names
 * such as object versioning's start with it) and so are longer delimiters.
 */
export function parseListingParams(rawQuery: ByteString, acceptHeader: string | undefined, maxLimit: number, allowPath: boolean): ListingParams {
  const params = swobParams(rawQuery);
  const get = (n: string) => getParam(params, n);
  const marker = get('marker') ?? '';
  const endMarker = get('end_marker') ?? '';
  const prefix = get('prefix');
  const delimiter = get('delimiter') || undefined;
  const path = allowPath ? get('path') : undefined;
  const format = get('format');
  let limit = maxLimit;
  const rawLimit = get('limit');
  if (rawLimit && /^\d+$/.test(rawLimit)) {
    limit = Number(rawLimit);
    if (limit > maxLimit) throw new HttpException(412, `Maximum limit is ${maxLimit}`, {}, HTML_CONTENT_TYPE);
  }
  let contentType: ListingContentType;
  try {
    contentType = listingContentType(format, acceptHeader);
  } catch (err) {
    if (err instanceof NotAcceptableError) throw new HttpException(406);
    if (err instanceof BadAcceptError) throw new HttpException(400, 'Invalid Accept header', {}, 'text/plain');
    throw err;
  }
  return { limit, marker, endMarker, prefix, delimiter, path, reverse: configTrue(get('reverse')), contentType };
}

/** Code point order (SQLite's BINARY collation on UTF-8 is the same order). */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** chr(ord(last char) + 1) on the last code point, as Swift computes range ends. */
function bumpLast(s: string): string {
  const chars = [...s];
  const last = chars.pop()!;
  return chars.join('') + String.fromCodePoint(last.codePointAt(0)! + 1);
}

/**
 * Runs a listing over an ordered name index. `fetch` runs one range scan and returns rows
 * ordered by name (descending when reverse). Returns rows and `{subdir}` entries.
 */
export function walkListing<T extends { name: string }>(
  params: Pick<ListingParams, 'limit' | 'marker' | 'endMarker' | 'prefix' | 'delimiter' | 'path' | 'reverse'>,
  fetch: (q: RangeQuery) => T[],
): (T | SubdirEntry)[] {
  const { limit, reverse } = params;
  let { marker, endMarker, prefix, delimiter } = params;
  const path = params.path === undefined ? undefined : params.path ? params.path.replace(/\/+$/, '') + '/' : '';
  if (reverse) [marker, endMarker] = [endMarker, marker];
  if (path !== undefined) {
    prefix = path;
    delimiter = '/';
  } else if (delimiter && !prefix) {
    prefix = '';
  }
  const endPrefix = prefix ? bumpLast(prefix) : undefined;
  const origMarker = marker;
  const results: (T | SubdirEntry)[] = [];
  let forceGte = false;
  while (results.length < limit) {
    const q: RangeQuery = { reverse, limit: limit - results.length };
    if (endMarker && (!prefix || compareNames(endMarker, endPrefix!) < 0)) q.lt = endMarker;
    else if (prefix) q.lt = endPrefix;
    if (forceGte) {
      q.gte = marker;
      forceGte = false;
    } else if (marker && (!prefix || compareNames(marker, prefix) >= 0)) q.gt = marker;
    else if (prefix) q.gte = prefix;
    const rows = fetch(q);
    if (prefix === undefined || !delimiter) return rows;
    if (rows.length === 0) break;
    let brokeOut = false;
    for (const row of rows) {
      const name = row.name;
      if (reverse) endMarker = name;
      else marker = name;
      if (results.length >= limit) return results;
      const end = name.indexOf(delimiter, prefix.length);
      if (path !== undefined && name === path) continue;
      if (end >= 0 && (path === undefined || name.length > end + delimiter.length)) {
        const dirName = name.slice(0, end + delimiter.length);
        if (reverse) endMarker = dirName;
        else {
          marker = name.slice(0, end) + bumpLast(delimiter);
          forceGte = path === undefined;
        }
        if (path === undefined && dirName !== origMarker) results.push({ subdir: dirName });
        brokeOut = true;
        break;
      }
      results.push(row);
    }
    if (!brokeOut && rows.length < q.limit) break;
  }
  return results;
}

/** SQL condition and arguments for a RangeQuery on column `name`. */
export function rangeSql(q: RangeQuery): { where: string; args: string[]; order: string } {
  const cond: string[] = [];
  const args: string[] = [];
  if (q.lt !== undefined) {
    cond.push('name < ?');
    args.push(q.lt);
  }
  if (q.gte !== undefined) {
    cond.push('name >= ?');
    args.push(q.gte);
  } else if (q.gt !== undefined) {
    cond.push('name > ?');
    args.push(q.gt);
  }
  return { where: cond.length ? cond.join(' AND ') : '1', args, order: q.reverse ? 'DESC' : 'ASC' };
}
