/**
 * What a policy says that loading it does not: rules that can never pass, and policy file rules
 * nothing uses. oslo.policy takes both silently: a rule that denies everyone is only found when
 * everyone is denied, and a file rule under a misspelt name (`swift:objet:get`) overrides nothing
 * while the default it meant to replace stays in force.
 *
 * "Never passes" is sound, not complete: it is said only when no credentials and no target can
 * make enforce() return true. Every check is taken to be able to pass and to fail except where
 * the text alone decides (`@`, `!`, `True:False`, a check that can only raise, a `rule:` naming
 * no rule, a rule that itself never passes); then the rule's checks are treated as independent
 * variables, the same check text being the same variable (a check gives the same answer for the
 * same credentials and target, so `role:a and not role:a` is caught), and the rule is never-passing
 * when no assignment of them makes it true. An evaluation error only ever denies, so it can only
 * remove ways to pass.
 */
import { formatNode, type CheckNode, type PolicyNode } from './ast';
import type { CheckKind } from './checks';
import { kindMeaning } from './kind';
import { DEFAULTS_SOURCE, type Policy, type RuleInfo } from './policy';
import { compileTemplate } from './template';

export interface AnalysisOptions {
  /** The check kinds the policy was built with (a kind whose text it refuses can only raise). */
  readonly checks?: Readonly<Record<string, CheckKind>>;
  /** The policy's `defaultRule`, if it has one: what a `rule:` naming no rule evaluates. */
  readonly defaultRule?: string;
}

export type PolicyFindingCode =
  /** No credentials and no target make the rule pass. */
  | 'never-passes'
  /** A policy file rule that overrides no default and that no rule in use refers to. */
  | 'unused-rule';

export interface PolicyFinding {
  readonly code: PolicyFindingCode;
  readonly severity: 'error' | 'warning';
  readonly rule: string;
  /** `defaults`, or the policy file's path. */
  readonly source: string;
  readonly line?: number;
  readonly message: string;
  /** For an unused rule: the registered rule whose name is nearest (edit distance at most 3). */
  readonly suggestion?: string;
}

/** oslo.policy's external checks, which sluice refuses to evaluate (as in policy.ts). */
const EXTERNAL_KINDS = new Set(['http', 'https']);
/** The furthest a misspelt rule name is from the one meant. */
const MAX_DISTANCE = 3;
/** Past these, the variable search gives up (and the rule is taken to be able to pass). */
const MAX_INLINED_NODES = 4000;
const MAX_SEARCH_STEPS = 200_000;

/** Which results a node can give when its evaluation finishes (an error is neither). */
interface Outcomes {
  readonly t: boolean;
  readonly f: boolean;
}

const UNKNOWN: Outcomes = { t: true, f: true };
const TRUE: Outcomes = { t: true, f: false };
const FALSE: Outcomes = { t: false, f: true };
const NONE: Outcomes = { t: false, f: false };

/** What the text alone says of one check that is not a `rule:` reference. */
interface Leaf {
  readonly outcomes: Outcomes;
  /** Why it cannot pass (or cannot fail), when the text decides. */
  readonly why?: string;
  /** The variable it is: checks with the same key give the same result in one evaluation. */
  readonly key: string;
}

function leafOf(node: CheckNode, checks: Readonly<Record<string, CheckKind>>): Leaf {
  const template = compileTemplate(node.match);
  const key = node.text;
  // As policy.ts builds a check: `role:`, a registered kind, http(s), then literal or field.
  const failing = (why: string): Leaf => ({ outcomes: { t: false, f: template.keys.length > 0 }, why: `${node.text} cannot be evaluated (${why})`, key });
  if (node.kind === 'role') {
    if (template.problem !== undefined) return failing(template.problem.message);
    // RoleCheck lowercases what it looks for: role:Admin and role:admin are one check.
    return { outcomes: UNKNOWN, key: template.keys.length === 0 ? `role:${(template.render({}) as string).toLowerCase()}` : key };
  }
  const custom = Object.hasOwn(checks, node.kind) ? checks[node.kind] : undefined;
  if (custom !== undefined) {
    const compiled = custom.compile(node.match, template);
    return typeof compiled === 'function' ? { outcomes: UNKNOWN, key } : failing(compiled.error);
  }
  if (EXTERNAL_KINDS.has(node.kind)) return failing('external HTTP checks are not supported');
  const meaning = kindMeaning(node.kind);
  if (meaning.type === 'invalid') return failing(meaning.message);
  if (template.problem !== undefined) return failing(template.problem.message);
  if (meaning.type === 'literal' && template.keys.length === 0) {
    const same = template.render({}) === meaning.value;
    return { outcomes: same ? TRUE : FALSE, why: `${node.text} is always ${same}`, key };
  }
  return { outcomes: UNKNOWN, key };
}

