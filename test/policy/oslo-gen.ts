/**
 * Generated policies, credentials and targets for the differential test against oslo.policy:
 * rule trees of every operator to depth 4, written out with odd whitespace (Python's, and the
 * BOM which is whitespace only to JavaScript), parentheses glued to words or not, operators in
 * any case, sometimes broken on purpose; the legacy list-of-lists form; YAML or JSON files.
 */
import fc from 'fast-check';

/** The JSON a case is for oslo_oracle.py. */
export interface OracleCase {
  defaults: { name: string; check: string }[];
  /** The policy file's text, or null for none. */
  file: string | null;
  default_rule: string | null;
  queries: { rule: string; target: Record<string, unknown>; creds: Record<string, unknown> }[];
}

export interface GeneratedCase {
  oracle: OracleCase;
  /** The file's rules, before being written out. */
  fileRules: Record<string, unknown> | null;
  fileFormat: 'json' | 'yaml';
}

export const RULE_NAMES = ['a', 'b', 'c', 'd', 'default', 'swift:x', 'r-1'];

/** Most checks and credentials draw from a few common values, so that checks do match. */
const COMMON_ROLES = ['admin', 'member', 'Admin'];
const COMMON_VALUES = ['a', '1', 'True', 'A'];
const ROLES = ['admin', 'Admin', 'ADMIN', 'member', 'reader', 'swiftoperator', 'SwiftOperator', 'x', 'é', 'É', 'Σ', 'ς', 'İ', 'ß'];
const VALUES = ['a', 'A', 'b', '1', '0', 'True', 'False', 'None', '1.5', 'p1', '', '%', 'x y', "'a'"];
const TARGET_KEYS = ['project_id', 'user_id', 'target.project.id', 'owner', 'k', 'a(b)c', 'n', 'flag', 'obj'];
const FIELDS = ['user_id', 'project_id', 'roles', 'is_admin', 'domain_id', 'token.user.id', 'token.roles', 'groups.id', 'a-b', 'token.missing', 'system', 'Role', 'ROLE', 'RULE', 'match', '_', 'nums', 'roles.x', 'user_id.x', 'is_admin.x', 'deep.list.id', 'missing', 'missing.deeper'];
const LITERALS = ['True', 'False', 'None', "'a'", '"A"', "''", "'True'", '1', '-1', '+1', '0x1', '0o17', '0b11', '1.5', '1e3', '.5', '5.', '1_0', '0', '00', '-0', '-0.0', '1e16', '1e-5', '1E400'];
/** Kinds that are no Python expression: oslo.policy raises when it evaluates them. */
const BAD_KINDS = ['', '1a', 'a.', 'not', 'a$b', 'a.1', 'x-await', '1__0', '01', 'if'];
const BAD_WORDS = ['admin', 'foo', 'True', '%(k)s', 'rule', '@@', '!!'];

/** `clean`: nothing oslo.policy cannot parse or evaluate (a type mismatch in the credentials aside). */
function matchArb(clean: boolean): fc.Arbitrary<string> {
  const key = fc.constantFrom(...TARGET_KEYS, 'missing');
  const arbs: fc.WeightedArbitrary<string>[] = [
    { weight: 5, arbitrary: fc.constantFrom(...COMMON_VALUES) },
    { weight: 2, arbitrary: fc.constantFrom(...VALUES.filter((v) => !/\s/.test(v))) },
    { weight: 5, arbitrary: key.map((k) => `%(${k})s`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x-', 'AUTH_', '%%'), key).map(([p, k]) => `${p}%(${k})s`) },
    { weight: 1, arbitrary: fc.tuple(key, key).map(([k, j]) => `%(${k})s.%(${j})s`) },
  ];
  // Python raises on these when it reaches them (after any key lookup before them).
  if (!clean) arbs.push({ weight: 1, arbitrary: fc.constantFrom('100%', '%(k', '%z', '%(k)z', '%(missing)z', '%(k)', 'a%', '%(k)s%', '%%%') });
  return fc.oneof(...arbs);
}

/** One check word, as written in rule text. */
export function checkWordArb(clean: boolean): fc.Arbitrary<string> {
  const arbs: fc.WeightedArbitrary<string>[] = [
    { weight: 8, arbitrary: fc.constantFrom(...COMMON_ROLES).map((r) => `role:${r}`) },
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...ROLES), fc.boolean()).map(([r, sub]) => (sub ? 'role:%(k)s' : `role:${r}`)) },
    { weight: 10, arbitrary: fc.constantFrom(...RULE_NAMES, ...(clean ? [] : ['zz', ''])).map((n) => `rule:${n}`) },
    { weight: 16, arbitrary: fc.tuple(fc.constantFrom(...FIELDS), matchArb(clean)).map(([f, m]) => `${f}:${m}`) },
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...LITERALS), matchArb(clean)).map(([l, m]) => `${l}:${m}`) },
    { weight: 4, arbitrary: fc.constantFrom('@', '!') },
  ];
  if (!clean) {
    arbs.push({ weight: 1, arbitrary: fc.tuple(fc.constantFrom(...BAD_KINDS), matchArb(clean)).map(([k, m]) => `${k}:${m}`) });
    arbs.push({ weight: 1, arbitrary: fc.constantFrom(...BAD_WORDS) });
  }
  return fc.oneof(...arbs);
}

