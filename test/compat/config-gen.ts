/**
 * A seeded generator of INI files in the shapes that trip readers up: `#` and `;` inside values
 * and at line starts, `=` and `:` (both in one line), continuation lines, blank and comment
 * lines inside values, empty values, lines without a delimiter, repeated keys and sections,
 * indentation with tabs and exotic whitespace, [DEFAULT], `%` and `%(name)s`, CRLF and CR line
 * ends, UTF-8 text, a BOM, and now and then bytes that are not UTF-8.
 */
import type { Interpolation, OptionCase } from '../../src/compat/config-parser';

export interface GeneratedFile {
  name: string;
  bytes: Uint8Array;
}

export interface GeneratedCase {
  /** A file, or a conf.d directory of several. */
  dir: boolean;
  files: GeneratedFile[];
  interpolation: Interpolation;
  optionCase: OptionCase;
  strict: boolean;
  defaults?: Record<string, string>;
}

/** mulberry32: small, fast, and the same sequence everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SECTIONS = ['DEFAULT', 'app:proxy-server', 'filter:tempauth', 'pipeline:main', 'swift-hash', 'storage-policy:0', 's', 'S', 'a b', ' padded ', 'x#y', 'semi;colon', 'eq=sign', 'colon:x', 'ünï', 'Σ', 'emoji😀', 'brack]et', '[inner'];
const KEYS = ['key', 'Key', 'KEY', 'use', 'pipeline', 'user_test_tester', 'swift_hash_path_suffix', 'set log_name', 'get x', 'a.b', 'with space', 'ünï', 'ÜNÏ', 'ΣΑΣ', 'x', 'X', 'here', '__file__', 'k1', '10', 'k#1', 'k;1', '%pct', 'tab\tkey'];
const DELIMITERS = ['=', ' = ', '  =  ', ':', ': ', ' :', '\t=\t', '=:', ':=', '==', ' = = '];
const PLAIN = ['abc#123;x', 'pa#ss .admin', 'egg:swift#tempauth', 'a=b', 'c:d', 'http://h:8080/v1', 'tab\tin', 'café', '日本語', '😀', 'true', '0', 'two  spaces', ' ; not a comment', ' # not a comment', 'x\u00a0y', 'nel\u0085x', 'vt\u000bx', 'ff\u000cx', 'fs\u001cx', 'bom\ufeffx', 'ls\u2028x', '\u3000wide', 'end '];
const PERCENT = ['1%', '%%', '50%%off', '%(key)s', '%(Key)s', '%(x)s', '%(X)s', '%(missing)s', '%(here)s', '%(', '%(x)', '%x', '%', '%(ünï)s', '%(loop)s'];
const INDENTS = [' ', '  ', '\t', '    ', ' \t', '\u3000', '\u000c', '\u0085', '\u00a0 '];
const COMMENTS = ['# a comment', '; a comment', '   # indented comment', '\t; tabbed comment', '#', ';', '#key = value', ';[section]'];
const BLANKS = ['', '   ', '\t', ' \t '];
const BAD = ['novalue', '= starts with equals', ': starts with colon', 'just some words', '[unclosed'];
const FILE_NAMES = ['00-base.conf', '10-filters.conf', '20-x.conf', 'Z.conf', 'a.conf', 'é.conf', '.hidden.conf', 'notes.txt', 'b.conf.bak'];

export function generateCases(seed: number, count: number, dirEvery = 15): GeneratedCase[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number) => r() < p;

  const value = (): string => {
    if (chance(0.08)) return '';
    const parts: string[] = [];
    const n = 1 + Math.floor(r() * 3);
    for (let i = 0; i < n; i++) parts.push(chance(0.05) ? pick(PERCENT) : pick(PLAIN));
    return parts.join(chance(0.5) ? ' ' : '');
  };

  const fileText = (): string => {
    const lines: string[] = [];
    const usedSections = new Set<string>();
    if (chance(0.015)) lines.push(`${pick(KEYS)} = ${value()}`);
    if (chance(0.3)) lines.push(pick(COMMENTS));
    // Something for %(x)s and %(key)s to find, most of the time.
    if (chance(0.5)) lines.push('[DEFAULT]', 'x = from default', `key = k${chance(0.2) ? '%%' : ''}`);
    const sectionCount = 1 + Math.floor(r() * 4);
    for (let s = 0; s < sectionCount; s++) {
      let name = pick(SECTIONS);
      if (usedSections.has(name) && name !== 'DEFAULT' && !chance(0.08)) name = `${name}-${s}`;
      usedSections.add(name);
      const decorations = [`[${name}]`, `[${name}]`, `[${name}]`, `  [${name}]`, `[${name}] trailing`, `[${name}]  ; comment`, `[${name}]]`];
      lines.push(chance(0.01) ? '[]' : pick(decorations));
      const used = new Set<string>();
      const optionCount = Math.floor(r() * 6);
      for (let o = 0; o < optionCount; o++) {
        let key = pick(KEYS);
        if (used.has(key.toLowerCase()) && !chance(0.06)) key = `${key}_${o}`;
        used.add(key.toLowerCase());
        const indent = chance(0.05) ? pick(INDENTS) : '';
        lines.push(`${indent}${key}${pick(DELIMITERS)}${value()}`);
        if (chance(0.3)) {
          const more = 1 + Math.floor(r() * 3);
          for (let c = 0; c < more; c++) {
            if (chance(0.2)) lines.push(pick(BLANKS));
            if (chance(0.1)) lines.push(pick(COMMENTS));
            const content = chance(0.15) ? pick(['# hash first', '; semi first', '[not a header]', 'k = v', 'k: v']) : value() || 'x';
            lines.push(`${indent}${pick(INDENTS)}${content}`);
          }
          if (chance(0.3)) lines.push(pick(BLANKS));
        }
        if (chance(0.1)) lines.push(pick(BLANKS));
        if (chance(0.05)) lines.push(pick(COMMENTS));
        if (chance(0.01)) lines.push(pick(BAD));
      }
      if (chance(0.3)) lines.push('');
    }
    // A reference loop now and then, for InterpolationDepthError.
    if (chance(0.03)) lines.push('[loops]', 'loop = %(loop)s', 'a = %(b)s', 'b = %(a)s');
    const ends = ['\n', '\n', '\n', '\r\n', '\r'];
    const mixed = chance(0.15);
    const end = pick(ends);
    let text = lines.map((l, i) => (i === lines.length - 1 && chance(0.2) ? l : l + (mixed ? pick(ends) : end))).join('');
    if (chance(0.02)) text = '\ufeff' + text;
    return text;
  };

  const toBytes = (text: string): Uint8Array => {
    const bytes = new TextEncoder().encode(text);
    if (!chance(0.01) || bytes.length === 0) return bytes;
    const broken = new Uint8Array(bytes.length + 1);
    const at = Math.floor(r() * bytes.length);
    broken.set(bytes.subarray(0, at));
    broken[at] = 0xff;
    broken.set(bytes.subarray(at), at + 1);
    return broken;
  };

  const cases: GeneratedCase[] = [];
  for (let i = 0; i < count; i++) {
    const dir = i % dirEvery === dirEvery - 1;
    const files: GeneratedFile[] = [];
    if (dir) {
      const names = new Set<string>();
      const n = 1 + Math.floor(r() * 4);
      for (let f = 0; f < n; f++) names.add(pick(FILE_NAMES));
      for (const name of names) files.push({ name, bytes: toBytes(fileText()) });
    } else {
      files.push({ name: 'case.conf', bytes: toBytes(fileText()) });
    }
    const interpolation = pick<Interpolation>(['swift', 'swift', 'swift', 'basic', 'basic', 'none']);
    const defaults = chance(0.25) ? { here: '/etc/swift', __file__: '/etc/swift/proxy-server.conf', Mixed_Case: chance(0.3) ? '5%' : 'v' } : undefined;
    cases.push({ dir, files, interpolation, optionCase: chance(0.6) ? 'lower' : 'preserve', strict: chance(0.9), defaults });
  }
  return cases;
}