/** A rule's formula with references inlined: constants, variables, not, and, or. */
type Formula = boolean | number | { readonly op: 'not'; readonly c: Formula } | { readonly op: 'and' | 'or'; readonly cs: readonly Formula[] };

class Analyzer {
  readonly rules: readonly RuleInfo[];
  readonly index = new Map<string, number>();
  /** Each rule's `rule:` checks, resolved: -1 for a name no rule has. */
  readonly targets = new Map<CheckNode, number>();
  readonly leaves = new Map<CheckNode, Leaf>();
  values: Outcomes[] = [];
  private readonly fallback: number;

  constructor(policy: Policy, options: AnalysisOptions) {
    this.rules = policy.rules;
    this.rules.forEach((r, i) => this.index.set(r.name, i));
    this.fallback = options.defaultRule === undefined ? -1 : (this.index.get(options.defaultRule) ?? -1);
    const checks = options.checks ?? {};
    for (const rule of this.rules) {
      walk(rule.node, (node) => {
        if (node.kind === 'rule') this.targets.set(node, this.index.get(node.match) ?? this.fallback);
        else this.leaves.set(node, leafOf(node, checks));
      });
    }
  }

  /** The least fixpoint over the rules: a rule's outcomes are those of some finite evaluation. */
  solve(): void {
    this.values = this.rules.map(() => NONE);
    for (let changed = true; changed; ) {
      changed = false;
      this.rules.forEach((rule, i) => {
        const v = this.outcomes(rule.node);
        const old = this.values[i]!;
        if (v.t !== old.t || v.f !== old.f) {
          this.values[i] = { t: v.t || old.t, f: v.f || old.f };
          changed = true;
        }
      });
    }
  }

  outcomes(node: PolicyNode): Outcomes {
    switch (node.type) {
      case 'always':
        return TRUE;
      case 'never':
        return FALSE;
      case 'error':
        return NONE;
      case 'check': {
        if (node.kind !== 'rule') return this.leaves.get(node)!.outcomes;
        const w = this.targets.get(node)!;
        return w < 0 ? FALSE : this.values[w]!;
      }
      case 'not': {
        const c = this.outcomes(node.child);
        return { t: c.f, f: c.t };
      }
      case 'and': {
        // An operand is reached only when every one before it passed.
        let reach = true;
        let f = false;
        for (const child of node.children) {
          const c = this.outcomes(child);
          if (reach && c.f) f = true;
          reach &&= c.t;
        }
        return { t: reach, f };
      }
      case 'or': {
        let reach = true;
        let t = false;
        for (const child of node.children) {
          const c = this.outcomes(child);
          if (reach && c.t) t = true;
          reach &&= c.f;
        }
        return { t, f: reach };
      }
    }
  }

  /** Why `node`, which cannot pass, cannot. */
  whyNot(node: PolicyNode): string {
    switch (node.type) {
      case 'always':
        return '"@" always passes';
      case 'never':
        return node.invalid === undefined ? '"!" never passes' : `a part that cannot be read is "!" (${node.invalid})`;
      case 'error':
        return `${node.message}, and evaluating it is an error, which denies`;
      case 'check': {
        if (node.kind !== 'rule') {
          const leaf = this.leaves.get(node)!;
          return leaf.why === undefined ? `${node.text} never passes` : leaf.outcomes.f ? leaf.why : `${leaf.why}, and the error denies`;
        }
        const w = this.targets.get(node)!;
        if (w < 0) return `rule:${node.match} refers to no rule, which is false`;
        return this.values[w]!.f ? `rule:${node.match} never passes` : `evaluating rule:${node.match} always ends in an error, which denies`;
      }
      case 'not':
        return `not ${formatNode(node.child)} never passes: ${formatNode(node.child)} is never false`;
      case 'and': {
        for (const child of node.children) if (!this.outcomes(child).t) return this.whyNot(child);
        return `${formatNode(node)} never passes`;
      }
      case 'or': {
        // The operands tried before one that only raises all fail; the error then denies.
        for (const child of node.children) {
          const c = this.outcomes(child);
          if (!c.t && !c.f) return this.whyNot(child);
          if (!c.f) break;
        }
        return `no alternative of ${formatNode(node)} can pass`;
      }
    }
  }

