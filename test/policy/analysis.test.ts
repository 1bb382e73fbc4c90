/**
 * The policy analyses (src/policy/analysis.ts): rules that can never pass, with the reason, and
 * policy file rules nothing uses; and, on 2,000 generated policies, that "never passes" is sound:
 * no credentials and target of an exhaustive small domain make such a rule pass.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzePolicy, buildPolicy, editDistance, formatFinding, nearestName, neverPassingRules, unusedFileRules, type CheckKind, type Credentials, type PolicyFileContents, type RuleDefault, type Target } from '../../src/policy/index';

/** A registered kind: `k:ok` passes when creds.k is "ok"; `k:bad` is refused when loading. */
const CHECKS: Record<string, CheckKind> = {
  k: { compile: (match) => (match === 'bad' ? { error: 'k: expects ok or no' } : (ctx) => ctx.creds.k === match) },
};

function file(rules: Record<string, unknown>, source = 'policy.yaml'): PolicyFileContents {
  return { source, rules: new Map(Object.entries(rules).map(([name, value], i) => [name, { value, line: i + 1 }])), issues: [] };
}

function never(rules: Record<string, unknown>, defaults: RuleDefault[] = []): string[] {
  const { policy } = buildPolicy({ defaults, file: file(rules), checks: CHECKS, mode: 'compatible' });
  return neverPassingRules(policy, { checks: CHECKS }).map(formatFinding);
}

describe('rules that can never pass', () => {
  it('names the part that decides it', () => {
    expect(
      never({
        closed: '!',
        alias: 'rule:closed',
        and_never: 'role:a and !',
        not_always: 'not @',
        via_rule: 'role:b or rule:and_never and role:c',
        to_never: 'rule:and_never',
        all_or: '(rule:and_never or True:False or not @)',
        literal: "'x':y",
        unknown: 'rule:nope',
        contradiction: 'role:a and not role:A',
        deeper: '(role:a or role:b) and not role:a and not rule:b_role',
        b_role: 'role:b',
        refused: 'k:bad or role:a',
        external: 'role:a and http:example.com',
        bad_kind: '1a:b and role:a',
        word: 'and',
        unreadable: 'role:a or (',
        fine: 'role:a or not role:a',
        fine2: 'k:ok and x:%(t)s',
      }),
    ).toEqual([
      'policy.yaml:3: rule "and_never": never passes: "!" never passes',
      'policy.yaml:4: rule "not_always": never passes: not @ never passes: @ is never false',
      'policy.yaml:6: rule "to_never": never passes: rule:and_never never passes',
      'policy.yaml:7: rule "all_or": never passes: no alternative of (rule:and_never or True:False or not @) can pass',
      'policy.yaml:8: rule "literal": never passes: \'x\':y is always false',
      'policy.yaml:9: rule "unknown": never passes: rule:nope refers to no rule, which is false',
      'policy.yaml:10: rule "contradiction": never passes: no results of its checks (role:a) make it pass: they contradict each other',
      'policy.yaml:11: rule "deeper": never passes: no results of its checks (role:a, role:b) make it pass: they contradict each other',
      'policy.yaml:13: rule "refused": never passes: k:bad cannot be evaluated (k: expects ok or no), and the error denies',
      'policy.yaml:14: rule "external": never passes: http:example.com cannot be evaluated (external HTTP checks are not supported), and the error denies',
      'policy.yaml:15: rule "bad_kind": never passes: 1a:b cannot be evaluated ("1a" is neither a credential field (names of letters, digits, "_" and "-", dotted) nor a literal (True, False, None, a number, a quoted string)), and the error denies',
      'policy.yaml:16: rule "word": never passes: the rule is only "and", not a check, and evaluating it is an error, which denies',
      'policy.yaml:17: rule "unreadable": never passes: it cannot be read, so it is "!", as in oslo.policy',
    ]);
  });

  it('takes `!` written alone, and aliases of it, as meant', () => {
    expect(never({ closed: '!', alias: 'rule:closed', alias2: 'rule:alias', not_alias: 'role:a and rule:closed' })).toEqual([
      'policy.yaml:4: rule "not_alias": never passes: rule:closed never passes',
    ]);
  });

  it('follows loops to what evaluation does: a loop entered before anything else passes only raises', () => {
    // a -> b -> rule:a raises (a is being evaluated) before role:x is tried; b -> a -> rule:b likewise.
    expect(never({ a: 'rule:b', b: 'rule:a or role:x' })).toEqual([
      'policy.yaml:1: rule "a": never passes: evaluating rule:b always ends in an error, which denies',
      'policy.yaml:2: rule "b": never passes: evaluating rule:a always ends in an error, which denies',
    ]);
    expect(never({ a: 'rule:b', b: 'role:x or rule:a' })).toEqual([]);
    const { policy } = buildPolicy({ file: file({ a: 'rule:b', b: 'rule:a or role:x' }), mode: 'compatible' });
    expect(policy.enforce('b', {}, { roles: ['x'] })).toBe(false);
  });

  it('a check that may miss its target key can fail, so `not` of it can pass', () => {
    expect(never({ r: 'not 1a:%(t)s', s: '1a:%(t)s' })).toEqual([
      'policy.yaml:2: rule "s": never passes: 1a:%(t)s cannot be evaluated ("1a" is neither a credential field (names of letters, digits, "_" and "-", dotted) nor a literal (True, False, None, a number, a quoted string))',
    ]);
    const { policy } = buildPolicy({ file: file({ r: 'not 1a:%(t)s' }), mode: 'compatible' });
    expect(policy.enforce('r', {}, {})).toBe(true);
  });

  it('with a default rule, a rule: naming no rule is that rule', () => {
    const { policy } = buildPolicy({ file: file({ d: 'role:a and !', r: 'rule:nope', s: 'rule:nope2 or role:b' }), mode: 'compatible', defaultRule: 'd' });
    expect(neverPassingRules(policy, { defaultRule: 'd' }).map((f) => f.rule)).toEqual(['d', 'r']);
    // Without it, the same rule: is false, and `s` can still pass by its role.
    expect(neverPassingRules(buildPolicy({ file: file({ d: 'role:a', r: 'rule:nope', s: 'rule:nope2 or role:b' }), mode: 'compatible' }).policy).map((f) => f.rule)).toEqual(['r']);
  });
});

