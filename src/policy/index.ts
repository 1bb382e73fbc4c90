/**
 * Authorization as policy: oslo.policy's rule language (parser, evaluation, YAML/JSON policy
 * files, defaults registered in code, reload on change) with errors reported at load time and a
 * trace of every decision.
 */
export { analyzePolicy, editDistance, formatFinding, nearestName, neverPassingRules, unusedFileRules, type AnalysisOptions, type PolicyFinding, type PolicyFindingCode } from './analysis';
export { formatNode, type AlwaysNode, type AndNode, type CheckNode, type ErrorNode, type NeverNode, type NotNode, type OrNode, type PolicyNode } from './ast';
export { PolicyEvaluationError, type CheckContext, type CheckKind, type Credentials, type CustomCheck, type Target } from './checks';
export { Enforcer, type EnforcerOptions, type ReloadEvent } from './enforcer';
export { PolicyError, formatIssue, type PolicyIssue, type PolicyIssueCode } from './errors';
export { parsePolicyText, type FileRule, type PolicyFileContents } from './file';
export { kindMeaning, type KindMeaning } from './kind';
export { parseRuleList, parseRuleText, parseRuleValue, type ParsedRule, type SyntaxProblem } from './parser';
export { DEFAULTS_SOURCE, Policy, buildPolicy, type PolicyBuild, type PolicyInput, type PolicyMode, type PolicyOptions, type RuleDefault, type RuleInfo, type RuleOperation } from './policy';
export { pyStr } from './python-str';
export { MISSING, compileTemplate, type Template } from './template';
export { formatDecision, type Decision, type TraceEntry } from './trace';
export { helpComment, ruleLine, sampleRule, textwrap } from './sample';
