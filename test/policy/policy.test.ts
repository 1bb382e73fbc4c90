/**
 * Evaluating policies: each check kind and how it treats missing keys and type mismatches,
 * rule references (unknown, default rule, loops), short-circuits, the trace, custom check kinds,
 * defaults overridden by a file, and what the strict and compatible modes do with issues.
 */
import { describe, expect, it } from 'vitest';
import { buildPolicy, formatDecision, parsePolicyText, PolicyError, type CheckKind, type Policy, type PolicyInput, type PolicyIssue } from '../../src/policy/index';

function policyOf(rules: Record<string, string>, extra: Partial<PolicyInput> = {}): Policy {
  return buildPolicy({ defaults: Object.entries(rules).map(([name, check]) => ({ name, check, description: `the ${name} rule` })), ...extra }).policy;
}

function issuesOf(rules: Record<string, string>, extra: Partial<PolicyInput> = {}): PolicyIssue[] {
  const input: PolicyInput = { defaults: Object.entries(rules).map(([name, check]) => ({ name, check, description: '' })), ...extra };
  const compatible = buildPolicy({ ...input, mode: 'compatible' }).issues;
  // The strict mode refuses exactly what the compatible one reports.
  if (compatible.length > 0) expect(() => buildPolicy(input)).toThrow(PolicyError);
  else expect(() => buildPolicy(input)).not.toThrow();
  return [...compatible];
}

const brief = (issues: PolicyIssue[]) => issues.map(({ code, rule, offset, message }) => ({ code, rule, offset, message }));

describe('role checks', () => {
  const p = policyOf({ r: 'role:SwiftOperator', sub: 'role:%(role)s' });

  it('compare lowercased on both sides', () => {
    expect(p.enforce('r', {}, { roles: ['swiftoperator'] })).toBe(true);
    expect(p.enforce('r', {}, { roles: ['reader', 'SWIFTOPERATOR'] })).toBe(true);
    expect(p.enforce('r', {}, { roles: ['reader'] })).toBe(false);
    expect(p.enforce('r', {}, {})).toBe(false);
    expect(p.enforce('sub', { role: 'ADMIN' }, { roles: ['admin'] })).toBe(true);
    expect(p.enforce('sub', {}, { roles: ['admin'] })).toBe(false);
  });

  it('iterate roles as Python would: a string by characters, a mapping by keys; anything else is an error that denies', () => {
    const one = policyOf({ x: 'role:x', notx: 'not role:x' });
    expect(one.enforce('x', {}, { roles: 'axe' })).toBe(true);
    expect(one.enforce('x', {}, { roles: { X: 1 } })).toBe(true);
    expect(one.explain('x', {}, { roles: ['x', 5] })).toMatchObject({ allowed: false, error: 'credential "roles" holds a number, not a role name' });
    expect(one.explain('notx', {}, { roles: null })).toMatchObject({ allowed: false, error: 'credential "roles" is null, not a list of role names' });
    // An error denies even under `not`: the evaluation stops, as oslo.policy's exception does.
    expect(one.enforce('notx', {}, { roles: 7 })).toBe(false);
  });
});

