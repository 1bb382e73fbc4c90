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
  async allows(c: ProxyContext, target: SwiftTarget, creds: SwiftCreds): Promise<boolean> {
    const policy = this.enforcer.policy;
    const rule = ruleFor(target.level, target.method, (name) => policy.rule(name) !== undefined);
    const ok = await enforceRule(policy, rule, asTarget(target), asCreds(creds));
    c.set('authzDenial', ok ? undefined : summarizeDecision(await explainRule(policy, rule, asTarget(target), asCreds(creds))));
    return ok;
  }

  /**
   * The ACL-setting rules, for an allowed request that sets ACLs: `swift:acl:container:set` for a
   * container PUT/POST with X-Container-Read or X-Container-Write, `swift:acl:account:set` for
   * an account request with X-Account-Access-Control (`accountAcl`, validated, as text).
   */
  async allowsAclChange(c: ProxyContext, req: AuthorizeRequest, target: SwiftTarget, creds: SwiftCreds, accountAcl: string | undefined): Promise<boolean> {
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
    const policy = this.enforcer.policy;
    // The target keeps its lazy fields: the ACLs set are added on top of it.
    const setting = Object.assign(Object.create(target) as SwiftTarget, sets);
    const ok = await enforceRule(policy, rule, asTarget(setting), asCreds(creds));
    if (!ok) c.set('authzDenial', summarizeDecision(await explainRule(policy, rule, asTarget(setting), asCreds(creds))));
    return ok;
  }

  /** The whole decision with every check's result and reason. */
  explain(target: SwiftTarget, creds: SwiftCreds): Promise<Decision> {
    const policy = this.enforcer.policy;
    return explainRule(policy, ruleFor(target.level, target.method, (name) => policy.rule(name) !== undefined), asTarget(target), asCreds(creds));
  }
}
