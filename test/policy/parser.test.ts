/**
 * The policy language's tokenizer and parser: every construct, oslo.policy's precedence and tree
 * shape (as oslo.policy prints it), and every syntax error with its position.
 */
import { describe, expect, it } from 'vitest';
import { formatNode, parseRuleList, parseRuleText, parseRuleValue, type PolicyNode } from '../../src/policy/index';
import { tokenize } from '../../src/policy/tokenizer';

function tree(text: string): string {
  const { node, problems } = parseRuleText(text);
  expect(problems, text).toEqual([]);
  return formatNode(node);
}

function problemsOf(text: string): { message: string; offset: number }[] {
  return parseRuleText(text).problems.map(({ message, offset }) => ({ message, offset }));
}

describe('tokenize', () => {
  it('splits words at Python whitespace, parentheses only at the ends of words', () => {
    const toks = tokenize('(role:a\x1cOR\u3000not(x:%(k)s))');
    expect(toks.map((t) => [t.type, t.text, t.start, t.end])).toEqual([
      ['(', '(', 0, 1],
      ['check', 'role:a', 1, 7],
      ['or', 'OR', 8, 10],
      // `not(x:%(k)s))` is one word: only its trailing parentheses are split off.
      ['check', 'not(x:%(k)s', 11, 22],
      [')', ')', 22, 23],
      [')', ')', 23, 24],
    ]);
  });

  it('treats the BOM as part of a word (Python does not count it as whitespace) and NEL as a space', () => {
    expect(tokenize('role:a\ufeffand role:b').map((t) => t.text)).toEqual(['role:a\ufeffand', 'role:b']);
    expect(tokenize('role:a\x85and\x1frole:b').map((t) => t.type)).toEqual(['check', 'and', 'check']);
  });

  it('reads a word wrapped in quotes as a string, unless a parenthesis follows the quote', () => {
    expect(tokenize("'role:admin'").map((t) => t.type)).toEqual(['string']);
    expect(tokenize("('x'").map((t) => t.type)).toEqual(['(', 'string']);
    expect(tokenize("'x')").map((t) => [t.type, t.text])).toEqual([
      ['check', "'x'"],
      [')', ')'],
    ]);
    expect(tokenize("'").map((t) => t.type)).toEqual(['check']);
  });

  it('reads operators in any case; a word made only of parentheses is only parentheses', () => {
    expect(tokenize('AND Or nOT ((( )))').map((t) => t.type)).toEqual(['and', 'or', 'not', '(', '(', '(', ')', ')', ')']);
    expect(tokenize('()').map((t) => [t.type, t.start])).toEqual([
      ['(', 0],
      [')', 1],
    ]);
  });
});