describe('generic checks', () => {
  it("compare a credential's str() with the match after substitution", () => {
    const p = policyOf({ owner: 'project_id:%(project_id)s', admin: 'is_admin:True', n: 'n:1.5', none: 'x:None', pfx: 'account:AUTH_%(project_id)s' });
    expect(p.enforce('owner', { project_id: 'p1' }, { project_id: 'p1' })).toBe(true);
    expect(p.enforce('owner', { project_id: 'p1' }, { project_id: 'p2' })).toBe(false);
    expect(p.enforce('owner', { project_id: 7 }, { project_id: 7 })).toBe(true);
    expect(p.enforce('owner', {}, { project_id: 'p1' })).toBe(false);
    expect(p.enforce('owner', { project_id: 'p1' }, {})).toBe(false);
    expect(p.enforce('admin', {}, { is_admin: true })).toBe(true);
    expect(p.enforce('admin', {}, { is_admin: 'True' })).toBe(true);
    expect(p.enforce('admin', {}, { is_admin: 1 })).toBe(false);
    expect(p.enforce('n', {}, { n: 1.5 })).toBe(true);
    expect(p.enforce('none', {}, { x: null })).toBe(true);
    expect(p.enforce('pfx', { project_id: 'p1' }, { account: 'AUTH_p1' })).toBe(true);
  });

  it('walk dotted paths, matching any element of a list on the way', () => {
    const p = policyOf({ user: 'token.user.id:%(user)s', group: 'groups.id:g2', role: 'roles:member' });
    expect(p.enforce('user', { user: 'u' }, { token: { user: { id: 'u' } } })).toBe(true);
    expect(p.enforce('user', { user: 'u' }, { token: { user: {} } })).toBe(false);
    expect(p.enforce('user', { user: 'u' }, { token: {} })).toBe(false);
    expect(p.enforce('group', {}, { groups: [{ id: 'g1' }, { name: 'x' }, { id: 'g2' }] })).toBe(true);
    expect(p.enforce('group', {}, { groups: [{ id: 'g1' }] })).toBe(false);
    expect(p.enforce('role', {}, { roles: ['reader', 'member'] })).toBe(true);
  });

  it('make looking into a string, a number, null or a nested list an error that denies', () => {
    const p = policyOf({ user: 'token.user.id:u' });
    for (const token of ['abc', 5, null, [['u']]]) {
      const d = p.explain('user', {}, { token: { user: token } });
      expect(d.allowed, JSON.stringify(token)).toBe(false);
      expect(d.error, JSON.stringify(token)).toMatch(/^credential "token.user" is (a string|a number|null|a list): cannot look up "id" in it$/);
    }
  });

  it('compare a literal kind with the substituted match', () => {
    const p = policyOf({ member: "'Member':%(role.name)s", on: 'True:%(enabled)s', one: '1:%(n)s', f: '1e3:%(n)s' });
    expect(p.enforce('member', { 'role.name': 'Member' }, {})).toBe(true);
    expect(p.enforce('member', { 'role.name': 'member' }, {})).toBe(false);
    expect(p.enforce('on', { enabled: true }, {})).toBe(true);
    expect(p.enforce('one', { n: 1 }, {})).toBe(true);
    expect(p.enforce('f', { n: 1000 }, {})).toBe(false);
    expect(p.enforce('f', { n: '1000.0' }, {})).toBe(true);
  });

  it("copy creds.system_scope to creds.system, as oslo.policy's enforce() does", () => {
    const p = policyOf({ sys: 'system:all' });
    expect(p.enforce('sys', {}, { system_scope: 'all' })).toBe(true);
    expect(p.enforce('sys', {}, { system_scope: '', system: 'all' })).toBe(true);
    expect(p.enforce('sys', {}, {})).toBe(false);
  });
});

describe('operators', () => {
  it('short-circuit: operands after the deciding one are not evaluated (the trace has no entry for them)', () => {
    const p = policyOf({ or: '@ or token.user.id:x', and: '! and token.user.id:x' });
    // token is a string: evaluating the second operand would be an error.
    for (const rule of ['or', 'and']) {
      const d = p.explain(rule, {}, { token: 'abc' });
      expect(d.error).toBeUndefined();
      expect(d.trace.map((e) => e.node.type)).toEqual([rule, rule === 'or' ? 'always' : 'never']);
    }
    expect(p.enforce('or', {}, { token: 'abc' })).toBe(true);
    expect(p.enforce('and', {}, { token: 'abc' })).toBe(false);
  });

  it('evaluate not, and, or with their precedence', () => {
    const p = policyOf({ r: 'role:a or role:b and not role:c' });
    expect(p.enforce('r', {}, { roles: ['a', 'c'] })).toBe(true);
    expect(p.enforce('r', {}, { roles: ['b'] })).toBe(true);
    expect(p.enforce('r', {}, { roles: ['b', 'c'] })).toBe(false);
  });
});