type Tree = { t: 'word'; w: string } | { t: 'not'; c: Tree } | { t: 'and' | 'or'; cs: Tree[] };

function treeArb(clean: boolean): fc.Arbitrary<Tree> {
  return fc.letrec<{ node: Tree; not: Tree; bin: Tree }>((tie) => ({
    node: fc.oneof({ maxDepth: 4, depthSize: 'small' }, { weight: 3, arbitrary: checkWordArb(clean).map((w): Tree => ({ t: 'word', w })) }, tie('not'), { weight: 2, arbitrary: tie('bin') }),
    not: tie('node').map((c): Tree => ({ t: 'not', c })),
    bin: fc.tuple(fc.constantFrom<'and' | 'or'>('and', 'or'), fc.array(tie('node'), { minLength: 2, maxLength: 4 })).map(([t, cs]): Tree => ({ t, cs })),
  })).node;
}

/** Python whitespace of every kind, and the BOM, which JavaScript's \s counts but Python does not. */
const SPACES = [' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u3000', '\x1c', '\x1f', '\x85', '\u2028', '\u2009', '\ufeff'];
const OPERATOR_CASES: Record<string, string[]> = { and: ['and', 'and', 'AND', 'And'], or: ['or', 'or', 'OR', 'oR'], not: ['not', 'not', 'NOT', 'Not'] };

type Tok = { k: 'word'; w: string } | { k: 'op'; w: 'and' | 'or' | 'not' } | { k: '(' } | { k: ')' };

function tokensOf(tree: Tree, pick: () => number, out: Tok[] = []): Tok[] {
  const sub = (c: Tree, needParens: boolean) => {
    // Parentheses where precedence needs them, mostly; sometimes left out (another tree), sometimes extra.
    const paren = (needParens && pick() % 5 !== 0) || pick() % 7 === 0;
    if (paren) out.push({ k: '(' });
    tokensOf(c, pick, out);
    if (paren) out.push({ k: ')' });
  };
  switch (tree.t) {
    case 'word':
      out.push({ k: 'word', w: tree.w });
      break;
    case 'not':
      out.push({ k: 'op', w: 'not' });
      sub(tree.c, tree.c.t === 'and' || tree.c.t === 'or');
      break;
    default:
      tree.cs.forEach((c, i) => {
        if (i > 0) out.push({ k: 'op', w: tree.t as 'and' | 'or' });
        sub(c, c.t === 'and' || c.t === 'or');
      });
  }
  return out;
}

const JUNK: Tok[] = [{ k: 'op', w: 'and' }, { k: 'op', w: 'or' }, { k: 'op', w: 'not' }, { k: '(' }, { k: ')' }, { k: 'word', w: "'role:admin'" }, { k: 'word', w: '"x"' }, { k: 'word', w: 'admin' }, { k: 'word', w: "'x')" }];

