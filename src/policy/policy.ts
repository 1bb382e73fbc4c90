/**
 * A set of named rules, compiled once: defaults registered in code, overridden rule by rule by a
 * policy file (oslo.policy's Enforcer: a file rule replaces the default of that name, defaults
 * fill in the rest, the file may add helper rules of its own).
 *
 * Modes. `strict` (the default) refuses a policy with any issue: a syntax error, a `rule:`
 * naming no rule, rules referring to each other in a loop, a check sluice cannot evaluate.
 * `compatible` loads it anyway and evaluates it as oslo.policy 4.0 would: a rule it cannot parse
 * is `!`, an unknown `rule:` is false (or the default rule's result, when `defaultRule` is
 * set, as oslo.policy's `policy_default_rule` does), a loop is an evaluation error when it is
 * actually gone round. Both modes evaluate a well-formed policy identically.
 */
import type { CheckNode, PolicyNode } from './ast';
import { EvalState, PolicyEvaluationError, customCheck, failingCheck, fieldCheck, literalCheck, roleCheck, type CheckKind, type Credentials, type Evaluator, type Target } from './checks';
import { PolicyError, type PolicyIssue, type PolicyIssueCode } from './errors';
import type { PolicyFileContents } from './file';
import { kindMeaning } from './kind';
import { parseRuleValue } from './parser';
import { pyTruthy } from './python-str';
import { compileTemplate } from './template';
import { TraceRecorder, type Decision } from './trace';

export interface RuleOperation {
  readonly method: string;
  readonly path: string;
}

/** A rule as the code registers it (oslo.policy's DocumentedRuleDefault). */
export interface RuleDefault {
  readonly name: string;
  /** The rule text. */
  readonly check: string;
  readonly description: string;
  /** The API operations the rule governs, for documentation. */
  readonly operations?: readonly RuleOperation[];
}

export type PolicyMode = 'strict' | 'compatible';

export interface PolicyOptions {
  /** `strict` (default): any issue throws PolicyError. `compatible`: load as oslo.policy would. */
  readonly mode?: PolicyMode;
  /** Check kinds registered in code, by kind (`account_acl`, ...). `rule` and `role` cannot be replaced. */
  readonly checks?: Readonly<Record<string, CheckKind>>;
  /** oslo.policy's `policy_default_rule`: the rule used for a rule name that does not exist. None by default. */
  readonly defaultRule?: string;
}

export interface PolicyInput extends PolicyOptions {
  readonly defaults?: readonly RuleDefault[];
  /** The policy file's rules, overriding the defaults. */
  readonly file?: PolicyFileContents;
}

export interface RuleInfo {
  readonly name: string;
  readonly node: PolicyNode;
  /** The rule as written: text, or (legacy form) a list of lists. */
  readonly value: unknown;
  /** The rule text; for the legacy form, its JSON. */
  readonly text: string;
  /** `defaults`, or the policy file's path. */
  readonly source: string;
  /** 1-based line in the policy file. */
  readonly line?: number;
  /** The default registered under this name, whether or not the file overrides it. */
  readonly registered?: RuleDefault;
}

export interface PolicyBuild {
  readonly policy: Policy;
  /** Every issue found; empty for a well-formed policy. */
  readonly issues: readonly PolicyIssue[];
}

export const DEFAULTS_SOURCE = 'defaults';
const RESERVED_KINDS = new Set(['rule', 'role']);
/** oslo.policy's external checks (a POST to a URL): not implemented. */
const EXTERNAL_KINDS = new Set(['http', 'https']);

interface Entry {
  readonly name: string;
  readonly value: unknown;
  readonly source: string;
  readonly line?: number;
  readonly registered?: RuleDefault;
}

interface CompiledRules {
  readonly fast: Evaluator[];
  readonly traced: Evaluator[];
}