  /** The formula of a rule, references inlined (a rule already being inlined, or past the budget, is one variable). */
  formula(root: PolicyNode, self: number): { formula: Formula; labels: string[] } | undefined {
    const vars = new Map<string, number>();
    const labels: string[] = [];
    const variable = (key: string): number => {
      let v = vars.get(key);
      if (v === undefined) {
        v = labels.length;
        vars.set(key, v);
        labels.push(key);
      }
      return v;
    };
    let size = 0;
    const inlining = new Set<number>([self]);
    const constant = (o: Outcomes): Formula | undefined => (o.t && o.f ? undefined : o.t);
    const build = (node: PolicyNode): Formula => {
      if (++size > MAX_INLINED_NODES) throw new Budget();
      switch (node.type) {
        case 'always':
          return true;
        case 'never':
        case 'error':
          // A node that only raises: when it is reached the rule is denied, like false.
          return false;
        case 'check': {
          if (node.kind !== 'rule') {
            const leaf = this.leaves.get(node)!;
            return constant(leaf.outcomes) ?? variable(leaf.key);
          }
          const w = this.targets.get(node)!;
          if (w < 0) return false;
          const known = constant(this.values[w]!);
          if (known !== undefined) return known;
          if (inlining.has(w)) return variable(`rule:${this.rules[w]!.name}`);
          inlining.add(w);
          try {
            return build(this.rules[w]!.node);
          } finally {
            inlining.delete(w);
          }
        }
        case 'not':
          return { op: 'not', c: build(node.child) };
        case 'and':
        case 'or':
          return { op: node.type, cs: node.children.map(build) };
      }
    };
    try {
      return { formula: build(root), labels };
    } catch (err) {
      if (err instanceof Budget) return undefined;
      throw err;
    }
  }
}

class Budget extends Error {}

function walk(node: PolicyNode, visit: (check: CheckNode) => void): void {
  if (node.type === 'check') visit(node);
  else if (node.type === 'not') walk(node.child, visit);
  else if (node.type === 'and' || node.type === 'or') for (const c of node.children) walk(c, visit);
}

/** The formula with some variables fixed, folded; a constant when it no longer depends on any. */
function assign(f: Formula, values: ReadonlyMap<number, boolean>): Formula {
  if (typeof f === 'boolean') return f;
  if (typeof f === 'number') return values.get(f) ?? f;
  if (f.op === 'not') {
    const c = assign(f.c, values);
    return typeof c === 'boolean' ? !c : { op: 'not', c };
  }
  const absorbing = f.op === 'or';
  const cs: Formula[] = [];
  for (const child of f.cs) {
    const c = assign(child, values);
    if (c === absorbing) return absorbing;
    if (c !== !absorbing) cs.push(c);
  }
  if (cs.length === 0) return !absorbing;
  return cs.length === 1 ? cs[0]! : { op: f.op, cs };
}