/** Tree → text with random spacing, gluing and operator case; `mutate` breaks it on purpose. */
function render(tree: Tree, picks: number[], mutate: number | null): string {
  let n = 0;
  const pick = () => picks[n++ % picks.length]! + n;
  const toks = tokensOf(tree, pick);
  if (mutate !== null && toks.length > 0) {
    const at = mutate % toks.length;
    const how = mutate % 3;
    if (how === 0) toks.splice(at, 1);
    else if (how === 1) toks.splice(at, 0, JUNK[mutate % JUNK.length]!);
    else toks.splice(at, 0, toks[(at + 1) % toks.length]!);
  }
  let text = pick() % 6 === 0 ? SPACES[pick() % SPACES.length]! : '';
  toks.forEach((t, i) => {
    const prev = toks[i - 1];
    // A parenthesis may touch the word next to it: `(role:a` and `role:b)` are split by oslo.policy.
    const glue = prev !== undefined && ((prev.k === '(' && t.k !== 'op') || (t.k === ')' && prev.k !== 'op') || (prev.k === '(' && t.k === '(') || (prev.k === ')' && t.k === ')')) && pick() % 3 !== 0;
    if (i > 0 && !glue) text += pick() % 4 === 0 ? SPACES[pick() % SPACES.length]! : ' ';
    if (t.k === 'word') text += t.w;
    else if (t.k === 'op') {
      const cases = OPERATOR_CASES[t.w]!;
      text += cases[pick() % cases.length];
    } else text += t.k;
  });
  if (pick() % 6 === 0) text += SPACES[pick() % SPACES.length];
  return text;
}

export function ruleTextArb(clean: boolean): fc.Arbitrary<string> {
  const mutation = clean ? fc.constant(null) : fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat(1000) });
  const odd = clean ? ['@', '', '!', '((@))'] : ['@', '', ' ', '\t\n', '()', '(', ')', "'role:admin'", 'not', 'AND', '@ @', '((@))', '(@) and (!)', 'role:a)', '\ufeff'];
  return fc.oneof(
    { weight: 20, arbitrary: fc.tuple(treeArb(clean), fc.array(fc.nat(1000), { minLength: 8, maxLength: 8 }), mutation).map(([tree, picks, mutate]) => render(tree, picks, mutate)) },
    { weight: 1, arbitrary: fc.constantFrom(...odd) },
  );
}

/** The legacy form: lists of check words (no operators), with the odd empty or non-string item. */
function listRuleArb(clean: boolean): fc.Arbitrary<unknown> {
  const item = clean ? checkWordArb(clean) : fc.oneof({ weight: 8, arbitrary: checkWordArb(clean) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(5, null, 'role:a and role:b', ' role:admin', '') });
  const inner: fc.WeightedArbitrary<unknown>[] = [
    { weight: 6, arbitrary: fc.array(item, { maxLength: 3 }) },
    { weight: 2, arbitrary: checkWordArb(clean) },
  ];
  if (!clean) inner.push({ weight: 1, arbitrary: fc.constantFrom<unknown>('', null, 0, [], { 'role:a': 1 }, true, 7) });
  return fc.array(fc.oneof(...inner), { maxLength: 3 });
}

function ruleValueArb(clean: boolean): fc.Arbitrary<unknown> {
  const arbs: fc.WeightedArbitrary<unknown>[] = [
    { weight: 12, arbitrary: ruleTextArb(clean) },
    { weight: 2, arbitrary: listRuleArb(clean) },
  ];
  if (!clean) arbs.push({ weight: 1, arbitrary: fc.constantFrom<unknown>(null, false, 0, {}, { 'role:admin': 1 }, true, 3) });
  return fc.oneof(...arbs);
}

// ---------------------------------------------------------------------------------------------
// Credentials and targets

const scalarArb = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom<unknown>(...COMMON_VALUES) },
  { weight: 6, arbitrary: fc.constantFrom<unknown>(...VALUES, ...ROLES) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(1, 0, -1, 1.5, 1e16, 1e-5, 0.1, true, false, null) },
);
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: scalarArb },
  { weight: 1, arbitrary: fc.array(scalarArb, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('a', 'id', 'x y'), scalarArb, { maxKeys: 2 }) },
);

