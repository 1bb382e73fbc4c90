/**
 * A policy file's text to its rules, read the way oslo.policy reads it (`parse_file_contents`):
 * JSON first, then YAML (PyYAML's `safe_load`, YAML 1.1: `yes`/`on` are booleans, `y` is not;
 * an unknown tag is an error); an empty document is no rules; anything but a mapping at the top
 * cannot be loaded. Both JSON and PyYAML let a repeated key win silently: that is reported here.
 */
import { LineCounter, parseDocument, isMap, isScalar, type DocumentOptions, type ParseOptions, type SchemaOptions } from 'yaml';
import { PolicyError, type PolicyIssue } from './errors';
import { pyTruthy } from './python-str';

export interface FileRule {
  /** The value as loaded: rule text, a list of lists, or whatever else the file holds. */
  readonly value: unknown;
  /** 1-based line of the rule's name in the file, when known. */
  readonly line?: number;
}

export interface PolicyFileContents {
  readonly source: string;
  readonly rules: ReadonlyMap<string, FileRule>;
  /** Problems that do not stop loading (a repeated name). */
  readonly issues: readonly PolicyIssue[];
}

const PYYAML_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const PYYAML_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;

const YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  uniqueKeys: true,
  prettyErrors: false,
  // The yaml package's YAML 1.1 reads `y` and `n` as booleans; PyYAML does not.
  customTags: (tags) =>
    tags.map((t) => {
      if (typeof t !== 'object' || t.tag !== 'tag:yaml.org,2002:bool' || !('test' in t) || !t.test) return t;
      return { ...t, test: t.test.test('true') ? PYYAML_TRUE : PYYAML_FALSE };
    }),
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function fatal(source: string, message: string, line?: number): never {
  throw new PolicyError([{ code: 'file', message, source, line }], source);
}

/** Reads policy file text; throws PolicyError when it cannot be loaded at all. */
export function parsePolicyText(text: string, source: string): PolicyFileContents {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter });
  const issues: PolicyIssue[] = [];
  const lines = new Map<string, number>();
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      const key = pair.key;
      if (!isScalar(key) || key.range === undefined || key.range === null) continue;
      const name = String(key.value);
      const line = lineCounter.linePos(key.range[0]).line;
      if (lines.has(name)) {
        issues.push({ code: 'duplicate', rule: name, source, line, message: `rule ${JSON.stringify(name)} is defined again (first on line ${lines.get(name)}); the last one is used` });
      }
      lines.set(name, line);
    }
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const errors = doc.errors.filter((e) => e.code !== 'DUPLICATE_KEY');
    if (errors.length > 0) {
      const e = errors[0]!;
      fatal(source, `not valid YAML or JSON: ${e.message.split('\n')[0]}`, lineCounter.linePos(e.pos[0]).line);
    }
    if (doc.warnings.length > 0) {
      const w = doc.warnings[0]!;
      fatal(source, `not loadable the way oslo.policy loads YAML: ${w.message.split('\n')[0]}`, lineCounter.linePos(w.pos[0]).line);
    }
    // Duplicates were reported above; load the rest as PyYAML does, the last one winning.
    parsed = parseDocument(text, { ...YAML_OPTIONS, uniqueKeys: false }).toJS({ maxAliasCount: 1000 });
  }
  const opaque = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && !isPlainObject(parsed);
  if (!opaque && !pyTruthy(parsed)) return { source, rules: new Map(), issues };
  if (!isPlainObject(parsed)) fatal(source, `expected a mapping of rule names to rules at the top, found ${Array.isArray(parsed) ? 'a list' : typeof parsed}`);
  const rules = new Map<string, FileRule>();
  for (const [name, value] of Object.entries(parsed)) rules.set(name, { value, line: lines.get(name) });
  return { source, rules, issues };
}