const DEFAULTS: RuleDefault[] = [
  { name: 'swift:object:get', check: 'role:reader', description: 'GET' },
  { name: 'swift:object:delete', check: 'role:admin', description: 'DELETE' },
  { name: 'helper', check: 'role:x', description: 'a helper' },
];

describe('policy file rules nothing uses', () => {
  it('warns with the nearest registered name, follows references, and leaves used rules alone', () => {
    const { policy } = buildPolicy({
      defaults: DEFAULTS,
      file: file({
        'swift:objet:get': 'role:a',
        'swift:object:get': 'rule:mine',
        mine: 'rule:mine2',
        mine2: 'role:m',
        orphan: 'rule:orphan2',
        orphan2: 'role:o',
        'swift:object:delte': 'rule:helper',
      }),
      mode: 'compatible',
    });
    expect(unusedFileRules(policy).map(formatFinding)).toEqual([
      'policy.yaml:1: rule "swift:objet:get": warning: overrides no default rule and no rule refers to it, so it is never used; did you mean "swift:object:get"?',
      'policy.yaml:5: rule "orphan": warning: overrides no default rule and no rule refers to it, so it is never used',
      'policy.yaml:6: rule "orphan2": warning: overrides no default rule and only rules that are never used refer to it ("orphan")',
      'policy.yaml:7: rule "swift:object:delte": warning: overrides no default rule and no rule refers to it, so it is never used; did you mean "swift:object:delete"?',
    ]);
    expect(unusedFileRules(policy)[0]!.suggestion).toBe('swift:object:get');
  });

  it('says nothing without registered defaults, and counts the default rule as used', () => {
    expect(unusedFileRules(buildPolicy({ file: file({ a: 'role:a' }) }).policy)).toEqual([]);
    const { policy } = buildPolicy({ defaults: DEFAULTS, file: file({ fallback: 'role:f', other: 'role:o' }), defaultRule: 'fallback' });
    expect(unusedFileRules(policy, { defaultRule: 'fallback' }).map((f) => f.rule)).toEqual(['other']);
  });

  it('analyzePolicy gives both, in file order', () => {
    const { policy } = buildPolicy({ defaults: DEFAULTS, file: file({ 'swift:object:get': 'not @', typo: 'role:a', helper: '!' }), checks: CHECKS, mode: 'compatible' });
    expect(analyzePolicy(policy, { checks: CHECKS }).map(formatFinding)).toEqual([
      'policy.yaml:1: rule "swift:object:get": never passes: not @ never passes: @ is never false',
      'policy.yaml:2: rule "typo": warning: overrides no default rule and no rule refers to it, so it is never used',
    ]);
  });
});

