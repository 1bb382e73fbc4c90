/**
 * What an evaluation looked at, for telling someone why a request was allowed or denied. The
 * entries are in evaluation order, each node before the nodes under it; a `rule:x` check's
 * entries are followed by those of rule x. Operands that short-circuit skipped have no entry.
 */
import { formatNode, type PolicyNode } from './ast';

export interface TraceEntry {
  /** Index of the enclosing entry; -1 for the root of the rule asked for. */
  readonly parent: number;
  /** Nesting depth (0 for the root). */
  readonly depth: number;
  /** The named rule whose text holds `node`. */
  readonly rule: string;
  readonly node: PolicyNode;
  /** The node's result; undefined when an evaluation error stopped it. */
  result: boolean | undefined;
  /** Why a check passed or failed, in words (a check adds it while explaining). */
  detail?: string;
  /** The detail is too common to be worth a summary (see CheckContext.note). */
  minor?: boolean;
  /** The evaluation error raised here (oslo.policy would have raised it out of enforce()). */
  error?: string;
}

export interface Decision {
  /** The rule asked for. */
  readonly rule: string;
  readonly allowed: boolean;
  /** The rule that decided: `rule`, or the default rule standing in for an unknown one; undefined when none did. */
  readonly decidedBy: string | undefined;
  readonly trace: readonly TraceEntry[];
  /** The evaluation error that denied, if one did. */
  readonly error?: string;
}

/** Collects entries during one evaluation. */
export class TraceRecorder {
  readonly entries: TraceEntry[] = [];
  private readonly open: number[] = [];

  enter(node: PolicyNode, rule: string): number {
    const index = this.entries.length;
    this.entries.push({ parent: this.open.length > 0 ? this.open[this.open.length - 1]! : -1, depth: this.open.length, rule, node, result: undefined });
    this.open.push(index);
    return index;
  }

  leave(index: number, result: boolean | undefined): void {
    this.entries[index]!.result = result;
    this.open.pop();
  }

  /** Attaches a detail to the entry being evaluated. */
  note(detail: string, minor = false): void {
    const top = this.open[this.open.length - 1];
    if (top === undefined) return;
    this.entries[top]!.detail = detail;
    if (minor) this.entries[top]!.minor = true;
  }

  fail(message: string): void {
    const top = this.open[this.open.length - 1];
    if (top !== undefined && this.entries[top]!.error === undefined) this.entries[top]!.error = message;
  }
}

function label(entry: TraceEntry): string {
  return entry.node.type === 'check' ? entry.node.text : formatNode(entry.node);
}

/**
 * The decision as indented lines:
 *
 *     deny "swift:container:put"
 *       (role:admin or rule:owner) -> false
 *         role:admin -> false: the roles do not include "admin"
 *         rule:owner -> false
 *           project_id:%(project_id)s -> false: credential "project_id" is not "AUTH_b"
 */
export function formatDecision(decision: Decision): string {
  const head = `${decision.allowed ? 'allow' : 'deny'} ${JSON.stringify(decision.rule)}${decision.decidedBy !== undefined && decision.decidedBy !== decision.rule ? ` (by the default rule ${JSON.stringify(decision.decidedBy)})` : ''}`;
  const lines = [decision.decidedBy === undefined ? `${head}: no such rule` : head];
  for (const e of decision.trace) {
    const result = e.error !== undefined ? 'error' : String(e.result);
    const why = e.error ?? e.detail;
    lines.push(`${'  '.repeat(e.depth + 1)}${label(e)} -> ${result}${why === undefined ? '' : `: ${why}`}`);
  }
  return lines.join('\n');
}
