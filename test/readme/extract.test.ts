import { describe, expect, it } from 'vitest';
import { extractSteps, matchesExpected, outputLines } from './extract';

describe('README walkthrough extraction', () => {
  const md = [
    'Intro',
    '```sh',
    'echo not-marked',
    '```',
    '<!-- readme-test: demo -->',
    '',
    '```sh',
    'export X=1',
    '# prose',
    'echo "$X"',
    '#> 1',
    'curl -s a \\',
    '  -H b',
    '#> line one',
    '#>',
    '#> line ... three',
    '',
    'true',
    '```',
  ].join('\n');

  it('takes commands, continuations and expected output from marked blocks only', () => {
    expect(extractSteps(md)).toEqual([
      { section: 'demo', line: 8, command: 'export X=1', expected: [] },
      { section: 'demo', line: 10, command: 'echo "$X"', expected: ['1'] },
      { section: 'demo', line: 12, command: 'curl -s a \n  -H b', expected: ['line one', '', 'line ... three'] },
      { section: 'demo', line: 18, command: 'true', expected: [] },
    ]);
  });

  it('refuses a marker without a block and an unclosed block', () => {
    expect(() => extractSteps('<!-- readme-test: x -->\ntext')).toThrow(/not followed by/);
    expect(() => extractSteps('<!-- readme-test: x -->\n```sh\necho')).toThrow(/not closed/);
    expect(() => extractSteps('<!-- readme-test: x -->\n```sh\n#> orphan\n```')).toThrow(/no command/);
  });

  it('matches output lines literally except for ...', () => {
    expect(outputLines('a\r\nb \n')).toEqual(['a', 'b']);
    expect(matchesExpected(['AUTH_tk123'], ['AUTH_tk...'])).toBe(true);
    expect(matchesExpected(['x.y'], ['x.y'])).toBe(true);
    expect(matchesExpected(['xzy'], ['x.y'])).toBe(false);
    expect(matchesExpected(['{"a": 1, "t": "2026"}'], ['{"a": 1, "t": "..."}'])).toBe(true);
    expect(matchesExpected(['a', 'b'], ['a'])).toBe(false);
    expect(matchesExpected([], [])).toBe(true);
  });
});
