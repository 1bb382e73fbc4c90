/**
 * Swift's INI files read as Python 3's configparser reads them (Swift's readconf, its swift.conf
 * readers, and PasteDeploy's NicerConfigParser are all configparser.ConfigParser underneath),
 * with the settings they use: delimiters `=` and `:`, comment prefixes `#` and `;`, no inline
 * comments, empty lines allowed in values, no valueless keys, strict.
 *
 *   - `[name]` starts a section; the header is everything between the first `[` and the last `]`
 *     of the line, and the rest of the line is ignored. `[DEFAULT]` is the defaults every
 *     section sees; it may appear more than once.
 *   - `key = value` / `key: value`: the first `=` or `:` splits; key and value are stripped of
 *     (Python's) whitespace. `#` and `;` are comments only as the first non-blank character of a
 *     line, so `suffix = abc#123;x` is `abc#123;x`.
 *   - A line indented deeper than its option's line continues the value (joined with `\n`);
 *     blank lines inside a value are kept, trailing ones (and trailing whitespace) dropped.
 *     Comment lines inside a value are skipped.
 *   - Errors: a line before any section header; a section repeated in one file; an option
 *     repeated in one section of one file (after key case folding); a line with no `=`/`:`,
 *     or an empty key. Across the files of a conf.d directory, sections merge and later
 *     values win, as `parser.read(files)` does.
 *   - Keys are lower-cased (configparser's optionxform, as readconf and swift.conf readers
 *     leave it) unless `optionCase: 'preserve'` (PasteDeploy sets optionxform = str, so
 *     proxy-server.conf keeps `SERVICE_require_group` as written). Defaults passed in are
 *     lower-cased either way: Python stores them before PasteDeploy changes optionxform.
 *   - Lines end at `\n`, `\r\n` or `\r` (Python's universal newlines); text is UTF-8, read
 *     without dropping a byte-order mark, as open(encoding='utf-8') does.
 *   - Interpolation happens when values are read (config-interpolation.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, where } from './config-error';
import { interpolate, type Interpolation } from './config-interpolation';
import { pyRstrip, pyStrip, isPySpace } from './py-whitespace';

export { ConfigError } from './config-error';
export type { ConfigErrorKind } from './config-error';
export type { Interpolation } from './config-interpolation';

/** configparser's name for the defaults section. */
export const DEFAULT_SECTION = 'DEFAULT';

export type OptionCase = 'lower' | 'preserve';

export interface DocumentOptions {
  /** `lower` (configparser's default optionxform) or `preserve` (PasteDeploy's optionxform = str). Default `lower`. */
  optionCase?: OptionCase;
  /** Refuse duplicate sections and options within a file (configparser's strict, on by default). */
  strict?: boolean;
  /** Defaults set before any file is read (the `defaults` argument of ConfigParser). */
  defaults?: Record<string, string>;
}

export interface Origin {
  source: string;
  line: number;
}

const HEADER = /^\[(.+)\]/s;

/** Lines as Python's text mode yields them: split at \n, \r\n and \r, no empty last line. */
function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function firstNonSpace(line: string): number {
  for (let i = 0; i < line.length; i++) if (!isPySpace(line[i]!)) return i;
  return 0;
}

/** What configparser holds after reading: raw values, DEFAULT apart, in file order. */
export class ConfigDocument {
  readonly optionCase: OptionCase;
  readonly strict: boolean;
  /** [DEFAULT], raw. */
  readonly defaults = new Map<string, string>();
  /** Every other section's own options, raw, in the order they first appeared. */
  readonly sections = new Map<string, Map<string, string>>();
  private readonly optionOrigins = new Map<string, Map<string, Origin>>();
  private readonly headerOrigins = new Map<string, Origin>();
  /** The files read, in order (for messages). */
  readonly sources: string[] = [];

  constructor(opts: DocumentOptions = {}) {
    this.optionCase = opts.optionCase ?? 'lower';
    this.strict = opts.strict ?? true;
    for (const [key, value] of Object.entries(opts.defaults ?? {})) this.defaults.set(key.toLowerCase(), String(value));
  }

  /** configparser's optionxform. */
  optionKey(name: string): string {
    return this.optionCase === 'lower' ? name.toLowerCase() : name;
  }

  /** Where an option (or, without one, a section header) was last written. */
  origin(section: string, option?: string): Origin | undefined {
    if (option === undefined) return this.headerOrigins.get(section);
    return this.optionOrigins.get(section)?.get(option);
  }

  sectionNames(): string[] {
    return [...this.sections.keys()];
  }