describe('parseRuleText', () => {
  it('an empty rule always passes; @ always, ! never', () => {
    expect(parseRuleText('').node.type).toBe('always');
    expect(tree('@')).toBe('@');
    expect(tree('!')).toBe('!');
  });

  it('reads kind:match at the first colon', () => {
    const node = parseRuleText('rule:swift:object:get').node as Extract<PolicyNode, { type: 'check' }>;
    expect([node.kind, node.match, node.start, node.end]).toEqual(['rule', 'swift:object:get', 0, 21]);
  });

  it('binds not tighter than and, and tighter than or', () => {
    expect(tree('a:1 or b:2 and c:3')).toBe('(a:1 or (b:2 and c:3))');
    expect(tree('a:1 and b:2 or c:3 and d:4')).toBe('((a:1 and b:2) or (c:3 and d:4))');
    expect(tree('not a:1 and b:2')).toBe('(not a:1 and b:2)');
    expect(tree('not not a:1 or b:2')).toBe('(not not a:1 or b:2)');
    expect(tree('a:1 or not b:2 and c:3')).toBe('(a:1 or (not b:2 and c:3))');
  });

  it('keeps a chain of one operator in one node, and parenthesised groups as written', () => {
    expect(tree('a:1 and b:2 and c:3')).toBe('(a:1 and b:2 and c:3)');
    expect(tree('a:1 or b:2 or c:3')).toBe('(a:1 or b:2 or c:3)');
    expect(tree('(a:1 and b:2) and c:3')).toBe('((a:1 and b:2) and c:3)');
    expect(tree('a:1 or (b:2 or c:3)')).toBe('(a:1 or (b:2 or c:3))');
    expect(tree('not (a:1 or b:2)')).toBe('not (a:1 or b:2)');
    expect(tree('((((a:1))))')).toBe('a:1');
  });

  it("keeps oslo.policy's twist: after an or, a parenthesised and takes the operands that follow", () => {
    expect(tree('x:0 or (a:1 and b:2) and c:3')).toBe('(x:0 or (a:1 and b:2 and c:3))');
    // Not for the first operand of the or, and not for a group standing alone.
    expect(tree('(a:1 and b:2) and c:3 or x:0')).toBe('(((a:1 and b:2) and c:3) or x:0)');
    expect(tree('x:0 or ((a:1 and b:2) and c:3)')).toBe('(x:0 or ((a:1 and b:2) and c:3))');
  });

  it('records where each node is', () => {
    const node = parseRuleText('  not role:a or (b:1 and c:2)').node as Extract<PolicyNode, { type: 'or' }>;
    expect([node.start, node.end]).toEqual([2, 28]);
    const [first, second] = node.children as [PolicyNode, PolicyNode];
    expect([first.type, first.start, first.end]).toEqual(['not', 2, 12]);
    expect([second.type, second.start, second.end]).toEqual(['and', 17, 28]);
  });

  it('reports each syntax error with the offset of the character at fault, and fails closed as oslo.policy does', () => {
    const cases: [string, string, number][] = [
      ['role:a or', 'the rule ends after "or"; a check, "not" or "(" must follow', 9],
      ['not', 'the rule is only "not", not a check', 0],
      ['role:a and and role:b', 'expected a check, "not" or "(" before "and"', 11],
      ['or role:a', 'expected a check, "not" or "(" before "or"', 0],
      ['(role:a or role:b', 'this "(" is never closed', 0],
      ['role:a )', '")" closes no "("', 7],
      ['role:a role:b', 'expected "and", "or" or the end of the rule, found check "role:b"', 7],
      ['() or @', 'expected a check, "not" or "(", found ")"', 1],
      ['(role:a role:b)', 'expected "and", "or" or ")", found check "role:b"', 8],
      ["@ or 'role:admin'", "a quoted string is not a check: 'role:admin'", 5],
      ['  \t ', 'the rule has no check, only whitespace (an empty rule "" always passes)', 0],
    ];
    for (const [text, message, offset] of cases) {
      const parsed = parseRuleText(text);
      expect(parsed.problems.map(({ message, offset }) => ({ message, offset })), text).toContainEqual({ message, offset });
      expect(formatNode(parsed.node), text).toBe(text === 'not' ? 'not' : '!');
    }
  });

  it('turns a word that is no check into ! on its own, reporting it, and goes on', () => {
    const parsed = parseRuleText('admin or not foo');
    expect(problemsOf('admin or not foo')).toEqual([
      { message: '"admin" is not a check: write kind:value, "@" or "!"', offset: 0 },
      { message: '"foo" is not a check: write kind:value, "@" or "!"', offset: 13 },
    ]);
    expect(formatNode(parsed.node)).toBe('(! or not !)');
  });

  it('reports both a bad word and the structure around it', () => {
    expect(problemsOf('admin and')).toEqual([
      { message: '"admin" is not a check: write kind:value, "@" or "!"', offset: 0 },
      { message: 'the rule ends after "and"; a check, "not" or "(" must follow', offset: 9 },
    ]);
  });

  it("takes a lone operator, parenthesis or quoted string as oslo.policy's parser does: the word itself, an error each time it is evaluated", () => {
    for (const [text, value] of [
      ['(', '('],
      [')', ')'],
      ['OR', 'OR'],
      ["'role:a'", 'role:a'],
      ['"x"', 'x'],
    ]) {
      const parsed = parseRuleText(text!);
      expect(parsed.node, text).toMatchObject({ type: 'error', value });
      expect(parsed.problems, text).toEqual([expect.objectContaining({ silent: true, offset: 0 })]);
    }
  });
});

describe('the list-of-lists form', () => {
  it('ors the lists and ands the checks in each; items are single checks, not rule text', () => {
    expect(formatNode(parseRuleList([['role:admin'], ['project_id:%(project_id)s', 'role:member']]).node)).toBe('(role:admin or (project_id:%(project_id)s and role:member))');
    const single = parseRuleList([['role:a and role:b']]).node as Extract<PolicyNode, { type: 'check' }>;
    expect([single.kind, single.match]).toEqual(['role', 'a and role:b']);
  });

  it('always passes when empty, never when every alternative is empty; a bare string is one alternative', () => {
    expect(parseRuleList([]).node.type).toBe('always');
    expect(parseRuleList([[], '']).node.type).toBe('never');
    expect(formatNode(parseRuleList(['role:a', ['@']]).node)).toBe('(role:a or @)');
  });

  it('reports an item that is not a check with its indices', () => {
    const parsed = parseRuleList([['role:a', 5], ['admin']]);
    expect(parsed.problems.map(({ item, message }) => ({ item, message }))).toEqual([
      { item: [0, 1], message: '5 is not a check: checks in a list rule are strings' },
      { item: [1, 0], message: '"admin" is not a check: write kind:value, "@" or "!"' },
    ]);
    expect(formatNode(parsed.node)).toBe('((role:a and !) or !)');
  });
});

describe('parseRuleValue', () => {
  it("reads what a policy file holds the way oslo.policy's parse_rule does", () => {
    expect(formatNode((parseRuleValue('role:a') as { node: PolicyNode }).node)).toBe('role:a');
    // Whatever Python finds false means always; a mapping is read as the list of its keys.
    for (const v of [null, false, 0, {}, []]) expect((parseRuleValue(v) as { node: PolicyNode }).node.type, JSON.stringify(v)).toBe('always');
    expect(formatNode((parseRuleValue({ 'role:a': 1, '@': 2 }) as { node: PolicyNode }).node)).toBe('(role:a or @)');
  });

  it('cannot read a number or true, as oslo.policy cannot load them', () => {
    expect(parseRuleValue(3)).toEqual({ fatal: expect.stringContaining('3 is not a rule') });
    expect(parseRuleValue(true)).toEqual({ fatal: expect.stringContaining('true is not a rule') });
    expect(parseRuleValue([7])).toEqual({ fatal: expect.stringContaining('item 0 is 7') });
  });
});
