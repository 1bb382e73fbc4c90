/**
 * What the left side of a generic check `kind:match` means. oslo.policy first tries the kind as a
 * Python literal (`ast.literal_eval`): `True:%(enabled)s`, `'admin':%(role)s` and `1:%(n)s` compare
 * `str(literal)` with the match. Failing that with ValueError, it is a dotted path into the
 * credentials (`token.user.id`). A kind that is not Python at all (`1a`, `a.`, an empty kind)
 * raises SyntaxError out of the evaluation.
 *
 * sluice accepts the literals people write (True, False, None, int and float numbers with an
 * optional sign, quoted strings without escapes or prefixes) and field paths of names made of
 * ASCII letters, digits, `_` and `-`; everything else is reported. That refuses some Python
 * oslo.policy would evaluate (`1j:x`, `b'x':y`, `a+b:z` as a key "a+b", non-ASCII names).
 */
import { pyFloatRepr } from './python-str';

export type KindMeaning =
  | { readonly type: 'literal'; readonly value: string }
  | { readonly type: 'field'; readonly path: readonly string[] }
  | { readonly type: 'invalid'; readonly message: string };

// Python 3's hard keywords: a name that is one is a syntax error, not a field.
const KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(' '),
);

const FIELD = /^[A-Za-z_]\w*(?:[-.][A-Za-z_]\w*)*$/;
const DIGITS = String.raw`\d(?:_?\d)*`;
const DECIMAL = /^(?:[1-9](?:_?\d)*|0(?:_?0)*)$/;
const PREFIXED = /^0(?:[xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)$/;
const FLOAT = new RegExp(`^(?:(?:(?:${DIGITS})?\\.${DIGITS}|${DIGITS}\\.)(?:[eE][+-]?${DIGITS})?|${DIGITS}[eE][+-]?${DIGITS})$`);
const QUOTED = /^(?:'[^'\\\n\r\0]*'|"[^"\\\n\r\0]*")$/;
/** Past this many characters a number is not worth Python's int-to-str limits. */
const MAX_NUMBER = 1000;

function numberValue(text: string): string | undefined {
  let sign = '';
  let body = text;
  if (body[0] === '-' || body[0] === '+') {
    sign = body[0];
    body = body.slice(1);
  }
  if (body.length > MAX_NUMBER) return undefined;
  if (DECIMAL.test(body) || PREFIXED.test(body)) {
    const n = BigInt(body.replaceAll('_', ''));
    return (sign === '-' ? -n : n).toString();
  }
  if (FLOAT.test(body)) {
    const x = Number(body.replaceAll('_', ''));
    return pyFloatRepr(sign === '-' ? -x : x);
  }
  return undefined;
}

function literalValue(text: string): string | undefined {
  if (text === 'True' || text === 'False' || text === 'None') return text;
  if (QUOTED.test(text)) return text.slice(1, -1);
  return numberValue(text);
}

function invalid(kind: string): KindMeaning {
  return {
    type: 'invalid',
    message: `${JSON.stringify(kind)} is neither a credential field (names of letters, digits, "_" and "-", dotted) nor a literal (True, False, None, a number, a quoted string)`,
  };
}

export function kindMeaning(kind: string): KindMeaning {
  // literal_eval strips leading spaces and tabs (and compile allows trailing ones): only the
  // list-of-lists form can have them, since rule text splits words at whitespace.
  const bare = kind.replace(/^[ \t]+|[ \t]+$/g, '');
  const literal = literalValue(bare);
  if (literal !== undefined) return { type: 'literal', value: literal };
  if (FIELD.test(bare) && !bare.split(/[-.]/).some((name) => KEYWORDS.has(name))) return { type: 'field', path: kind.split('.') };
  return invalid(kind);
}