describe('rule references', () => {
  it('evaluate the named rule', () => {
    const p = policyOf({ admin: 'role:admin', owner: 'project_id:%(project_id)s', r: 'rule:admin or rule:owner' });
    expect(p.enforce('r', { project_id: 'p' }, { roles: ['admin'] })).toBe(true);
    expect(p.enforce('r', { project_id: 'p' }, { project_id: 'p' })).toBe(true);
    expect(p.enforce('r', { project_id: 'p' }, { project_id: 'q' })).toBe(false);
  });

  it('to an unknown rule: a strict error at its position; false in the compatible mode, or the default rule', () => {
    expect(brief(issuesOf({ r: 'role:a or rule:nope' }))).toEqual([{ code: 'unknown-rule', rule: 'r', offset: 15, message: 'rule:nope refers to no rule' }]);
    const p = buildPolicy({ defaults: [{ name: 'r', check: 'not rule:nope', description: '' }], mode: 'compatible' }).policy;
    expect(p.enforce('r', {}, {})).toBe(true);
    const withDefault = buildPolicy({ defaults: [{ name: 'r', check: 'rule:nope', description: '' }, { name: 'default', check: 'role:admin', description: '' }], mode: 'compatible', defaultRule: 'default' }).policy;
    expect(withDefault.enforce('r', {}, { roles: ['admin'] })).toBe(true);
    expect(withDefault.enforce('r', {}, { roles: [] })).toBe(false);
  });

  it('enforce() of an unknown name is false, or the default rule', () => {
    const p = policyOf({ default: 'role:admin' }, { defaultRule: 'default' });
    expect(p.enforce('swift:nothing', {}, { roles: ['admin'] })).toBe(true);
    expect(p.explain('swift:nothing', {}, { roles: ['admin'] })).toMatchObject({ allowed: true, decidedBy: 'default' });
    const q = policyOf({ a: '@' });
    expect(q.enforce('swift:nothing', {}, {})).toBe(false);
    expect(formatDecision(q.explain('swift:nothing', {}, {}))).toBe('deny "swift:nothing": no such rule');
    expect(issuesOf({ a: '@' }, { defaultRule: 'default' })).toEqual([expect.objectContaining({ code: 'unknown-rule', message: 'the default rule "default" is not defined' })]);
  });

  it('in a loop: one strict error naming the loop; the compatible mode errs only when the loop is gone round', () => {
    expect(brief(issuesOf({ a: 'role:x or rule:b', b: 'rule:c', c: '@ and rule:a', d: 'rule:d' }))).toEqual([
      { code: 'cycle', rule: 'a', offset: 15, message: 'rules refer to each other in a loop: a -> b -> c -> a' },
      { code: 'cycle', rule: 'd', offset: 5, message: 'rules refer to each other in a loop: d -> d' },
    ]);
    // `not` hides a loop from oslo.policy's check_rules(), not from sluice.
    expect(brief(issuesOf({ a: 'not rule:a' }))).toEqual([{ code: 'cycle', rule: 'a', offset: 9, message: 'rules refer to each other in a loop: a -> a' }]);

    const p = buildPolicy({ defaults: [{ name: 'a', check: 'role:x or rule:b', description: '' }, { name: 'b', check: 'rule:a', description: '' }], mode: 'compatible' }).policy;
    expect(p.enforce('a', {}, { roles: ['x'] })).toBe(true);
    const d = p.explain('a', {}, { roles: [] });
    expect(d).toMatchObject({ allowed: false, error: 'rule "b" refers back to itself: the rules loop' });
    expect(p.enforce('b', {}, { roles: [] })).toBe(false);
    expect(p.enforce('b', {}, { roles: ['x'] })).toBe(true);
  });
});

