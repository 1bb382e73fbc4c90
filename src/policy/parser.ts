/**
 * Rule text (or the legacy list-of-lists form) to a tree, accepting exactly what oslo.policy's
 * parser accepts and building the same tree:
 *
 *   expr   := term ('or' term)*          an `or` of several terms is one node
 *   term   := factor ('and' factor)*     likewise for `and`
 *   factor := 'not' factor | '(' expr ')' | check
 *
 * so `not` binds tightest, then `and`, then `or`; an empty rule always passes. oslo.policy's
 * greedy shift-reduce parser has one twist kept here: in `x or (a and b) and c` the
 * parenthesised `and` takes `c` as one more operand (same meaning, one node fewer).
 *
 * Where oslo.policy logs "Failed to understand rule" and fails closed, this returns an issue with
 * the offset, and the tree oslo.policy would have used: `!` for the whole rule when its structure
 * is wrong, `!` for just the word when a word is no check (no `kind:` and not `@`/`!`).
 */
import type { AlwaysNode, CheckNode, NeverNode, PolicyNode } from './ast';
import { pyTruthy } from './python-str';
import { tokenize, type Token } from './tokenizer';

export interface SyntaxProblem {
  readonly message: string;
  readonly offset: number;
  readonly item?: readonly [number, number];
  /** True when the rule cannot be loaded at all (oslo.policy raises while loading the file). */
  readonly fatal?: boolean;
  /** True when oslo.policy does not notice when parsing (it raises when evaluating the rule instead). */
  readonly silent?: boolean;
}

export interface ParsedRule {
  /** The tree, as oslo.policy would use it (with `!` where it fails closed). */
  readonly node: PolicyNode;
  /** Empty when the rule is well formed. */
  readonly problems: readonly SyntaxProblem[];
}

/** A word that is a single check: `@`, `!` or `kind:match` (oslo.policy's `_parse_check`). */
function checkWord(word: string, start: number, problems: SyntaxProblem[], item?: readonly [number, number]): AlwaysNode | NeverNode | CheckNode {
  const end = start + word.length;
  if (word === '!') return { type: 'never', start, end, item };
  if (word === '@') return { type: 'always', start, end, item };
  const colon = word.indexOf(':');
  if (colon < 0) {
    const invalid = `${JSON.stringify(word)} is not a check: write kind:value, "@" or "!"`;
    problems.push({ message: invalid, offset: start, item });
    return { type: 'never', start, end, item, invalid };
  }
  return { type: 'check', kind: word.slice(0, colon), match: word.slice(colon + 1), text: word, start, end, item };
}

class Failure {
  constructor(
    readonly message: string,
    readonly offset: number,
  ) {}
}

function describe(t: Token): string {
  if (t.type === 'check') return `check ${JSON.stringify(t.text)}`;
  if (t.type === 'string') return `the quoted string ${t.text}`;
  return JSON.stringify(t.text);
}

class TextParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
    private readonly problems: SyntaxProblem[],
  ) {}

  parse(): PolicyNode {
    if (this.tokens.length === 0) throw new Failure('the rule has no check, only whitespace (an empty rule "" always passes)', 0);
    const node = this.expr();
    const extra = this.tokens[this.pos];
    if (extra !== undefined) {
      if (extra.type === ')') throw new Failure('")" closes no "("', extra.start);
      throw new Failure(`expected "and", "or" or the end of the rule, found ${describe(extra)}`, extra.start);
    }
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private expr(): PolicyNode {
    const first = this.term(false);
    if (this.peek()?.type !== 'or') return first;
    const children = [first];
    while (this.peek()?.type === 'or') {
      this.pos++;
      children.push(this.term(true));
    }
    return { type: 'or', children, start: first.start, end: children[children.length - 1]!.end };
  }

  private term(afterOr: boolean): PolicyNode {
    const first = this.factor();
    if (this.peek()?.type !== 'and') return first;
    // After an `or`, oslo.policy extends a parenthesised `and` with the operands that follow it.
    const children = afterOr && first.type === 'and' ? [...first.children] : [first];
    while (this.peek()?.type === 'and') {
      this.pos++;
      children.push(this.factor());
    }
    return { type: 'and', children, start: first.start, end: children[children.length - 1]!.end };
  }

  private factor(): PolicyNode {
    const t = this.tokens[this.pos++];
    if (t === undefined) {
      const last = this.tokens[this.tokens.length - 1]!;
      throw new Failure(`the rule ends after ${describe(last)}; a check, "not" or "(" must follow`, this.text.length);
    }
    switch (t.type) {
      case 'check':
        return checkWord(t.text, t.start, this.problems);
      case 'not': {
        const child = this.factor();
        return { type: 'not', child, start: t.start, end: child.end };
      }
      case '(': {
        const inner = this.expr();
        const close = this.tokens[this.pos];
        if (close === undefined) throw new Failure('this "(" is never closed', t.start);
        if (close.type !== ')') throw new Failure(`expected "and", "or" or ")", found ${describe(close)}`, close.start);
        this.pos++;
        return inner;
      }
      case 'string':
        throw new Failure(`a quoted string is not a check: ${t.text}`, t.start);
      case ')':
        throw new Failure('expected a check, "not" or "(", found ")"', t.start);
      default:
        throw new Failure(`expected a check, "not" or "(" before ${JSON.stringify(t.text)}`, t.start);
    }
  }
}

