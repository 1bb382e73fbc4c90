import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { compareNames, parseListingParams, rangeSql, walkListing, type RangeQuery } from '../../../servers/common/listing';
import { asByteString } from '../../../src/compat/bytes';
import { HttpException } from '../../../src/compat/http-exception';

/** An in-memory name index that answers range queries like the brokers' SQL does. */
function memoryIndex(names: string[]) {
  const sorted = [...names].sort(compareNames);
  const queries: RangeQuery[] = [];
  const fetch = (q: RangeQuery) => {
    queries.push(q);
    let rows = sorted.filter(
      (n) =>
        (q.lt === undefined || compareNames(n, q.lt) < 0) &&
        (q.gte !== undefined ? compareNames(n, q.gte) >= 0 : q.gt === undefined || compareNames(n, q.gt) > 0),
    );
    if (q.reverse) rows = rows.reverse();
    return rows.slice(0, q.limit).map((name) => ({ name }));
  };
  return { fetch, queries };
}

const base = { limit: 10_000, marker: '', endMarker: '', prefix: undefined, delimiter: undefined, path: undefined, reverse: false };
const names = (rows: ({ name: string } | { subdir: string })[]) => rows.map((r) => ('subdir' in r ? `[${r.subdir}]` : r.name));

describe('walkListing', () => {
  const idx = memoryIndex(['a', 'b/1', 'b/2', 'b/3/x', 'c', 'c/d', 'd', 'é', '😀']);

  it('lists in code point order with limit, marker, end_marker', () => {
    expect(names(walkListing(base, idx.fetch))).toEqual(['a', 'b/1', 'b/2', 'b/3/x', 'c', 'c/d', 'd', 'é', '😀']);
    expect(names(walkListing({ ...base, limit: 2, marker: 'b/1' }, idx.fetch))).toEqual(['b/2', 'b/3/x']);
    expect(names(walkListing({ ...base, marker: 'b', endMarker: 'c/d' }, idx.fetch))).toEqual(['b/1', 'b/2', 'b/3/x', 'c']);
  });

  it('groups by delimiter into subdirs', () => {
    expect(names(walkListing({ ...base, delimiter: '/' }, idx.fetch))).toEqual(['a', '[b/]', 'c', '[c/]', 'd', 'é', '😀']);
    expect(names(walkListing({ ...base, delimiter: '/', prefix: 'b/' }, idx.fetch))).toEqual(['b/1', 'b/2', '[b/3/]']);
    expect(names(walkListing({ ...base, delimiter: '/', limit: 3 }, idx.fetch))).toEqual(['a', '[b/]', 'c']);
    // A marker equal to a subdir does not repeat it.
    expect(names(walkListing({ ...base, delimiter: '/', marker: 'b/' }, idx.fetch))).toEqual(['c', '[c/]', 'd', 'é', '😀']);
  });

  it('reverses, swapping marker and end_marker', () => {
    expect(names(walkListing({ ...base, reverse: true, limit: 3 }, idx.fetch))).toEqual(['😀', 'é', 'd']);
    expect(names(walkListing({ ...base, reverse: true, delimiter: '/' }, idx.fetch))).toEqual(['😀', 'é', 'd', '[c/]', 'c', '[b/]', 'a']);
    expect(names(walkListing({ ...base, reverse: true, marker: 'c', endMarker: 'a' }, idx.fetch))).toEqual(['b/3/x', 'b/2', 'b/1']);
  });

  it('filters by prefix', () => {
    expect(names(walkListing({ ...base, prefix: 'c' }, idx.fetch))).toEqual(['c', 'c/d']);
  });

  it('lists a pseudo-directory with path=', () => {
    const p = memoryIndex(['dir/', 'dir/a', 'dir/b/', 'dir/b/c', 'dir/d', 'other']);
    expect(names(walkListing({ ...base, path: 'dir' }, p.fetch))).toEqual(['dir/a', 'dir/b/', 'dir/d']);
  });

  it('skips a large directory with one range scan instead of walking it', () => {
    const many = memoryIndex(['a', ...Array.from({ length: 5000 }, (_, i) => `big/${String(i).padStart(5, '0')}`), 'z']);
    expect(names(walkListing({ ...base, delimiter: '/' }, many.fetch))).toEqual(['a', '[big/]', 'z']);
    expect(many.queries.length).toBeLessThanOrEqual(4);
  });
});

describe('rangeSql', () => {
  it('builds index-friendly conditions that SQLite serves with a range search', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (name TEXT PRIMARY KEY, v INT) WITHOUT ROWID');
    const { where, args, order } = rangeSql({ gt: 'a', lt: 'b', reverse: false, limit: 10 });
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT name FROM t WHERE ${where} ORDER BY name ${order} LIMIT 10`).all(...args) as { detail: string }[];
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/SEARCH t USING PRIMARY KEY \(name>\? AND name<\?\)/);
    db.close();
  });
});

describe('parseListingParams', () => {
  it('parses and validates', () => {
    const p = parseListingParams(asByteString('limit=5&marker=m&end_marker=n&prefix=p&delimiter=%2F&reverse=on&format=json'), undefined, 10_000, false);
    expect(p).toMatchObject({ limit: 5, marker: 'm', endMarker: 'n', prefix: 'p', delimiter: '/', reverse: true, contentType: 'application/json' });
    expect(parseListingParams(asByteString('limit=abc'), undefined, 100, false).limit).toBe(100);
    expect(parseListingParams(asByteString('path=x'), undefined, 100, true).path).toBe('x');
    expect(parseListingParams(asByteString('path=x'), undefined, 100, false).path).toBeUndefined();
  });

  const status = (q: string, accept?: string) => {
    try {
      parseListingParams(asByteString(q), accept, 10_000, true);
      return 0;
    } catch (e) {
      return e instanceof HttpException ? `${e.status} ${e.body ?? ''}` : 'other';
    }
  };
  it('answers bad parameters as Swift does', () => {
    expect(status('limit=10001')).toBe('412 Maximum limit is 10000');
    expect(status('delimiter=ab')).toBe(0);
    expect(status('prefix=%00')).toBe(0);
    expect(status('marker=%FF')).toBe('400 "marker" parameter not valid UTF-8');
    expect(status('', 'image/png')).toBe('406 ');
  });
});

describe('parseListingParams reads the query as swob does', () => {
  it('keeps the last of a repeated parameter (dict(parse_qsl(...)))', () => {
    expect(parseListingParams(asByteString('prefix=a&prefix=b&marker=x+y'), undefined, 100, false)).toMatchObject({ prefix: 'b', marker: 'x y' });
  });
});