describe('the trace', () => {
  it('records each node evaluated, in order, with the rule it belongs to, its result and why', () => {
    const p = policyOf({ admin: 'role:admin', owner: 'project_id:%(project_id)s', put: 'rule:admin or (rule:owner and role:swiftoperator)' });
    const d = p.explain('put', { project_id: 'AUTH_b' }, { roles: ['Member', 'SwiftOperator'], project_id: 'AUTH_a' });
    expect(d.allowed).toBe(false);
    expect(d.trace.map((e) => [e.depth, e.parent, e.rule, e.node.type, e.result])).toEqual([
      [0, -1, 'put', 'or', false],
      [1, 0, 'put', 'check', false],
      [2, 1, 'admin', 'check', false],
      [1, 0, 'put', 'and', false],
      [2, 3, 'put', 'check', false],
      [3, 4, 'owner', 'check', false],
    ]);
    expect(formatDecision(d)).toBe(
      [
        'deny "put"',
        '  (rule:admin or (rule:owner and role:swiftoperator)) -> false',
        '    rule:admin -> false',
        '      role:admin -> false: the roles do not include "admin"',
        '    (rule:owner and role:swiftoperator) -> false',
        '      rule:owner -> false',
        '        project_id:%(project_id)s -> false: no credential "project_id" is "AUTH_b"',
      ].join('\n'),
    );
    expect(d.trace[5]!.node).toMatchObject({ start: 0, end: 25 });
  });

  it('marks where an evaluation error happened', () => {
    const d = policyOf({ r: 'not token.id:x' }).explain('r', {}, { token: 'abc' });
    expect(formatDecision(d)).toBe(
      ['deny "r"', '  not token.id:x -> error: credential "token" is a string: cannot look up "id" in it', '    token.id:x -> error: credential "token" is a string: cannot look up "id" in it'].join('\n'),
    );
    expect(d.trace.map((e) => e.result)).toEqual([undefined, undefined]);
  });
});

describe('custom check kinds', () => {
  const acl: CheckKind = {
    compile(match, template) {
      if (match === '') return { error: 'name the ACL level' };
      if (match === 'bad*') return { error: 'no "*" here', offset: 3 };
      return (ctx) => {
        const wanted = template.render(ctx.target);
        const grants = (ctx.target.grants as string[] | undefined) ?? [];
        const ok = typeof wanted === 'string' && grants.includes(wanted);
        if (ctx.explaining) ctx.note(ok ? `granted ${wanted}` : `no grant of ${String(wanted)} in [${grants.join(', ')}]`);
        return ok;
      };
    },
  };

  it('are evaluated by their code, with their notes in the trace', () => {
    const p = policyOf({ r: 'acl:%(level)s or role:admin' }, { checks: { acl } });
    expect(p.enforce('r', { level: 'read', grants: ['read'] }, {})).toBe(true);
    expect(p.enforce('r', { level: 'write', grants: ['read'] }, {})).toBe(false);
    expect(formatDecision(p.explain('r', { level: 'write', grants: ['read'] }, {})).split('\n')[2]).toBe('    acl:%(level)s -> false: no grant of write in [read]');
  });

  it('report an invalid match at load time with its position; rule and role cannot be replaced', () => {
    expect(brief(issuesOf({ r: 'role:x or acl:', s: 'acl:bad*' }, { checks: { acl } }))).toEqual([
      { code: 'check', rule: 'r', offset: 14, message: 'name the ACL level' },
      { code: 'check', rule: 's', offset: 7, message: 'no "*" here' },
    ]);
    expect(() => buildPolicy({ defaults: [], checks: { role: acl } })).toThrow('the check kind "role" is built in and cannot be registered');
  });
});

describe('checks sluice cannot evaluate', () => {
  it('are strict errors at their position; in the compatible mode, errors when reached (after a missing key, which is false)', () => {
    expect(brief(issuesOf({ a: 'role:x or 1a:%(k)s', b: 'project_id:100%', c: 'http:http://example.com/check', d: 'x:%(k)r' }))).toEqual([
      { code: 'check', rule: 'a', offset: 10, message: expect.stringContaining('"1a" is neither a credential field') },
      { code: 'check', rule: 'b', offset: 14, message: '"%" at the end: write "%%" for a percent sign, or %(name)s' },
      { code: 'unsupported', rule: 'c', offset: 0, message: "http: checks (oslo.policy's external HTTP checks) are not supported" },
      { code: 'unsupported', rule: 'd', offset: 2, message: '"%(k)r" is not supported: write %(k)s' },
    ]);
    const p = buildPolicy({ defaults: [{ name: 'a', check: 'not 1a:%(k)s', description: '' }], mode: 'compatible' }).policy;
    expect(p.explain('a', {}, {})).toMatchObject({ allowed: true });
    expect(p.explain('a', { k: 1 }, {})).toMatchObject({ allowed: false, error: expect.stringContaining('"1a" is neither') });
  });
});