/** A rule in the policy language. */
export function parseRuleText(text: string): ParsedRule {
  if (text === '') return { node: { type: 'always', start: 0, end: 0 }, problems: [] };
  const problems: SyntaxProblem[] = [];
  const tokens = tokenize(text);
  // oslo.policy turns every word into a check while tokenizing, logging each it cannot
  // understand, before the parser runs; report those words even when the structure fails too.
  for (const t of tokens) if (t.type === 'check') checkWord(t.text, t.start, problems);
  const only = tokens.length === 1 ? tokens[0]! : undefined;
  if (only !== undefined && only.type !== 'check') {
    // oslo.policy's parser hands back a lone token that reduces to nothing as if it were the rule.
    const message = only.type === 'string' ? `a quoted string is not a check: ${only.text}` : `the rule is only ${JSON.stringify(only.text)}, not a check`;
    problems.push({ message, offset: only.start, silent: true });
    const value = only.type === 'string' ? only.text.slice(1, -1) : only.text;
    return { node: { type: 'error', value, message, start: only.start, end: only.end }, problems };
  }
  try {
    const node = new TextParser(text, tokens, []).parse();
    return { node, problems };
  } catch (err) {
    if (!(err instanceof Failure)) throw err;
    problems.push({ message: err.message, offset: err.offset });
    problems.sort((a, b) => a.offset - b.offset);
    return { node: { type: 'never', start: 0, end: text.length, invalid: err.message }, problems };
  }
}

function listItems(inner: unknown): unknown[] | undefined {
  if (typeof inner === 'string') return [inner];
  if (Array.isArray(inner)) return inner;
  // Python iterates a mapping's keys; a number or `true` is not iterable and fails the load.
  if (inner !== null && typeof inner === 'object') return Object.keys(inner);
  return undefined;
}

/**
 * The legacy form: a list of alternatives, each a list of checks that must all pass
 * (`[["role:admin"], ["project_id:%(project_id)s", "role:member"]]`). Items are single checks,
 * not rule text: no tokenizing, no operators. An empty list always passes; a list whose
 * alternatives are all empty never does.
 */
export function parseRuleList(list: readonly unknown[]): ParsedRule {
  if (list.length === 0) return { node: { type: 'always', start: 0, end: 0 }, problems: [] };
  const problems: SyntaxProblem[] = [];
  const alternatives: PolicyNode[] = [];
  list.forEach((inner, i) => {
    if (!pyTruthy(inner)) return;
    const items = listItems(inner);
    if (items === undefined) {
      problems.push({ message: `item ${i} is ${JSON.stringify(inner)}: expected a list of checks or one check`, offset: 0, item: [i, 0], fatal: true });
      return;
    }
    const all = items.map((r, j): PolicyNode => {
      const item = [i, j] as const;
      if (typeof r === 'string') return checkWord(r, 0, problems, item);
      const invalid = `${JSON.stringify(r) ?? String(r)} is not a check: checks in a list rule are strings`;
      problems.push({ message: invalid, offset: 0, item });
      return { type: 'never', start: 0, end: 0, item, invalid };
    });
    alternatives.push(all.length === 1 ? all[0]! : { type: 'and', children: all, start: 0, end: 0, item: [i, 0] });
  });
  if (alternatives.length === 0) return { node: { type: 'never', start: 0, end: 0 }, problems };
  if (alternatives.length === 1) return { node: alternatives[0]!, problems };
  return { node: { type: 'or', children: alternatives, start: 0, end: 0 }, problems };
}

/**
 * A rule value as a policy file holds it: text, a list of lists, or (as oslo.policy's
 * `_parse_list_rule` takes whatever is not text) a mapping read as the list of its keys, and
 * anything Python finds false (null, false, 0) meaning always. A number or `true` cannot be
 * read at all: oslo.policy fails to load the file.
 */
export function parseRuleValue(value: unknown): ParsedRule | { readonly fatal: string } {
  if (typeof value === 'string') return parseRuleText(value);
  if (Array.isArray(value)) return listValue(value);
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto === Object.prototype || proto === null) return listValue(Object.keys(value));
  } else if (!pyTruthy(value)) return { node: { type: 'always', start: 0, end: 0 }, problems: [] };
  return { fatal: `${JSON.stringify(value) ?? String(value)} is not a rule: write rule text, or a list of lists of checks` };
}

function listValue(list: readonly unknown[]): ParsedRule | { readonly fatal: string } {
  const parsed = parseRuleList(list);
  const fatal = parsed.problems.find((p) => p.fatal);
  return fatal === undefined ? parsed : { fatal: fatal.message };
}
