/**
 * One auth filter's policy: its default rules, the operator's policy file over them (reloaded
 * when it changes, in every worker), and the per-request decision, whose reason goes to the
 * access log when it denies.
 */
import type { Logger } from 'pino';
import { Enforcer, formatIssue, type Decision, type Policy, type RuleDefault } from '../../policy';
import type { AuthorizeRequest, ProxyContext } from '../../proxy/context';
import { headerText } from '../auth-common';
import { swiftCheckKinds } from './checks';
import { enforceRule, explainRule, summarizeDecision } from './decide';
import type { AuthzModel } from './model';
import type { AuthzOptions } from './options';
import { asCreds, asTarget, ruleFor, type SwiftCreds, type SwiftTarget } from './target';

export class SwiftAuthz {
  readonly enforcer: Enforcer;

  constructor(
    readonly model: AuthzModel,
    readonly defaults: readonly RuleDefault[],
    options: AuthzOptions,
    logger: Logger,
  ) {
    // A policy file that cannot be used stops the start-up (PolicyError is a ConfigError).
    this.enforcer = new Enforcer({
      defaults,
      file: options.policyFile,
      checkInterval: options.checkInterval,
      checks: swiftCheckKinds(model),
      onReload: (event) => {
        if (event.ok) logger.info({ policy_file: event.file }, 'policy file reloaded');
        else logger.error({ policy_file: event.file, problems: event.error.issues.map(formatIssue) }, 'policy file not reloaded: the rules loaded before stay in force');
      },
    });
    if (options.policyFile) logger.info({ policy_file: options.policyFile }, 'policy file loaded');
  }

  get policy(): Policy {
    return this.enforcer.policy;
  }

  /**
   * Whether the rule for the request allows it. A denial's reason is kept for the access log;
   * an allow clears it (the proxy asks again once it knows the container ACL).
   */
  allows(c: ProxyContext, target: SwiftTarget, creds: SwiftCreds): boolean | Promise<boolean> {
    const policy = this.enforcer.policy;
    const rule = this.ruleOf(policy, target);
    const ok = enforceRule(policy, rule, asTarget(target), asCreds(creds));
    if (ok === true) {
      c.set('authzDenial', undefined);
      return true;
    }
    return this.settle(c, ok, policy, rule, target, creds);
  }

  /** The slow path: data had to be loaded, or the rule denied and the reason is wanted. */
  private async settle(c: ProxyContext, result: boolean | Promise<boolean>, policy: Policy, rule: string, target: SwiftTarget, creds: SwiftCreds): Promise<boolean> {
    const ok = await result;
    c.set('authzDenial', ok ? undefined : summarizeDecision(await explainRule(policy, rule, asTarget(target), asCreds(creds))));
    return ok;
  }

  /**
   * The ACL-setting rules, for an allowed request that sets ACLs: `swift:acl:container:set` for a
   * container PUT/POST with X-Container-Read or X-Container-Write, `swift:acl:account:set` for
   * an account request with X-Account-Access-Control (`accountAcl`, validated, as text).
   */
  allowsAclChange(c: ProxyContext, req: AuthorizeRequest, target: SwiftTarget, creds: SwiftCreds, accountAcl: string | undefined): boolean | Promise<boolean> {
    const sets: { -readonly [K in 'new_read_acl' | 'new_write_acl' | 'new_account_acl']?: string } = {};
    let rule: string | undefined;
    if (req.container !== undefined && req.object === undefined && (req.method === 'PUT' || req.method === 'POST')) {
      const read = req.headers.get('x-container-read');
      const write = req.headers.get('x-container-write');
      if (read !== undefined) sets.new_read_acl = headerText(read);
      if (write !== undefined) sets.new_write_acl = headerText(write);
      if (read !== undefined || write !== undefined) rule = 'swift:acl:container:set';
    } else if (req.container === undefined && accountAcl !== undefined) {
      sets.new_account_acl = accountAcl;
      rule = 'swift:acl:account:set';
    }
    if (rule === undefined) return true;
    // The target keeps its lazy fields: the ACLs set are added on top of it.
    const setting = Object.assign(Object.create(target) as SwiftTarget, sets);
    return this.settle(c, enforceRule(this.enforcer.policy, rule, asTarget(setting), asCreds(creds)), this.enforcer.policy, rule, setting, creds);
  }

  /** The rule for each level and method, per policy in force (a reload makes a new Policy). */
  private ruleNames = new WeakMap<Policy, Map<string, string>>();

  private ruleOf(policy: Policy, target: SwiftTarget): string {
    let names = this.ruleNames.get(policy);
    if (names === undefined) this.ruleNames.set(policy, (names = new Map()));
    const key = `${target.level} ${target.method}`;
    let name = names.get(key);
    if (name === undefined) {
      name = ruleFor(target.level, target.method, (n) => policy.rule(n) !== undefined);
      // Methods are few; a client inventing new ones must not grow the map without bound.
      if (names.size < 64) names.set(key, name);
    }
    return name;
  }

  /** The whole decision with every check's result and reason. */
  explain(target: SwiftTarget, creds: SwiftCreds): Promise<Decision> {
    const policy = this.enforcer.policy;
    return explainRule(policy, this.ruleOf(policy, target), asTarget(target), asCreds(creds));
  }
}
