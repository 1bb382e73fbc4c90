/**
 * A policy in force: the registered defaults and, when configured, a policy file that is read
 * again when it changes, in every process that holds an Enforcer, without a restart (oslo.policy
 * looks at the file's mtime on every enforce(); here at most once per `checkInterval`).
 *
 * A file that fails to load at start-up is an error (strict mode; the compatible mode starts on
 * the defaults when the file does not exist, as oslo.policy does). A file that fails to load
 * later leaves the last good rules in force: the failure is reported once through `onReload` and
 * kept in `lastError` until a good version of the file is loaded.
 */
import { statSync, readFileSync, type Stats } from 'node:fs';
import type { Credentials, Target } from './checks';
import { PolicyError, type PolicyIssue } from './errors';
import { parsePolicyText } from './file';
import { buildPolicy, type Policy, type PolicyOptions, type RuleDefault } from './policy';
import type { Decision } from './trace';

export type ReloadEvent =
  | { readonly ok: true; readonly file: string; readonly issues: readonly PolicyIssue[] }
  | { readonly ok: false; readonly file: string; readonly error: PolicyError };

export interface EnforcerOptions extends PolicyOptions {
  readonly defaults?: readonly RuleDefault[];
  /** The policy file, YAML or JSON. Without one the defaults are the policy. */
  readonly file?: string;
  /** At most this often (ms) is the file looked at for a change. 1000 by default. */
  readonly checkInterval?: number;
  /** Told of each load after the first: the new rules are in force, or (ok: false) the last good ones stay. */
  readonly onReload?: (event: ReloadEvent) => void;
  /** The clock, in ms (Date.now by default). */
  readonly now?: () => number;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** What tells one version of the file from another. */
function signature(st: Stats | undefined): string {
  return st === undefined ? 'missing' : `${st.mtimeMs}:${st.size}:${st.ino}`;
}

export class Enforcer {
  private policyNow: Policy;
  private seen: string;
  private lastLook: number;
  private error: PolicyError | undefined;
  private readonly interval: number;
  private readonly now: () => number;

  constructor(private readonly options: EnforcerOptions) {
    this.interval = options.checkInterval ?? 1000;
    this.now = options.now ?? Date.now;
    this.lastLook = this.now();
    const file = options.file;
    const st = file === undefined ? undefined : statSync(file, { throwIfNoEntry: false });
    this.seen = signature(st);
    if (file !== undefined && st === undefined && (options.mode ?? 'strict') === 'compatible') {
      this.policyNow = this.build(undefined);
    } else {
      this.policyNow = this.build(file);
    }
  }

  private build(file: string | undefined): Policy {
    const contents = file === undefined ? undefined : parsePolicyText(this.read(file), file);
    return buildPolicy({ ...this.options, file: contents }).policy;
  }

  private read(file: string): string {
    try {
      return UTF8.decode(readFileSync(file));
    } catch (err) {
      const why = err instanceof TypeError ? 'not UTF-8' : (err as NodeJS.ErrnoException).code ?? String(err);
      throw new PolicyError([{ code: 'file', source: file, message: `cannot read the policy file: ${why}` }], file);
    }
  }

  /** The rules in force, after looking at the file if the interval has passed. */
  get policy(): Policy {
    const file = this.options.file;
    if (file !== undefined) {
      const t = this.now();
      if (t - this.lastLook >= this.interval) {
        this.lastLook = t;
        this.reloadIfChanged(file);
      }
    }
    return this.policyNow;
  }

  /** Why the file's latest version is not in force, if it is not. */
  get lastError(): PolicyError | undefined {
    return this.error;
  }

  /** Looks at the file now, whatever the interval; returns whether new rules came into force. */
  refresh(): boolean {
    const file = this.options.file;
    this.lastLook = this.now();
    return file === undefined ? false : this.reloadIfChanged(file);
  }

  private reloadIfChanged(file: string): boolean {
    const sig = signature(statSync(file, { throwIfNoEntry: false }));
    if (sig === this.seen) return false;
    this.seen = sig;
    try {
      if (sig === 'missing') throw new PolicyError([{ code: 'file', source: file, message: 'the policy file is gone; the rules loaded before stay in force' }], file);
      const contents = parsePolicyText(this.read(file), file);
      const { policy, issues } = buildPolicy({ ...this.options, file: contents });
      this.policyNow = policy;
      this.error = undefined;
      this.options.onReload?.({ ok: true, file, issues });
      return true;
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      this.error = err;
      this.options.onReload?.({ ok: false, file, error: err });
      return false;
    }
  }

  enforce(rule: string, target: Target, creds: Credentials): boolean {
    return this.policy.enforce(rule, target, creds);
  }

  explain(rule: string, target: Target, creds: Credentials): Decision {
    return this.policy.explain(rule, target, creds);
  }
}