class Builder {
  readonly issues: PolicyIssue[] = [];
  readonly fatal: PolicyIssue[] = [];
  readonly entries: Entry[] = [];
  readonly index = new Map<string, number>();
  readonly parsed: PolicyNode[] = [];
  /** For each rule, its resolved references: [check node, target rule index or -1]. */
  readonly refs: [CheckNode, number][][] = [];
  readonly leaves = new Map<CheckNode, Evaluator>();
  /** `rule:` checks whose evaluation can come back to the rule they name. */
  readonly guarded = new Set<CheckNode>();
  fallback: number | undefined;

  constructor(private readonly input: PolicyInput) {}

  issue(code: PolicyIssueCode, entry: Entry, message: string, offset?: number, item?: readonly [number, number]): void {
    const text = typeof entry.value === 'string' ? entry.value : undefined;
    this.issues.push({ code, message, rule: entry.name, source: entry.source, line: entry.line, text: item === undefined ? text : undefined, offset, item });
  }

  collect(): void {
    const seen = new Set<string>();
    for (const d of this.input.defaults ?? []) {
      if (seen.has(d.name)) {
        this.fatal.push({ code: 'duplicate', rule: d.name, source: DEFAULTS_SOURCE, message: `rule ${JSON.stringify(d.name)} is registered twice` });
        continue;
      }
      seen.add(d.name);
      this.index.set(d.name, this.entries.length);
      this.entries.push({ name: d.name, value: d.check, source: DEFAULTS_SOURCE, registered: d });
    }
    const file = this.input.file;
    if (file === undefined) return;
    this.issues.push(...file.issues);
    for (const [name, rule] of file.rules) {
      const at = this.index.get(name);
      const entry: Entry = { name, value: rule.value, source: file.source, line: rule.line, registered: at === undefined ? undefined : this.entries[at]!.registered };
      if (at === undefined) {
        this.index.set(name, this.entries.length);
        this.entries.push(entry);
      } else this.entries[at] = entry;
    }
  }

  parse(): void {
    for (const entry of this.entries) {
      const parsed = parseRuleValue(entry.value);
      if ('fatal' in parsed) {
        this.fatal.push({ code: 'value', rule: entry.name, source: entry.source, line: entry.line, message: parsed.fatal });
        this.parsed.push({ type: 'never', start: 0, end: 0 });
        continue;
      }
      if (typeof entry.value !== 'string' && !Array.isArray(entry.value)) {
        this.issue('value', entry, `${JSON.stringify(entry.value) ?? String(entry.value)} is not rule text; oslo.policy reads it as ${parsed.node.type === 'always' ? '"" (always)' : 'a list of checks'}`);
      }
      for (const p of parsed.problems) this.issue('syntax', entry, p.message, p.offset, p.item);
      this.parsed.push(parsed.node);
    }
    const fallback = this.input.defaultRule;
    if (fallback !== undefined) {
      this.fallback = this.index.get(fallback);
      if (this.fallback === undefined) {
        this.issues.push({ code: 'unknown-rule', source: DEFAULTS_SOURCE, message: `the default rule ${JSON.stringify(fallback)} is not defined` });
      }
    }
  }

