/** Query strings as urllib.parse and swob read them; the expected values are Python 3.11's. */
import { describe, expect, it } from 'vitest';
import { asByteString, bytesOf } from '../../src/compat/bytes';
import { HttpException } from '../../src/compat/http-exception';
import { getParam, parseQs, parseQsl, parseQslBytes, swobParams, urlencode } from '../../src/compat/query';

const q = asByteString;

describe('parse_qsl / parse_qs', () => {
  it('drops blank values unless asked to keep them', () => {
    expect(parseQsl('a=1&b=&c&&d=4=5&e+f=g+h&a=2')).toEqual([
      ['a', '1'],
      ['d', '4=5'],
      ['e f', 'g h'],
      ['a', '2'],
    ]);
    expect(parseQsl('a=1&b=&c&&d=4=5&e+f=g+h&a=2', true)).toEqual([
      ['a', '1'],
      ['b', ''],
      ['c', ''],
      ['d', '4=5'],
      ['e f', 'g h'],
      ['a', '2'],
    ]);
  });
  it('splits on & only, decodes UTF-8 with replacement, keeps malformed escapes', () => {
    expect(parseQsl('x=%FF&y=%C3%A9&z=%zz;w=1')).toEqual([
      ['x', '\ufffd'],
      ['y', 'é'],
      ['z', '%zz;w=1'],
    ]);
  });
  it('parse_qs gathers every value of a name', () => {
    expect(parseQs('a=1&a=2&b=3', true)).toEqual(
      new Map([
        ['a', ['1', '2']],
        ['b', ['3']],
      ]),
    );
  });
});

describe("swob's req.params", () => {
  it("decodes to byte strings (encoding='latin-1')", () => {
    expect(parseQslBytes(q('x=%FF&y=%C3%A9'), true)).toEqual([
      ['x', '\u00ff'],
      ['y', '\u00c3\u00a9'],
    ]);
  });
  it('keeps the last value of a repeated name, blank values included', () => {
    const params = swobParams(q('a=1&b&a=2&form%61t=json'));
    expect(params.get('a')).toBe('2');
    expect(params.get('b')).toBe('');
    expect(params.get('format')).toBe('json');
  });
  it('the params setter re-encodes with urlencode', () => {
    expect(urlencode([[bytesOf('a b'), bytesOf('c&d')], [bytesOf('é'), bytesOf('~*')], ['k', q('')]])).toBe('a+b=c%26d&%C3%A9=~%2A&k=');
    expect(urlencode([['x', q('\u00e9\u00ff')]])).toBe('x=%E9%FF');
  });
});

describe("get_param", () => {
  it('answers UTF-8 text, undefined when absent, 400 when not UTF-8', () => {
    const params = swobParams(q('m=%C3%A9&e=&bad=%FF'));
    expect(getParam(params, 'm')).toBe('é');
    expect(getParam(params, 'e')).toBe('');
    expect(getParam(params, 'none')).toBeUndefined();
    let err: unknown;
    try {
      getParam(params, 'bad');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpException);
    expect(err).toMatchObject({ status: 400, body: '"bad" parameter not valid UTF-8', contentType: 'text/plain' });
  });
});
