/**
 * The checks a rule is made of, as closures built once per check at load time, and what one
 * evaluation carries. The built-in kinds behave as oslo.policy's RoleCheck and GenericCheck:
 *
 *   - `role:X` passes when X (after substitution), lowercased, is among the lowercased
 *     `creds.roles`; Python iterates whatever `roles` is, so a string counts its characters and
 *     a mapping its keys, and a role that is not a string is an error (`x.lower()` fails);
 *   - `field.path:X` walks the credentials down the dotted path; a list met on the way matches
 *     when any element does (membership), a missing key is false, looking into a string, a number
 *     or null is an error; the value at the end matches when `str(value)` equals X;
 *   - `literal:X` compares `str(literal)` with X.
 *
 * A target key missing for a substitution makes any check false. An error is thrown as
 * PolicyEvaluationError: it stops the evaluation, as the exception does in oslo.policy, and
 * the request is denied.
 */
import { pyStr } from './python-str';
import { MISSING, TemplateError, lookup, type Target, type Template } from './template';
import type { TraceRecorder } from './trace';

export type Credentials = Readonly<Record<string, unknown>>;
export type { Target } from './template';

export class PolicyEvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyEvaluationError';
  }
}

/** What a check sees: the request's target and the caller's credentials. */
export interface CheckContext {
  readonly target: Target;
  readonly creds: Credentials;
  /** True while a decision is being explained: say why with note(). */
  readonly explaining: boolean;
  /**
   * Says why the check being evaluated passed or failed (kept only while explaining). `minor`:
   * a reason too common to be worth a one-line summary (no sync key, no referrer entries).
   */
  note(detail: string, minor?: boolean): void;
}

/** One evaluation's state: one object per enforce(). */
export class EvalState implements CheckContext {
  constructor(
    readonly target: Target,
    readonly creds: Credentials,
    readonly trace: TraceRecorder | null,
  ) {}

  get explaining(): boolean {
    return this.trace !== null;
  }

  note(detail: string, minor = false): void {
    if (this.trace !== null) this.trace.note(detail, minor);
  }
}

export type Evaluator = (s: EvalState) => boolean;

/**
 * A check evaluated by code registered under a kind: `account_acl:read-only`, `referrer:...`.
 * It must be synchronous and give the same answer for the same target and credentials (a rule
 * loop is found by a rule being entered again); it throws PolicyEvaluationError for data it
 * cannot judge, which denies.
 */
export type CustomCheck = (ctx: CheckContext) => boolean;

/** A check kind registered in code, as oslo.policy's `register()` adds one; it takes precedence over a generic check of that name. */
export interface CheckKind {
  /**
   * Called once for each check of this kind when the policy is loaded, with the text after the
   * colon and its `%(key)s` substitution. Returns the check, or why the text is invalid (with the
   * offset in `match`, when it can say).
   */
  compile(match: string, template: Template): CustomCheck | { readonly error: string; readonly offset?: number };
}

function render(s: EvalState, template: Template): string | typeof MISSING {
  try {
    const m = template.render(s.target);
    if (m === MISSING && s.trace !== null) s.note(`the target has no ${JSON.stringify(template.keys.find((k) => lookup(s.target, k) === MISSING))}`);
    return m;
  } catch (err) {
    if (err instanceof TemplateError) throw new PolicyEvaluationError(`cannot substitute ${JSON.stringify(template.source)}: ${err.message}`);
    throw err;
  }
}

function describeType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;
}

function isMapping(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Whether `wanted` (lowercased) is among the lowercased `creds.roles`, as RoleCheck compares
 * them; every role is looked at, since Python lowercases them all before comparing.
 */
function hasRole(creds: Credentials, wanted: string): boolean {
  if (!Object.hasOwn(creds, 'roles')) return false;
  const value = creds.roles;
  let found = false;
  if (Array.isArray(value)) {
    for (const r of value) {
      if (typeof r !== 'string') throw new PolicyEvaluationError(`credential "roles" holds ${describeType(r)}, not a role name`);
      if (!found && (r === wanted || r.toLowerCase() === wanted)) found = true;
    }
  } else if (typeof value === 'string') {
    for (const ch of value) if (ch.toLowerCase() === wanted) found = true;
  } else if (isMapping(value)) {
    for (const r of Object.keys(value)) if (r.toLowerCase() === wanted) found = true;
  } else {
    throw new PolicyEvaluationError(`credential "roles" is ${describeType(value)}, not a list of role names`);
  }
  return found;
}

export function roleCheck(template: Template): Evaluator {
  const constant = template.keys.length === 0 && template.problem === undefined ? (template.render({}) as string).toLowerCase() : undefined;
  return (s) => {
    let wanted = constant;
    if (wanted === undefined) {
      const m = render(s, template);
      if (m === MISSING) return false;
      wanted = m.toLowerCase();
    }
    const ok = hasRole(s.creds, wanted);
    if (s.trace !== null) s.note(`the roles ${ok ? 'include' : 'do not include'} ${JSON.stringify(wanted)}`);
    return ok;
  };
}

function find(value: unknown, path: readonly string[], i: number, wanted: string): boolean {
  if (i === path.length) return wanted === pyStr(value);
  if (!isMapping(value)) throw new PolicyEvaluationError(`credential "${path.slice(0, i).join('.')}" is ${describeType(value)}: cannot look up "${path[i]}" in it`);
  const key = path[i]!;
  if (!Object.hasOwn(value, key)) return false;
  const next = value[key];
  if (Array.isArray(next)) {
    for (const element of next) if (find(element, path, i + 1, wanted)) return true;
    return false;
  }
  return find(next, path, i + 1, wanted);
}

export function fieldCheck(path: readonly string[], template: Template): Evaluator {
  const name = path.join('.');
  return (s) => {
    const m = render(s, template);
    if (m === MISSING) return false;
    const ok = find(s.creds, path, 0, m);
    if (s.trace !== null) s.note(ok ? `credential "${name}" is ${JSON.stringify(m)}` : `no credential "${name}" is ${JSON.stringify(m)}`);
    return ok;
  };
}

export function literalCheck(literal: string, template: Template): Evaluator {
  return (s) => {
    const m = render(s, template);
    if (m === MISSING) return false;
    const ok = m === literal;
    if (s.trace !== null) s.note(`${JSON.stringify(literal)} ${ok ? 'equals' : 'is not'} ${JSON.stringify(m)}`);
    return ok;
  };
}

/** A check that cannot be evaluated: false when a substitution misses (as in oslo.policy, that comes first), otherwise an error. */
export function failingCheck(template: Template, message: string): Evaluator {
  return (s) => {
    if (render(s, template) === MISSING) return false;
    throw new PolicyEvaluationError(message);
  };
}

export function customCheck(check: CustomCheck, template: Template): Evaluator {
  if (template.problem === undefined) return (s) => check(s) === true;
  return (s) => {
    try {
      return check(s) === true;
    } catch (err) {
      if (err instanceof TemplateError) throw new PolicyEvaluationError(`cannot substitute ${JSON.stringify(template.source)}: ${err.message}`);
      throw err;
    }
  };
}
