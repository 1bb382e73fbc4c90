/**
 * Differential test: generated strings run through Python's own urllib.parse, bytes.decode,
 * repr and json.dumps (python3 on PATH; skipped without one), compared with src/compat.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { asByteString, bytesOf, textOf, type ByteString } from '../../src/compat/bytes';
import { pyJsonString } from '../../src/compat/json';
import { parseQsl, parseQslBytes, swobParams, urlencode } from '../../src/compat/query';
import { quote, quoteBytes, quotePlus, unquote, unquoteBytes, unquotePlus } from '../../src/compat/quote';
import { pyRepr } from '../../src/compat/repr';

const PYTHON = `
import json, sys
from urllib.parse import quote, quote_plus, unquote, unquote_plus, parse_qsl, urlencode
cases = json.load(sys.stdin)
text = [{
    'quote': quote(s), 'quote_nosafe': quote(s, safe=''), 'quote_plus': quote_plus(s),
    'unquote': unquote(s), 'unquote_plus': unquote_plus(s),
    'qsl': parse_qsl(s), 'qsl_blank': parse_qsl(s, keep_blank_values=True),
    'repr': repr(s), 'json': json.dumps(s),
} for s in cases['text']]
def strict(b):
    try:
        return b.decode('utf-8')
    except UnicodeDecodeError:
        return None
wsgi = [{
    'quote': quote(w, encoding='latin-1'), 'unquote': unquote(w, encoding='latin-1'),
    'qsl': parse_qsl(w, keep_blank_values=True, encoding='latin-1'),
    'params': urlencode(dict(parse_qsl(w, keep_blank_values=True, encoding='latin-1')), encoding='latin-1'),
    'surrogateescape': w.encode('latin-1').decode('utf-8', 'surrogateescape'),
    'replace': w.encode('latin-1').decode('utf-8', 'replace'),
    'strict': strict(w.encode('latin-1')),
} for w in cases['wsgi']]
json.dump({'text': text, 'wsgi': wsgi}, sys.stdout)
`;

/** A small seeded generator, so a failure is reproducible. */
function generator(seed: number): (n: number) => number {
  let x = seed >>> 0;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

const TEXT_ATOMS = ['%', '%2', '%zz', '%41', '%c3', '%C3%A9', '%e2%82', '%ff', '%00', '+', '&', '=', ';', '/', ' ', 'a', 'Z', '9', '~', '*', "'", 'é', '日', '😀', '\u0085', '\u00a0', '\u200b', '\t', '\u007f', '"', '\\'];
const BYTE_ATOMS = ['%', '%2', '%zz', '%41', '%c3', '%C3%A9', '%ed%a0%80', '%ff', '+', '&', '=', '/', 'a', '~', '\u00c3\u00a9', '\u00e9', '\u00ff', '\u0080', '\u00f0\u009f\u0098\u0080', '\u00e2\u0082'];

function strings(count: number, atoms: string[], seed: number): string[] {
  const rnd = generator(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let s = '';
    const len = rnd(12);
    for (let j = 0; j < len; j++) s += atoms[rnd(atoms.length)];
    out.push(s);
  }
  return out;
}

const text = strings(400, TEXT_ATOMS, 20240611);
const wsgi = strings(400, BYTE_ATOMS, 7) as ByteString[];
const run = spawnSync('python3', ['-c', PYTHON], { input: JSON.stringify({ text, wsgi }), encoding: 'utf8' });
const python = run.status === 0 ? (JSON.parse(run.stdout) as { text: Record<string, unknown>[]; wsgi: Record<string, unknown>[] }) : undefined;

describe.skipIf(!python)('src/compat agrees with Python 3', () => {
  it(`quote, unquote and parse_qsl on ${text.length} text strings; repr and json.dumps`, () => {
    text.forEach((s, i) => {
      const py = python!.text[i]!;
      const ours = {
        quote: quote(s),
        quote_nosafe: quote(s, ''),
        quote_plus: quotePlus(s),
        unquote: unquote(s),
        unquote_plus: unquotePlus(s),
        qsl: parseQsl(s),
        qsl_blank: parseQsl(s, true),
        repr: pyRepr(s),
        json: pyJsonString(s),
      };
      expect(ours, JSON.stringify(s)).toEqual(py);
    });
  });

  it(`the byte-string forms and UTF-8 decoding on ${wsgi.length} byte strings`, () => {
    wsgi.forEach((w, i) => {
      const py = python!.wsgi[i]!;
      let strict: string | null;
      try {
        strict = textOf(w, 'strict');
      } catch {
        strict = null;
      }
      const ours = {
        quote: quoteBytes(w),
        unquote: unquoteBytes(w),
        qsl: parseQslBytes(w, true),
        params: urlencode(swobParams(w)),
        surrogateescape: textOf(w, 'surrogateescape'),
        replace: textOf(w, 'replace'),
        strict,
      };
      expect(ours, JSON.stringify(w)).toEqual(py);
      expect(bytesOf(textOf(w, 'surrogateescape'))).toBe(w);
      expect(unquoteBytes(asByteString(quoteBytes(w)))).toBe(w);
    });
  });
});