  /** The section's options over [DEFAULT], raw: what `%(name)s` in that section can name. */
  scope(section: string): Map<string, string> {
    const vars = new Map(this.defaults);
    for (const [k, v] of this.sections.get(section) ?? []) vars.set(k, v);
    return vars;
  }

  /** Parses one file's text into the document (configparser's `_read`). */
  read(text: string, source: string): void {
    this.sources.push(source);
    const sectionsAdded = new Set<string>();
    const optionsAdded = new Set<string>();
    const values: { section: string; target: Map<string, string>; key: string; lines: string[] }[] = [];
    let cursect: Map<string, string> | null = null;
    let sectname: string | null = null;
    let optname: string | null = null;
    let curLines: string[] | null = null;
    let indentLevel = 0;
    let firstBadLine: number | undefined;
    let badLines = 0;
    const lines = splitLines(text);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const lineno = i + 1;
      const stripped = pyStrip(line);
      const isComment = stripped.startsWith('#') || stripped.startsWith(';');
      if (isComment || stripped === '') {
        // A blank line may be part of a value; a comment line never is.
        if (!isComment && cursect !== null && optname) curLines!.push('');
        continue;
      }
      const indent = firstNonSpace(line);
      if (cursect !== null && optname && indent > indentLevel) {
        curLines!.push(stripped);
        continue;
      }
      indentLevel = indent;
      const header = HEADER.exec(stripped);
      if (header) {
        sectname = header[1]!;
        const existing = this.sections.get(sectname);
        if (existing) {
          if (this.strict && sectionsAdded.has(sectname)) {
            throw new ConfigError(`${where(source, lineno)}section [${sectname}] appears twice`, { kind: 'duplicate-section', source, line: lineno });
          }
          cursect = existing;
          sectionsAdded.add(sectname);
        } else if (sectname === DEFAULT_SECTION) {
          cursect = this.defaults;
        } else {
          cursect = new Map();
          this.sections.set(sectname, cursect);
          this.headerOrigins.set(sectname, { source, line: lineno });
          sectionsAdded.add(sectname);
        }
        optname = null;
        continue;
      }
      if (cursect === null) {
        throw new ConfigError(`${where(source, lineno)}a [section] header must come first, found ${JSON.stringify(line)}`, {
          kind: 'missing-section-header',
          source,
          line: lineno,
        });
      }
      const delimiter = /[=:]/.exec(stripped);
      if (!delimiter) {
        // configparser notes the bad line and goes on, raising at the end of the file.
        firstBadLine ??= lineno;
        badLines++;
        continue;
      }
      if (delimiter.index === 0) {
        firstBadLine ??= lineno;
        badLines++;
      }
      optname = this.optionKey(pyRstrip(stripped.slice(0, delimiter.index)));
      const addedKey = JSON.stringify([sectname, optname]);
      if (this.strict && optionsAdded.has(addedKey)) {
        throw new ConfigError(`${where(source, lineno)}option ${JSON.stringify(optname)} appears twice in [${sectname}]`, {
          kind: 'duplicate-option',
          source,
          line: lineno,
        });
      }
      optionsAdded.add(addedKey);
      curLines = [pyStrip(stripped.slice(delimiter.index + 1))];
      // Set now so the option keeps its place; the joined value replaces it at the end.
      cursect.set(optname, '');
      values.push({ section: sectname!, target: cursect, key: optname, lines: curLines });
      let origins = this.optionOrigins.get(sectname!);
      if (!origins) this.optionOrigins.set(sectname!, (origins = new Map()));
      origins.set(optname, { source, line: lineno });
    }
    for (const v of values) v.target.set(v.key, pyRstrip(v.lines.join('\n')));
    if (firstBadLine !== undefined) {
      throw new ConfigError(
        `${where(source, firstBadLine)}not a [section], key = value or continuation line${badLines > 1 ? ` (and ${badLines - 1} more bad line${badLines > 2 ? 's' : ''})` : ''}`,
        { kind: 'parsing', source, line: firstBadLine },
      );
    }
  }
}

/** One option, interpolated (ConfigParser.get); undefined when the section or option is absent. */
export function getOption(doc: ConfigDocument, section: string, option: string, mode: Interpolation): string | undefined {
  if (section !== DEFAULT_SECTION && !doc.sections.has(section)) return undefined;
  const vars = doc.scope(section);
  const key = doc.optionKey(option);
  const raw = vars.get(key);
  if (raw === undefined) return undefined;
  const origin = doc.origin(doc.sections.get(section)?.has(key) ? section : DEFAULT_SECTION, key);
  return interpolate(key, raw, { vars, optionKey: (n) => doc.optionKey(n), section, source: origin?.source, line: origin?.line }, mode);
}

