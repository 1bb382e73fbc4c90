import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatAclV2, ownerAclHeader, parseAclV2, parseAclV2Ordered } from '../../src/acl/v2';
import { MAX_JSON_DEPTH } from '../../src/compat/json';
import { asByteString, bytesOf } from '../../src/compat/bytes';

describe('parseAclV2 (Python json.loads semantics)', () => {
  it('None, empty string, objects, non-objects', () => {
    expect(parseAclV2(undefined)).toBeUndefined();
    expect(parseAclV2(null)).toBeUndefined();
    expect(parseAclV2('')).toEqual({});
    expect(parseAclV2('{ }')).toEqual({});
    expect(parseAclV2(' \t\n{"admin" : [ "a" ] }\r\n')).toEqual({ admin: ['a'] });
    for (const bad of ['[]', '5', '"x"', 'null', 'true', 'not json', '{"a":1,}', '{"a":[1]}}', "{'a':1}", '\ufeff{}', '{"a":"\u0001"}']) {
      expect(parseAclV2(bad), bad).toBeUndefined();
    }
  });

  it('duplicate keys: last value wins, first position kept', () => {
    const m = parseAclV2Ordered('{"b":1,"a":2,"b":[3]}')!;
    expect([...m.keys()]).toEqual(['b', 'a']);
    expect(parseAclV2('{"admin":["x"],"admin":["y"]}')).toEqual({ admin: ['y'] });
  });

  it('keeps document key order even for integer-like keys', () => {
    expect([...parseAclV2Ordered('{"bogus":1,"5":2}')!.keys()]).toEqual(['bogus', '5']);
  });

  it('deep nesting is a parse failure, never a throw', () => {
    expect(parseAclV2('['.repeat(100_000))).toBeUndefined();
    expect(parseAclV2('{"a":'.repeat(50_000))).toBeUndefined();
    expect(parseAclV2('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1))).toBeUndefined();
    expect(parseAclV2('{"a":' + '['.repeat(MAX_JSON_DEPTH - 1) + ']'.repeat(MAX_JSON_DEPTH - 1) + '}')).toBeDefined();
  });

  it('\\u escapes: pairs join into astral characters, lone surrogates survive', () => {
    expect(parseAclV2('{"a":["\\ud83d\\ude00","\\udc00x","\\u00E9"]}')).toEqual({ a: ['😀', '\udc00x', 'é'] });
  });

  it('"__proto__" is an ordinary key', () => {
    const acl = parseAclV2('{"__proto__":["x"]}')!;
    expect(Object.keys(acl)).toEqual(['__proto__']);
    expect(formatAclV2(acl)).toBe('{"__proto__":["x"]}');
  });
});

describe('formatAclV2 (json.dumps ensure_ascii, sort_keys, compact)', () => {
  it('canonical form of the conformance examples', () => {
    expect(formatAclV2({ 'read-write': ['test2:tester2'], admin: ['test:tester3'], 'read-only': ['test5:tester5'] })).toBe(
      '{"admin":["test:tester3"],"read-only":["test5:tester5"],"read-write":["test2:tester2"]}',
    );
    expect(formatAclV2({ admin: ['é', '😀'], 'read-only': ['c'] })).toBe('{"admin":["\\u00e9","\\ud83d\\ude00"],"read-only":["c"]}');
  });

  it('escapes quotes, backslashes, control characters and DEL; keeps / < > &', () => {
    expect(formatAclV2({ a: ['"\\\n\r\t\b\f\u0001\u007f/<>&'] })).toBe('{"a":["\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u007f/<>&"]}');
  });

  it('sorts keys by code point, like Python', () => {
    expect(formatAclV2({ '😀': [], '\uffff': [] })).toBe('{"\\uffff":[],"\\ud83d\\ude00":[]}');
  });

  it('ownerAclHeader decodes stored raw UTF-8 to proper code points', () => {
    const raw = bytesOf('{"read-only":["élève"],"admin":["naïve"]}');
    expect(ownerAclHeader(raw)).toBe('{"admin":["na\\u00efve"],"read-only":["\\u00e9l\\u00e8ve"]}');
    expect(ownerAclHeader(asByteString('{}'))).toBeUndefined();
    expect(ownerAclHeader(asByteString('garbage'))).toBeUndefined();
    expect(ownerAclHeader(asByteString('{"admin":[],"read-only":[]}'))).toBe('{"admin":[],"read-only":[]}');
  });
});

const aclString = fc.string({ unit: 'grapheme', maxLength: 12 });
const aclObject = fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 10 }), fc.array(aclString, { maxLength: 5 }), { maxKeys: 6 });

describe('properties', () => {
  it('parseAclV2(formatAclV2(x)) equals x for ACL objects of strings (astral included)', () => {
    fc.assert(
      fc.property(aclObject, (x) => {
        expect(parseAclV2(formatAclV2(x))).toEqual(x);
      }),
      { numRuns: 500 },
    );
  });

  it('formatAclV2 output is printable ASCII and canonical (format∘parse is identity on it)', () => {
    fc.assert(
      fc.property(aclObject, (x) => {
        const s = formatAclV2(x);
        expect(/^[\x20-\x7e]*$/.test(s)).toBe(true);
        expect(formatAclV2(parseAclV2(s)!)).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it('parseAclV2 never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json(), fc.stringMatching(/^[[{"\]},:0-9a-zA-Z\\ .-]*$/)), (s) => {
        const r = parseAclV2(s);
        if (r !== undefined) expect(typeof formatAclV2(r)).toBe('string');
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with JSON.parse on what JSON.parse accepts (objects, no duplicates or floats involved)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.array(fc.string())), (x) => {
        const text = JSON.stringify(x, null, 1);
        expect(parseAclV2(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });
});