describe('edit distance', () => {
  it('counts insertions, deletions, substitutions and adjacent transpositions as one edit each', () => {
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('swift:objet:get', 'swift:object:get')).toBe(1);
    expect(editDistance('swift:obejct:get', 'swift:object:get')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
    expect(nearestName('swift:objetc:gte', ['swift:object:get'])).toBe('swift:object:get');
    expect(nearestName('swift:container:get', ['swift:object:get', 'swift:account:get'])).toBeUndefined();
    expect(nearestName('swift:object:put', ['swift:object:get', 'swift:object:post'])).toBe('swift:object:get');
  });
});

// ---------------------------------------------------------------- soundness on generated policies

const LEAVES = [
  '@', '!', 'role:a', 'role:A', 'role:b', 'True:True', 'True:False', "'x':x", 'x:1', 'x:2', 'x:%(t)s', 'role:%(t)s',
  'k:ok', 'k:no', 'k:bad', 'http:h', '1a:b', '1a:%(t)s', 'x:%(', 'rule:h1', 'rule:h2', 'rule:r', 'rule:nope', 'and',
];

const ruleText: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...LEAVES),
    tie('node').map((c) => `not ${c}`),
    fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((cs) => `(${cs.join(' and ')})`),
    fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((cs) => `(${cs.join(' or ')})`),
  ),
})).node;

/** Every combination of the values the generated checks look at. */
const ROLE_SETS = [[], ['a'], ['b'], ['A'], ['a', 'b'], ['A', 'b']];
const DOMAIN: { creds: Credentials; target: Target }[] = [];
for (const roles of ROLE_SETS)
  for (const x of [undefined, '1', '2', 'a'])
    for (const k of [undefined, 'ok', 'no'])
      for (const t of [undefined, 'a', '1', 'x'])
        DOMAIN.push({ creds: { roles, ...(x === undefined ? {} : { x }), ...(k === undefined ? {} : { k }) }, target: t === undefined ? {} : { t } });

describe('"never passes" is sound', () => {
  it('2,000 generated policies: a rule said never to pass passes for no credentials and target', () => {
    let flagged = 0;
    let passing = 0;
    fc.assert(
      fc.property(ruleText, ruleText, ruleText, (r, h1, h2) => {
        const { policy } = buildPolicy({ file: file({ r, h1, h2 }), checks: CHECKS, mode: 'compatible' });
        const said = new Set(neverPassingRules(policy, { checks: CHECKS }).map((f) => f.rule));
        for (const name of ['r', 'h1', 'h2']) {
          // `!` written alone is not reported, but it is never-passing all the same.
          const closed = policy.rule(name)!.text === '!';
          const passes = DOMAIN.some(({ creds, target }) => policy.enforce(name, target, creds));
          if (said.has(name) || closed) {
            flagged++;
            expect(passes, `${name} of ${JSON.stringify({ r, h1, h2 })}`).toBe(false);
          } else if (passes) passing++;
        }
      }),
      { numRuns: 2000, seed: 20250701 },
    );
    // Not vacuous: both kinds of rule come up in numbers.
    expect(flagged).toBeGreaterThan(600);
    expect(passing).toBeGreaterThan(1500);
  });
});