describe('defaults and a policy file', () => {
  const defaults = [
    { name: 'admin', check: 'role:admin', description: 'Administrators.' },
    { name: 'swift:container:put', check: 'rule:admin or role:swiftoperator', description: 'Create a container.', operations: [{ method: 'PUT', path: '/v1/{account}/{container}' }] },
  ];

  it("a file rule replaces the default of its name; the file may add helpers; the listing keeps each default's description", () => {
    const file = parsePolicyText('"swift:container:put": "rule:ops"\n"ops": "role:ops and not role:reader"\n', '/etc/sluice/policy.yaml');
    const { policy } = buildPolicy({ defaults, file });
    expect(policy.enforce('swift:container:put', {}, { roles: ['swiftoperator'] })).toBe(false);
    expect(policy.enforce('swift:container:put', {}, { roles: ['ops'] })).toBe(true);
    expect(policy.enforce('admin', {}, { roles: ['admin'] })).toBe(true);
    expect(policy.rules.map((r) => [r.name, r.text, r.source, r.line, r.registered?.description])).toEqual([
      ['admin', 'role:admin', 'defaults', undefined, 'Administrators.'],
      ['swift:container:put', 'rule:ops', '/etc/sluice/policy.yaml', 1, 'Create a container.'],
      ['ops', 'role:ops and not role:reader', '/etc/sluice/policy.yaml', 2, undefined],
    ]);
  });

  it('a rule registered twice cannot be loaded in either mode', () => {
    for (const mode of ['strict', 'compatible'] as const) {
      expect(() => buildPolicy({ defaults: [...defaults, defaults[0]!], mode })).toThrow('rule "admin" is registered twice');
    }
  });

  it('a value that is not rule text is a strict error; the compatible mode reads it as oslo.policy does', () => {
    const file = parsePolicyText('{"admin": null, "x": [["role:a"], ["role:b", "role:c"]]}', 'policy.json');
    expect(() => buildPolicy({ defaults, file })).toThrow('policy.json:1: rule "admin": null is not rule text; oslo.policy reads it as "" (always)');
    const { policy, issues } = buildPolicy({ defaults, file, mode: 'compatible' });
    expect(issues.map((i) => i.code)).toEqual(['value']);
    expect(policy.enforce('admin', {}, {})).toBe(true);
    expect(policy.enforce('x', {}, { roles: ['c', 'b'] })).toBe(true);
    expect(policy.enforce('x', {}, { roles: ['c'] })).toBe(false);
  });

  it('the strict error names every problem, its rule, file, line and column', () => {
    const file = parsePolicyText('"swift:container:put": "rule:admin or"\n"admin": "role:admin and rule:nope"\n', '/etc/sluice/policy.yaml');
    let error: unknown;
    try {
      buildPolicy({ defaults, file });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).message).toBe(
      [
        'invalid policy: /etc/sluice/policy.yaml:1: rule "swift:container:put", column 14: the rule ends after "or"; a check, "not" or "(" must follow (and 1 more problem)',
        '/etc/sluice/policy.yaml:1: rule "swift:container:put", column 14: the rule ends after "or"; a check, "not" or "(" must follow',
        '    rule:admin or',
        '                 ^',
        '/etc/sluice/policy.yaml:2: rule "admin", column 21: rule:nope refers to no rule',
        '    role:admin and rule:nope',
        '                        ^',
      ].join('\n'),
    );
    expect((error as PolicyError).issues).toHaveLength(2);
  });
});
