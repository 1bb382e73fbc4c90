/**
 * Swift's authorization decisions as policy (src/policy): the Swift check kinds, the default
 * rules of tempauth and keystoneauth, the request target, and the per-filter enforcer.
 */
export { SwiftAuthz } from './authz';
export { SWIFT_CHECK_KINDS, swiftCheckKinds } from './checks';
export { enforceRule, explainRule, summarizeDecision, withData } from './decide';
export { ACCOUNT_FACTS, type AccountFact, type AuthzModel } from './model';
export { EXPLAIN_HEADER, explainRequest, type ExplainHooks, type ExplainedIdentity } from './explain-request';
export { parseAuthzOptions, type AuthzOptions } from './options';
export { requestTarget } from './request';
export { METHODS, keystoneRuleDefaults, tempauthRuleDefaults } from './rules';
export { NeedsData, asCreds, asTarget, lazyTarget, levelOf, ruleFor, type LazyFields, type SwiftCreds, type SwiftLevel, type SwiftTarget } from './target';