/**
 * A section's options over [DEFAULT], interpolated, in Python's order (defaults first):
 * `dict(parser.items(section))`. Undefined when the section does not exist.
 */
export function sectionItems(doc: ConfigDocument, section: string, mode: Interpolation): Map<string, string> | undefined {
  if (section !== DEFAULT_SECTION && !doc.sections.has(section)) return undefined;
  const vars = doc.scope(section);
  const out = new Map<string, string>();
  for (const [key, raw] of vars) {
    const origin = doc.origin(doc.sections.get(section)?.has(key) ? section : DEFAULT_SECTION, key);
    out.set(key, interpolate(key, raw, { vars, optionKey: (n) => doc.optionKey(n), section, source: origin?.source, line: origin?.line }, mode));
  }
  return out;
}

/**
 * The same as a record whose values are interpolated when read, as `parser.get` does: a bad
 * `%` in an option nobody asks for is no error (swift.conf's readers only get what they know).
 */
export function lazySection(doc: ConfigDocument, section: string, mode: Interpolation): Record<string, string> | undefined {
  if (section !== DEFAULT_SECTION && !doc.sections.has(section)) return undefined;
  const out: Record<string, string> = {};
  for (const key of doc.scope(section).keys()) {
    Object.defineProperty(out, key, { enumerable: true, configurable: true, get: () => getOption(doc, section, key, mode) });
  }
  return out;
}

/** Sets own properties even for names like `__proto__`. */
export function toRecord(map: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of map) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/** Decodes a file's bytes as open(encoding='utf-8') does: strictly, keeping a BOM. */
export function decodeConfigBytes(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new ConfigError(`${where(source)}not UTF-8 text`, { kind: 'decode', source });
  }
}

/** Compares by code point, as Python's `sorted` orders str. */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** The files Swift's read_conf_dir reads: `*.conf` not starting with `.`, sorted. */
export function confDirFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.conf') && !f.startsWith('.'))
    .map((f) => join(dir, f))
    .sort(byCodePoint);
}

/**
 * Reads a file, or every file of a conf.d directory (Swift's read_conf_dir), into a document.
 * As ConfigParser.read does, a directory's files that cannot be opened are skipped; reading
 * nothing at all is an error, as in readconf.
 */
export function readConfigDocument(path: string, opts: DocumentOptions = {}): ConfigDocument {
  const doc = new ConfigDocument(opts);
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`, { kind: 'read', source: path });
  }
  if (!isDir) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`, { kind: 'read', source: path });
    }
    doc.read(decodeConfigBytes(bytes, path), path);
    return doc;
  }
  let files: string[];
  try {
    files = confDirFiles(path);
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`, { kind: 'read', source: path });
  }
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      continue;
    }
    doc.read(decodeConfigBytes(bytes, file), file);
  }
  if (doc.sources.length === 0) throw new ConfigError(`unable to read config from ${path}: no readable *.conf file in it`, { kind: 'read', source: path });
  return doc;
}

export interface ParseOptions extends DocumentOptions {
  /** The file name (or a label) for messages. */
  source?: string;
  /** Default `swift` (readconf's NicerInterpolation). */
  interpolation?: Interpolation;
}

export interface ParsedConfig {
  /** [DEFAULT] (and the defaults passed in), interpolated. */
  defaults: Record<string, string>;
  /** Every other section, in file order, with [DEFAULT] under it and interpolated, as readconf returns it. */
  sections: Map<string, Record<string, string>>;
}

/** Every section of a document, as readconf returns them (interpolating everything now). */
export function documentToConfig(doc: ConfigDocument, mode: Interpolation): ParsedConfig {
  const defaults = toRecord(sectionItems(doc, DEFAULT_SECTION, mode)!);
  const sections = new Map<string, Record<string, string>>();
  for (const name of doc.sectionNames()) sections.set(name, toRecord(sectionItems(doc, name, mode)!));
  return { defaults, sections };
}

export function parseConfig(text: string, opts: ParseOptions = {}): ParsedConfig {
  const doc = new ConfigDocument(opts);
  doc.read(text, opts.source ?? '<string>');
  return documentToConfig(doc, opts.interpolation ?? 'swift');
}

/** A file or a conf.d directory, as Swift's readconf reads it. */
export function readConfig(path: string, opts: Omit<ParseOptions, 'source'> = {}): ParsedConfig {
  return documentToConfig(readConfigDocument(path, opts), opts.interpolation ?? 'swift');
}
