/**
 * The pieces a check compares: Python's str() of credential and target values, what the kind of
 * a generic check means (a literal, a credential path, or neither), and `%(key)s` substitution
 * from the target, with its errors and their positions.
 */
import { describe, expect, it } from 'vitest';
import { compileTemplate, kindMeaning, MISSING, pyStr } from '../../src/policy/index';
import { pyFloatRepr } from '../../src/policy/python-str';
import { TemplateError } from '../../src/policy/template';

describe("Python's str()", () => {
  it('prints scalars as Python does', () => {
    expect([pyStr('x'), pyStr(true), pyStr(false), pyStr(null), pyStr(7), pyStr(-0), pyStr(1.5)]).toEqual(['x', 'True', 'False', 'None', '7', '0', '1.5']);
  });

  it('prints floats with repr: shortest digits, exponent below 1e-4 and from 1e16', () => {
    const cases: [number, string][] = [
      [0.1, '0.1'],
      [1e15 + 0.5, '1000000000000000.5'],
      [1e16, '1e+16'],
      [1.2345678901234568e17, '1.2345678901234568e+17'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [1.5e-7, '1.5e-07'],
      [-2.5e-5, '-2.5e-05'],
      [-0, '-0.0'],
      [Infinity, 'inf'],
      [-Infinity, '-inf'],
    ];
    for (const [x, repr] of cases) expect(pyFloatRepr(x), String(x)).toBe(repr);
    // A number past JavaScript's safe integers prints as the float Python's json would read.
    expect(pyStr(1e300)).toBe('1e+300');
  });

  it('prints lists and mappings as their repr', () => {
    expect(pyStr(['a', 1, null, "it's", [true]])).toBe(`['a', 1, None, "it's", [True]]`);
    expect(pyStr({ id: 'a', n: 1.5 })).toBe("{'id': 'a', 'n': 1.5}");
  });
});

describe('the kind of a generic check', () => {
  it("reads Python literals as literal_eval does and compares their str()", () => {
    const cases: [string, string][] = [
      ['True', 'True'],
      ['None', 'None'],
      ["'Member'", 'Member'],
      ['"x"', 'x'],
      ["''", ''],
      ['1', '1'],
      ['-0', '0'],
      ['+7', '7'],
      ['0x_1f', '31'],
      ['0o17', '15'],
      ['0b101', '5'],
      ['1_000', '1000'],
      ['00', '0'],
      ['123456789012345678901234567890', '123456789012345678901234567890'],
      ['1.5', '1.5'],
      ['1e3', '1000.0'],
      ['.5', '0.5'],
      ['5.', '5.0'],
      ['1e16', '1e+16'],
      ['-0.0', '-0.0'],
      ['1E400', 'inf'],
    ];
    for (const [kind, value] of cases) expect(kindMeaning(kind), kind).toEqual({ type: 'literal', value });
  });

  it('reads names, dotted and with dashes, as a path into the credentials', () => {
    expect(kindMeaning('project_id')).toEqual({ type: 'field', path: ['project_id'] });
    expect(kindMeaning('token.user.domain-id')).toEqual({ type: 'field', path: ['token', 'user', 'domain-id'] });
    expect(kindMeaning('match')).toEqual({ type: 'field', path: ['match'] });
    expect(kindMeaning('ROLE')).toEqual({ type: 'field', path: ['ROLE'] });
    // Only the list form can put spaces around a kind: Python strips them for literals, not for keys.
    expect(kindMeaning(' True')).toEqual({ type: 'literal', value: 'True' });
    expect(kindMeaning(' role')).toEqual({ type: 'field', path: [' role'] });
  });

  it('refuses what is no Python (oslo.policy raises) and the Python sluice does not take', () => {
    for (const kind of ['', '1a', 'a.', 'a$b', 'x-', 'not', 'a.1', 'x-await', 'True.x', '1j', "b'x'", "'a\\n'", '--1', 'a+b', 'é', "'a''b'"]) {
      expect(kindMeaning(kind), kind).toEqual({ type: 'invalid', message: `${JSON.stringify(kind)} is neither a credential field (names of letters, digits, "_" and "-", dotted) nor a literal (True, False, None, a number, a quoted string)` });
    }
  });
});

describe('%(key)s substitution', () => {
  it("reads keys whole from the flat target and substitutes Python's str() of the value", () => {
    const t = compileTemplate('AUTH_%(target.project.id)s/%(n)s%%');
    expect(t.keys).toEqual(['target.project.id', 'n']);
    expect(t.render({ 'target.project.id': 'p1', n: 2 })).toBe('AUTH_p1/2%');
    expect(t.render({ target: { project: { id: 'p1' } }, n: 2 })).toBe(MISSING);
    expect(compileTemplate('%(a(b)c)s').render({ 'a(b)c': true })).toBe('True');
    expect(compileTemplate('plain').render({})).toBe('plain');
  });

  it('reports every malformed % with its offset, and raises there only after earlier keys are found', () => {
    const cases: [string, string, number, 'check' | 'unsupported'][] = [
      ['100%', '"%" at the end: write "%%" for a percent sign, or %(name)s', 3, 'check'],
      ['%(k', '"%(" is never closed by ")": write %(name)s', 0, 'check'],
      ['x%z', 'unsupported format character "z": write %(name)s, or "%%" for a percent sign', 1, 'check'],
      ['%(k)', 'incomplete "%" directive: write %(name)s', 0, 'check'],
      ['%(k)r', '"%(k)r" is not supported: write %(k)s', 0, 'unsupported'],
      ['%(k)5s', '"%(k)5s" is not supported: write %(k)s', 0, 'unsupported'],
      ['%s', '"%s" without a (name): write %(name)s', 0, 'unsupported'],
    ];
    for (const [text, message, offset, code] of cases) expect(compileTemplate(text).problem, text).toEqual({ message, offset, code });

    const t = compileTemplate('%(k)s-%(j)z');
    expect(t.render({ k: 1 })).toBe(MISSING);
    expect(() => t.render({ k: 1, j: 2 })).toThrow(TemplateError);
  });
});