  /** Defaults' issues in registration order, then the file's by line; within a rule, by position. */
  sortedIssues(): PolicyIssue[] {
    const rank = new Map<string, number>(this.entries.map((e, i) => [e.name, i]));
    const key = (x: PolicyIssue) => [x.source === DEFAULTS_SOURCE ? 0 : 1, x.line ?? 0, rank.get(x.rule ?? '') ?? -1, x.offset ?? -1] as const;
    return this.issues
      .map((issue, i) => ({ issue, i, k: key(issue) }))
      .sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.k[2] - b.k[2] || a.k[3] - b.k[3] || a.i - b.i)
      .map((x) => x.issue);
  }

  /** The evaluator of every check that is not a `rule:` reference, and the references resolved. */
  checks(): void {
    const kinds = this.input.checks ?? {};
    for (const kind of Object.keys(kinds)) {
      if (RESERVED_KINDS.has(kind)) throw new TypeError(`the check kind ${JSON.stringify(kind)} is built in and cannot be registered`);
    }
    this.entries.forEach((entry, r) => {
      const refs: [CheckNode, number][] = [];
      const visit = (node: PolicyNode): void => {
        if (node.type === 'not') visit(node.child);
        else if (node.type === 'and' || node.type === 'or') node.children.forEach(visit);
        else if (node.type === 'check') {
          if (node.kind === 'rule') refs.push([node, this.reference(entry, node)]);
          else this.leaves.set(node, this.leaf(entry, node, kinds));
        }
      };
      visit(this.parsed[r]!);
      this.refs.push(refs);
    });
  }

  private reference(entry: Entry, node: CheckNode): number {
    const target = this.index.get(node.match);
    if (target !== undefined) return target;
    const instead = this.fallback === undefined ? '' : ` (oslo.policy would use the default rule ${JSON.stringify(this.input.defaultRule)})`;
    this.issue('unknown-rule', entry, `rule:${node.match} refers to no rule${instead}`, node.start + 5, node.item);
    return this.fallback ?? -1;
  }

  private leaf(entry: Entry, node: CheckNode, kinds: Readonly<Record<string, CheckKind>>): Evaluator {
    const matchAt = node.start + node.kind.length + 1;
    const template = compileTemplate(node.match);
    const templateIssue = () => {
      const p = template.problem;
      if (p !== undefined) this.issue(p.code, entry, p.message, matchAt + p.offset, node.item);
    };
    if (node.kind === 'role') {
      templateIssue();
      return roleCheck(template);
    }
    const custom = Object.hasOwn(kinds, node.kind) ? kinds[node.kind] : undefined;
    if (custom !== undefined) {
      templateIssue();
      const compiled = custom.compile(node.match, template);
      if (typeof compiled === 'function') return customCheck(compiled, template);
      this.issue('check', entry, compiled.error, matchAt + (compiled.offset ?? 0), node.item);
      return failingCheck(template, `${node.text}: ${compiled.error}`);
    }
    if (EXTERNAL_KINDS.has(node.kind)) {
      const message = `${node.kind}: checks (oslo.policy's external HTTP checks) are not supported`;
      this.issue('unsupported', entry, message, node.start, node.item);
      return failingCheck(template, message);
    }
    const meaning = kindMeaning(node.kind);
    if (meaning.type === 'invalid') {
      this.issue('check', entry, meaning.message, node.start, node.item);
      templateIssue();
      return failingCheck(template, meaning.message);
    }
    templateIssue();
    return meaning.type === 'literal' ? literalCheck(meaning.value, template) : fieldCheck(meaning.path, template);
  }

  /** Tarjan's strongly connected components over the references; a component with a loop is reported once. */
  cycles(): void {
    const n = this.entries.length;
    const order = new Array<number>(n).fill(-1);
    const low = new Array<number>(n).fill(0);
    const onStack = new Array<boolean>(n).fill(false);
    const stack: number[] = [];
    const component = new Array<number>(n).fill(-1);
    let counter = 0;
    let components = 0;
    const strong = (v: number): void => {
      order[v] = low[v] = counter++;
      stack.push(v);
      onStack[v] = true;
      for (const [, w] of this.refs[v]!) {
        if (w < 0) continue;
        if (order[w] === -1) {
          strong(w);
          low[v] = Math.min(low[v]!, low[w]!);
        } else if (onStack[w]) low[v] = Math.min(low[v]!, order[w]!);
      }
      if (low[v] === order[v]) {
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = false;
          component[w] = components;
        } while (w !== v);
        components++;
      }
    };
    for (let v = 0; v < n; v++) if (order[v] === -1) strong(v);

    const reported = new Set<number>();
    for (let v = 0; v < n; v++) {
      for (const [node, w] of this.refs[v]!) {
        if (w < 0 || component[w] !== component[v]) continue;
        this.guarded.add(node);
        if (reported.has(component[v]!)) continue;
        reported.add(component[v]!);
        const loop = [this.entries[v]!.name, ...this.pathBack(w, v, component).map((i) => this.entries[i]!.name)];
        this.issue('cycle', this.entries[v]!, `rules refer to each other in a loop: ${loop.join(' -> ')}`, node.start + 5, node.item);
      }
    }
  }

  /** The rules from `from` back to `to` inside one component (breadth first, so the shortest). */
  private pathBack(from: number, to: number, component: number[]): number[] {
    const previous = new Map<number, number>([[from, -1]]);
    const queue = [from];
    while (queue.length > 0) {
      const v = queue.shift()!;
      if (v === to) break;
      for (const [, w] of this.refs[v]!) {
        if (w < 0 || component[w] !== component[to] || previous.has(w)) continue;
        previous.set(w, v);
        queue.push(w);
      }
    }
    const path: number[] = [];
    for (let v: number | undefined = to; v !== undefined && v !== -1; v = previous.get(v)) path.unshift(v);
    return path;
  }

  compile(): CompiledRules {
    const fast: Evaluator[] = [];
    const traced: Evaluator[] = [];
    const active = new Uint8Array(this.entries.length);
    const targets = new Map<CheckNode, number>();
    this.refs.forEach((refs) => refs.forEach(([node, w]) => targets.set(node, w)));

    const reference = (node: CheckNode, slots: Evaluator[]): Evaluator => {
      const w = targets.get(node)!;
      if (w < 0) {
        const why = `no rule ${JSON.stringify(node.match)}`;
        return (s) => {
          if (s.trace !== null) s.note(why);
          return false;
        };
      }
      if (!this.guarded.has(node)) return (s) => slots[w]!(s);
      // Evaluation is deterministic: entering a rule again while it is being evaluated would
      // recurse forever (oslo.policy: RecursionError). Stop at the first repeat instead.
      const name = this.entries[w]!.name;
      return (s) => {
        if (active[w] === 1) throw new PolicyEvaluationError(`rule ${JSON.stringify(name)} refers back to itself: the rules loop`);
        active[w] = 1;
        try {
          return slots[w]!(s);
        } finally {
          active[w] = 0;
        }
      };
    };

    const build = (node: PolicyNode, rule: string, slots: Evaluator[], trace: boolean): Evaluator => {
      let inner: Evaluator;
      switch (node.type) {
        case 'always':
          inner = () => true;
          break;
        case 'never': {
          const why = node.invalid;
          inner =
            why === undefined
              ? () => false
              : (s) => {
                  if (s.trace !== null) s.note(`not understood, so never passes: ${why}`);
                  return false;
                };
          break;
        }
        case 'error': {
          const message = node.message;
          inner = () => {
            throw new PolicyEvaluationError(message);
          };
          break;
        }
        case 'check':
          inner = node.kind === 'rule' ? reference(node, slots) : this.leaves.get(node)!;
          break;
        case 'not': {
          const child = build(node.child, rule, slots, trace);
          inner = (s) => !child(s);
          break;
        }
        case 'and': {
          const cs = node.children.map((c) => build(c, rule, slots, trace));
          const [a, b] = cs as [Evaluator, Evaluator];
          inner =
            cs.length === 2
              ? (s) => a(s) && b(s)
              : (s) => {
                  for (const c of cs) if (!c(s)) return false;
                  return true;
                };
          break;
        }
        case 'or': {
          const cs = node.children.map((c) => build(c, rule, slots, trace));
          const [a, b] = cs as [Evaluator, Evaluator];
          inner =
            cs.length === 2
              ? (s) => a(s) || b(s)
              : (s) => {
                  for (const c of cs) if (c(s)) return true;
                  return false;
                };
          break;
        }
      }
      if (!trace) return inner;
      return (s) => {
        const t = s.trace!;
        const at = t.enter(node, rule);
        let result: boolean | undefined;
        try {
          result = inner(s);
          return result;
        } catch (err) {
          if (err instanceof PolicyEvaluationError) t.fail(err.message);
          throw err;
        } finally {
          t.leave(at, result);
        }
      };
    };

    this.entries.forEach((entry, r) => {
      fast.push(build(this.parsed[r]!, entry.name, fast, false));
      traced.push(build(this.parsed[r]!, entry.name, traced, true));
    });
    return { fast, traced };
  }
}

