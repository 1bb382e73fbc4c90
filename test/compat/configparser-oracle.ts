/**
 * Runs configparser_oracle.py once over a batch of generated cases and reads the same cases
 * with sluice's reader, both into one comparable shape.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, DEFAULT_SECTION, readConfigDocument, sectionItems, type ConfigErrorKind } from '../../src/compat/config-parser';
import type { GeneratedCase } from './config-gen';

/** Debian's python3 when there is one (the interpreter python3-swift is installed for). */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export const havePython = spawnSync(PYTHON, ['-c', 'import configparser'], { stdio: 'ignore' }).status === 0;

const ORACLE = fileURLToPath(new URL('./configparser_oracle.py', import.meta.url));

export type Result =
  | { ok: { defaults: [string, string][]; sections: [string, [string, string][]][] } }
  | { error: string; line: number | null; source: string | null };

/** ConfigError kinds as the Python exception classes they stand for. */
export const PYTHON_ERROR: Record<ConfigErrorKind, string> = {
  'missing-section-header': 'MissingSectionHeaderError',
  'duplicate-section': 'DuplicateSectionError',
  'duplicate-option': 'DuplicateOptionError',
  parsing: 'ParsingError',
  'interpolation-syntax': 'InterpolationSyntaxError',
  'interpolation-missing-option': 'InterpolationMissingOptionError',
  'interpolation-depth': 'InterpolationDepthError',
  decode: 'UnicodeDecodeError',
  read: 'OSError',
  paste: 'LookupError',
  invalid: 'ValueError',
};

/** Writes each case under `dir` (a file, or a directory of files) and returns its path. */
export function writeCases(dir: string, cases: GeneratedCase[]): string[] {
  return cases.map((c, i) => {
    if (!c.dir) {
      const path = join(dir, `case-${i}.conf`);
      writeFileSync(path, c.files[0]!.bytes);
      return path;
    }
    const path = join(dir, `case-${i}.d`);
    mkdirSync(path);
    for (const f of c.files) writeFileSync(join(path, f.name), f.bytes);
    // A directory named like a config file: Python cannot open it and skips it.
    if (i % 4 === 0) mkdirSync(join(path, 'sub.conf'));
    return path;
  });
}

export function pythonResults(dir: string, cases: GeneratedCase[], paths: string[]): { oracle: string; results: Result[] } {
  const manifest = cases.map((c, i) => ({
    path: paths[i],
    dir: c.dir,
    interpolation: c.interpolation,
    lower: c.optionCase === 'lower',
    strict: c.strict,
    defaults: c.defaults ?? null,
  }));
  const manifestPath = join(dir, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const out = execFileSync(PYTHON, [ORACLE, manifestPath], { maxBuffer: 512 * 1024 * 1024, env: { ...process.env, PYTHONIOENCODING: 'utf-8' } });
  return JSON.parse(out.toString('utf8')) as { oracle: string; results: Result[] };
}

export function sluiceResult(c: GeneratedCase, path: string): Result {
  try {
    const doc = readConfigDocument(path, { optionCase: c.optionCase, strict: c.strict, defaults: c.defaults });
    return {
      ok: {
        defaults: [...sectionItems(doc, DEFAULT_SECTION, c.interpolation)!],
        sections: doc.sectionNames().map((name) => [name, [...sectionItems(doc, name, c.interpolation)!]]),
      },
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { error: PYTHON_ERROR[err.kind], line: err.line ?? null, source: err.source === undefined ? null : basename(err.source) };
  }
}

/** Python gives no line for interpolation and decode errors, and names no file for some: compare only what both give. */
export function comparable(python: Result, sluice: Result): Result {
  if ('ok' in python || 'ok' in sluice) return sluice;
  return {
    error: sluice.error,
    line: python.line === null ? null : sluice.line,
    source: python.source === null ? null : sluice.source,
  };
}
