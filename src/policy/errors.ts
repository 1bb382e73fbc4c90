/**
 * What is wrong with a policy, said precisely. oslo.policy logs a rule it cannot parse and
 * quietly uses `!` in its place, and only warns about a `rule:` naming no rule; sluice reports each
 * of these with the rule's name and the character where it goes wrong, and its strict loader
 * refuses to start with any of them.
 */
import { ConfigError } from '../compat/config-error';

export type PolicyIssueCode =
  /** oslo.policy cannot parse it either (it logs it and the rule, or that word, becomes `!`). */
  | 'syntax'
  /** A check sluice cannot evaluate: a bad `%` substitution, a kind that is neither a field nor a literal (oslo.policy raises on most, and reads a few as Python sluice does not take). */
  | 'check'
  /** What oslo.policy does and sluice deliberately does not: external http checks, `%` conversions other than `%(name)s`. */
  | 'unsupported'
  /** `rule:NAME` where no rule NAME exists. */
  | 'unknown-rule'
  /** Rules referring to each other in a loop (oslo.policy recurses until Python gives up). */
  | 'cycle'
  /** A rule value that is neither text nor a list of lists of checks. */
  | 'value'
  /** The same rule name twice (registered twice, or twice in one file). */
  | 'duplicate'
  /** The policy file cannot be read or is not a YAML or JSON mapping. */
  | 'file';

export interface PolicyIssue {
  readonly code: PolicyIssueCode;
  readonly message: string;
  /** The rule concerned, when there is one. */
  readonly rule?: string;
  /** Where the rule comes from: the policy file's path, or `defaults`. */
  readonly source: string;
  /** 1-based line in the policy file, when known. */
  readonly line?: number;
  /** The rule text, for showing the position. */
  readonly text?: string;
  /** 0-based offset in `text` (or in the list item) where the problem is. */
  readonly offset?: number;
  /** For a list-of-lists rule: [outer index, inner index] of the item. */
  readonly item?: readonly [number, number];
}

/** One issue on one line, then the rule text with a caret under the position. */
export function formatIssue(issue: PolicyIssue): string {
  const where = issue.line === undefined ? issue.source : `${issue.source}:${issue.line}`;
  const parts: string[] = [];
  if (issue.rule !== undefined) parts.push(`rule ${JSON.stringify(issue.rule)}`);
  if (issue.item !== undefined) parts.push(`item [${issue.item[0]}][${issue.item[1]}]`);
  if (issue.offset !== undefined) parts.push(`column ${issue.offset + 1}`);
  let out = `${where}: ${parts.length > 0 ? `${parts.join(', ')}: ` : ''}${issue.message}`;
  if (issue.text !== undefined && issue.offset !== undefined && !/[\r\n]/.test(issue.text)) {
    out += `\n    ${issue.text}\n    ${' '.repeat(issue.offset)}^`;
  }
  return out;
}

/** A policy that cannot be used as written: every issue found, not only the first. */
export class PolicyError extends ConfigError {
  readonly issues: readonly PolicyIssue[];

  constructor(issues: readonly PolicyIssue[], source?: string) {
    const shown = issues.slice(0, 20).map(formatIssue);
    if (issues.length > shown.length) shown.push(`... and ${issues.length - shown.length} more`);
    // The first line stands alone (a start-up error is read from it); the list, with positions, follows.
    const first = shown[0]?.split('\n')[0] ?? 'no problem listed';
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more ${issues.length === 2 ? 'problem' : 'problems'})` : '';
    super(`invalid policy: ${first}${more}\n${shown.join('\n')}`, { kind: 'invalid', source });
    this.name = 'PolicyError';
    this.issues = issues;
  }
}