function withSystemScope(creds: Credentials): Credentials {
  // oslo.policy's enforce() copies creds["system_scope"] to creds["system"] when it is set.
  if (!Object.hasOwn(creds, 'system_scope') || !pyTruthy(creds.system_scope)) return creds;
  return { ...creds, system: creds.system_scope };
}

/** Compiles a policy; in strict mode (the default) throws PolicyError when it has any issue. */
export function buildPolicy(input: PolicyInput): PolicyBuild {
  const b = new Builder(input);
  b.collect();
  b.parse();
  if (b.fatal.length > 0) throw new PolicyError([...b.fatal, ...b.issues], input.file?.source);
  b.checks();
  b.cycles();
  const issues = b.sortedIssues();
  if ((input.mode ?? 'strict') === 'strict' && issues.length > 0) throw new PolicyError(issues, input.file?.source);
  const compiled = b.compile();
  const infos: RuleInfo[] = b.entries.map((e, i) => ({
    name: e.name,
    node: b.parsed[i]!,
    value: e.value,
    text: typeof e.value === 'string' ? e.value : (JSON.stringify(e.value) ?? String(e.value)),
    source: e.source,
    line: e.line,
    registered: e.registered,
  }));
  return { policy: new Policy(input.mode ?? 'strict', b.index, infos, compiled, b.fallback), issues };
}

