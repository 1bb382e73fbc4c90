/** Python's json.loads / json.dumps; the expected values are Python 3.11's. */
import { describe, expect, it } from 'vitest';
import { pyFloatRepr, pyJsonDumps, pyJsonLoads, pyJsonString, PyJsonError, pyStrCompare } from '../../src/compat/json';

describe('json.dumps', () => {
  it("Python's defaults: ensure_ascii, `, ` and `: `, insertion order", () => {
    expect(pyJsonDumps({ b: [1, 2.5, null, true], a: 'é\u007f"\\\n' })).toBe('{"b": [1, 2.5, null, true], "a": "\\u00e9\\u007f\\"\\\\\\n"}');
    expect(pyJsonDumps([{ name: 'é😀', n: 1 }])).toBe('[{"name": "\\u00e9\\ud83d\\ude00", "n": 1}]');
  });
  it('sort_keys and separators as options', () => {
    expect(pyJsonDumps({ b: 1, a: 2 }, { sortKeys: true, separators: [',', ':'] })).toBe('{"a":2,"b":1}');
    expect(pyJsonDumps(new Map([['b', 1], ['a', 2]]), { sortKeys: true })).toBe('{"a": 2, "b": 1}');
  });
  it('float repr and the int/float distinction', () => {
    // A JS number is written as a Python int when it is integral (below 1e21), else as float.
    expect(pyJsonDumps([1e-7, 1e16, 100, 0.5, 1e22])).toBe('[1e-07, 10000000000000000, 100, 0.5, 1e+22]');
    expect([1e16, 1e-5, 0.0001, 123.456, 1e22, 100].map(pyFloatRepr)).toEqual(['1e+16', '1e-05', '0.0001', '123.456', '1e+22', '100.0']);
    expect(pyJsonDumps(pyJsonLoads('[NaN,Infinity,-Infinity,1,1.0,1e5,-0,-0.0,12345678901234567890123]'), { separators: [',', ':'] })).toBe(
      '[NaN,Infinity,-Infinity,1,1.0,100000.0,0,-0.0,12345678901234567890123]',
    );
  });
  it('leaves out undefined properties, refuses what Python could not serialise', () => {
    expect(pyJsonDumps({ a: 1, b: undefined })).toBe('{"a": 1}');
    expect(() => pyJsonDumps([undefined])).toThrow(TypeError);
    expect(() => pyJsonDumps(() => 1)).toThrow(TypeError);
  });
  it('escapes strings as ensure_ascii does', () => {
    expect(pyJsonString('\b\f\u0001\u007f/<>&\udc80')).toBe('"\\b\\f\\u0001\\u007f/<>&\\udc80"');
  });
});

describe('json.loads', () => {
  it('keeps document key order, last value of a repeated key', () => {
    const m = pyJsonLoads('{"b":1,"5":2,"b":3}') as Map<string, unknown>;
    expect([...m.keys()]).toEqual(['b', '5']);
    expect(pyJsonDumps(m)).toBe('{"b": 3, "5": 2}');
  });
  it('refuses what Python refuses', () => {
    for (const bad of ['{"a":1,}', "{'a':1}", '\ufeff{}', '{"a":"\u0001"}', '[1] x']) expect(() => pyJsonLoads(bad), bad).toThrow(PyJsonError);
  });
});

describe('str ordering', () => {
  it('compares by code point, as Python sorts', () => {
    expect(pyStrCompare('\uffff', '😀')).toBeLessThan(0);
    expect(['😀', '\uffff', 'a'].sort(pyStrCompare)).toEqual(['a', '\uffff', '😀']);
  });
});