function firstVariable(f: Formula): number | undefined {
  if (typeof f === 'boolean') return undefined;
  if (typeof f === 'number') return f;
  if (f.op === 'not') return firstVariable(f.c);
  for (const c of f.cs) {
    const v = firstVariable(c);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Whether some assignment makes `f` true; undefined when the search ran out of steps. */
function satisfiable(f: Formula): boolean | undefined {
  let steps = 0;
  const search = (g: Formula): boolean => {
    if (++steps > MAX_SEARCH_STEPS) throw new Budget();
    if (typeof g === 'boolean') return g;
    const v = firstVariable(g)!;
    return search(assign(g, new Map([[v, true]]))) || search(assign(g, new Map([[v, false]])));
  };
  try {
    return search(assign(f, new Map()));
  } catch (err) {
    if (err instanceof Budget) return undefined;
    throw err;
  }
}

/** A rule written as `!` alone (or naming one that is, through `rule:` aliases): an intended "nobody". */
function deliberatelyClosed(a: Analyzer, i: number, seen = new Set<number>()): boolean {
  const node = a.rules[i]!.node;
  if (node.type === 'never') return node.invalid === undefined;
  if (node.type !== 'check' || node.kind !== 'rule' || seen.has(i)) return false;
  seen.add(i);
  const w = a.targets.get(node)!;
  return w >= 0 && deliberatelyClosed(a, w, seen);
}

/** Rules that no credentials and no target can make pass. A rule written `!` on purpose is not reported. */
export function neverPassingRules(policy: Policy, options: AnalysisOptions = {}): PolicyFinding[] {
  const a = new Analyzer(policy, options);
  a.solve();
  const out: PolicyFinding[] = [];
  a.rules.forEach((rule, i) => {
    if (deliberatelyClosed(a, i)) return;
    let why: string | undefined;
    if (rule.node.type === 'never' && rule.node.invalid !== undefined) why = 'it cannot be read, so it is "!", as in oslo.policy';
    else if (!a.values[i]!.t) why = a.whyNot(rule.node);
    else {
      const built = a.formula(rule.node, i);
      if (built !== undefined && satisfiable(built.formula) === false) {
        const shown = built.labels.slice(0, 4).join(', ') + (built.labels.length > 4 ? ', ...' : '');
        why = `no results of its checks (${shown}) make it pass: they contradict each other`;
      }
    }
    if (why !== undefined) out.push({ code: 'never-passes', severity: 'error', rule: rule.name, source: rule.source, line: rule.line, message: `never passes: ${why}` });
  });
  return out;
}

/** Levenshtein distance with adjacent transpositions counted as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0]![j] = j;
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The registered name nearest `name` (the first registered, on a tie), if one is within MAX_DISTANCE. */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = MAX_DISTANCE + 1;
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) >= bestDistance) continue;
    const d = editDistance(name, c);
    if (d > 0 && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Policy file rules that override no registered default and that no rule in use refers to: the
 * filter asks only for registered names, so such a rule is never evaluated (often a misspelt
 * name, whose nearest registered name is suggested). Without registered defaults there is
 * nothing to compare with, and nothing is reported.
 */
export function unusedFileRules(policy: Policy, options: Pick<AnalysisOptions, 'defaultRule'> = {}): PolicyFinding[] {
  const a = new Analyzer(policy, options);
  const registered = a.rules.filter((r) => r.registered !== undefined);
  if (registered.length === 0) return [];
  const refs = a.rules.map((rule) => {
    const out: number[] = [];
    walk(rule.node, (node) => {
      if (node.kind !== 'rule') return;
      const w = a.targets.get(node)!;
      if (w >= 0) out.push(w);
    });
    return out;
  });
  const used = new Set<number>();
  const queue = a.rules.flatMap((r, i) => (r.registered !== undefined || r.name === options.defaultRule ? [i] : []));
  for (const i of queue) used.add(i);
  while (queue.length > 0) {
    for (const w of refs[queue.pop()!]!) {
      if (used.has(w)) continue;
      used.add(w);
      queue.push(w);
    }
  }
  const names = registered.map((r) => r.name);
  const out: PolicyFinding[] = [];
  a.rules.forEach((rule, i) => {
    if (used.has(i) || rule.source === DEFAULTS_SOURCE) return;
    const referrers = a.rules.filter((_, j) => refs[j]!.includes(i) && j !== i).map((r) => JSON.stringify(r.name));
    const suggestion = nearestName(rule.name, names);
    let message =
      referrers.length === 0
        ? 'overrides no default rule and no rule refers to it, so it is never used'
        : `overrides no default rule and only rules that are never used refer to it (${referrers.join(', ')})`;
    if (suggestion !== undefined) message += `; did you mean ${JSON.stringify(suggestion)}?`;
    out.push({ code: 'unused-rule', severity: 'warning', rule: rule.name, source: rule.source, line: rule.line, message, suggestion });
  });
  return out;
}

/** Both analyses, in the order of the rules: the registered defaults, then the file's by line. */
export function analyzePolicy(policy: Policy, options: AnalysisOptions = {}): PolicyFinding[] {
  const order = new Map(policy.rules.map((r, i) => [r.name, i]));
  const key = (f: PolicyFinding) => [f.source === DEFAULTS_SOURCE ? 0 : 1, f.line ?? 0, order.get(f.rule) ?? 0] as const;
  return [...neverPassingRules(policy, options), ...unusedFileRules(policy, options)]
    .map((f, i) => ({ f, i, k: key(f) }))
    .sort((x, y) => x.k[0] - y.k[0] || x.k[1] - y.k[1] || x.k[2] - y.k[2] || x.i - y.i)
    .map((x) => x.f);
}

/** One line, as formatIssue writes its first: `FILE:LINE: rule "name": [warning: ]message`. */
export function formatFinding(finding: PolicyFinding): string {
  const where = finding.line === undefined ? finding.source : `${finding.source}:${finding.line}`;
  return `${where}: rule ${JSON.stringify(finding.rule)}: ${finding.severity === 'warning' ? 'warning: ' : ''}${finding.message}`;
}