export class Policy {
  /** @internal use buildPolicy() */
  constructor(
    readonly mode: PolicyMode,
    private readonly index: ReadonlyMap<string, number>,
    private readonly infos: readonly RuleInfo[],
    private readonly compiled: CompiledRules,
    private readonly fallback: number | undefined,
  ) {}

  /** Every rule: the registered defaults in registration order, then the file's own rules. */
  get rules(): readonly RuleInfo[] {
    return this.infos;
  }

  rule(name: string): RuleInfo | undefined {
    const i = this.index.get(name);
    return i === undefined ? undefined : this.infos[i];
  }

  /** The rule an enforce() of `name` evaluates: itself, or the default rule standing in. */
  private resolve(name: string): number | undefined {
    return this.index.get(name) ?? this.fallback;
  }

  /** Whether `creds` may do `rule` to `target`. An evaluation error denies. */
  enforce(rule: string, target: Target, creds: Credentials): boolean {
    const i = this.resolve(rule);
    if (i === undefined) return false;
    const s = new EvalState(target, withSystemScope(creds), null);
    try {
      return this.compiled.fast[i]!(s);
    } catch (err) {
      if (err instanceof PolicyEvaluationError) return false;
      throw err;
    }
  }

  /** enforce() with every check evaluated, its result and why, for telling the caller or an operator. */
  explain(rule: string, target: Target, creds: Credentials): Decision {
    const i = this.resolve(rule);
    if (i === undefined) return { rule, allowed: false, decidedBy: undefined, trace: [] };
    const recorder = new TraceRecorder();
    const s = new EvalState(target, withSystemScope(creds), recorder);
    const decidedBy = this.infos[i]!.name;
    try {
      const allowed = this.compiled.traced[i]!(s);
      return { rule, allowed, decidedBy, trace: recorder.entries };
    } catch (err) {
      if (err instanceof PolicyEvaluationError) return { rule, allowed: false, decidedBy, trace: recorder.entries, error: err.message };
      throw err;
    }
  }
}
