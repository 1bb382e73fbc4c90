/**
 * Evaluating a Swift rule for a request: synchronous policy evaluation, repeated after loading
 * whatever lazy target field a check asked for (see NeedsData), and the one-line summary of a
 * denial that goes to the access log.
 */
import { formatNode, type Credentials, type Decision, type Policy, type Target } from '../../policy';
import { SWIFT_CHECK_KINDS } from './checks';
import { NeedsData } from './target';

/** More loads than a target has lazy fields means a loader that does not load. */
const MAX_LOADS = 8;

/**
 * Runs `evaluate` until no lazy target field it reads is missing (see NeedsData): at once when it
 * needs none (the owner's requests), else after each load.
 */
export function withData<T>(evaluate: () => T): T | Promise<T> {
  try {
    return evaluate();
  } catch (err) {
    if (!(err instanceof NeedsData)) throw err;
    return loadThen(err, evaluate);
  }
}

async function loadThen<T>(first: NeedsData, evaluate: () => T): Promise<T> {
  await first.load();
  for (let i = 1; ; i++) {
    try {
      return evaluate();
    } catch (err) {
      if (!(err instanceof NeedsData) || i >= MAX_LOADS) throw err;
      await err.load();
    }
  }
}

export function enforceRule(policy: Policy, rule: string, target: Target, creds: Credentials): boolean | Promise<boolean> {
  return withData(() => policy.enforce(rule, target, creds));
}

export async function explainRule(policy: Policy, rule: string, target: Target, creds: Credentials): Promise<Decision> {
  return withData(() => policy.explain(rule, target, creds));
}

const SWIFT_KINDS: ReadonlySet<string> = new Set(SWIFT_CHECK_KINDS);
const RESELLER_FIELDS: ReadonlySet<string> = new Set(['is_reseller_admin', 'is_reseller_reader']);

/**
 * The decision in one line: `deny swift:object:get: <why>`, the reasons being what the Swift
 * checks (ACLs, the caller's relation to the account, referrers) found, in evaluation order.
 */
export function summarizeDecision(decision: Decision): string {
  const head = `${decision.allowed ? 'allow' : 'deny'} ${decision.rule}`;
  if (decision.decidedBy === undefined) return `${head}: no such rule`;
  if (decision.error !== undefined) return `${head}: ${decision.error}`;
  // A check counts when it pushed the decision its way: its result, flipped by each `not` above it.
  const negated: boolean[] = [];
  const reasons: string[] = [];
  decision.trace.forEach((e, i) => {
    negated[i] = e.parent >= 0 && (negated[e.parent]! !== (decision.trace[e.parent]!.node.type === 'not'));
    if (e.node.type !== 'check' || e.detail === undefined || e.result === undefined || e.minor === true) return;
    if ((e.result !== negated[i]) !== decision.allowed) return;
    // "not the reseller admin" is true of nearly every caller: not worth a log line.
    if (!decision.allowed && !SWIFT_KINDS.has(e.node.kind) && RESELLER_FIELDS.has(e.node.kind)) return;
    if (!reasons.includes(e.detail)) reasons.push(e.detail);
  });
  if (reasons.length === 0) {
    const root = decision.trace[0];
    return root === undefined ? head : `${head}: ${root.node.type === 'check' ? root.node.text : formatNode(root.node)} is ${String(root.result)}`;
  }
  return `${head}: ${reasons.join('; ')}`;
}
