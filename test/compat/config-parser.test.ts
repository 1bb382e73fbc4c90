import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigDocument,
  ConfigError,
  getOption,
  lazySection,
  parseConfig,
  readConfig,
  sectionItems,
  type ParseOptions,
} from '../../src/compat/config-parser';
import { generateCases } from './config-gen';
import { comparable, havePython, pythonResults, sluiceResult, writeCases, type Result } from './configparser-oracle';
import { errorOf } from '../helpers/config-error';

const tmp = mkdtempSync(join(tmpdir(), 'sluice-config-parser-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function section(text: string, name: string, opts: ParseOptions = {}): Record<string, string> | undefined {
  return parseConfig(text, opts).sections.get(name);
}

describe('what the ini package misread', () => {
  it('keeps # and ; inside values', () => {
    expect(section('[swift-hash]\nswift_hash_path_suffix = abc#123;x\n', 'swift-hash')).toEqual({ swift_hash_path_suffix: 'abc#123;x' });
    expect(section('[filter:tempauth]\nuser_test_tester = pa#ss .admin\n', 'filter:tempauth')).toEqual({ user_test_tester: 'pa#ss .admin' });
    expect(section('[filter:tempauth]\nuse = egg:swift#tempauth\n', 'filter:tempauth')).toEqual({ use: 'egg:swift#tempauth' });
  });

  it('reads key: value and continuation lines', () => {
    expect(section('[s]\nkey: value\nmulti = a\n  b\n\tc\n', 's')).toEqual({ key: 'value', multi: 'a\nb\nc' });
  });
});

describe('configparser text rules', () => {
  it('splits at the first = or :, whichever comes first', () => {
    expect(section('[s]\na = b:c=d\ne: f=g\nurl = http://h:1/p\n', 's')).toEqual({ a: 'b:c=d', e: 'f=g', url: 'http://h:1/p' });
  });

  it('treats # and ; as comments only at the start of a line, even indented', () => {
    expect(section('[s]\n# c\n; c\na = 1\n  # not part of a\n  ; nor this\n  more\n', 's')).toEqual({ a: '1\nmore' });
  });

  it('keeps blank lines inside a value and drops trailing ones', () => {
    expect(section('[s]\na = 1\n\n  2\n\n\nb = 3\n', 's')).toEqual({ a: '1\n\n2', b: '3' });
    expect(section('[s]\na =\n  x\n', 's')).toEqual({ a: '\nx' });
  });

  it('continues a value only with lines indented deeper than its key', () => {
    expect(section('[s]\n  a = 1\n  b = 2\n   c\n', 's')).toEqual({ a: '1', b: '2\nc' });
  });

  it('ignores text after the header and reads the header up to its last ]', () => {
    const c = parseConfig('[a] trailing\nx = 1\n[b]]\ny = 2\n');
    expect([...c.sections.keys()]).toEqual(['a', 'b]']);
  });

  it('lower-cases keys unless told to preserve them (PasteDeploy)', () => {
    expect(section('[s]\nSERVICE_require_group = service\n', 's')).toEqual({ service_require_group: 'service' });
    expect(section('[s]\nSERVICE_require_group = service\n', 's', { optionCase: 'preserve' })).toEqual({ SERVICE_require_group: 'service' });
  });

  it('puts [DEFAULT] under every section, the section winning', () => {
    const c = parseConfig('[DEFAULT]\na = 1\nb = 2\n[s]\nb = 3\n[DEFAULT]\nc = 4\n');
    expect(c.defaults).toEqual({ a: '1', b: '2', c: '4' });
    expect(c.sections.get('s')).toEqual({ a: '1', b: '3', c: '4' });
    expect(Object.keys(c.sections.get('s')!)).toEqual(['a', 'b', 'c']);
  });

  it('reads CRLF and CR line ends and keeps UTF-8 text', () => {
    expect(section('[s]\r\na = café 😀\r\n  b\rc = 日本\r', 's')).toEqual({ a: 'café 😀\nb', c: '日本' });
  });

  it('strips Python whitespace, not JavaScript whitespace', () => {
    // NEL (U+0085) is space to Python; the BOM (U+FEFF) is not.
    expect(section('[s]\na = x\u0085\nb = \ufeffy\n', 's')).toEqual({ a: 'x', b: '\ufeffy' });
  });
});

describe('errors, with file and line', () => {
  it('refuses a line before any section', () => {
    const err = errorOf(() => parseConfig('# ok\nkey = v\n', { source: 'x.conf' }));
    expect(err.kind).toBe('missing-section-header');
    expect(err.message).toMatch(/^x\.conf:2: /);
  });

  it('refuses duplicate sections and options (after case folding) in one file', () => {
    expect(errorOf(() => parseConfig('[s]\n[t]\n[s]\n')).line).toBe(3);
    expect(errorOf(() => parseConfig('[s]\n[t]\n[s]\n')).kind).toBe('duplicate-section');
    const dup = errorOf(() => parseConfig('[s]\nKey = 1\nkey = 2\n', { source: 'y.conf' }));
    expect([dup.kind, dup.line, dup.message]).toEqual(['duplicate-option', 3, 'y.conf:3: option "key" appears twice in [s]']);
    expect(parseConfig('[s]\nKey = 1\nkey = 2\n', { optionCase: 'preserve' }).sections.get('s')).toEqual({ Key: '1', key: '2' });
    expect(parseConfig('[s]\na = 1\n[s]\na = 2\n', { strict: false }).sections.get('s')).toEqual({ a: '2' });
  });

  it('refuses keys without a value and empty keys, naming the first bad line', () => {
    const err = errorOf(() => parseConfig('[s]\nok = 1\njustakey\n= v\n', { source: 'z.conf' }));
    expect([err.kind, err.line]).toEqual(['parsing', 3]);
    expect(err.message).toContain('(and 1 more bad line)');
  });
});

describe('interpolation', () => {
  const text = '[DEFAULT]\ndir = /srv\n[s]\npath = %(dir)s/node\npct = 1%\nesc = 100%%\nmixed = %(dir)s %%\n';

  it('lets values without %( through as Swift readconf does (NicerInterpolation)', () => {
    expect(section(text, 's')).toEqual({ dir: '/srv', path: '/srv/node', pct: '1%', esc: '100%%', mixed: '/srv %' });
  });

  it('reads swift.conf-style values with BasicInterpolation, only when asked', () => {
    const doc = new ConfigDocument();
    doc.read(text, 'swift.conf');
    expect(getOption(doc, 's', 'esc', 'basic')).toBe('100%');
    expect(errorOf(() => getOption(doc, 's', 'pct', 'basic')).kind).toBe('interpolation-syntax');
    expect(errorOf(() => getOption(doc, 's', 'pct', 'basic')).message).toMatch(/^swift\.conf:5: \[s\] pct: /);
    const lazy = lazySection(doc, 's', 'basic')!;
    expect(lazy.path).toBe('/srv/node');
    expect(() => lazy.pct).toThrow(ConfigError);
  });

  it('fails on missing names and loops', () => {
    expect(errorOf(() => parseConfig('[s]\na = %(nope)s\n')).kind).toBe('interpolation-missing-option');
    expect(errorOf(() => parseConfig('[s]\na = %(b)s\nb = %(a)s\n')).kind).toBe('interpolation-depth');
    expect(parseConfig('[s]\na = %(b)s\nb = x\n', { interpolation: 'none' }).sections.get('s')).toEqual({ a: '%(b)s', b: 'x' });
  });

  it('interpolates referenced values the basic way even under NicerInterpolation', () => {
    expect(errorOf(() => parseConfig('[s]\na = 1%\nb = %(a)s\n')).kind).toBe('interpolation-syntax');
  });

  it('looks names up through the key case rule', () => {
    expect(section('[s]\nDir = /x\np = %(DIR)s\n', 's')).toEqual({ dir: '/x', p: '/x' });
    expect(errorOf(() => parseConfig('[s]\nDir = /x\np = %(DIR)s\n', { optionCase: 'preserve' })).kind).toBe('interpolation-missing-option');
  });

  it('takes defaults passed in, lower-cased, under every section', () => {
    expect(section('[s]\nf = %(__file__)s\n', 's', { defaults: { __file__: '/etc/swift/p.conf', Here: '/etc/swift' } })).toEqual({
      __file__: '/etc/swift/p.conf',
      here: '/etc/swift',
      f: '/etc/swift/p.conf',
    });
  });
});

describe('conf.d directories (read_conf_dir)', () => {
  it('reads every *.conf not starting with a dot, sorted, as one, later files winning', () => {
    const dir = join(tmp, 'proxy-server.conf.d');
    mkdirSync(dir);
    writeFileSync(join(dir, '20-b.conf'), '[s]\nb = 2\na = late\n');
    writeFileSync(join(dir, '10-a.conf'), '[DEFAULT]\nd = 1\n[s]\na = 1\n');
    writeFileSync(join(dir, '.hidden.conf'), '[hidden]\n');
    writeFileSync(join(dir, 'notes.txt'), 'not ini at all');
    const c = readConfig(dir);
    expect([...c.sections.keys()]).toEqual(['s']);
    expect(c.sections.get('s')).toEqual({ d: '1', a: 'late', b: '2' });
  });

  it('names the file of an error and refuses a directory with nothing to read', () => {
    const dir = join(tmp, 'bad.d');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.conf'), '[s]\n');
    writeFileSync(join(dir, 'b.conf'), '[s]\nx\n');
    const err = errorOf(() => readConfig(dir));
    expect([err.kind, err.source, err.line]).toEqual(['parsing', join(dir, 'b.conf'), 2]);
    const empty = join(tmp, 'empty.d');
    mkdirSync(empty);
    expect(errorOf(() => readConfig(empty)).kind).toBe('read');
  });

  it('refuses bytes that are not UTF-8', () => {
    const file = join(tmp, 'latin1.conf');
    writeFileSync(file, Buffer.from([0x5b, 0x73, 0x5d, 0x0a, 0x61, 0x3d, 0xe9, 0x0a]));
    expect(errorOf(() => readConfig(file)).kind).toBe('decode');
  });
});

describe.runIf(havePython)('agrees with Python configparser', () => {
  it('on 3,000 generated files and conf.d directories', () => {
    const cases = generateCases(20240611, 3000);
    const dir = join(tmp, 'generated');
    mkdirSync(dir);
    const paths = writeCases(dir, cases);
    const { results } = pythonResults(dir, cases, paths);
    expect(results).toHaveLength(cases.length);
    const mismatches: { path: string; python: Result; sluice: Result }[] = [];
    const kinds = new Map<string, number>();
    cases.forEach((c, i) => {
      const python = results[i]!;
      const sluice = comparable(python, sluiceResult(c, paths[i]!));
      const kind = 'ok' in python ? 'ok' : python.error;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      if (JSON.stringify(python) !== JSON.stringify(sluice) && mismatches.length < 5) mismatches.push({ path: paths[i]!, python, sluice });
    });
    expect(mismatches).toEqual([]);
    // The generator reaches every outcome, and most files read.
    expect(kinds.get('ok')! / cases.length).toBeGreaterThan(0.45);
    for (const kind of [
      'MissingSectionHeaderError',
      'DuplicateSectionError',
      'DuplicateOptionError',
      'ParsingError',
      'InterpolationSyntaxError',
      'InterpolationMissingOptionError',
      'InterpolationDepthError',
      'UnicodeDecodeError',
      'OSError',
    ]) {
      expect(kinds.get(kind), kind).toBeGreaterThan(0);
    }
  });
});

describe('sectionItems', () => {
  it('is undefined for a missing section and has DEFAULT for DEFAULT', () => {
    const doc = new ConfigDocument();
    doc.read('[DEFAULT]\na = 1\n', 'x');
    expect(sectionItems(doc, 'nope', 'swift')).toBeUndefined();
    expect([...sectionItems(doc, 'DEFAULT', 'swift')!]).toEqual([['a', '1']]);
  });
});
