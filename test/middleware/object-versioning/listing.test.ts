/**
 * `?versions` container listings (Swift 2.30 object_versioning.py _list_versions; answers
 * compared with a real Swift 2.30.1 proxy): names in order and each name's newest version
 * first, `is_latest`, `version_id` ("null" for unversioned data), paging with `marker` and
 * `version_marker`, prefix/delimiter, and JSON only. Plain listings of a versioned container
 * show each object's version size and etag with a `?version-id=` symlink_path.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useOv } from './helpers';

const ov = useOv();
let c: string;
const ids: Record<string, string[]> = {};

beforeAll(async () => {
  c = await ov.container();
  // a: three versions; b: one; dir/x and dir/y: one each; plain: put with versioning off.
  for (const [name, bodies] of [
    ['a', ['1', '22', '333']],
    ['b', ['b']],
    ['dir/x', ['x']],
    ['dir/y', ['y']],
  ] as const) {
    ids[name] = [];
    for (const body of bodies) ids[name]!.push((await ov.req('PUT', `/v1/AUTH_test/${c}/${name}`, { 'Content-Type': 'text/plain' }, body)).headers['x-object-version-id']!);
  }
  await ov.req('POST', `/v1/AUTH_test/${c}`, { 'X-Versions-Enabled': 'false' });
  await ov.req('PUT', `/v1/AUTH_test/${c}/plain`, { 'Content-Type': 'text/plain' }, 'p');
  await ov.req('POST', `/v1/AUTH_test/${c}`, { 'X-Versions-Enabled': 'true' });
}, 60_000);

const keyed = (list: { name?: string; subdir?: string; version_id?: string; is_latest?: boolean }[]) => list.map((e) => (e.subdir !== undefined ? `subdir:${e.subdir}` : `${e.name}@${e.version_id}${e.is_latest ? '*' : ''}`));

describe('?versions', () => {
  it('lists every version, names in order, newest first, the current one marked', async () => {
    const [a1, a2, a3] = ids.a!;
    expect(keyed(await ov.versions(c))).toEqual([`a@${a3}*`, `a@${a2}`, `a@${a1}`, `b@${ids.b![0]}*`, `dir/x@${ids['dir/x']![0]}*`, `dir/y@${ids['dir/y']![0]}*`, 'plain@null*']);
    const [first] = await ov.versions(c);
    expect(Object.keys(first!)).toEqual(['bytes', 'hash', 'name', 'content_type', 'last_modified', 'is_latest', 'version_id']);
    expect([first!.bytes, first!.hash]).toEqual([3, '310dcbbf4cce62f762a2aaa148d556bd']);
  });

  it('pages with limit, marker and version_marker', async () => {
    const [a1, a2, a3] = ids.a!;
    expect(keyed(await ov.versions(c, '&limit=2'))).toEqual([`a@${a3}*`, `a@${a2}`]);
    expect(keyed(await ov.versions(c, `&limit=2&marker=a&version_marker=${a2}`))).toEqual([`a@${a1}`, `b@${ids.b![0]}*`]);
    // A marker alone skips every version of that name.
    expect(keyed(await ov.versions(c, '&limit=1&marker=a'))).toEqual([`b@${ids.b![0]}*`]);
    expect(keyed(await ov.versions(c, '&reverse=on&limit=2'))).toEqual(['plain@null*', `dir/y@${ids['dir/y']![0]}*`]);
  });

  it('prefix and delimiter work on object names', async () => {
    expect(keyed(await ov.versions(c, '&delimiter=/&prefix=d'))).toEqual(['subdir:dir/']);
    expect(keyed(await ov.versions(c, '&prefix=dir/&delimiter=/'))).toEqual([`dir/x@${ids['dir/x']![0]}*`, `dir/y@${ids['dir/y']![0]}*`]);
  });

  it('refuses what would cut version ids apart, and a version_marker without marker', async () => {
    for (const [query, body] of [
      ['&delimiter=1', 'invalid delimiter param'],
      ['&delimiter=.', 'invalid delimiter param'],
      ['&version_marker=1', 'version_marker param requires marker'],
      ['&marker=a&version_marker=junk', 'invalid version_marker param'],
    ]) {
      const res = await ov.req('GET', `/v1/AUTH_test/${c}?versions${query}`);
      expect([query, res.status, res.body.toString()]).toEqual([query, 400, body]);
    }
  });

  it('answers JSON only: XML or plain text asked for is 406', async () => {
    const bare = await ov.req('GET', `/v1/AUTH_test/${c}?versions`);
    expect([bare.status, bare.headers['content-type'], bare.headers.vary]).toEqual([200, 'application/json; charset=utf-8', undefined]);
    expect(Number(bare.headers['content-length'])).toBe(bare.body.length);
    for (const [query, accept] of [
      ['&format=xml', undefined],
      ['&format=plain', undefined],
      ['', 'text/plain'],
      ['', 'application/xml'],
    ] as const) {
      const res = await ov.req('GET', `/v1/AUTH_test/${c}?versions${query}`, accept ? { Accept: accept } : {});
      expect([query, accept, res.status]).toEqual([query, accept, 406]);
    }
    // HEAD is an ordinary container HEAD.
    const head = await ov.req('HEAD', `/v1/AUTH_test/${c}?versions`);
    expect([head.status, head.headers['x-versions-enabled']]).toEqual([204, 'True']);
  });
});

describe('plain listings of a versioned container', () => {
  it('show the version size and etag, and the link as a ?version-id= path', async () => {
    const res = await ov.req('GET', `/v1/AUTH_test/${c}?format=json&prefix=a`);
    const a3 = ids.a![2]!;
    expect(JSON.parse(res.body.toString())).toEqual([
      {
        bytes: 3,
        hash: '310dcbbf4cce62f762a2aaa148d556bd',
        name: 'a',
        content_type: 'text/plain',
        last_modified: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
        symlink_path: `/v1/AUTH_test/${c}/a?version-id=${a3}`,
        version_symlink: true,
      },
    ]);
    const text = await ov.req('GET', `/v1/AUTH_test/${c}`);
    expect(text.body.toString()).toBe('a\nb\ndir/x\ndir/y\nplain\n');
    const xml = await ov.req('GET', `/v1/AUTH_test/${c}?format=xml&prefix=b`);
    expect(xml.body.toString()).toContain('<name>b</name><hash>92eb5ffee6ae2fec3ad71c777531578f</hash><bytes>1</bytes>');
  });
});
