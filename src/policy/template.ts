/**
 * The right side of a check, `match % target` in oslo.policy: Python's %-formatting with the
 * target as the mapping. `%(key)s` is `str(target[key])` with `key` taken whole (`%(target.id)s`
 * reads the key "target.id"; the target is flat); `%%` is `%`. Python reads the text left to right:
 * a key the target lacks makes the check false (KeyError) as soon as it is reached, and a
 * malformed `%` raises (ValueError) when reached; both are kept in that order here.
 *
 * Any other conversion (`%(key)r`, `%(key)5s`, `%d`, a bare `%s` formatting the whole target) is
 * valid Python that sluice does not implement: reported, and an evaluation error if reached.
 */
import type { PolicyIssueCode } from './errors';
import { pyStr } from './python-str';

export type Target = Readonly<Record<string, unknown>>;

export interface TemplateProblem {
  readonly code: Extract<PolicyIssueCode, 'check' | 'unsupported'>;
  readonly message: string;
  /** 0-based offset in the match text. */
  readonly offset: number;
}

/** Returned by `render` when the target lacks a key (oslo.policy: the check is false). */
export const MISSING: unique symbol = Symbol('missing target key');

export class TemplateError extends Error {
  constructor(readonly problem: TemplateProblem) {
    super(problem.message);
    this.name = 'TemplateError';
  }
}

export interface Template {
  readonly source: string;
  /** The target keys read, in order. */
  readonly keys: readonly string[];
  /** Set when the text has a `%` sluice cannot substitute (reached after `keys`). */
  readonly problem: TemplateProblem | undefined;
  /** The substituted text, or MISSING; throws TemplateError on reaching `problem`. */
  render(target: Target): string | typeof MISSING;
}

type Part = string | { readonly key: string };

const VALID_CONVERSIONS = 'sradiouxXeEfFgGc';

/**
 * A target key's value, or MISSING: a plain object's own keys (a Python dict's), and for a
 * target made by a class (a request's, with fields loaded on first use) its getters too. An
 * undefined value is a missing key (JSON has none).
 */
export function lookup(target: Target, key: string): unknown {
  let value: unknown = MISSING;
  if (Object.hasOwn(target, key)) value = target[key];
  else {
    const proto: unknown = Object.getPrototypeOf(target);
    if (proto !== Object.prototype && proto !== null && key in target) value = target[key];
  }
  return value === undefined ? MISSING : value;
}

function parse(text: string): { parts: Part[]; problem: TemplateProblem | undefined } {
  const parts: Part[] = [];
  let literal = '';
  const flush = () => {
    if (literal !== '') parts.push(literal);
    literal = '';
  };
  const fail = (code: TemplateProblem['code'], message: string, offset: number) => {
    flush();
    return { parts, problem: { code, message, offset } };
  };
  const n = text.length;
  let i = 0;
  while (i < n) {
    const pct = text.indexOf('%', i);
    if (pct < 0) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, pct);
    i = pct + 1;
    if (i >= n) return fail('check', '"%" at the end: write "%%" for a percent sign, or %(name)s', pct);
    if (text[i] === '%') {
      literal += '%';
      i++;
      continue;
    }
    let key: string | undefined;
    if (text[i] === '(') {
      // Python counts nested parentheses in the key: %(a(b)c)s reads the key "a(b)c".
      let depth = 1;
      let j = i + 1;
      for (; j < n && depth > 0; j++) {
        if (text[j] === '(') depth++;
        else if (text[j] === ')') depth--;
      }
      if (depth > 0) return fail('check', `"%(" is never closed by ")": write %(name)s`, pct);
      key = text.slice(i + 1, j - 1);
      flush();
      parts.push({ key });
      i = j;
    }
    const specStart = i;
    while (i < n && '-+ #0'.includes(text[i]!)) i++;
    let star = false;
    if (text[i] === '*') {
      star = true;
      i++;
    } else while (i < n && text[i]! >= '0' && text[i]! <= '9') i++;
    if (text[i] === '.') {
      i++;
      if (text[i] === '*') {
        star = true;
        i++;
      } else while (i < n && text[i]! >= '0' && text[i]! <= '9') i++;
    }
    if (i < n && 'hlL'.includes(text[i]!)) i++;
    if (i >= n) return fail('check', `incomplete "%" directive: write %(name)s`, pct);
    const conversion = text[i]!;
    i++;
    if (star) return fail('check', `"*" in a "%" directive needs a tuple, not the target: write %(name)s`, pct);
    if (!VALID_CONVERSIONS.includes(conversion)) {
      return fail('check', `unsupported format character ${JSON.stringify(conversion)}: write %(name)s, or "%%" for a percent sign`, pct);
    }
    if (key === undefined) return fail('unsupported', `"%${text.slice(specStart, i)}" without a (name): write %(name)s`, pct);
    if (conversion !== 's' || i - specStart !== 1) {
      return fail('unsupported', `"%(${key})${text.slice(specStart, i)}" is not supported: write %(${key})s`, pct);
    }
  }
  flush();
  return { parts, problem: undefined };
}

export function compileTemplate(text: string): Template {
  const { parts, problem } = parse(text);
  const keys = parts.flatMap((p) => (typeof p === 'string' ? [] : [p.key]));
  const base = { source: text, keys, problem };
  if (problem !== undefined) {
    return {
      ...base,
      render(target) {
        for (const key of keys) if (!Object.hasOwn(target, key)) return MISSING;
        throw new TemplateError(problem);
      },
    };
  }
  const only = parts.length === 1 ? parts[0]! : undefined;
  if (parts.length === 0) return { ...base, render: () => '' };
  if (typeof only === 'string') return { ...base, render: () => only };
  if (only !== undefined) {
    const key = only.key;
    return {
      ...base,
      render(target) {
        const v = lookup(target, key);
        return v === MISSING ? MISSING : pyStr(v);
      },
    };
  }
  return {
    ...base,
    render(target) {
      let out = '';
      for (const p of parts) {
        if (typeof p === 'string') out += p;
        else {
          const v = lookup(target, p.key);
          if (v === MISSING) return MISSING;
          out += pyStr(v);
        }
      }
      return out;
    },
  };
}
