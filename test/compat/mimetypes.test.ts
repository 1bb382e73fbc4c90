/**
 * Content-Type guessing as Swift does it (Python's mimetypes.guess_type on Debian, with
 * /etc/mime.types): every extension of the table, in any case, behind the suffix and encoding
 * maps, and generated paths, against Debian's python3 itself. Without python3 or the media-types
 * package the comparison is skipped with the reason (the generated table holds the data).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { guessType, splitext } from '../../src/compat/mimetypes';
import { ENCODINGS_MAP, SUFFIX_MAP, TYPES_MAP } from '../../src/compat/python-mimetypes';
import { PythonOracle } from '../helpers/python-oracle';

const PYTHON = '/usr/bin/python3';
const cannot = !existsSync(PYTHON) ? `${PYTHON} is missing` : !existsSync('/etc/mime.types') ? '/etc/mime.types is missing (Debian package media-types)' : undefined;

describe('guessType', () => {
  it('answers as Swift on Debian for the cases the issue names', () => {
    expect(guessType('/v1/a/c/song.wav')).toEqual(['audio/x-wav', undefined]);
    expect(guessType('/v1/a/c/x.tar.gz')).toEqual(['application/x-tar', 'gzip']);
    expect(guessType('/v1/a/c/x.TGZ')).toEqual(['application/x-tar', 'gzip']);
    expect(guessType('/v1/a/c/x.tar.GZ')).toEqual(['application/gzip', undefined]);
    expect(guessType('/v1/a/c/photo.JPG')).toEqual(['image/jpeg', undefined]);
    expect(guessType('/v1/a/c/c')).toEqual([undefined, undefined]);
    expect(guessType('/v1/a/c.txt/o')).toEqual([undefined, undefined]);
    expect(guessType('/v1/a/c/.json')).toEqual([undefined, undefined]);
    expect(guessType('data:image/png;base64,xx')).toEqual(['image/png', undefined]);
  });
  it('splits extensions as posixpath.splitext', () => {
    expect(splitext('a/b.c/d')).toEqual(['a/b.c/d', '']);
    expect(splitext('a/..b')).toEqual(['a/..b', '']);
    expect(splitext('a/..b.c')).toEqual(['a/..b', '.c']);
    expect(splitext('x.')).toEqual(['x', '.']);
  });
});

describe.skipIf(!!cannot)('guessType against python3 mimetypes', () => {
  const oracle = cannot ? undefined : new PythonOracle(PYTHON, fileURLToPath(new URL('./mimetypes_oracle.py', import.meta.url)));
  afterAll(() => oracle?.close());
  const same = async (urls: string[]) => {
    const want = await oracle!.ask<[string | null, string | null][]>(urls);
    const got = urls.map((u) => guessType(u).map((v) => v ?? null));
    const diff = urls.filter((_, i) => JSON.stringify(got[i]) !== JSON.stringify(want[i])).map((u, i) => `${JSON.stringify(u)}: ${JSON.stringify(got[i])}`);
    expect(diff).toEqual([]);
  };

  it('agrees on every extension of the table, as written, upper-cased and mixed', async () => {
    const exts = Object.keys(TYPES_MAP);
    expect(exts.length).toBeGreaterThan(1000);
    const urls = exts.flatMap((e) => [`/v1/a/c/o${e}`, `/v1/a/c/dir/o${e.toUpperCase()}`, `/v1/a/c/o${e[0]}${e.slice(1, 2).toUpperCase()}${e.slice(2)}`]);
    await same(urls);
  });

  it('agrees on the suffix and encoding maps in every case', async () => {
    const urls: string[] = [];
    for (const s of [...Object.keys(SUFFIX_MAP), ...Object.keys(ENCODINGS_MAP), '.tar', '.svg', '.Z', '.z']) {
      for (const form of [s, s.toUpperCase(), s.toLowerCase()]) urls.push(`/v1/a/c/o${form}`, `/v1/a/c/o.tar${form}`, `/v1/a/c/o.txt${form}`, `/v1/a/c/${form}`, `/v1/a/c/o${form}${form}`);
    }
    await same(urls);
  });

  it('agrees on 3,000 generated paths (dots, slashes, schemes, data URLs, latin-1 bytes)', async () => {
    const piece = fc.constantFrom('.', '/', ':', ',', ';', '=', 'data', 'tar', 'gz', 'GZ', 'Z', 'tgz', 'svgz', 'json', 'JPG', 'wav', 'x', 'é', '\u00c3\u00a9', ' ', '..', 'text/plain');
    const urls = fc.sample(fc.array(piece, { maxLength: 8 }).map((ps) => ps.join('')), { numRuns: 3000, seed: 20261203 });
    await same(urls);
    await same(urls.map((u) => `/v1/AUTH_test/c/${u}`));
  });
});

if (cannot) it.skip(`guessType against python3 mimetypes: ${cannot}`, () => undefined);