function optionalFields(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(fields, { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>;
}

export const credsArb: fc.Arbitrary<Record<string, unknown>> = optionalFields({
  roles: fc.oneof(
    { weight: 8, arbitrary: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...COMMON_ROLES) }, fc.constantFrom(...ROLES)), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>('admin', 'xé', { admin: 1 }, null, 7, ['admin', 1]) },
  ),
  user_id: valueArb,
  project_id: valueArb,
  domain_id: valueArb,
  is_admin: fc.constantFrom<unknown>(true, false, 'True', 1),
  token: fc.oneof(
    { weight: 4, arbitrary: optionalFields({ user: optionalFields({ id: valueArb }), roles: fc.array(fc.constantFrom(...ROLES), { maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>('tok', null, ['a']) },
  ),
  groups: fc.array(fc.oneof({ weight: 4, arbitrary: optionalFields({ id: valueArb }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>('g', ['a'], null) }), { maxLength: 3 }),
  nums: fc.array(scalarArb, { maxLength: 3 }),
  deep: optionalFields({ list: fc.array(optionalFields({ id: valueArb }), { maxLength: 2 }) }),
  'a-b': valueArb,
  system_scope: fc.constantFrom<unknown>('all', '', 0, null, ['x']),
  system: valueArb,
  match: valueArb,
  _: valueArb,
  Role: valueArb,
});

export const targetArb: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(fc.constantFrom(...TARGET_KEYS), valueArb, { maxKeys: 6 });

// ---------------------------------------------------------------------------------------------
// Files

const YAML_PLAIN = /^[A-Za-z][\x20-\x7e]*$/;

function yamlQuoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** Plain when both YAML readers surely read it as the same string, double-quoted otherwise. */
function yamlString(s: string): string {
  const plain = YAML_PLAIN.test(s) && s.includes(':') && !s.includes(': ') && !s.includes(' #') && !/[: ]$/.test(s);
  return plain ? s : yamlQuoted(s);
}

function yamlValue(v: unknown): string {
  if (typeof v === 'string') return yamlString(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'string' ? yamlQuoted(x) : yamlValue(x))).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${yamlQuoted(k)}: ${yamlValue(x)}`).join(', ')}}`;
  return String(v);
}

export function writeYaml(rules: Record<string, unknown>): string {
  return Object.entries(rules)
    .map(([k, v]) => `${yamlQuoted(k)}: ${yamlValue(v)}\n`)
    .join('');
}

function caseOf(clean: boolean): fc.Arbitrary<GeneratedCase> {
  return fc
    .record({
      defaults: fc.uniqueArray(fc.record({ name: fc.constantFrom(...RULE_NAMES), check: ruleTextArb(clean) }), { selector: (d) => d.name, maxLength: 5 }),
      file: fc.option(fc.uniqueArray(fc.tuple(fc.constantFrom(...RULE_NAMES), ruleValueArb(clean)), { selector: (r) => r[0], maxLength: 4 }), { freq: 3 }),
      format: fc.constantFrom<'json' | 'yaml'>('json', 'json', 'yaml'),
      defaultRule: fc.constantFrom<string | null>(null, null, null, 'default', 'a'),
      queries: fc.array(fc.record({ defined: fc.nat(), any: fc.constantFrom(...RULE_NAMES, 'zz'), target: targetArb, creds: credsArb }), { minLength: 1, maxLength: 4 }),
    })
    .map(({ defaults, file, format, defaultRule, queries }) => {
      const names = [...new Set([...defaults.map((d) => d.name), ...(file ?? []).map(([n]) => n)])];
      if (clean) {
        // A clean policy refers only to rules that exist, and without loops: a rule only to rules
        // later in RULE_NAMES than itself.
        const fix = (owner: string, value: unknown): unknown => {
          if (Array.isArray(value)) return value.map((v) => fix(owner, v));
          if (typeof value !== 'string') return value;
          const later = names.filter((n) => RULE_NAMES.indexOf(n) > RULE_NAMES.indexOf(owner));
          return value.replace(/rule:([^\s()]*)/g, (ref, name: string) => {
            if (later.includes(name)) return ref;
            return later.length > 0 ? `rule:${later[name.length % later.length]}` : '@';
          });
        };
        defaults = defaults.map((d) => ({ name: d.name, check: fix(d.name, d.check) as string }));
        if (file !== null) file = file.map(([n, v]) => [n, fix(n, v)] as [string, unknown]);
        defaultRule = defaultRule !== null && names.includes(defaultRule) ? defaultRule : null;
      }
      const fileRules = file === null ? null : Object.fromEntries(file);
      const text = fileRules === null ? null : format === 'json' ? JSON.stringify(fileRules) : writeYaml(fileRules);
      // Mostly rules that exist; now and then any name.
      const asked = queries.map(({ defined, any, target, creds }) => ({ rule: names.length > 0 && defined % 5 !== 0 ? names[defined % names.length]! : any, target, creds }));
      return { oracle: { defaults, file: text, default_rule: defaultRule, queries: asked }, fileRules, fileFormat: format };
    });
}

/** A case: clean (well-formed rules, as an operator writes them) or wild (broken on purpose too). */
export const caseArb: fc.Arbitrary<GeneratedCase> = fc.oneof({ weight: 2, arbitrary: caseOf(true) }, { weight: 3, arbitrary: caseOf(false) });
